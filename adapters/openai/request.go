package openai

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"

	"github.com/switchyard/switchyard/engine/llm"
)

// wireRequest is the Chat Completions request body. Unset fields are
// omitted so upstream defaults apply and compatible servers that do not know
// a field never see it.
type wireRequest struct {
	Model               string             `json:"model"`
	Messages            []wireMessage      `json:"messages"`
	Temperature         *float64           `json:"temperature,omitempty"`
	TopP                *float64           `json:"top_p,omitempty"`
	MaxCompletionTokens *int               `json:"max_completion_tokens,omitempty"`
	MaxTokens           *int               `json:"max_tokens,omitempty"`
	N                   *int               `json:"n,omitempty"`
	Stop                []string           `json:"stop,omitempty"`
	Seed                *int64             `json:"seed,omitempty"`
	PresencePenalty     *float64           `json:"presence_penalty,omitempty"`
	FrequencyPenalty    *float64           `json:"frequency_penalty,omitempty"`
	Tools               []wireTool         `json:"tools,omitempty"`
	ToolChoice          any                `json:"tool_choice,omitempty"` // string or wireNamedToolChoice
	ResponseFormat      *wireRespFormat    `json:"response_format,omitempty"`
	User                string             `json:"user,omitempty"`
	Metadata            map[string]string  `json:"metadata,omitempty"`
	ParallelToolCalls   *bool              `json:"parallel_tool_calls,omitempty"`
	LogitBias           map[string]float64 `json:"logit_bias,omitempty"`
	Logprobs            *bool              `json:"logprobs,omitempty"`
	TopLogprobs         *int               `json:"top_logprobs,omitempty"`
	ReasoningEffort     string             `json:"reasoning_effort,omitempty"`
	Stream              bool               `json:"stream,omitempty"`
	StreamOptions       *wireStreamOptions `json:"stream_options,omitempty"`
}

type wireStreamOptions struct {
	IncludeUsage bool `json:"include_usage"`
}

// wireMessage is one request message. Content is a string, a []wirePart, or
// nil, which encodes as the null OpenAI expects on assistant tool-call turns.
type wireMessage struct {
	Role       string         `json:"role"`
	Content    any            `json:"content"`
	Name       string         `json:"name,omitempty"`
	ToolCalls  []wireToolCall `json:"tool_calls,omitempty"`
	ToolCallID string         `json:"tool_call_id,omitempty"`
	Refusal    string         `json:"refusal,omitempty"`
}

type wirePart struct {
	Type       string          `json:"type"`
	Text       *string         `json:"text,omitempty"`
	ImageURL   *wireImageURL   `json:"image_url,omitempty"`
	File       *wireFile       `json:"file,omitempty"`
	InputAudio *wireInputAudio `json:"input_audio,omitempty"`
}

// wireFile is a file content part: inline as a data: URL, or an uploaded
// file's id. Chat Completions has no field for a file URL.
type wireFile struct {
	FileData string `json:"file_data,omitempty"`
	FileID   string `json:"file_id,omitempty"`
	Filename string `json:"filename,omitempty"`
}

type wireInputAudio struct {
	Data   string `json:"data"`
	Format string `json:"format"`
}

type wireImageURL struct {
	URL    string `json:"url"`
	Detail string `json:"detail,omitempty"`
}

type wireToolCall struct {
	ID       string           `json:"id,omitempty"`
	Type     string           `json:"type,omitempty"`
	Function wireFunctionCall `json:"function"`
}

type wireFunctionCall struct {
	Name      string `json:"name,omitempty"`
	Arguments string `json:"arguments"`
}

type wireTool struct {
	Type     string       `json:"type"`
	Function wireFunction `json:"function"`
}

type wireFunction struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Parameters  json.RawMessage `json:"parameters,omitempty"`
	Strict      *bool           `json:"strict,omitempty"`
}

type wireNamedToolChoice struct {
	Type     string           `json:"type"`
	Function wireFunctionName `json:"function"`
}

type wireFunctionName struct {
	Name string `json:"name"`
}

type wireRespFormat struct {
	Type       string          `json:"type"`
	JSONSchema *wireJSONSchema `json:"json_schema,omitempty"`
}

type wireJSONSchema struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Schema      json.RawMessage `json:"schema,omitempty"`
	Strict      *bool           `json:"strict,omitempty"`
}

// defaultSchemaName fills json_schema.name, which OpenAI requires but the
// gateway's own API and the other providers' formats do not.
const defaultSchemaName = "response"

// reservedKey reports keys that can never come from ChatRequest.Extra: they
// decide where the request goes and how the answer is read.
func reservedKey(k string) bool {
	switch k {
	case "model", "messages", "stream", "stream_options":
		return true
	}
	return false
}

