package gemini

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/engine/llm"
)

func user(text string) llm.Message { return llm.Message{Role: llm.RoleUser, Content: text} }

func TestEncodeFidelityMatchesGolden(t *testing.T) {
	const prove = "Prove that there are infinitely many primes."
	tests := []struct {
		name   string
		golden string
		req    *llm.ChatRequest
	}{
		{
			name:   "reasoning effort becomes a thinking budget on a 2.5 model",
			golden: "request_reasoning_effort.json",
			req:    &llm.ChatRequest{Model: "gemini-2.5-pro", ReasoningEffort: "medium", MaxTokens: ptr(4000), Messages: []llm.Message{user(prove)}},
		},
		{
			name:   "reasoning effort becomes a thinking level on a Gemini 3 model",
			golden: "request_thinking_level.json",
			// The transport's matching Thinking is not sent too: Gemini
			// refuses a level and a budget together.
			req: &llm.ChatRequest{Model: "models/gemini-3-pro-preview", ReasoningEffort: "low",
				Thinking: &llm.Thinking{Type: llm.ThinkingEnabled, BudgetTokens: 1024}, Messages: []llm.Message{user(prove)}},
		},
		{
			name:   "logprobs",
			golden: "request_logprobs.json",
			req:    &llm.ChatRequest{Model: "gemini-2.5-flash", Logprobs: ptr(true), TopLogprobs: ptr(2), Messages: []llm.Message{user("Say yes or no.")}},
		},
		{
			name:   "documents inline and by URL, audio inline",
			golden: "request_files_audio.json",
			req: &llm.ChatRequest{Model: "gemini-2.5-flash", Messages: []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{
				{Type: llm.PartText, Text: "Summarise the report, the page and the recording."},
				{Type: llm.PartFile, File: &llm.FilePart{Data: "JVBERi0xLjQK", MIMEType: "application/pdf", Filename: "report.pdf"}},
				{Type: llm.PartFile, File: &llm.FilePart{URL: "https://example.com/report.pdf"}},
				{Type: llm.PartFile, File: &llm.FilePart{URL: "https://generativelanguage.googleapis.com/v1beta/files/abc123", MIMEType: "text/plain"}},
				{Type: llm.PartAudio, Audio: &llm.AudioPart{Data: "UklGRiQAAABXQVZF", Format: "wav"}},
				{Type: llm.PartAudio, Audio: &llm.AudioPart{Data: "SUQzBAAAAAAA", Format: "mp3"}},
			}}}},
		},
		{
			name:   "signatures go back where Gemini put them; a foreign one gives way to the skip value",
			golden: "request_signature_roundtrip.json",
			req: &llm.ChatRequest{Model: "gemini-3-flash-preview", Messages: []llm.Message{
				user("Weather in Paris and Rome?"),
				{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{
					{ID: "call_0", Type: "function", Name: "get_weather", Arguments: `{"city":"Paris"}`, Signature: "gemini:CiIBVKhc7oDHm4fqxRwD3Qq6"},
					{ID: "call_1", Type: "function", Name: "get_weather", Arguments: `{"city":"Rome"}`},
				}},
				{Role: llm.RoleTool, ToolCallID: "call_0", Content: `{"temp":15}`},
				{Role: llm.RoleTool, ToolCallID: "call_1", Content: `{"temp":22}`},
				{Role: llm.RoleAssistant, Content: "Now the forecast.", ToolCalls: []llm.ToolCall{
					{ID: "call_2", Type: "function", Name: "get_forecast", Arguments: `{"city":"Paris"}`, Signature: "anthropic:c2ln"},
				}},
				{Role: llm.RoleTool, ToolCallID: "call_2", Content: "sunny"},
			}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := encodeRequest(tt.req)
			if err != nil {
				t.Fatal(err)
			}
			assertJSONEqual(t, got, readFixture(t, tt.golden))
		})
	}
}

