package providers

// The feature columns of the matrix for openai-go: structured output,
// reasoning, logprobs, n, files and embeddings, against each format. A cell
// with a known gap runs anyway: while it fails it is skipped with the gap's
// reason (prefixed "xfail:", which scripts/test-providers.sh counts as a
// known gap; what the cell got follows " || "); once it passes it fails, so the mark has to go. The gap
// reasons are test/providers/python/plib.py's GAPS.

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/shared"
)

var gaps = map[string]string{}

// cell runs check; gap names a known gap ("" for none).
func cell(t *testing.T, gap string, check func() error) {
	t.Helper()
	err := check()
	switch {
	case gap == "" && err != nil:
		t.Fatal(err)
	case gap != "" && err == nil:
		t.Fatalf("XPASS: the cell passes now; remove its gap mark: %s", gaps[gap])
	case gap != "":
		t.Skipf("xfail: %s || got: %v", gaps[gap], err)
	}
}

type record struct {
	Path string         `json:"path"`
	JSON map[string]any `json:"json"`
}

// upstream is what reached the fake with marker m in model's format.
func upstream(ctx context.Context, format, m string) ([]record, error) {
	u := os.Getenv("FAKE_UPSTREAM_URL") + "/_control/records?" + url.Values{"format": {format}, "contains": {m}}.Encode()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var out struct{ Records []record }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, err
	}
	if len(out.Records) == 0 {
		return nil, fmt.Errorf("no %s upstream request contains %s", format, m)
	}
	return out.Records, nil
}

var seq int

func marker(t *testing.T) string {
	seq++
	return fmt.Sprintf("m%s%d", strings.NewReplacer("/", "", "_", "").Replace(t.Name()), seq)
}

var citySchema = map[string]any{
	"type":                 "object",
	"properties":           map[string]any{"city": map[string]any{"type": "string"}, "celsius": map[string]any{"type": "integer"}},
	"required":             []any{"city", "celsius"},
	"additionalProperties": false,
}

func cityFormat() openai.ChatCompletionNewParamsResponseFormatUnion {
	return openai.ChatCompletionNewParamsResponseFormatUnion{OfJSONSchema: &shared.ResponseFormatJSONSchemaParam{
		JSONSchema: shared.ResponseFormatJSONSchemaJSONSchemaParam{Name: "city", Schema: citySchema, Strict: openai.Bool(true)},
	}}
}

func checkCity(text string) error {
	var city map[string]any
	if err := json.Unmarshal([]byte(text), &city); err != nil {
		return fmt.Errorf("answer is not JSON: %.120q", text)
	}
	name, ok1 := city["city"].(string)
	c, ok2 := city["celsius"].(float64)
	if !ok1 || !ok2 || name == "" || c != float64(int(c)) || len(city) != 2 {
		return fmt.Errorf("answer %s does not match the schema", text)
	}
	return nil
}

// forwardedSchema is the schema the upstream body asks for, in the target's form.
func forwardedSchema(format string, body map[string]any) any {
	get := func(m any, keys ...string) any {
		for _, k := range keys {
			mm, _ := m.(map[string]any)
			m = mm[k]
		}
		return m
	}
	switch format {
	case "openai":
		return get(body, "response_format", "json_schema", "schema")
	case "anthropic":
		if s := get(body, "output_config", "format", "schema"); s != nil {
			return s
		}
		if s := get(body, "output_format", "schema"); s != nil {
			return s
		}
		name := get(body, "tool_choice", "name")
		tools, _ := body["tools"].([]any)
		for _, tl := range tools {
			if get(tl, "name") == name && get(body, "tool_choice", "type") == "tool" {
				return get(tl, "input_schema")
			}
		}
		return nil
	default:
		if get(body, "generationConfig", "responseMimeType") != "application/json" {
			return nil
		}
		return get(body, "generationConfig", "responseJsonSchema")
	}
}

