package rpc

import (
	"errors"
	"testing"

	"google.golang.org/protobuf/types/known/structpb"

	"github.com/switchyard/switchyard/engine/llm"
	"github.com/switchyard/switchyard/engine/route"
	pb "github.com/switchyard/switchyard/gen/go/switchyard/v1"
)

func ptr[T any](v T) *T { return &v }

func validReq() *pb.CreateChatCompletionRequest {
	return &pb.CreateChatCompletionRequest{Model: "m", Messages: []*pb.ChatMessage{{Role: "user", Content: ptr("hi")}}}
}

func TestChatRequestFromProtoRejectsBadInputNamingTheParam(t *testing.T) {
	cases := []struct {
		name  string
		edit  func(r *pb.CreateChatCompletionRequest)
		param string
	}{
		{"missing model", func(r *pb.CreateChatCompletionRequest) { r.Model = "" }, "model"},
		{"empty messages", func(r *pb.CreateChatCompletionRequest) { r.Messages = nil }, "messages"},
		{"missing role", func(r *pb.CreateChatCompletionRequest) { r.Messages[0].Role = "" }, "messages[0].role"},
		{"unknown role", func(r *pb.CreateChatCompletionRequest) { r.Messages[0].Role = "robot" }, "messages[0].role"},
		{"temperature too high", func(r *pb.CreateChatCompletionRequest) { r.Temperature = ptr(2.5) }, "temperature"},
		{"top_p negative", func(r *pb.CreateChatCompletionRequest) { r.TopP = ptr(-0.1) }, "top_p"},
		{"max_tokens zero", func(r *pb.CreateChatCompletionRequest) { r.MaxTokens = ptr(int32(0)) }, "max_tokens"},
		{"n zero", func(r *pb.CreateChatCompletionRequest) { r.N = ptr(int32(0)) }, "n"},
		{"tool without name", func(r *pb.CreateChatCompletionRequest) {
			r.Tools = []*pb.Tool{{Type: "function", Function: &pb.FunctionDefinition{}}}
		}, "tools[0].function.name"},
		{"tool message without id", func(r *pb.CreateChatCompletionRequest) {
			r.Messages = append(r.Messages, &pb.ChatMessage{Role: "tool", Content: ptr("42")})
		}, "messages[1].tool_call_id"},
		{"unknown part type", func(r *pb.CreateChatCompletionRequest) {
			r.Messages[0].ContentParts = []*pb.ContentPart{{Type: "video"}}
		}, "messages[0].content[0].type"},
		{"bad tool_choice", func(r *pb.CreateChatCompletionRequest) { r.ToolChoice = &pb.ToolChoice{Mode: "sometimes"} }, "tool_choice"},
		{"file part without a source", func(r *pb.CreateChatCompletionRequest) {
			r.Messages[0].ContentParts = []*pb.ContentPart{{Type: "file", File: &pb.FileContent{Filename: "a.pdf"}}}
		}, "messages[0].content[0].file"},
		{"bare base64 file without a type", func(r *pb.CreateChatCompletionRequest) {
			r.Messages[0].ContentParts = []*pb.ContentPart{{Type: "file", File: &pb.FileContent{FileData: "JVBERi0="}}}
		}, "messages[0].content[0].file.mime_type"},
		{"malformed data URL", func(r *pb.CreateChatCompletionRequest) {
			r.Messages[0].ContentParts = []*pb.ContentPart{{Type: "file", File: &pb.FileContent{FileData: "data:application/pdf,JVBERi0="}}}
		}, "messages[0].content[0].file.file_data"},
		{"audio without format", func(r *pb.CreateChatCompletionRequest) {
			r.Messages[0].ContentParts = []*pb.ContentPart{{Type: "input_audio", InputAudio: &pb.InputAudio{Data: "UklG"}}}
		}, "messages[0].content[0].input_audio"},
		{"top_k zero", func(r *pb.CreateChatCompletionRequest) { r.TopK = ptr(int32(0)) }, "top_k"},
		{"thinking without budget", func(r *pb.CreateChatCompletionRequest) { r.Thinking = &pb.Thinking{Type: "enabled"} }, "thinking.budget_tokens"},
		{"unknown thinking type", func(r *pb.CreateChatCompletionRequest) { r.Thinking = &pb.Thinking{Type: "deep"} }, "thinking.type"},
		{"bad response_format", func(r *pb.CreateChatCompletionRequest) { r.ResponseFormat = &pb.ResponseFormat{Type: "yaml"} }, "response_format.type"},
		{"user with tool_calls", func(r *pb.CreateChatCompletionRequest) {
			r.Messages[0].ToolCalls = []*pb.ToolCall{{Id: "c"}}
		}, "messages[0].tool_calls"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := validReq()
			tc.edit(r)
			_, err := ChatRequestFromProto(r)
			var de *llm.Error
			if !errors.As(err, &de) || de.Kind != llm.KindInvalidRequest || de.Param != tc.param {
				t.Fatalf("got %v (%+v), want invalid request on %q", err, de, tc.param)
			}
		})
	}
}

