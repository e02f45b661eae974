package openai

import (
	"encoding/json"
	"errors"

	"github.com/switchyard/switchyard/engine/llm"
	"github.com/switchyard/switchyard/engine/route"
)

// The wire* types are the Chat Completions shapes as a reflection-based
// library needs them, for the benchmark only: the union-typed fields
// (content, stop, tool_choice) must go through json.RawMessage and a
// second decode.

type wireRequest struct {
	Model               string            `json:"model"`
	Messages            []wireMessage     `json:"messages"`
	Temperature         *float64          `json:"temperature"`
	TopP                *float64          `json:"top_p"`
	MaxTokens           *int32            `json:"max_tokens"`
	MaxCompletionTokens *int32            `json:"max_completion_tokens"`
	N                   *int32            `json:"n"`
	Stop                json.RawMessage   `json:"stop"`
	Seed                *int64            `json:"seed"`
	PresencePenalty     *float64          `json:"presence_penalty"`
	FrequencyPenalty    *float64          `json:"frequency_penalty"`
	Tools               []wireTool        `json:"tools"`
	ToolChoice          json.RawMessage   `json:"tool_choice"`
	ResponseFormat      *wireRespFormat   `json:"response_format"`
	User                string            `json:"user"`
	Metadata            map[string]string `json:"metadata"`
	Stream              bool              `json:"stream"`
	StreamOptions       *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
	ParallelToolCalls *bool                      `json:"parallel_tool_calls"`
	LogitBias         map[string]float64         `json:"logit_bias"`
	Logprobs          *bool                      `json:"logprobs"`
	TopLogprobs       *int32                     `json:"top_logprobs"`
	ReasoningEffort   string                     `json:"reasoning_effort"`
	Extra             map[string]json.RawMessage `json:"extra"`
	Switchyard        *struct {
		Route           string `json:"route"`
		Strategy        string `json:"strategy"`
		CacheControl    string `json:"cache_control"`
		CacheTTLSeconds int32  `json:"cache_ttl_seconds"`
		AffinityKey     string `json:"affinity_key"`
	} `json:"switchyard"`
}

type wireMessage struct {
	Role             string          `json:"role"`
	Content          json.RawMessage `json:"content"`
	Name             string          `json:"name"`
	ToolCalls        []wireToolCall  `json:"tool_calls"`
	ToolCallID       string          `json:"tool_call_id"`
	Refusal          string          `json:"refusal"`
	ReasoningContent string          `json:"reasoning_content"`
}

type wirePart struct {
	Type     string `json:"type"`
	Text     string `json:"text"`
	ImageURL *struct {
		URL    string `json:"url"`
		Detail string `json:"detail"`
	} `json:"image_url"`
}

