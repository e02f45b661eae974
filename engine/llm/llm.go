// Package llm holds the gateway's domain types: the chat request and answer
// every adapter translates to and from, streams, usage, models and errors.
//
// It imports neither protobuf nor net/http, so the engine and the adapters
// test without either, and API changes stop at server/rpc.
package llm

import (
	"encoding/json"
	"time"
)

// Role is a message author.
type Role string

// The roles OpenAI's chat format defines.
const (
	RoleSystem    Role = "system"
	RoleDeveloper Role = "developer"
	RoleUser      Role = "user"
	RoleAssistant Role = "assistant"
	RoleTool      Role = "tool"
)

// Valid reports whether r is one of the known roles.
func (r Role) Valid() bool {
	switch r {
	case RoleSystem, RoleDeveloper, RoleUser, RoleAssistant, RoleTool:
		return true
	}
	return false
}

// ChatRequest is one chat completion request, provider-neutral.
// Pointer fields distinguish "not set" from zero.
type ChatRequest struct {
	// Model is what the client asked for; the router rewrites it to the
	// upstream model before a Provider sees the request.
	Model            string
	Messages         []Message
	Temperature      *float64
	TopP             *float64
	TopK             *int // Anthropic top_k, Gemini topK; OpenAI's format has none, so its adapters ignore it
	MaxTokens        *int // max_completion_tokens, or max_tokens when only that was sent
	N                *int
	Stop             []string
	Seed             *int64
	PresencePenalty  *float64
	FrequencyPenalty *float64
	Tools            []Tool
	ToolChoice       *ToolChoice
	ResponseFormat   *ResponseFormat
	User             string
	Metadata         map[string]string
	// IncludeUsage asks for a final usage chunk on streams. Adapters ask their
	// upstream for usage on every stream regardless, so streams are never
	// billed as zero.
	IncludeUsage      bool
	ParallelToolCalls *bool
	LogitBias         map[string]float64
	Logprobs          *bool
	TopLogprobs       *int
	ReasoningEffort   string
	// Thinking is an explicit reasoning request with a token budget
	// (Anthropic's thinking, Gemini's thinkingConfig); nil leaves it to the
	// provider. A transport that sets it sets ReasoningEffort to match, for
	// targets that only take an effort.
	Thinking *Thinking
	// Anthropic is what an Anthropic client said in headers that an
	// Anthropic target must hear too; other targets ignore it.
	Anthropic *AnthropicOptions
	// Extra is the opaque passthrough: provider-specific JSON fields merged
	// into the upstream body as they are.
	Extra map[string]json.RawMessage
	// OpenAIFields are top-level fields of an OpenAI Chat Completions body
	// the gateway has no domain field for (newer parameters such as
	// service_tier, prediction, verbosity), raw. OpenAI-family targets get
	// them as they are, under the fields above and Extra; other targets
	// drop them (the rule per field: server/ingress/openai/fields.go).
	OpenAIFields map[string]json.RawMessage
	// Original is the client's body in its own dialect, for a target that
	// speaks the same one: it is sent as the client wrote it, so nothing the
	// domain model lacks (unknown fields, cache hints, betas) is lost. The
	// fields above stay authoritative for every other target, and for what
	// the gateway owns (the model, limits it enforces).
	Original *Original
	// Hints are Switchyard's own per-request options; never sent upstream.
	Hints Hints
}

// Thinking modes.
const (
	ThinkingEnabled  = "enabled"  // think up to BudgetTokens
	ThinkingDisabled = "disabled" // do not think
	ThinkingAdaptive = "adaptive" // the model decides how much
)

// Thinking asks for extended reasoning.
type Thinking struct {
	Type         string // ThinkingEnabled, ThinkingDisabled or ThinkingAdaptive
	BudgetTokens int    // with ThinkingEnabled
}

// Check validates a thinking request a transport decoded, naming the
// parameter under "thinking". Every failure is KindInvalidRequest.
func (t *Thinking) Check() error {
	switch t.Type {
	case ThinkingEnabled:
		if t.BudgetTokens < 1 {
			return InvalidParam("thinking.budget_tokens", "thinking.budget_tokens must be at least 1 when thinking is enabled")
		}
	case ThinkingDisabled, ThinkingAdaptive:
	default:
		return InvalidParam("thinking.type", "unknown thinking type %q (want enabled, disabled or adaptive)", t.Type)
	}
	return nil
}

// AnthropicOptions are an Anthropic client's request headers a target of
// the same kind must see. A typed field rather than a map of headers: the
// gateway forwards nothing from a client's headers it has not named.
type AnthropicOptions struct {
	Version string   // anthropic-version
	Betas   []string // anthropic-beta flags, split at commas, in order, each once
}

