package openai

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/switchyard/switchyard/engine/llm"
)

// TestEncodeChatFilesAndAudio pins the file and input_audio parts: inline
// files as the data: URL file_data takes, uploaded ones by id, audio as
// data + format; cache hints (OpenAI caches by itself) and a Gemini call
// signature never reach the body.
func TestEncodeChatFilesAndAudio(t *testing.T) {
	hint := &llm.CacheHint{Type: "ephemeral"}
	req := &llm.ChatRequest{
		Model: "gpt-4o-audio-preview",
		Messages: []llm.Message{
			{Role: llm.RoleUser, Cache: hint, Parts: []llm.Part{
				{Type: llm.PartText, Text: "Summarise the report and transcribe the clip.", Cache: hint},
				{Type: llm.PartFile, File: &llm.FilePart{Data: "JVBERi0xLjQK", MIMEType: "application/pdf", Filename: "report.pdf"}},
				{Type: llm.PartFile, File: &llm.FilePart{FileID: "file-6F2ksmvXxt4VdoqmHRw6kL"}},
				{Type: llm.PartAudio, Audio: &llm.AudioPart{Data: "UklGRiQAAABXQVZF", Format: "wav"}},
			}},
			{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{{ID: "call_1", Name: "lookup", Arguments: `{}`, Signature: "gemini:c2ln"}}},
			{Role: llm.RoleTool, ToolCallID: "call_1", Content: "ok"},
		},
		Tools: []llm.Tool{{Name: "lookup", Parameters: json.RawMessage(`{"type":"object"}`), Cache: hint}},
	}
	got, err := encodeChat(req, false, false)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "request_files_audio.json", got)
}

func TestEncodeChatRejectsPartsOpenAICannotTake(t *testing.T) {
	for _, tc := range []struct {
		name  string
		part  llm.Part
		param string
	}{
		{"file by URL only", llm.Part{Type: llm.PartFile, File: &llm.FilePart{URL: "https://example.com/a.pdf"}}, "messages[0].content[0].file.file_url"},
		{"inline file without MIME type", llm.Part{Type: llm.PartFile, File: &llm.FilePart{Data: "JVBE"}}, "messages[0].content[0].file.file_data"},
		{"empty file", llm.Part{Type: llm.PartFile, File: &llm.FilePart{}}, "messages[0].content[0].file"},
		{"file part without a file", llm.Part{Type: llm.PartFile}, "messages[0].content[0].file"},
		{"audio without data", llm.Part{Type: llm.PartAudio, Audio: &llm.AudioPart{Format: "wav"}}, "messages[0].content[0].input_audio.data"},
		{"audio without format", llm.Part{Type: llm.PartAudio, Audio: &llm.AudioPart{Data: "UklG"}}, "messages[0].content[0].input_audio.format"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := encodeChat(&llm.ChatRequest{Model: "m", Messages: []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{tc.part}}}}, false, false)
			var le *llm.Error
			if !errors.As(err, &le) || le.Kind != llm.KindInvalidRequest || le.Param != tc.param {
				t.Fatalf("err = %v, want a 400 naming %s", err, tc.param)
			}
		})
	}
}

// TestGatewayOwnedKeysWinOverPassthrough: neither Extra nor the Chat
// ingress's OpenAIFields can re-route the model or change the stream shape
// the adapter reads (stream and the usage chunk it bills from).
func TestGatewayOwnedKeysWinOverPassthrough(t *testing.T) {
	hijack := map[string]json.RawMessage{
		"model": json.RawMessage(`"gpt-4o-hijack"`), "stream": json.RawMessage(`false`),
		"stream_options": json.RawMessage(`{"include_usage":false}`), "messages": json.RawMessage(`[]`),
		"service_tier": json.RawMessage(`"flex"`),
	}
	for _, tc := range []struct {
		name string
		set  func(*llm.ChatRequest)
	}{
		{"extra", func(r *llm.ChatRequest) { r.Extra = hijack }},
		{"openai fields", func(r *llm.ChatRequest) { r.OpenAIFields = hijack }},
		{"both", func(r *llm.ChatRequest) { r.Extra, r.OpenAIFields = hijack, hijack }},
	} {
		for _, stream := range []bool{false, true} {
			req := simpleRequest()
			tc.set(req)
			body, err := encodeChat(req, stream, false)
			if err != nil {
				t.Fatal(err)
			}
			var top map[string]json.RawMessage
			if err := json.Unmarshal(body, &top); err != nil {
				t.Fatalf("%s: %v\n%s", tc.name, err, body)
			}
			if string(top["model"]) != `"gpt-4o-mini"` || string(top["service_tier"]) != `"flex"` {
				t.Errorf("%s stream=%v: model %s service_tier %s", tc.name, stream, top["model"], top["service_tier"])
			}
			var msgs []json.RawMessage
			_ = json.Unmarshal(top["messages"], &msgs)
			if len(msgs) != 2 {
				t.Errorf("%s stream=%v: messages replaced: %s", tc.name, stream, top["messages"])
			}
			if stream {
				if string(top["stream"]) != "true" || string(top["stream_options"]) != `{"include_usage":true}` {
					t.Errorf("%s: stream %s stream_options %s", tc.name, top["stream"], top["stream_options"])
				}
			} else if _, ok := top["stream"]; ok || top["stream_options"] != nil {
				t.Errorf("%s unary: stream %s stream_options %s leaked", tc.name, top["stream"], top["stream_options"])
			}
		}
	}
}

func TestEmbedTokenIDs(t *testing.T) {
	var got []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ = io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"object":"list","model":"text-embedding-3-small","data":[{"object":"embedding","index":1,"embedding":[0.5]},{"object":"embedding","index":0,"embedding":[0.25]}],"usage":{"prompt_tokens":5,"total_tokens":5}}`)
	}))
	t.Cleanup(srv.Close)
	c, err := New(Options{BaseURL: srv.URL, APIKey: "k"})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Embed(context.Background(), &llm.EmbeddingRequest{Model: "text-embedding-3-small", InputTokens: [][]int{{9906, 1917}, {15339, 1070, 0}}})
	if err != nil {
		t.Fatal(err)
	}
	assertJSONEqual(t, got, []byte(`{"model":"text-embedding-3-small","input":[[9906,1917],[15339,1070,0]],"encoding_format":"float"}`))
	if len(resp.Vectors) != 2 || resp.Vectors[0][0] != 0.25 || resp.Vectors[1][0] != 0.5 || resp.Usage.PromptTokens != 5 {
		t.Fatalf("got %+v", resp)
	}
	for _, bad := range []*llm.EmbeddingRequest{
		{Model: "m", Input: []string{"a"}, InputTokens: [][]int{{1}}},
		{Model: "m", InputTokens: [][]int{{1}, {}}},
	} {
		if _, err := encodeEmbedding(bad); llm.KindOf(err) != llm.KindInvalidRequest {
			t.Errorf("encodeEmbedding(%+v) = %v, want a 400", bad, err)
		}
	}
}