type wireToolCall struct {
	Index    *int   `json:"index,omitempty"`
	ID       string `json:"id,omitempty"`
	Type     string `json:"type,omitempty"`
	Function struct {
		Name      string `json:"name,omitempty"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

type wireTool struct {
	Type     string `json:"type"`
	Function *struct {
		Name        string          `json:"name"`
		Description string          `json:"description"`
		Parameters  json.RawMessage `json:"parameters"`
		Strict      *bool           `json:"strict"`
	} `json:"function"`
}

type wireRespFormat struct {
	Type       string `json:"type"`
	JSONSchema *struct {
		Name        string          `json:"name"`
		Description string          `json:"description"`
		Schema      json.RawMessage `json:"schema"`
		Strict      *bool           `json:"strict"`
	} `json:"json_schema"`
}

// wireDecodeChat decodes with c into the wire types, maps to the domain
// and validates (validate is shared with the scanner path).
func wireDecodeChat(c codec, body []byte) (*chatRequest, error) {
	var w wireRequest
	if err := c.unmarshal(body, &w); err != nil {
		return nil, err
	}
	r := &chatRequest{stream: w.Stream, maxTokens: w.MaxTokens, maxCompletionTokens: w.MaxCompletionTokens, n: w.N, topLogprobs: w.TopLogprobs}
	r.Model, r.Temperature, r.TopP, r.Seed = w.Model, w.Temperature, w.TopP, w.Seed
	r.PresencePenalty, r.FrequencyPenalty, r.User, r.Metadata = w.PresencePenalty, w.FrequencyPenalty, w.User, w.Metadata
	r.ParallelToolCalls, r.LogitBias, r.Logprobs, r.ReasoningEffort = w.ParallelToolCalls, w.LogitBias, w.Logprobs, w.ReasoningEffort
	r.IncludeUsage = w.StreamOptions != nil && w.StreamOptions.IncludeUsage
	if len(w.Extra) > 0 {
		r.Extra = w.Extra
	}
	r.Messages = make([]llm.Message, len(w.Messages))
	for i, m := range w.Messages {
		out := llm.Message{Role: llm.Role(m.Role), Name: m.Name, ToolCallID: m.ToolCallID, Refusal: m.Refusal, ReasoningContent: m.ReasoningContent}
		switch {
		case len(m.Content) > 0 && m.Content[0] == '"':
			if err := c.unmarshal(m.Content, &out.Content); err != nil {
				return nil, err
			}
		case len(m.Content) > 0 && m.Content[0] == '[':
			var parts []wirePart
			if err := c.unmarshal(m.Content, &parts); err != nil {
				return nil, err
			}
			for _, p := range parts {
				switch p.Type {
				case "text":
					out.Parts = append(out.Parts, llm.Part{Type: llm.PartText, Text: p.Text})
				case "image_url":
					part := llm.Part{Type: llm.PartImage}
					if p.ImageURL != nil {
						part.ImageURL, part.ImageDetail = p.ImageURL.URL, p.ImageURL.Detail
					}
					out.Parts = append(out.Parts, part)
				default:
					return nil, errors.New("unsupported content part type")
				}
			}
		}
		for j, tc := range m.ToolCalls {
			out.ToolCalls = append(out.ToolCalls, llm.ToolCall{Index: j, ID: tc.ID, Type: "function", Name: tc.Function.Name, Arguments: tc.Function.Arguments})
		}
		r.Messages[i] = out
	}
	if len(w.Stop) > 0 && w.Stop[0] == '"' {
		var s string
		if err := c.unmarshal(w.Stop, &s); err != nil {
			return nil, err
		}
		r.Stop = []string{s}
	} else if len(w.Stop) > 0 && w.Stop[0] == '[' {
		if err := c.unmarshal(w.Stop, &r.Stop); err != nil {
			return nil, err
		}
	}
	for _, t := range w.Tools {
		tool := llm.Tool{}
		if f := t.Function; f != nil {
			tool = llm.Tool{Name: f.Name, Description: f.Description, Parameters: f.Parameters, Strict: f.Strict}
		}
		r.Tools = append(r.Tools, tool)
		r.toolTypes = append(r.toolTypes, t.Type)
	}
	if len(w.ToolChoice) > 0 && w.ToolChoice[0] == '"' {
		tc := &toolChoice{}
		if err := c.unmarshal(w.ToolChoice, &tc.mode); err != nil {
			return nil, err
		}
		r.toolChoice = tc
	} else if len(w.ToolChoice) > 0 && w.ToolChoice[0] == '{' {
		var o struct {
			Function struct {
				Name string `json:"name"`
			} `json:"function"`
		}
		if err := c.unmarshal(w.ToolChoice, &o); err != nil {
			return nil, err
		}
		r.toolChoice = &toolChoice{function: o.Function.Name}
	}
	if rf := w.ResponseFormat; rf != nil {
		r.responseFormat = &responseFormat{typ: rf.Type}
		if js := rf.JSONSchema; js != nil {
			r.responseFormat.name, r.responseFormat.description, r.responseFormat.schema, r.responseFormat.strict = js.Name, js.Description, js.Schema, js.Strict
		}
	}
	if o := w.Switchyard; o != nil {
		r.options = &requestOptions{route: o.Route, strategy: o.Strategy, affinityKey: o.AffinityKey,
			cacheControl: cacheControls[o.CacheControl], cacheTTLSeconds: o.CacheTTLSeconds}
	}
	return r, r.validate()
}

type wireCompletionT struct {
	ID                string       `json:"id"`
	Object            string       `json:"object"`
	Created           int64        `json:"created"`
	Model             string       `json:"model"`
	Choices           []wireChoice `json:"choices"`
	Usage             *wireUsage   `json:"usage,omitempty"`
	SystemFingerprint *string      `json:"system_fingerprint"`
	Switchyard        *wireRouting `json:"switchyard,omitempty"`
}

type wireChoice struct {
	Index        int         `json:"index"`
	Message      *wireOutMsg `json:"message,omitempty"`
	Delta        *wireOutMsg `json:"delta,omitempty"`
	Logprobs     *struct{}   `json:"logprobs"`
	FinishReason *string     `json:"finish_reason"`
}

type wireOutMsg struct {
	Role             string         `json:"role,omitempty"`
	Content          *string        `json:"content"`
	Refusal          *string        `json:"refusal"`
	ToolCalls        []wireToolCall `json:"tool_calls,omitempty"`
	ReasoningContent string         `json:"reasoning_content,omitempty"`
}

type wireUsage struct {
	PromptTokens        int `json:"prompt_tokens"`
	CompletionTokens    int `json:"completion_tokens"`
	TotalTokens         int `json:"total_tokens"`
	PromptTokensDetails struct {
		CachedTokens int `json:"cached_tokens"`
		AudioTokens  int `json:"audio_tokens"`
	} `json:"prompt_tokens_details"`
	CompletionTokensDetails struct {
		ReasoningTokens          int `json:"reasoning_tokens"`
		AudioTokens              int `json:"audio_tokens"`
		AcceptedPredictionTokens int `json:"accepted_prediction_tokens"`
		RejectedPredictionTokens int `json:"rejected_prediction_tokens"`
	} `json:"completion_tokens_details"`
}

type wireRouting struct {
	RequestID     string             `json:"request_id,omitempty"`
	Route         string             `json:"route,omitempty"`
	Strategy      string             `json:"strategy,omitempty"`
	Provider      string             `json:"provider,omitempty"`
	Target        string             `json:"target,omitempty"`
	UpstreamModel string             `json:"upstream_model,omitempty"`
	Cache         string             `json:"cache,omitempty"`
	Attempts      int                `json:"attempts"`
	CostUSD       json.Number        `json:"cost_usd"`
	Estimated     bool               `json:"estimated,omitempty"`
	Scores        map[string]float64 `json:"scores,omitempty"`
}

func strOrNil(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func wireUsageOf(u *llm.Usage) *wireUsage {
	w := &wireUsage{PromptTokens: u.PromptTokens, CompletionTokens: u.CompletionTokens, TotalTokens: u.TotalTokens}
	w.PromptTokensDetails.CachedTokens = u.CachedTokens
	w.CompletionTokensDetails.ReasoningTokens = u.ReasoningTokens
	return w
}

func wireRoutingOf(info *route.Info, requestID string) *wireRouting {
	return &wireRouting{RequestID: requestID, Route: info.Route, Strategy: info.Strategy, Provider: info.Provider,
		Target: info.Target, UpstreamModel: info.UpstreamModel, Cache: info.Cache.String(), Attempts: info.Attempts,
		CostUSD: json.Number(appendNanoUSD(nil, int64(info.Cost))), Estimated: info.Estimated, Scores: info.Scores}
}

func wireCompletion(r *llm.ChatResponse, info *route.Info, requestID string) *wireCompletionT {
	w := &wireCompletionT{ID: r.ID, Object: "chat.completion", Created: r.Created, Model: r.Model,
		Choices: make([]wireChoice, len(r.Choices)), Usage: wireUsageOf(&r.Usage),
		SystemFingerprint: strOrNil(r.SystemFingerprint), Switchyard: wireRoutingOf(info, requestID)}
	for i := range r.Choices {
		m := &r.Choices[i].Message
		om := &wireOutMsg{Role: "assistant", Refusal: strOrNil(m.Refusal), ReasoningContent: m.ReasoningContent}
		if m.Content != "" || (len(m.ToolCalls) == 0 && m.Refusal == "") {
			om.Content = &m.Content
		}
		w.Choices[i] = wireChoice{Index: r.Choices[i].Index, Message: om, FinishReason: strOrNil(r.Choices[i].FinishReason)}
	}
	return w
}

func wireChunkOf(c *llm.Chunk, withUsage bool) *wireCompletionT {
	w := &wireCompletionT{ID: c.ID, Object: "chat.completion.chunk", Created: c.Created, Model: c.Model,
		Choices: make([]wireChoice, len(c.Choices))}
	if withUsage && c.Usage != nil {
		w.Usage = wireUsageOf(c.Usage)
	}
	for i := range c.Choices {
		d := &c.Choices[i].Delta
		om := &wireOutMsg{Role: string(d.Role), Refusal: strOrNil(d.Refusal), ReasoningContent: d.ReasoningContent}
		if d.Content != "" {
			om.Content = &d.Content
		}
		w.Choices[i] = wireChoice{Index: c.Choices[i].Index, Delta: om, FinishReason: strOrNil(c.Choices[i].FinishReason)}
	}
	return w
}