// encodeChat builds the upstream JSON body. Errors are *llm.Error of kind
// InvalidRequest naming the offending parameter.
func encodeChat(req *llm.ChatRequest, stream, legacyMaxTokens bool) ([]byte, error) {
	if req == nil {
		return nil, llm.Errorf(llm.KindInvalidRequest, "nil chat request")
	}
	if req.Model == "" {
		return nil, llm.InvalidParam("model", "model is required")
	}
	if len(req.Messages) == 0 {
		return nil, llm.InvalidParam("messages", "at least one message is required")
	}
	w := wireRequest{
		Model:             req.Model,
		Temperature:       req.Temperature,
		TopP:              req.TopP,
		N:                 req.N,
		Stop:              req.Stop,
		Seed:              req.Seed,
		PresencePenalty:   req.PresencePenalty,
		FrequencyPenalty:  req.FrequencyPenalty,
		User:              req.User,
		Metadata:          req.Metadata,
		ParallelToolCalls: req.ParallelToolCalls,
		LogitBias:         req.LogitBias,
		Logprobs:          req.Logprobs,
		TopLogprobs:       req.TopLogprobs,
		ReasoningEffort:   req.ReasoningEffort,
	}
	if legacyMaxTokens {
		w.MaxTokens = req.MaxTokens
	} else {
		w.MaxCompletionTokens = req.MaxTokens
	}
	if stream {
		w.Stream = true
		w.StreamOptions = &wireStreamOptions{IncludeUsage: true}
	}
	for _, p := range [...]struct {
		name string
		f    *float64
	}{
		{"temperature", req.Temperature}, {"top_p", req.TopP},
		{"presence_penalty", req.PresencePenalty}, {"frequency_penalty", req.FrequencyPenalty},
	} {
		if p.f != nil && (math.IsNaN(*p.f) || math.IsInf(*p.f, 0)) {
			return nil, llm.InvalidParam(p.name, "%s must be a finite number", p.name)
		}
	}
	for k, f := range req.LogitBias {
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, llm.InvalidParam("logit_bias", "logit_bias[%q] must be a finite number", k)
		}
	}

	msgs, err := encodeMessages(req.Messages)
	if err != nil {
		return nil, err
	}
	w.Messages = msgs

	if len(req.Tools) > 0 {
		w.Tools = make([]wireTool, len(req.Tools))
		for i, t := range req.Tools {
			if t.Name == "" {
				return nil, llm.InvalidParam(fmt.Sprintf("tools[%d].function.name", i), "tool name is required")
			}
			if len(t.Parameters) > 0 && !json.Valid(t.Parameters) {
				return nil, llm.InvalidParam(fmt.Sprintf("tools[%d].function.parameters", i), "parameters is not valid JSON")
			}
			typ := t.Type
			if typ == "" {
				typ = "function"
			}
			w.Tools[i] = wireTool{Type: typ, Function: wireFunction{
				Name: t.Name, Description: t.Description, Parameters: t.Parameters, Strict: t.Strict,
			}}
		}
	}

	if tc := req.ToolChoice; tc != nil {
		switch {
		case tc.Function != "":
			w.ToolChoice = wireNamedToolChoice{Type: "function", Function: wireFunctionName{Name: tc.Function}}
		case tc.Mode != "":
			w.ToolChoice = tc.Mode
		}
	}

	if rf := req.ResponseFormat; rf != nil {
		typ := rf.Type
		if typ == "" && len(rf.Schema) > 0 {
			typ = "json_schema"
		}
		switch typ {
		case "":
		case "json_schema":
			if len(rf.Schema) > 0 && !json.Valid(rf.Schema) {
				return nil, llm.InvalidParam("response_format.json_schema.schema", "schema is not valid JSON")
			}
			name := rf.SchemaName
			if name == "" {
				name = defaultSchemaName
			}
			w.ResponseFormat = &wireRespFormat{Type: typ, JSONSchema: &wireJSONSchema{
				Name: name, Description: rf.SchemaDescription, Schema: rf.Schema, Strict: rf.Strict,
			}}
		default:
			w.ResponseFormat = &wireRespFormat{Type: typ}
		}
	}

	size := 256
	for i := range req.Messages {
		size += len(req.Messages[i].Content) + 48
	}
	body, ok := w.appendFast(make([]byte, 0, size))
	if !ok {
		var err error
		if body, err = json.Marshal(&w); err != nil {
			return nil, &llm.Error{Kind: llm.KindInvalidRequest, Message: "encode request: " + err.Error(), Err: err}
		}
	}
	switch {
	case len(req.OpenAIFields) == 0 && len(req.Extra) == 0:
		return body, nil
	case len(req.OpenAIFields) == 0:
		return mergeExtra(body, req.Extra, w.has)
	case len(req.Extra) == 0:
		return mergeExtra(body, req.OpenAIFields, w.has)
	}
	// Both: the client's explicit extra wins over a same-named field.
	fields := maps.Clone(req.OpenAIFields)
	maps.Copy(fields, req.Extra)
	return mergeExtra(body, fields, w.has)
}