func TestThinkingConfigFollowsModelAndOptions(t *testing.T) {
	tests := []struct {
		name  string
		opts  Options
		req   llm.ChatRequest
		want  string // generationConfig.thinkingConfig; "" for absent
		param string // an invalid-request error naming this field
	}{
		{name: "nothing asked, nothing sent", req: llm.ChatRequest{Model: "gemini-2.5-flash"}},
		{name: "effort none turns thinking off on 2.5", req: llm.ChatRequest{Model: "gemini-2.5-flash", ReasoningEffort: "none"},
			want: `{"thinkingBudget":0}`},
		{name: "explicit budget wins over effort on 2.5", req: llm.ChatRequest{Model: "gemini-2.5-flash", ReasoningEffort: "high",
			Thinking: &llm.Thinking{Type: llm.ThinkingEnabled, BudgetTokens: 3000}}, want: `{"thinkingBudget":3000,"includeThoughts":true}`},
		{name: "explicit budget alone on Gemini 3", req: llm.ChatRequest{Model: "gemini-3-pro-preview",
			Thinking: &llm.Thinking{Type: llm.ThinkingAdaptive}}, want: `{"thinkingBudget":-1,"includeThoughts":true}`},
		{name: "effort is case-insensitive", req: llm.ChatRequest{Model: "gemini-3-flash", ReasoningEffort: "HIGH"},
			want: `{"thinkingLevel":"HIGH","includeThoughts":true}`},
		{name: "operator budgets", opts: Options{EffortBudgets: map[string]int{"low": 128}},
			req: llm.ChatRequest{Model: "gemini-2.5-pro", ReasoningEffort: "low"}, want: `{"thinkingBudget":128,"includeThoughts":true}`},
		{name: "operator level models", opts: Options{ThinkingLevelModels: []string{"my-tuned"}, EffortLevels: map[string]string{"low": "MINIMAL"}},
			req: llm.ChatRequest{Model: "my-tuned-1", ReasoningEffort: "low"}, want: `{"thinkingLevel":"MINIMAL","includeThoughts":true}`},
		{name: "no level models: Gemini 3 gets a budget", opts: Options{ThinkingLevelModels: []string{}},
			req: llm.ChatRequest{Model: "gemini-3-pro", ReasoningEffort: "low"}, want: `{"thinkingBudget":2048,"includeThoughts":true}`},
		{name: "thoughts omitted", opts: Options{OmitThoughts: true},
			req: llm.ChatRequest{Model: "gemini-2.5-pro", ReasoningEffort: "high"}, want: `{"thinkingBudget":24576}`},
		{name: "unknown effort", req: llm.ChatRequest{Model: "gemini-2.5-pro", ReasoningEffort: "extreme"}, param: "reasoning_effort"},
		{name: "unknown effort on a level model", req: llm.ChatRequest{Model: "gemini-3-pro", ReasoningEffort: "extreme"}, param: "reasoning_effort"},
		{name: "unknown thinking type", req: llm.ChatRequest{Model: "gemini-2.5-pro", Thinking: &llm.Thinking{Type: "sometimes"}}, param: "thinking"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := tt.req
			req.Messages = []llm.Message{user("hi")}
			body, err := newTranslation(&tt.opts).encodeRequest(&req)
			if tt.param != "" {
				var de *llm.Error
				if !errors.As(err, &de) || de.Param != tt.param {
					t.Fatalf("err = %v, want an invalid request naming %q", err, tt.param)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got struct {
				GenerationConfig struct {
					ThinkingConfig json.RawMessage `json:"thinkingConfig"`
				} `json:"generationConfig"`
			}
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatal(err)
			}
			if tt.want == "" {
				if got.GenerationConfig.ThinkingConfig != nil {
					t.Fatalf("thinkingConfig = %s, want absent", got.GenerationConfig.ThinkingConfig)
				}
				return
			}
			assertJSONEqual(t, got.GenerationConfig.ThinkingConfig, []byte(tt.want))
		})
	}
}

func TestNoSignatureFallbackSendsCallsBare(t *testing.T) {
	req := &llm.ChatRequest{Model: "m", Messages: []llm.Message{
		{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{{ID: "c", Name: "f", Arguments: "{}"}}},
		{Role: llm.RoleTool, ToolCallID: "c", Content: "ok"},
	}}
	g, err := newTranslation(&Options{NoSignatureFallback: true}).translateRequest(req)
	if err != nil {
		t.Fatal(err)
	}
	if sig := g.Contents[0].Parts[0].ThoughtSignature; sig != "" {
		t.Errorf("thoughtSignature = %q, want none", sig)
	}
}

func TestEncodeRefusesFilesGeminiCannotTake(t *testing.T) {
	withPart := func(p llm.Part) *llm.ChatRequest {
		return &llm.ChatRequest{Model: "m", Messages: []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{p}}}}
	}
	big := strings.Repeat("A", 4*11) // 33 bytes decoded
	tests := []struct {
		name    string
		opts    Options
		req     *llm.ChatRequest
		mention string
	}{
		{"an OpenAI file id", Options{}, withPart(llm.Part{Type: llm.PartFile, File: &llm.FilePart{FileID: "file-abc"}}), "file_id"},
		{"inline data without a type", Options{}, withPart(llm.Part{Type: llm.PartFile, File: &llm.FilePart{Data: "JVBE"}}), "MIME type"},
		{"an empty file", Options{}, withPart(llm.Part{Type: llm.PartFile, File: &llm.FilePart{}}), "file_data"},
		{"audio without a format", Options{}, withPart(llm.Part{Type: llm.PartAudio, Audio: &llm.AudioPart{Data: "UklG"}}), "input_audio"},
		{"a document over the part limit", Options{MaxPartBytes: 32}, withPart(llm.Part{Type: llm.PartFile, File: &llm.FilePart{Data: big, MIMEType: "application/pdf"}}), "file.file_data is about 33 bytes, over the 32-byte limit"},
		{"audio over the part limit", Options{MaxPartBytes: 32}, withPart(llm.Part{Type: llm.PartAudio, Audio: &llm.AudioPart{Data: big, Format: "wav"}}), "input_audio.data"},
		{"an image over the part limit", Options{MaxPartBytes: 32}, withPart(llm.Part{Type: llm.PartImage, ImageURL: "data:image/png;base64," + big}), "image_url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := newTranslation(&tt.opts).encodeRequest(tt.req)
			var de *llm.Error
			if !errors.As(err, &de) || de.Kind != llm.KindInvalidRequest || de.Param != "messages" {
				t.Fatalf("err = %v, want an invalid request naming messages", err)
			}
			if !strings.Contains(de.Message, tt.mention) {
				t.Errorf("message %q does not mention %q", de.Message, tt.mention)
			}
		})
	}
}