func TestChatRequestFromProtoCarriesEveryField(t *testing.T) {
	params, _ := structpb.NewStruct(map[string]any{"type": "object"})
	extra, _ := structpb.NewStruct(map[string]any{"top_k": 5})
	in := &pb.CreateChatCompletionRequest{
		Model: "m",
		Messages: []*pb.ChatMessage{
			{Role: "system", Content: ptr("be brief")},
			{Role: "user", ContentParts: []*pb.ContentPart{{Type: "text", Text: "look"}, {Type: "image_url", ImageUrl: &pb.ImageURL{Url: "https://x/y.png", Detail: "low"}}}},
			{Role: "assistant", ToolCalls: []*pb.ToolCall{{Id: "c1", Type: "function", Function: &pb.FunctionCall{Name: "f", Arguments: "{}"}}}},
			{Role: "tool", ToolCallId: "c1", Content: ptr("ok")},
		},
		Temperature: ptr(0.5), MaxTokens: ptr(int32(10)), MaxCompletionTokens: ptr(int32(20)),
		Stop: []string{"END"}, Seed: ptr(int64(7)), User: "u1",
		Tools:          []*pb.Tool{{Type: "function", Function: &pb.FunctionDefinition{Name: "f", Parameters: params}}},
		ToolChoice:     &pb.ToolChoice{FunctionName: "f"},
		ResponseFormat: &pb.ResponseFormat{Type: "json_object"},
		StreamOptions:  &pb.StreamOptions{IncludeUsage: true},
		Extra:          extra,
		Switchyard:     &pb.RequestOptions{Route: "r", CacheControl: pb.CacheControl_CACHE_CONTROL_NO_STORE, CacheTtlSeconds: 60, AffinityKey: "s1"},
	}
	out, err := ChatRequestFromProto(in)
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case *out.MaxTokens != 20:
		t.Errorf("max_completion_tokens should win: %d", *out.MaxTokens)
	case out.Messages[1].Parts[1].ImageURL != "https://x/y.png" || out.Messages[1].Parts[1].ImageDetail != "low":
		t.Errorf("image part %+v", out.Messages[1].Parts)
	case out.Messages[2].ToolCalls[0].Name != "f" || out.Messages[3].ToolCallID != "c1":
		t.Errorf("tool turns %+v", out.Messages)
	case out.ToolChoice.Function != "f" || out.ResponseFormat.Type != "json_object" || string(out.Tools[0].Parameters) == "":
		t.Errorf("tools %+v %+v", out.ToolChoice, out.Tools)
	case !out.IncludeUsage || *out.Seed != 7 || out.Stop[0] != "END" || out.User != "u1":
		t.Errorf("sampling %+v", out)
	case string(out.Extra["top_k"]) != "5":
		t.Errorf("extra %q", out.Extra["top_k"])
	case out.Hints.Route != "r" || out.Hints.CacheControl != llm.CacheNoStore || out.Hints.CacheTTL.Seconds() != 60 || out.Hints.AffinityKey != "s1":
		t.Errorf("hints %+v", out.Hints)
	}
}