// has reports whether the encoded request carries key. It mirrors the
// struct's tags and omitempty rules; TestWireRequestHasMatchesEncoding
// keeps the two in step.
func (w *wireRequest) has(key string) bool {
	switch key {
	case "model", "messages":
		return true
	case "temperature":
		return w.Temperature != nil
	case "top_p":
		return w.TopP != nil
	case "max_completion_tokens":
		return w.MaxCompletionTokens != nil
	case "max_tokens":
		return w.MaxTokens != nil
	case "n":
		return w.N != nil
	case "stop":
		return len(w.Stop) > 0
	case "seed":
		return w.Seed != nil
	case "presence_penalty":
		return w.PresencePenalty != nil
	case "frequency_penalty":
		return w.FrequencyPenalty != nil
	case "tools":
		return len(w.Tools) > 0
	case "tool_choice":
		return w.ToolChoice != nil
	case "response_format":
		return w.ResponseFormat != nil
	case "user":
		return w.User != ""
	case "metadata":
		return len(w.Metadata) > 0
	case "parallel_tool_calls":
		return w.ParallelToolCalls != nil
	case "logit_bias":
		return len(w.LogitBias) > 0
	case "logprobs":
		return w.Logprobs != nil
	case "top_logprobs":
		return w.TopLogprobs != nil
	case "reasoning_effort":
		return w.ReasoningEffort != ""
	case "stream":
		return w.Stream
	case "stream_options":
		return w.StreamOptions != nil
	}
	return false
}

func encodeMessages(in []llm.Message) ([]wireMessage, error) {
	out := make([]wireMessage, len(in))
	for i := range in {
		m := &in[i]
		if !m.Role.Valid() {
			return nil, llm.InvalidParam(fmt.Sprintf("messages[%d].role", i), "unknown role %q", m.Role)
		}
		wm := wireMessage{
			Role:       string(m.Role),
			Name:       m.Name,
			ToolCallID: m.ToolCallID,
			Refusal:    m.Refusal,
		}
		// ReasoningContent is deliberately not sent back: DeepSeek rejects
		// requests that echo it, and OpenAI does not define it.
		switch {
		case len(m.Parts) > 0:
			parts := make([]wirePart, len(m.Parts))
			for j := range m.Parts {
				p := &m.Parts[j]
				switch p.Type {
				case llm.PartText:
					parts[j] = wirePart{Type: "text", Text: &p.Text}
				case llm.PartImage:
					if p.ImageURL == "" {
						return nil, llm.InvalidParam(fmt.Sprintf("messages[%d].content[%d].image_url.url", i, j), "image URL is required")
					}
					parts[j] = wirePart{Type: "image_url", ImageURL: &wireImageURL{URL: p.ImageURL, Detail: p.ImageDetail}}
				case llm.PartFile:
					f, err := encodeFile(fmt.Sprintf("messages[%d].content[%d].file", i, j), p.File)
					if err != nil {
						return nil, err
					}
					parts[j] = wirePart{Type: "file", File: f}
				case llm.PartAudio:
					a, err := encodeAudio(fmt.Sprintf("messages[%d].content[%d].input_audio", i, j), p.Audio)
					if err != nil {
						return nil, err
					}
					parts[j] = wirePart{Type: "input_audio", InputAudio: a}
				default:
					return nil, llm.InvalidParam(fmt.Sprintf("messages[%d].content[%d].type", i, j), "unsupported content part type %q", p.Type)
				}
			}
			wm.Content = parts
		case m.Role == llm.RoleAssistant && len(m.ToolCalls) > 0 && m.Content == "":
			wm.Content = nil
		default:
			wm.Content = m.Content
		}
		if len(m.ToolCalls) > 0 {
			wm.ToolCalls = make([]wireToolCall, len(m.ToolCalls))
			for j, tc := range m.ToolCalls {
				typ := tc.Type
				if typ == "" {
					typ = "function"
				}
				args := tc.Arguments
				if args == "" {
					// arguments must hold a JSON object; a call without
					// parameters is "{}".
					args = "{}"
				}
				wm.ToolCalls[j] = wireToolCall{ID: tc.ID, Type: typ, Function: wireFunctionCall{Name: tc.Name, Arguments: args}}
			}
		}
		out[i] = wm
	}
	return out, nil
}

