package rpc

import (
	"errors"
	"testing"

	"google.golang.org/protobuf/types/known/structpb"

	"github.com/switchyard/switchyard/engine/llm"
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
			r.Messages[0].ContentParts = []*pb.ContentPart{{Type: "audio"}}
		}, "messages[0].content[0].type"},
		{"bad tool_choice", func(r *pb.CreateChatCompletionRequest) { r.ToolChoice = &pb.ToolChoice{Mode: "sometimes"} }, "tool_choice"},
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