// The blocks chat.proto grew for other dialects reach the domain model, and
// what the provider returns reaches the client.
func TestChatProtoCarriesFilesAudioCacheHintsReasoningAndLogprobs(t *testing.T) {
	eph := &pb.CacheHint{Type: "ephemeral", Ttl: "1h"}
	in := &pb.CreateChatCompletionRequest{
		Model: "m", TopK: ptr(int32(40)), Thinking: &pb.Thinking{Type: "enabled", BudgetTokens: 2048},
		Messages: []*pb.ChatMessage{
			{Role: "system", Content: ptr("long rules"), CacheControl: eph},
			{Role: "user", ContentParts: []*pb.ContentPart{
				{Type: "file", File: &pb.FileContent{FileData: "data:application/pdf;base64,JVBERi0=", Filename: "a.pdf"}, CacheControl: eph},
				{Type: "file", File: &pb.FileContent{FileData: "aGk=", MimeType: "text/plain"}},
				{Type: "file", File: &pb.FileContent{FileId: "file-1"}},
				{Type: "input_audio", InputAudio: &pb.InputAudio{Data: "UklG", Format: "wav"}},
			}},
			{Role: "assistant", Content: ptr("x"), ReasoningContent: ptr("thought"), ReasoningSignature: ptr("sig"), RedactedReasoning: []string{"enc"}},
		},
		Tools: []*pb.Tool{{Type: "function", Function: &pb.FunctionDefinition{Name: "f"}, CacheControl: eph}},
	}
	out, err := ChatRequestFromProto(in)
	if err != nil {
		t.Fatal(err)
	}
	want := &llm.CacheHint{Type: "ephemeral", TTL: "1h"}
	parts := out.Messages[1].Parts
	switch {
	case *out.TopK != 40 || out.Thinking == nil || out.Thinking.BudgetTokens != 2048:
		t.Errorf("top_k/thinking %v %+v", out.TopK, out.Thinking)
	case *out.Messages[0].Cache != *want || *out.Tools[0].Cache != *want || *parts[0].Cache != *want || parts[1].Cache != nil:
		t.Errorf("cache hints %+v %+v %+v", out.Messages[0].Cache, out.Tools[0].Cache, parts)
	case parts[0].Type != llm.PartFile || *parts[0].File != (llm.FilePart{Data: "JVBERi0=", MIMEType: "application/pdf", Filename: "a.pdf"}):
		t.Errorf("pdf part %+v", parts[0].File)
	case *parts[1].File != (llm.FilePart{Data: "aGk=", MIMEType: "text/plain"}) || parts[2].File.FileID != "file-1":
		t.Errorf("file parts %+v %+v", parts[1].File, parts[2].File)
	case parts[3].Type != llm.PartAudio || *parts[3].Audio != (llm.AudioPart{Data: "UklG", Format: "wav"}):
		t.Errorf("audio part %+v", parts[3])
	case out.Messages[2].ReasoningSignature != "sig" || len(out.Messages[2].RedactedReasoning) != 1:
		t.Errorf("reasoning %+v", out.Messages[2])
	}

	lp := &llm.Logprobs{Content: []llm.TokenLogprob{{Token: "hi", Logprob: -0.25, Bytes: []int{104, 105},
		TopLogprobs: []llm.TopLogprob{{Token: "hey", Logprob: -1.5}}}}}
	resp := ChatResponseToProto(&llm.ChatResponse{Choices: []llm.Choice{{Message: llm.Message{Content: "hi",
		ReasoningContent: "t", ReasoningSignature: "sig", RedactedReasoning: []string{"enc"}}, Logprobs: lp}}}, nil)
	c := resp.GetChoices()[0]
	if c.GetMessage().GetReasoningSignature() != "sig" || len(c.GetMessage().GetRedactedReasoning()) != 1 {
		t.Errorf("reasoning out %+v", c.GetMessage())
	}
	if tl := c.GetLogprobs().GetContent(); len(tl) != 1 || tl[0].GetToken() != "hi" || tl[0].GetLogprob() != -0.25 ||
		len(tl[0].GetBytes()) != 2 || tl[0].GetTopLogprobs()[0].GetToken() != "hey" {
		t.Errorf("logprobs out %+v", c.GetLogprobs())
	}
	chunk := ChunkToProto(&llm.Chunk{Choices: []llm.ChunkChoice{{Delta: llm.Message{Content: "hi"}, Logprobs: lp}}})
	if chunk.GetChoices()[0].GetLogprobs().GetContent()[0].GetToken() != "hi" {
		t.Errorf("chunk logprobs %+v", chunk.GetChoices()[0])
	}
}

func TestMessageToProtoContentPresence(t *testing.T) {
	cases := []struct {
		name        string
		msg         llm.Message
		delta       bool
		wantContent bool
	}{
		{"whole text answer", llm.Message{Role: "assistant", Content: "hi"}, false, true},
		{"whole empty answer keeps content", llm.Message{Role: "assistant"}, false, true},
		{"tool-call-only answer has null content", llm.Message{Role: "assistant", ToolCalls: []llm.ToolCall{{ID: "c"}}}, false, false},
		{"first delta carries role and empty content", llm.Message{Role: "assistant"}, true, true},
		{"finish delta has no content", llm.Message{}, true, false},
		{"text delta", llm.Message{Content: "x"}, true, true},
		{"tool-call delta has no content", llm.Message{ToolCalls: []llm.ToolCall{{Index: 1, Arguments: "{"}}}, true, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := messageToProto(&tc.msg, tc.delta)
			if (got.Content != nil) != tc.wantContent {
				t.Fatalf("content present = %v, want %v", got.Content != nil, tc.wantContent)
			}
		})
	}
}

func TestInfoToProtoNamesTheSemanticMatch(t *testing.T) {
	sem := &route.SemanticInfo{Similarity: 0.975, Entry: "ab12"}
	got := infoToProto("r1", route.Info{Cache: llm.CacheSemanticHit, Semantic: sem})
	if got.GetCache() != pb.CacheStatus_CACHE_STATUS_SEMANTIC_HIT || got.GetCacheEntry() != "ab12" || got.GetCacheSimilarity() < 0.97 {
		t.Fatalf("semantic hit: %+v", got)
	}
	// A miss that looked semantically names no entry.
	if got := infoToProto("r1", route.Info{Cache: llm.CacheMiss, Semantic: &route.SemanticInfo{Similarity: 0.5}}); got.GetCacheEntry() != "" || got.GetCacheSimilarity() != 0 {
		t.Fatalf("miss: %+v", got)
	}
}