func TestNewRefusesBadTranslationOptions(t *testing.T) {
	for name, o := range map[string]Options{
		"negative part limit": {MaxPartBytes: -1},
		"budget below -1":     {EffortBudgets: map[string]int{"low": -2}},
		"empty level":         {EffortLevels: map[string]string{"low": ""}},
	} {
		t.Run(name, func(t *testing.T) {
			o.APIKey = "k"
			if _, err := New(o); err == nil {
				t.Error("New accepted the options")
			}
		})
	}
}

func TestEmbedRefusesTokenInput(t *testing.T) {
	c, err := New(Options{APIKey: "k", BaseURL: "http://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Embed(context.Background(), &llm.EmbeddingRequest{Model: "text-embedding-004", InputTokens: [][]int{{1, 2, 3}}})
	var de *llm.Error
	if !errors.As(err, &de) || de.Kind != llm.KindInvalidRequest || de.Param != "input" {
		t.Fatalf("err = %v, want an invalid request naming input", err)
	}
}

func TestDecodeLogprobs(t *testing.T) {
	var gr gResponse
	if err := json.Unmarshal(readFixture(t, "response_logprobs.json"), &gr); err != nil {
		t.Fatal(err)
	}
	got := decodeResponse(&gr, "m", fixedNow).Choices[0].Logprobs
	want := &llm.Logprobs{Content: []llm.TokenLogprob{
		{Token: "Yes", Logprob: -0.01, TopLogprobs: []llm.TopLogprob{{Token: "Yes", Logprob: -0.01}, {Token: "No", Logprob: -4.7}}},
		{Token: ".", Logprob: -0.09, TopLogprobs: []llm.TopLogprob{{Token: ".", Logprob: -0.09}, {Token: "!", Logprob: -2.5}}},
	}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("logprobs\n got %+v\nwant %+v", got, want)
	}
}

func TestStreamCarriesLogprobsAndSignedCalls(t *testing.T) {
	t.Run("logprobs on each chunk", func(t *testing.T) {
		got, err := collect(fixtureStream(t, "stream_logprobs.sse"))
		if !errors.Is(err, io.EOF) {
			t.Fatal(err)
		}
		if len(got) != 3 {
			t.Fatalf("got %d chunks, want 2 and usage: %+v", len(got), got)
		}
		want := []*llm.Logprobs{
			{Content: []llm.TokenLogprob{{Token: "Yes", Logprob: -0.01, TopLogprobs: []llm.TopLogprob{{Token: "Yes", Logprob: -0.01}, {Token: "No", Logprob: -4.7}}}}},
			{Content: []llm.TokenLogprob{{Token: ".", Logprob: -0.09, TopLogprobs: []llm.TopLogprob{{Token: ".", Logprob: -0.09}}}}},
		}
		for i, w := range want {
			if lp := got[i].Choices[0].Logprobs; !reflect.DeepEqual(lp, w) {
				t.Errorf("chunk %d logprobs %+v, want %+v", i, lp, w)
			}
		}
	})
	t.Run("calls whole with the finish reason in the same event", func(t *testing.T) {
		got, err := collect(fixtureStream(t, "stream_signed_calls.sse"))
		if !errors.Is(err, io.EOF) {
			t.Fatal(err)
		}
		const id, model = "g3taLmkHPPlz7IPvtfUqQ4", "gemini-3-flash-preview"
		want := []llm.Chunk{
			{ID: id, Created: fixedNow.Unix(), Model: model, Choices: []llm.ChunkChoice{{Delta: llm.Message{Role: llm.RoleAssistant, ReasoningContent: "I should look up the weather."}}}},
			{ID: id, Created: fixedNow.Unix(), Model: model, Choices: []llm.ChunkChoice{{Delta: llm.Message{ToolCalls: []llm.ToolCall{
				{Index: 0, ID: "call_0", Type: "function", Name: "get_weather", Arguments: `{"city":"Paris"}`, Signature: "gemini:EtQCCtECAdHtim9s"},
				{Index: 1, ID: "call_1", Type: "function", Name: "get_weather", Arguments: `{"city":"Rome"}`},
			}}, FinishReason: llm.FinishToolCalls}}},
			// Thoughts are output: in the completion count once, and
			// counted apart as reasoning.
			{ID: id, Created: fixedNow.Unix(), Model: model, Usage: &llm.Usage{PromptTokens: 40, CompletionTokens: 84, TotalTokens: 124, ReasoningTokens: 60}},
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("chunks\n got %+v\nwant %+v", got, want)
		}
	})
}
