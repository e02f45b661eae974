package rpc

import (
	"encoding/json"
	"fmt"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/switchyard/switchyard/engine/llm"
	"github.com/switchyard/switchyard/engine/route"
	pb "github.com/switchyard/switchyard/gen/go/switchyard/v1"
)

// Limits that keep one request from asking for unbounded work.
const (
	maxMessages = 4096
	maxStops    = 16
	maxTools    = 512
)

// ChatRequestFromProto validates a request and converts it to the domain
// type. Every failure is an llm.KindInvalidRequest naming the parameter.
func ChatRequestFromProto(in *pb.CreateChatCompletionRequest) (*llm.ChatRequest, error) {
	if in.GetModel() == "" {
		return nil, llm.InvalidParam("model", "you must provide a model parameter")
	}
	if len(in.GetMessages()) == 0 {
		return nil, llm.InvalidParam("messages", "messages must be a non-empty array")
	}
	if len(in.GetMessages()) > maxMessages {
		return nil, llm.InvalidParam("messages", "too many messages: %d (at most %d)", len(in.GetMessages()), maxMessages)
	}
	out := &llm.ChatRequest{
		Model:             in.GetModel(),
		Messages:          make([]llm.Message, len(in.GetMessages())),
		Temperature:       in.Temperature,
		TopP:              in.TopP,
		Seed:              in.Seed,
		PresencePenalty:   in.PresencePenalty,
		FrequencyPenalty:  in.FrequencyPenalty,
		User:              in.GetUser(),
		Metadata:          in.GetMetadata(),
		IncludeUsage:      in.GetStreamOptions().GetIncludeUsage(),
		ParallelToolCalls: in.ParallelToolCalls,
		LogitBias:         in.GetLogitBias(),
		Logprobs:          in.Logprobs,
		ReasoningEffort:   in.GetReasoningEffort(),
	}
	if in.TopK != nil {
		if in.GetTopK() < 1 {
			return nil, llm.InvalidParam("top_k", "top_k must be at least 1")
		}
		v := int(in.GetTopK())
		out.TopK = &v
	}
	if th := in.GetThinking(); th != nil && th.GetType() != "" {
		out.Thinking = &llm.Thinking{Type: th.GetType(), BudgetTokens: int(th.GetBudgetTokens())}
		if err := out.Thinking.Check(); err != nil {
			return nil, err
		}
	}
	for i, m := range in.GetMessages() {
		msg, err := messageFromProto(m, fmt.Sprintf("messages[%d]", i))
		if err != nil {
			return nil, err
		}
		out.Messages[i] = msg
	}
	if err := checkRange("temperature", in.Temperature, 0, 2); err != nil {
		return nil, err
	}
	if err := checkRange("top_p", in.TopP, 0, 1); err != nil {
		return nil, err
	}
	if err := checkRange("presence_penalty", in.PresencePenalty, -2, 2); err != nil {
		return nil, err
	}
	if err := checkRange("frequency_penalty", in.FrequencyPenalty, -2, 2); err != nil {
		return nil, err
	}
	switch {
	case in.MaxCompletionTokens != nil:
		if in.GetMaxCompletionTokens() < 1 {
			return nil, llm.InvalidParam("max_completion_tokens", "max_completion_tokens must be at least 1")
		}
		v := int(in.GetMaxCompletionTokens())
		out.MaxTokens = &v
	case in.MaxTokens != nil:
		if in.GetMaxTokens() < 1 {
			return nil, llm.InvalidParam("max_tokens", "max_tokens must be at least 1")
		}
		v := int(in.GetMaxTokens())
		out.MaxTokens = &v
	}
	if in.N != nil {
		if in.GetN() < 1 || in.GetN() > 128 {
			return nil, llm.InvalidParam("n", "n must be between 1 and 128")
		}
		v := int(in.GetN())
		out.N = &v
	}
	if in.TopLogprobs != nil {
		if in.GetTopLogprobs() < 0 || in.GetTopLogprobs() > 20 {
			return nil, llm.InvalidParam("top_logprobs", "top_logprobs must be between 0 and 20")
		}
		v := int(in.GetTopLogprobs())
		out.TopLogprobs = &v
	}
	if len(in.GetStop()) > maxStops {
		return nil, llm.InvalidParam("stop", "at most %d stop sequences", maxStops)
	}
	out.Stop = in.GetStop()
	if len(in.GetTools()) > maxTools {
		return nil, llm.InvalidParam("tools", "at most %d tools", maxTools)
	}
	for i, t := range in.GetTools() {
		param := fmt.Sprintf("tools[%d]", i)
		if t.GetType() != "" && t.GetType() != "function" {
			return nil, llm.InvalidParam(param+".type", "unsupported tool type %q (want \"function\")", t.GetType())
		}
		if t.GetFunction().GetName() == "" {
			return nil, llm.InvalidParam(param+".function.name", "tool function name is required")
		}
		params, err := structJSON(t.GetFunction().GetParameters())
		if err != nil {
			return nil, llm.InvalidParam(param+".function.parameters", "%v", err)
		}
		out.Tools = append(out.Tools, llm.Tool{
			Type:        "function",
			Name:        t.GetFunction().GetName(),
			Description: t.GetFunction().GetDescription(),
			Parameters:  params,
			Strict:      t.GetFunction().Strict,
			Cache:       cacheHintFromProto(t.GetCacheControl()),
		})
	}
	if tc := in.GetToolChoice(); tc != nil {
		switch {
		case tc.GetFunctionName() != "":
			out.ToolChoice = &llm.ToolChoice{Function: tc.GetFunctionName()}
		case tc.GetMode() == "none" || tc.GetMode() == "auto" || tc.GetMode() == "required":
			out.ToolChoice = &llm.ToolChoice{Mode: tc.GetMode()}
		case tc.GetMode() == "":
		default:
			return nil, llm.InvalidParam("tool_choice", "unknown tool_choice %q (want none, auto, required or a function)", tc.GetMode())
		}
	}
	if rf := in.GetResponseFormat(); rf != nil && rf.GetType() != "" {
		switch rf.GetType() {
		case "text", "json_object":
			out.ResponseFormat = &llm.ResponseFormat{Type: rf.GetType()}
		case "json_schema":
			js := rf.GetJsonSchema()
			if js.GetName() == "" {
				return nil, llm.InvalidParam("response_format.json_schema.name", "json_schema.name is required")
			}
			schema, err := structJSON(js.GetSchema())
			if err != nil {
				return nil, llm.InvalidParam("response_format.json_schema.schema", "%v", err)
			}
			out.ResponseFormat = &llm.ResponseFormat{Type: "json_schema", SchemaName: js.GetName(),
				SchemaDescription: js.GetDescription(), Schema: schema, Strict: js.Strict}
		default:
			return nil, llm.InvalidParam("response_format.type", "unknown response_format type %q", rf.GetType())
		}
	}
	if x := in.GetExtra(); x != nil && len(x.GetFields()) > 0 {
		out.Extra = make(map[string]json.RawMessage, len(x.GetFields()))
		for k, v := range x.GetFields() {
			b, err := protojson.Marshal(v)
			if err != nil {
				return nil, llm.InvalidParam("extra."+k, "%v", err)
			}
			out.Extra[k] = b
		}
	}
	if o := in.GetSwitchyard(); o != nil {
		out.Hints = llm.Hints{
			Route:        o.GetRoute(),
			Strategy:     o.GetStrategy(),
			CacheControl: llm.CacheControl(o.GetCacheControl()),
			CacheTTL:     time.Duration(o.GetCacheTtlSeconds()) * time.Second,
			AffinityKey:  o.GetAffinityKey(),
		}
		if o.GetCacheTtlSeconds() < 0 {
			return nil, llm.InvalidParam("switchyard.cache_ttl_seconds", "cache_ttl_seconds must not be negative")
		}
	}
	return out, nil
}