// Ingress dialects whose bodies a same-dialect target can take as they are.
const (
	DialectAnthropic = "anthropic" // Anthropic Messages
	DialectResponses = "responses" // OpenAI Responses
	DialectGemini    = "gemini"    // Gemini generateContent
)

// Original is a request body as its client sent it.
type Original struct {
	// Dialect is the ingress wire format: "anthropic" (Messages),
	// "responses" (OpenAI Responses).
	Dialect string
	// Body is the JSON body. A dialect that rebuilt parts the upstream must
	// see differently (a Responses chain the gateway stored) puts the
	// rebuilt body here.
	Body []byte
}

// Hints steer routing and caching for one request.
type Hints struct {
	Route        string
	Strategy     string
	CacheControl CacheControl
	CacheTTL     time.Duration
	AffinityKey  string
	// Client identifies the calling client key (set by the transport after
	// authentication), for per-key cache scopes.
	Client string
	// Region is what the client said it is in (X-Switchyard-Region) and
	// Labels the labels of its key, set by the gateway for route rules.
	Region string
	Labels map[string]string
}

// CacheControl is a request's cache directive.
type CacheControl int

// Cache directives.
const (
	CacheDefault CacheControl = iota
	CacheNoCache
	CacheNoStore
	CacheRefresh
)

// CacheStatus reports how the cache took part in an answer.
type CacheStatus int

// Cache statuses.
const (
	CacheUnknown CacheStatus = iota
	CacheMiss
	CacheHit
	CacheCoalesced
	CacheBypass
	// CacheSemanticHit is an answer stored for another request whose last
	// user turn meant the same (engine/cache/semantic); route.Info.Semantic
	// says how similar and which entry.
	CacheSemanticHit
)

// String gives the lowercase name used in headers and JSON.
func (s CacheStatus) String() string {
	switch s {
	case CacheMiss:
		return "miss"
	case CacheHit:
		return "hit"
	case CacheCoalesced:
		return "coalesced"
	case CacheBypass:
		return "bypass"
	case CacheSemanticHit:
		return "semantic_hit"
	}
	return ""
}

// Message is one conversation turn, or the delta of a stream chunk.
type Message struct {
	Role Role
	// Content is the text content. Parts is set instead for multimodal input.
	Content          string
	Parts            []Part
	Name             string
	ToolCalls        []ToolCall
	ToolCallID       string
	Refusal          string
	ReasoningContent string
	// ReasoningSignature is the provider's signature over ReasoningContent
	// (Anthropic's thinking block signature), which it needs back, intact,
	// when the turn returns in a later request's history (with tool use it
	// is required). In a stream delta it is a fragment, like the text.
	// Anthropic answers with one thinking block per turn; were there
	// several, their texts are joined and the last signature kept.
	ReasoningSignature string
	// RedactedReasoning holds opaque, encrypted reasoning blocks
	// (Anthropic's redacted_thinking data), passed back as they came.
	RedactedReasoning []string
	// Cache marks a prompt-cache breakpoint after this whole message
	// (LiteLLM's message-level cache_control); a part's own Cache marks one
	// after that part. Targets without explicit prompt caching ignore it.
	Cache *CacheHint
}

// CacheHint is a prompt-cache breakpoint: the provider may cache the prompt
// up to and including what carries it (Anthropic's cache_control).
type CacheHint struct {
	Type string // "ephemeral", the only kind providers define today
	TTL  string // "5m" or "1h"; empty leaves the provider's default
}

// PartType names a content part kind.
type PartType string

// Content part kinds.
const (
	PartText  PartType = "text"
	PartImage PartType = "image_url"
	PartFile  PartType = "file"        // a document: PDF, plain text, …
	PartAudio PartType = "input_audio" // audio input
)

// Part is one element of multimodal content.
type Part struct {
	Type        PartType
	Text        string
	ImageURL    string // http(s) URL or data: URL, with PartImage
	ImageDetail string
	File        *FilePart  // with PartFile
	Audio       *AudioPart // with PartAudio
	Cache       *CacheHint // a prompt-cache breakpoint after this part
}

// FilePart is a document given inline or by reference. Data stays base64,
// as every wire format carries it, so no adapter decodes and re-encodes it.
type FilePart struct {
	Data     string // base64, without a data: prefix
	MIMEType string // e.g. application/pdf; required with Data
	URL      string // an http(s) URL, or a provider file URI (Gemini fileData)
	FileID   string // a provider's uploaded-file id (OpenAI Files API)
	Filename string
}

// AudioPart is audio input, base64 like FilePart.
type AudioPart struct {
	Data   string
	Format string // wav, mp3, …
}