func TestStructuredOutput(t *testing.T) {
	c := client(t)
	for _, tg := range targets {
		t.Run(tg.format+"/upstream", func(t *testing.T) {
			m := marker(t)
			if _, err := c.Chat.Completions.New(ctx(t), openai.ChatCompletionNewParams{
				Model: tg.model, Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage(m + " Weather in Paris?")}, ResponseFormat: cityFormat(),
			}); err != nil {
				t.Fatal(err)
			}
			recs, err := upstream(ctx(t), tg.format, m)
			if err != nil {
				t.Fatal(err)
			}
			want, _ := json.Marshal(citySchema)
			got, _ := json.Marshal(forwardedSchema(tg.format, recs[0].JSON))
			var w, g any
			_ = json.Unmarshal(want, &w)
			_ = json.Unmarshal(got, &g)
			if !reflect.DeepEqual(w, g) {
				t.Fatalf("upstream schema %s, want %s; body %v", got, want, recs[0].JSON)
			}
		})
		t.Run(tg.format+"/answer", func(t *testing.T) {
			cell(t, "", func() error {
				params := openai.ChatCompletionNewParams{
					Model: tg.model, Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Weather in Paris?")}, ResponseFormat: cityFormat(),
				}
				resp, err := c.Chat.Completions.New(ctx(t), params)
				if err != nil {
					return err
				}
				if err := checkCity(resp.Choices[0].Message.Content); err != nil {
					return fmt.Errorf("unary: %w", err)
				}
				st := c.Chat.Completions.NewStreaming(ctx(t), params)
				var acc openai.ChatCompletionAccumulator
				for st.Next() {
					acc.AddChunk(st.Current())
				}
				if err := st.Err(); err != nil {
					return err
				}
				if err := checkCity(acc.Choices[0].Message.Content); err != nil {
					return fmt.Errorf("stream: %w", err)
				}
				return nil
			})
		})
	}
}

func TestReasoningEffort(t *testing.T) {
	c := client(t)
	for _, tg := range targets {
		t.Run(tg.format, func(t *testing.T) {
			m := marker(t)
			resp, err := c.Chat.Completions.New(ctx(t), openai.ChatCompletionNewParams{
				Model: tg.model, Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage(m + " Think, then answer.")},
				ReasoningEffort: shared.ReasoningEffortHigh, MaxCompletionTokens: openai.Int(4000),
			})
			if err != nil {
				t.Fatal(err)
			}
			if resp.Choices[0].Message.Content == "" {
				t.Fatal("no answer")
			}
			if tg.format == "gemini" && resp.Usage.CompletionTokensDetails.ReasoningTokens == 0 {
				t.Fatalf("no reasoning tokens in usage %+v (the Gemini fake reports thoughtsTokenCount)", resp.Usage)
			}
			recs, err := upstream(ctx(t), tg.format, m)
			if err != nil {
				t.Fatal(err)
			}
			b := recs[0].JSON
			switch tg.format {
			case "openai":
				if b["reasoning_effort"] != "high" {
					t.Fatalf("reasoning_effort %v", b["reasoning_effort"])
				}
			case "anthropic":
				th, _ := b["thinking"].(map[string]any)
				budget, _ := th["budget_tokens"].(float64)
				if th["type"] != "enabled" || budget < 1024 || budget >= b["max_tokens"].(float64) {
					t.Fatalf("thinking %v, max_tokens %v", th, b["max_tokens"])
				}
			default:
				gc, _ := b["generationConfig"].(map[string]any)
				tc, _ := gc["thinkingConfig"].(map[string]any)
				if budget, _ := tc["thinkingBudget"].(float64); budget <= 0 && tc["thinkingLevel"] == nil {
					t.Fatalf("thinkingConfig %v", tc)
				}
			}
		})
	}
}

func TestLogprobs(t *testing.T) {
	c := client(t)
	for _, tg := range targets {
		t.Run(tg.format, func(t *testing.T) {
			cell(t, "", func() error {
				params := openai.ChatCompletionNewParams{
					Model: tg.model, Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Say hello.")},
					Logprobs: openai.Bool(true), TopLogprobs: openai.Int(2),
				}
				resp, err := c.Chat.Completions.New(ctx(t), params)
				if tg.format == "anthropic" {
					var apiErr *openai.Error
					if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || !strings.Contains(apiErr.RawJSON(), "logprobs") {
						return fmt.Errorf("want a 400 naming logprobs, got %v", err)
					}
					return nil
				}
				if err != nil {
					return err
				}
				lp := resp.Choices[0].Logprobs.Content
				if len(lp) == 0 || len(lp[0].TopLogprobs) != 2 {
					return fmt.Errorf("logprobs %+v", resp.Choices[0].Logprobs)
				}
				return nil
			})
		})
	}
}