func checkRange(param string, v *float64, lo, hi float64) error {
	if v != nil && (*v < lo || *v > hi || *v != *v) {
		return llm.InvalidParam(param, "%s must be between %g and %g, got %g", param, lo, hi, *v)
	}
	return nil
}

func structJSON(s *structpb.Struct) (json.RawMessage, error) {
	if s == nil {
		return nil, nil
	}
	return protojson.Marshal(s)
}

func messageFromProto(m *pb.ChatMessage, param string) (llm.Message, error) {
	role := llm.Role(m.GetRole())
	if m.GetRole() == "" {
		return llm.Message{}, llm.InvalidParam(param+".role", "message role is required")
	}
	if !role.Valid() {
		return llm.Message{}, llm.InvalidParam(param+".role", "unknown role %q (want system, developer, user, assistant or tool)", m.GetRole())
	}
	out := llm.Message{
		Role:             role,
		Content:          m.GetContent(),
		Name:             m.GetName(),
		ToolCallID:       m.GetToolCallId(),
		Refusal:          m.GetRefusal(),
		ReasoningContent: m.GetReasoningContent(),
		// Signatures and redacted blocks go back to the provider verbatim.
		ReasoningSignature: m.GetReasoningSignature(),
		RedactedReasoning:  m.GetRedactedReasoning(),
		Cache:              cacheHintFromProto(m.GetCacheControl()),
	}
	for j, p := range m.GetContentParts() {
		part, err := partFromProto(p, fmt.Sprintf("%s.content[%d]", param, j))
		if err != nil {
			return llm.Message{}, err
		}
		out.Parts = append(out.Parts, part)
	}
	for j, tc := range m.GetToolCalls() {
		if role != llm.RoleAssistant {
			return llm.Message{}, llm.InvalidParam(param+".tool_calls", "only assistant messages carry tool_calls")
		}
		out.ToolCalls = append(out.ToolCalls, llm.ToolCall{
			Index: j, ID: tc.GetId(), Type: "function",
			Name: tc.GetFunction().GetName(), Arguments: tc.GetFunction().GetArguments(),
		})
	}
	if role == llm.RoleTool && m.GetToolCallId() == "" {
		return llm.Message{}, llm.InvalidParam(param+".tool_call_id", "messages with role 'tool' need tool_call_id")
	}
	return out, nil
}