// ToolCall is a model's call of a function. In stream deltas Index says which
// call a fragment belongs to and Arguments holds a fragment.
type ToolCall struct {
	Index     int
	ID        string
	Type      string // "function"
	Name      string
	Arguments string
	// Signature is the provider's opaque signature bound to this call
	// (Gemini's thoughtSignature on a functionCall part), which it needs
	// back with the call in later turns. It starts with the issuing
	// provider kind and a colon ("gemini:…"), so a target of another kind
	// drops it rather than failing on it.
	Signature string
}

// Tool is a function the model may call.
type Tool struct {
	Type        string // "function"
	Name        string
	Description string
	Parameters  json.RawMessage // JSON Schema
	Strict      *bool
	// Cache marks a prompt-cache breakpoint after the tool list up to here
	// (Anthropic caches tools in order).
	Cache *CacheHint
}

// ToolChoice is a mode (none, auto, required) or one named function.
type ToolChoice struct {
	Mode     string
	Function string
}

// ResponseFormat constrains output: text, json_object or json_schema.
type ResponseFormat struct {
	Type              string
	SchemaName        string
	SchemaDescription string
	Schema            json.RawMessage
	Strict            *bool
}

// Finish reasons, in OpenAI's vocabulary (adapters map theirs to these).
const (
	FinishStop          = "stop"
	FinishLength        = "length"
	FinishToolCalls     = "tool_calls"
	FinishContentFilter = "content_filter"
)

// ChatResponse is a whole answer.
type ChatResponse struct {
	ID                string
	Created           int64 // unix seconds
	Model             string
	Choices           []Choice
	Usage             Usage
	SystemFingerprint string
}

// Choice is one alternative answer.
type Choice struct {
	Index        int
	Message      Message
	FinishReason string
	Logprobs     *Logprobs // when the request asked for them and the target gives them
}

// Logprobs are the log probabilities of an answer's tokens, in OpenAI's
// shape (Gemini's logprobsResult maps onto it).
type Logprobs struct {
	Content []TokenLogprob
	Refusal []TokenLogprob
}

// TokenLogprob is one sampled token and the likeliest alternatives.
type TokenLogprob struct {
	Token       string
	Logprob     float64
	Bytes       []int // UTF-8 bytes of Token; nil when the provider gives none
	TopLogprobs []TopLogprob
}

// TopLogprob is one alternative token at a position.
type TopLogprob struct {
	Token   string
	Logprob float64
	Bytes   []int
}

// Usage counts tokens. PromptTokens includes CachedTokens (counted once).
type Usage struct {
	PromptTokens        int
	CompletionTokens    int
	TotalTokens         int
	CachedTokens        int
	CacheCreationTokens int
	// CacheCreation1hTokens are the part of CacheCreationTokens written with a one-hour lifetime, priced higher.
	CacheCreation1hTokens int
	ReasoningTokens       int
}

// Add sums two usages.
func (u Usage) Add(o Usage) Usage {
	return Usage{
		PromptTokens:          u.PromptTokens + o.PromptTokens,
		CompletionTokens:      u.CompletionTokens + o.CompletionTokens,
		TotalTokens:           u.TotalTokens + o.TotalTokens,
		CachedTokens:          u.CachedTokens + o.CachedTokens,
		CacheCreationTokens:   u.CacheCreationTokens + o.CacheCreationTokens,
		CacheCreation1hTokens: u.CacheCreation1hTokens + o.CacheCreation1hTokens,
		ReasoningTokens:       u.ReasoningTokens + o.ReasoningTokens,
	}
}

// Chunk is one increment of a streamed answer. The last chunk of a stream may
// carry Usage and no choices.
type Chunk struct {
	ID      string
	Created int64
	Model   string
	Choices []ChunkChoice
	Usage   *Usage
}

// ChunkChoice is one alternative's increment.
type ChunkChoice struct {
	Index        int
	Delta        Message
	FinishReason string    // empty until the choice's last chunk
	Logprobs     *Logprobs // of this increment's tokens
}

// Stream yields the chunks of one streamed answer.
type Stream interface {
	// Recv returns the next chunk, or io.EOF after the last one.
	Recv() (Chunk, error)
	// Close releases the upstream connection; safe to call more than once.
	Close() error
}

// Model is a model a provider serves.
type Model struct {
	ID      string
	Created int64
	OwnedBy string
}

// EmbeddingRequest asks for vectors of one or more texts.
type EmbeddingRequest struct {
	Model string
	Input []string
	// InputTokens is token-id input (OpenAI's `input: [[…]]`), set instead
	// of Input; only targets that take token ids can serve it.
	InputTokens    [][]int
	EncodingFormat string
	Dimensions     *int
	User           string
	Hints          Hints
}

// EmbeddingResponse holds one vector per input, in input order.
type EmbeddingResponse struct {
	Model   string
	Vectors [][]float32
	Usage   Usage
}
