package openai

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/switchyard/switchyard/adapters/internal/sse"
	"github.com/switchyard/switchyard/adapters/internal/upstream"
	"github.com/switchyard/switchyard/engine/llm"
)

// passthrough reports whether req goes to the upstream's Responses API as
// the client wrote it rather than through Chat Completions.
func (c *Client) passthrough(req *llm.ChatRequest) bool {
	return c.responses && req.Original != nil && req.Original.Dialect == llm.DialectResponses
}

// useResponses reports whether req goes to the upstream's Responses API:
// as the client wrote it (a Responses client), or translated from the
// domain request for a model that needs that API.
func (c *Client) useResponses(req *llm.ChatRequest) bool {
	return c.passthrough(req) || (c.responses && c.apis.responses(req))
}

// responsesBody is the upstream body: the client's own, or the translation.
func (c *Client) responsesBody(req *llm.ChatRequest, stream bool) ([]byte, error) {
	if c.passthrough(req) {
		return upstream.OriginalBody(req.Original, req.Model, stream)
	}
	return encodeResponses(req, stream)
}

func (c *Client) responsesURL() string { return c.base + "/responses" }

func (c *Client) responsesChat(ctx context.Context, req *llm.ChatRequest) (*llm.ChatResponse, error) {
	body, err := c.responsesBody(req, false)
	if err != nil {
		return nil, err
	}
	resp, err := c.send(ctx, http.MethodPost, c.responsesURL(), body, false)
	if err != nil {
		return nil, err
	}
	data, err := c.up.ReadBody(ctx, resp)
	if err != nil {
		return nil, err
	}
	var o wireResponseObject
	if err := json.Unmarshal(data, &o); err != nil {
		return nil, c.up.BadBody(resp.StatusCode, err)
	}
	if o.Error != nil && o.Status == "failed" {
		return nil, &llm.UpstreamError{Provider: c.name, Status: http.StatusBadGateway, Message: o.Error.Message, Code: o.Error.Code}
	}
	return o.toLLM(), nil
}

func (c *Client) responsesStream(ctx context.Context, req *llm.ChatRequest) (llm.Stream, error) {
	body, err := c.responsesBody(req, true)
	if err != nil {
		return nil, err
	}
	resp, err := c.send(ctx, http.MethodPost, c.responsesURL(), body, true)
	if err != nil {
		return nil, err
	}
	if ct := resp.Header.Get("Content-Type"); strings.HasPrefix(ct, "application/json") {
		data, err := c.up.ReadBody(ctx, resp)
		if err != nil {
			return nil, err
		}
		return nil, &llm.UpstreamError{Provider: c.name, Status: resp.StatusCode, Message: "expected an event stream, got JSON: " + excerpt(data)}
	}
	s := &responsesStream{provider: c.name, body: resp.Body, calls: map[string]int{}}
	s.sse.Init(resp.Body, sseBufferSize)
	return s, nil
}