func TestN2(t *testing.T) {
	c := client(t)
	for _, tg := range targets {
		t.Run(tg.format, func(t *testing.T) {
			cell(t, "", func() error {
				resp, err := c.Chat.Completions.New(ctx(t), openai.ChatCompletionNewParams{
					Model: tg.model, Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Hi")}, N: openai.Int(2),
				})
				if tg.format == "anthropic" { // no n, no fan-out on this route: a 400 naming n
					var apiErr *openai.Error
					if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || apiErr.Param != "n" {
						return fmt.Errorf("want a 400 with param n, got %v", err)
					}
					return nil
				}
				if err != nil {
					return err
				}
				if len(resp.Choices) != 2 || resp.Choices[1].Index != 1 {
					return fmt.Errorf("%d choices", len(resp.Choices))
				}
				return nil
			})
		})
	}
	// The route fake-claude-fanout (switchyard.yaml) sets fan_out_n.
	t.Run("anthropic/fan_out", func(t *testing.T) {
		resp, err := c.Chat.Completions.New(ctx(t), openai.ChatCompletionNewParams{
			Model: "fake-claude-fanout", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Hi there")}, N: openai.Int(2),
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.Choices) != 2 || resp.Choices[1].Index != 1 || resp.Choices[1].Message.Content == "" || resp.Usage.PromptTokens != 2*2 {
			t.Fatalf("choices %+v usage %+v", resp.Choices, resp.Usage)
		}
	})
}

var pdf = []byte("%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n" +
	"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")

func TestFilePDF(t *testing.T) {
	c := client(t)
	b64 := base64.StdEncoding.EncodeToString(pdf)
	for _, tg := range targets {
		t.Run(tg.format, func(t *testing.T) {
			m := marker(t)
			parts := []openai.ChatCompletionContentPartUnionParam{
				openai.TextContentPart(m + " Summarise this document."),
				openai.FileContentPart(openai.ChatCompletionContentPartFileFileParam{FileData: openai.String("data:application/pdf;base64," + b64), Filename: openai.String("note.pdf")}),
			}
			if _, err := c.Chat.Completions.New(ctx(t), openai.ChatCompletionNewParams{
				Model: tg.model, Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage(parts)},
			}); err != nil {
				t.Fatal(err)
			}
			recs, err := upstream(ctx(t), tg.format, m)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := json.Marshal(recs[0].JSON)
			want := map[string]string{
				"openai":    `"file_data":"data:application/pdf;base64,` + b64 + `"`,
				"anthropic": `"source":{"data":"` + b64 + `","media_type":"application/pdf","type":"base64"}`,
				"gemini":    `"inlineData":{"data":"` + b64 + `","mimeType":"application/pdf"}`,
			}[tg.format]
			if !strings.Contains(string(body), want) {
				t.Fatalf("upstream body lacks %s: %.400s", want, body)
			}
		})
	}
}

func TestEmbeddings(t *testing.T) {
	c := client(t)
	for _, tg := range targets {
		t.Run(tg.format+"/text", func(t *testing.T) {
			resp, err := c.Embeddings.New(ctx(t), openai.EmbeddingNewParams{Model: tg.model, Input: openai.EmbeddingNewParamsInputUnion{OfArrayOfStrings: []string{"hello world", "goodbye"}}})
			if tg.format == "anthropic" {
				var apiErr *openai.Error
				if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || !strings.Contains(apiErr.RawJSON(), "embeddings") {
					t.Fatalf("want a 400 saying it serves no embeddings, got %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(resp.Data) != 2 || len(resp.Data[0].Embedding) == 0 {
				t.Fatalf("data %+v", resp.Data)
			}
		})
		t.Run(tg.format+"/tokens", func(t *testing.T) {
			cell(t, "", func() error {
				resp, err := c.Embeddings.New(ctx(t), openai.EmbeddingNewParams{Model: tg.model, Input: openai.EmbeddingNewParamsInputUnion{OfArrayOfTokenArrays: [][]int64{{15339, 1917}, {12199}}}})
				if tg.format != "openai" { // token ids only to OpenAI-family targets
					var apiErr *openai.Error
					if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || (apiErr.Param != "input" && !strings.Contains(apiErr.RawJSON(), "embeddings")) {
						return fmt.Errorf("want a 400 naming input, got %v", err)
					}
					return nil
				}
				if err != nil {
					return err
				}
				if len(resp.Data) != 2 {
					return fmt.Errorf("%d vectors", len(resp.Data))
				}
				return nil
			})
		})
	}
}
