package openai

import (
	"encoding/json"
	"io"
	"reflect"
	"testing"

	"github.com/switchyard/switchyard/engine/llm"
)

func TestDecodeChatResponseLogprobs(t *testing.T) {
	got, err := decodeChatResponse(readFixture(t, "response_logprobs.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := &llm.Logprobs{Content: []llm.TokenLogprob{
		{Token: "Hi", Logprob: -0.0009, Bytes: []int{72, 105}, TopLogprobs: []llm.TopLogprob{
			{Token: "Hi", Logprob: -0.0009, Bytes: []int{72, 105}},
			{Token: "Hello", Logprob: -7.25, Bytes: []int{72, 101, 108, 108, 111}},
		}},
		{Token: "!", Logprob: -0.31, Bytes: []int{33}, TopLogprobs: []llm.TopLogprob{
			{Token: "!", Logprob: -0.31, Bytes: []int{33}},
			{Token: " there", Logprob: -1.33},
		}},
	}}
	if !reflect.DeepEqual(got.Choices[0].Logprobs, want) {
		t.Fatalf("logprobs\n%+v\nwant\n%+v", got.Choices[0].Logprobs, want)
	}
	if got.Choices[0].Message.Content != "Hi!" {
		t.Fatalf("content %q", got.Choices[0].Message.Content)
	}
}

func TestDecodeLogprobsVariants(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		want       *llm.Logprobs
	}{
		{"null", `{"choices":[{"message":{"content":"x"},"logprobs":null}]}`, nil},
		{"absent", `{"choices":[{"message":{"content":"x"}}]}`, nil},
		{"an odd shape is ignored, as before", `{"choices":[{"message":{"content":"x"},"logprobs":[]}]}`, nil},
		{"a malformed token list is dropped", `{"choices":[{"message":{"content":"x"},"logprobs":{"content":[{"token":5}]}}]}`, nil},
		{"both lists empty", `{"choices":[{"message":{"content":"x"},"logprobs":{"content":[],"refusal":null}}]}`, nil},
		{"refusal tokens", `{"choices":[{"message":{"refusal":"no"},"logprobs":{"content":null,"refusal":[{"token":"no","logprob":-0.5,"bytes":[110,111],"top_logprobs":[]}]}}]}`,
			&llm.Logprobs{Refusal: []llm.TokenLogprob{{Token: "no", Logprob: -0.5, Bytes: []int{110, 111}, TopLogprobs: []llm.TopLogprob{}}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decodeChatResponse([]byte(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got.Choices[0].Logprobs, tc.want) {
				t.Fatalf("got %+v, want %+v", got.Choices[0].Logprobs, tc.want)
			}
		})
	}
	// The fast path and encoding/json agree on a body with logprobs.
	var fast, slow wireResponse
	data := readFixture(t, "response_logprobs.json")
	if !fast.decodeFast(data) {
		t.Fatal("fast path declined a body with logprobs")
	}
	if err := json.Unmarshal(data, &slow); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fast.Choices[0].Logprobs, slow.Choices[0].Logprobs) {
		t.Fatalf("fast %+v\nslow %+v", fast.Choices[0].Logprobs, slow.Choices[0].Logprobs)
	}
}

func TestStreamLogprobs(t *testing.T) {
	s, _ := streamOf(string(readFixture(t, "stream_logprobs.sse")))
	got, err := collect(t, s)
	if err != io.EOF {
		t.Fatalf("end = %v", err)
	}
	var lps []*llm.Logprobs
	for _, c := range got {
		for _, ch := range c.Choices {
			lps = append(lps, ch.Logprobs)
		}
	}
	want := []*llm.Logprobs{
		nil, // {"content":[],"refusal":null} on the role chunk
		{Content: []llm.TokenLogprob{{Token: "Hi", Logprob: -0.0009, Bytes: []int{72, 105}, TopLogprobs: []llm.TopLogprob{
			{Token: "Hi", Logprob: -0.0009, Bytes: []int{72, 105}}, {Token: "Hello", Logprob: -7.25, Bytes: []int{72, 101, 108, 108, 111}}}}}},
		{Content: []llm.TokenLogprob{{Token: "!", Logprob: -0.31, Bytes: []int{33}, TopLogprobs: []llm.TopLogprob{{Token: "!", Logprob: -0.31, Bytes: []int{33}}}}}},
		nil, // the finish chunk
	}
	if !reflect.DeepEqual(lps, want) {
		t.Fatalf("logprobs per chunk\n%+v\nwant\n%+v", lps, want)
	}
	// A chunk's logprobs are its own: the next event does not overwrite them.
	if got[1].Choices[0].Logprobs.Content[0].Token != "Hi" {
		t.Fatal("an earlier chunk's logprobs changed")
	}
}

// TestUsageDetails pins the reasoning and cached token counts, unary and
// streamed: they are what reasoning and prompt-cache pricing bill from.
func TestUsageDetails(t *testing.T) {
	const usage = `{"prompt_tokens":2006,"completion_tokens":300,"total_tokens":2306,"prompt_tokens_details":{"cached_tokens":1920,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":192,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}`
	want := llm.Usage{PromptTokens: 2006, CompletionTokens: 300, TotalTokens: 2306, CachedTokens: 1920, ReasoningTokens: 192}
	t.Run("unary", func(t *testing.T) {
		got, err := decodeChatResponse([]byte(`{"choices":[{"message":{"content":"x"}}],"usage":` + usage + `}`))
		if err != nil || got.Usage != want {
			t.Fatalf("%+v %v, want %+v", got.Usage, err, want)
		}
	})
	t.Run("stream", func(t *testing.T) {
		s, _ := streamOf(`data: {"choices":[{"index":0,"delta":{"content":"x"},"finish_reason":"stop"}]}` + "\n\n" +
			`data: {"choices":[],"usage":` + usage + "}\n\ndata: [DONE]\n\n")
		got, err := collect(t, s)
		if err != io.EOF || len(got) != 2 || got[1].Usage == nil || *got[1].Usage != want {
			t.Fatalf("%+v %v, want usage %+v", got, err, want)
		}
	})
}