// encodeFile maps a file part. Inline data goes as the data: URL OpenAI
// wants in file_data; an uploaded file by id. A file known only by URL has
// no place in Chat Completions (OpenAI fetches no file URLs there), so it is
// refused naming the field rather than dropped.
func encodeFile(param string, f *llm.FilePart) (*wireFile, error) {
	switch {
	case f == nil:
		return nil, llm.InvalidParam(param, "%s: a file part needs a file", param)
	case f.Data != "":
		if f.MIMEType == "" {
			return nil, llm.InvalidParam(param+".file_data", "%s.file_data: inline file data needs its MIME type", param)
		}
		return &wireFile{FileData: "data:" + f.MIMEType + ";base64," + f.Data, Filename: f.Filename}, nil
	case f.FileID != "":
		return &wireFile{FileID: f.FileID, Filename: f.Filename}, nil
	case f.URL != "":
		return nil, llm.InvalidParam(param+".file_url", "%s.file_url: OpenAI Chat Completions takes no file URLs; send the file inline (file_data) or as an uploaded file_id", param)
	}
	return nil, llm.InvalidParam(param, "%s: a file part needs file_data or file_id", param)
}

func encodeAudio(param string, a *llm.AudioPart) (*wireInputAudio, error) {
	switch {
	case a == nil || a.Data == "":
		return nil, llm.InvalidParam(param+".data", "%s.data: audio data is required", param)
	case a.Format == "":
		return nil, llm.InvalidParam(param+".format", "%s.format: the audio format (wav, mp3, ...) is required", param)
	}
	return &wireInputAudio{Data: a.Data, Format: a.Format}, nil
}

// mergeExtra appends the passthrough fields the typed request did not set.
// A key the adapter already wrote wins over Extra, so a client cannot
// override the routed model or turn a unary call into a stream.
func mergeExtra(body []byte, extra map[string]json.RawMessage, emitted func(string) bool) ([]byte, error) {
	keys := make([]string, 0, len(extra))
	for k := range extra {
		if emitted(k) || reservedKey(k) {
			continue
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return body, nil
	}
	slices.Sort(keys) // deterministic bodies, so cache keys and goldens are stable

	var buf bytes.Buffer
	buf.Grow(len(body) + 64*len(keys))
	buf.Write(body[:len(body)-1]) // drop the closing brace
	for _, k := range keys {
		raw := extra[k]
		buf.WriteByte(',')
		quoted, err := json.Marshal(k)
		if err != nil {
			return nil, fmt.Errorf("merge extra: %w", err)
		}
		buf.Write(quoted)
		buf.WriteByte(':')
		if err := json.Compact(&buf, raw); err != nil || len(bytes.TrimSpace(raw)) == 0 {
			return nil, llm.InvalidParam(k, "extra field %q is not valid JSON", k)
		}
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// encodeEmbedding builds the /embeddings body.
func encodeEmbedding(req *llm.EmbeddingRequest) ([]byte, error) {
	if req == nil {
		return nil, llm.Errorf(llm.KindInvalidRequest, "nil embedding request")
	}
	if req.Model == "" {
		return nil, llm.InvalidParam("model", "model is required")
	}
	// Token ids go as OpenAI's array of token arrays (what LangChain's
	// OpenAIEmbeddings sends by default); the rest of the family takes them too.
	var input any = req.Input
	switch {
	case len(req.Input) > 0 && len(req.InputTokens) > 0:
		return nil, llm.InvalidParam("input", "input: give texts or token ids, not both")
	case len(req.InputTokens) > 0:
		for i, toks := range req.InputTokens {
			if len(toks) == 0 {
				return nil, llm.InvalidParam(fmt.Sprintf("input[%d]", i), "input[%d]: a token array must not be empty", i)
			}
		}
		input = req.InputTokens
	case len(req.Input) == 0:
		return nil, llm.InvalidParam("input", "at least one input is required")
	}
	w := struct {
		Model          string `json:"model"`
		Input          any    `json:"input"`
		EncodingFormat string `json:"encoding_format"`
		Dimensions     *int   `json:"dimensions,omitempty"`
		User           string `json:"user,omitempty"`
	}{req.Model, input, "float", req.Dimensions, req.User}
	return json.Marshal(&w)
}

// embeddingInputs is how many vectors an embedding request asks for.
func embeddingInputs(req *llm.EmbeddingRequest) int {
	if len(req.InputTokens) > 0 {
		return len(req.InputTokens)
	}
	return len(req.Input)
}