// wireResponseObject is the part of a Responses API response object the
// domain answer is made of.
type wireResponseObject struct {
	ID                string       `json:"id"`
	CreatedAt         int64        `json:"created_at"`
	Model             string       `json:"model"`
	Status            string       `json:"status"`
	Output            []wireItem   `json:"output"`
	Usage             *wireRespUse `json:"usage"`
	IncompleteDetails *struct {
		Reason string `json:"reason"`
	} `json:"incomplete_details"`
	Error *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

type wireItem struct {
	Type      string `json:"type"`
	ID        string `json:"id"`
	CallID    string `json:"call_id"`
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
	Input     string `json:"input"` // custom_tool_call
	Content   []struct {
		Type     string             `json:"type"`
		Text     string             `json:"text"`
		Refusal  string             `json:"refusal"`
		Logprobs []wireTokenLogprob `json:"logprobs"` // with include message.output_text.logprobs
	} `json:"content"`
	Summary []struct {
		Text string `json:"text"`
	} `json:"summary"`
}

type wireRespUse struct {
	InputTokens        int `json:"input_tokens"`
	InputTokensDetails struct {
		CachedTokens int `json:"cached_tokens"`
	} `json:"input_tokens_details"`
	OutputTokens        int `json:"output_tokens"`
	OutputTokensDetails struct {
		ReasoningTokens int `json:"reasoning_tokens"`
	} `json:"output_tokens_details"`
	TotalTokens int `json:"total_tokens"`
}

func (u *wireRespUse) toLLM() llm.Usage {
	if u == nil {
		return llm.Usage{}
	}
	return llm.Usage{PromptTokens: u.InputTokens, CompletionTokens: u.OutputTokens, TotalTokens: u.TotalTokens,
		CachedTokens: u.InputTokensDetails.CachedTokens, ReasoningTokens: u.OutputTokensDetails.ReasoningTokens}
}

// toolCall is an output item as a domain tool call; a custom tool's
// freeform input becomes the one-string arguments the dialect maps back.
func (it *wireItem) toolCall(index int) (llm.ToolCall, bool) {
	switch it.Type {
	case "function_call":
		return llm.ToolCall{Index: index, ID: it.CallID, Type: "function", Name: it.Name, Arguments: it.Arguments}, true
	case "custom_tool_call":
		args, _ := json.Marshal(map[string]string{"input": it.Input})
		return llm.ToolCall{Index: index, ID: it.CallID, Type: "function", Name: it.Name, Arguments: string(args)}, true
	}
	return llm.ToolCall{}, false
}

func (o *wireResponseObject) toLLM() *llm.ChatResponse {
	m := llm.Message{Role: llm.RoleAssistant}
	var lp []wireTokenLogprob
	for _, it := range o.Output {
		switch it.Type {
		case "message":
			for _, p := range it.Content {
				m.Content += p.Text
				m.Refusal += p.Refusal
				lp = append(lp, p.Logprobs...)
			}
		case "reasoning":
			// Summary parts are paragraphs; the stream separates them alike.
			for _, s := range it.Summary {
				if m.ReasoningContent != "" {
					m.ReasoningContent += summarySeparator
				}
				m.ReasoningContent += s.Text
			}
		default:
			if tc, ok := it.toolCall(len(m.ToolCalls)); ok {
				m.ToolCalls = append(m.ToolCalls, tc)
			}
		}
	}
	return &llm.ChatResponse{ID: o.ID, Created: o.CreatedAt, Model: o.Model, Usage: o.Usage.toLLM(),
		Choices: []llm.Choice{{Message: m, FinishReason: o.finishReason(len(m.ToolCalls) > 0),
			Logprobs: (&wireLogprobs{Content: lp}).toLLM()}}}
}

// summarySeparator joins reasoning summary parts.
const summarySeparator = "\n\n"

func (o *wireResponseObject) finishReason(calls bool) string {
	if o.Status == "incomplete" && o.IncompleteDetails != nil {
		switch o.IncompleteDetails.Reason {
		case "max_output_tokens":
			return llm.FinishLength
		case "content_filter":
			return llm.FinishContentFilter
		}
	}
	if calls {
		return llm.FinishToolCalls
	}
	return llm.FinishStop
}

// responsesStream turns a Responses event stream into domain chunks: text,
// reasoning summary and argument deltas as they come, a tool call's id and
// name when its item is added, and usage with the finish reason from the
// terminal event.
type responsesStream struct {
	provider string
	body     io.ReadCloser
	sse      sse.Reader
	calls    map[string]int // item id → domain tool-call index
	ncalls   int
	done     bool
	once     sync.Once
	// id, model and created come with response.created and are stamped on
	// every chunk, as Chat Completions chunks carry them.
	id, model string
	created   int64
}

type wireEvent struct {
	Type         string              `json:"type"`
	ItemID       string              `json:"item_id"`
	Delta        string              `json:"delta"`
	SummaryIndex int                 `json:"summary_index"`
	Logprobs     []wireTokenLogprob  `json:"logprobs"`
	Item         *wireItem           `json:"item"`
	Response     *wireResponseObject `json:"response"`
	Code         string              `json:"code"`
	Message      string              `json:"message"`
}

func (s *responsesStream) Recv() (llm.Chunk, error) {
	for !s.done {
		_, data, err := s.sse.Next()
		if errors.Is(err, io.EOF) {
			return llm.Chunk{}, &llm.UpstreamError{Provider: s.provider, Err: fmt.Errorf("responses stream ended before its terminal event: %w", io.ErrUnexpectedEOF)}
		}
		if err != nil {
			return llm.Chunk{}, &llm.UpstreamError{Provider: s.provider, Err: err}
		}
		if len(bytes.TrimSpace(data)) == 0 {
			continue
		}
		var ev wireEvent
		if err := json.Unmarshal(data, &ev); err != nil {
			return llm.Chunk{}, &llm.UpstreamError{Provider: s.provider, Err: fmt.Errorf("malformed stream event: %w", err)}
		}
		delta := func(m llm.Message) (llm.Chunk, error) {
			return llm.Chunk{ID: s.id, Created: s.created, Model: s.model, Choices: []llm.ChunkChoice{{Delta: m}}}, nil
		}
		switch ev.Type {
		case "response.created", "response.in_progress":
			if r := ev.Response; r != nil {
				s.id, s.model, s.created = r.ID, r.Model, r.CreatedAt
			}
		case "response.output_text.delta":
			c, _ := delta(llm.Message{Content: ev.Delta})
			c.Choices[0].Logprobs = (&wireLogprobs{Content: ev.Logprobs}).toLLM()
			return c, nil
		case "response.reasoning_summary_part.added":
			if ev.SummaryIndex > 0 {
				return delta(llm.Message{ReasoningContent: summarySeparator})
			}
		case "response.refusal.delta":
			return delta(llm.Message{Refusal: ev.Delta})
		case "response.reasoning_summary_text.delta", "response.reasoning_text.delta":
			return delta(llm.Message{ReasoningContent: ev.Delta})
		case "response.output_item.added":
			if ev.Item == nil {
				continue
			}
			tc, ok := ev.Item.toolCall(s.ncalls)
			if !ok {
				continue
			}
			s.calls[ev.Item.ID] = s.ncalls
			s.ncalls++
			// Arguments arrive as deltas; a custom tool's input whole at the end.
			tc.Arguments = ""
			return delta(llm.Message{ToolCalls: []llm.ToolCall{tc}})
		case "response.function_call_arguments.delta":
			if i, ok := s.calls[ev.ItemID]; ok && ev.Delta != "" {
				return delta(llm.Message{ToolCalls: []llm.ToolCall{{Index: i, Arguments: ev.Delta}}})
			}
		case "response.output_item.done":
			if ev.Item != nil && ev.Item.Type == "custom_tool_call" {
				if i, ok := s.calls[ev.Item.ID]; ok {
					tc, _ := ev.Item.toolCall(i)
					return delta(llm.Message{ToolCalls: []llm.ToolCall{{Index: i, Arguments: tc.Arguments}}})
				}
			}
		case "response.completed", "response.incomplete":
			s.done = true
			out := llm.Chunk{ID: s.id, Created: s.created, Model: s.model, Choices: []llm.ChunkChoice{{FinishReason: llm.FinishStop}}}
			if r := ev.Response; r != nil {
				u := r.Usage.toLLM()
				out.ID, out.Created, out.Model, out.Usage = r.ID, r.CreatedAt, r.Model, &u
				out.Choices[0].FinishReason = r.finishReason(s.ncalls > 0)
			}
			return out, nil
		case "response.failed":
			s.done = true
			msg, code := "response failed", ""
			if r := ev.Response; r != nil && r.Error != nil {
				msg, code = r.Error.Message, r.Error.Code
			}
			return llm.Chunk{}, &llm.UpstreamError{Provider: s.provider, Status: http.StatusBadGateway, Message: msg, Code: code}
		case "error":
			s.done = true
			return llm.Chunk{}, &llm.UpstreamError{Provider: s.provider, Status: http.StatusBadGateway, Message: ev.Message, Code: ev.Code}
		}
	}
	return llm.Chunk{}, io.EOF
}

func (s *responsesStream) Close() error {
	var err error
	s.once.Do(func() { err = s.body.Close() })
	return err
}