func partFromProto(p *pb.ContentPart, param string) (llm.Part, error) {
	out := llm.Part{Cache: cacheHintFromProto(p.GetCacheControl())}
	switch p.GetType() {
	case "text":
		out.Type, out.Text = llm.PartText, p.GetText()
	case "image_url":
		out.Type, out.ImageURL, out.ImageDetail = llm.PartImage, p.GetImageUrl().GetUrl(), p.GetImageUrl().GetDetail()
	case "file":
		f := p.GetFile()
		fp := &llm.FilePart{MIMEType: f.GetMimeType(), URL: f.GetFileUrl(), FileID: f.GetFileId(), Filename: f.GetFilename()}
		if !fp.SetData(f.GetFileData()) {
			return out, llm.InvalidParam(param+".file.file_data", "file_data must be data:<type>;base64,<data> or bare base64 with mime_type")
		}
		out.Type, out.File = llm.PartFile, fp
	case "input_audio":
		a := p.GetInputAudio()
		out.Type, out.Audio = llm.PartAudio, &llm.AudioPart{Data: a.GetData(), Format: a.GetFormat()}
	default:
		return out, llm.InvalidParam(param+".type", "unsupported content part type %q (want text, image_url, file or input_audio)", p.GetType())
	}
	return out, out.Check(param)
}

func cacheHintFromProto(h *pb.CacheHint) *llm.CacheHint {
	if h == nil || h.GetType() == "" {
		return nil
	}
	return &llm.CacheHint{Type: h.GetType(), TTL: h.GetTtl()}
}

func logprobsToProto(l *llm.Logprobs) *pb.Logprobs {
	if l == nil {
		return nil
	}
	conv := func(in []llm.TokenLogprob) []*pb.TokenLogprob {
		if len(in) == 0 {
			return nil
		}
		out := make([]*pb.TokenLogprob, len(in))
		for i, t := range in {
			tl := &pb.TokenLogprob{Token: t.Token, Logprob: t.Logprob, Bytes: bytesToProto(t.Bytes)}
			for _, a := range t.TopLogprobs {
				tl.TopLogprobs = append(tl.TopLogprobs, &pb.TopLogprob{Token: a.Token, Logprob: a.Logprob, Bytes: bytesToProto(a.Bytes)})
			}
			out[i] = tl
		}
		return out
	}
	return &pb.Logprobs{Content: conv(l.Content), Refusal: conv(l.Refusal)}
}

func bytesToProto(b []int) []int32 {
	if b == nil {
		return nil
	}
	out := make([]int32, len(b))
	for i, v := range b {
		out[i] = int32(v)
	}
	return out
}

func messageToProto(m *llm.Message, isDelta bool) *pb.ChatMessage {
	out := &pb.ChatMessage{Role: string(m.Role), Name: m.Name, ToolCallId: m.ToolCallID}
	// A whole message has content unless it only calls tools; a delta has
	// content only when this increment carries text.
	// The first delta of a stream carries the role and an empty content, as
	// OpenAI's does.
	if m.Content != "" || (len(m.ToolCalls) == 0 && m.Refusal == "" && (!isDelta || m.Role != "")) {
		c := m.Content
		out.Content = &c
	}
	if m.Refusal != "" {
		r := m.Refusal
		out.Refusal = &r
	}
	if m.ReasoningContent != "" {
		r := m.ReasoningContent
		out.ReasoningContent = &r
	}
	if m.ReasoningSignature != "" {
		s := m.ReasoningSignature
		out.ReasoningSignature = &s
	}
	out.RedactedReasoning = m.RedactedReasoning
	if len(m.ToolCalls) > 0 {
		out.ToolCalls = make([]*pb.ToolCall, len(m.ToolCalls))
		for i, tc := range m.ToolCalls {
			out.ToolCalls[i] = &pb.ToolCall{
				Index: int32(tc.Index), Id: tc.ID, Type: tc.Type,
				Function: &pb.FunctionCall{Name: tc.Name, Arguments: tc.Arguments},
			}
		}
	}
	return out
}

func usageToProto(u llm.Usage) *pb.Usage {
	total := u.TotalTokens
	if total == 0 {
		total = u.PromptTokens + u.CompletionTokens
	}
	return &pb.Usage{
		PromptTokens:     int32(u.PromptTokens),
		CompletionTokens: int32(u.CompletionTokens),
		TotalTokens:      int32(total),
		PromptTokensDetails: &pb.PromptTokensDetails{
			CachedTokens:        int32(u.CachedTokens),
			CacheCreationTokens: int32(u.CacheCreationTokens),
		},
		CompletionTokensDetails: &pb.CompletionTokensDetails{ReasoningTokens: int32(u.ReasoningTokens)},
	}
}

func infoToProto(requestID string, in route.Info) *pb.RoutingInfo {
	out := &pb.RoutingInfo{
		RequestId:     requestID,
		Route:         in.Route,
		Strategy:      in.Strategy,
		Provider:      in.Provider,
		Target:        in.Target,
		UpstreamModel: in.UpstreamModel,
		Attempts:      int32(in.Attempts),
		Cache:         pb.CacheStatus(in.Cache),
		CostUsd:       in.Cost.Dollars(),
		CostNanoUsd:   int64(in.Cost),
		Estimated:     in.Estimated,
		Scores:        in.Scores,
	}
	if sem := in.Semantic; sem != nil && in.Cache == llm.CacheSemanticHit {
		out.CacheSimilarity, out.CacheEntry = float64(sem.Similarity), sem.Entry
	}
	return out
}

// ChatResponseToProto converts a whole answer.
func ChatResponseToProto(r *llm.ChatResponse, info *pb.RoutingInfo) *pb.ChatCompletion {
	out := &pb.ChatCompletion{
		Id:                r.ID,
		Object:            "chat.completion",
		Created:           r.Created,
		Model:             r.Model,
		Choices:           make([]*pb.Choice, len(r.Choices)),
		Usage:             usageToProto(r.Usage),
		SystemFingerprint: r.SystemFingerprint,
		Switchyard:        info,
	}
	for i := range r.Choices {
		c := &r.Choices[i]
		msg := messageToProto(&c.Message, false)
		if msg.Role == "" {
			msg.Role = string(llm.RoleAssistant)
		}
		out.Choices[i] = &pb.Choice{Index: int32(c.Index), Message: msg, FinishReason: c.FinishReason, Logprobs: logprobsToProto(c.Logprobs)}
	}
	return out
}

// ChunkToProto converts one stream chunk.
func ChunkToProto(c *llm.Chunk) *pb.ChatCompletionChunk {
	out := &pb.ChatCompletionChunk{
		Id:      c.ID,
		Object:  "chat.completion.chunk",
		Created: c.Created,
		Model:   c.Model,
		Choices: make([]*pb.ChunkChoice, len(c.Choices)),
	}
	for i := range c.Choices {
		ch := &c.Choices[i]
		cc := &pb.ChunkChoice{Index: int32(ch.Index), Delta: messageToProto(&ch.Delta, true), Logprobs: logprobsToProto(ch.Logprobs)}
		if ch.FinishReason != "" {
			fr := ch.FinishReason
			cc.FinishReason = &fr
		}
		out.Choices[i] = cc
	}
	if c.Usage != nil {
		out.Usage = usageToProto(*c.Usage)
	}
	return out
}
