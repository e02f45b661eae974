package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/loadtest/fakeupstream"
)

// Gemini clients embed through the gateway (google-genai's embed_content
// calls :batchEmbedContents), routed like any embeddings request: here to
// an OpenAI-format target.
func TestGeminiEmbedContentThroughAnyTarget(t *testing.T) {
	fs := fakeupstream.New(fakeupstream.Options{APIKeys: []string{"sk-upstream-key-0000000001"}, EmbeddingDims: 8})
	up := httptest.NewServer(fs)
	t.Cleanup(func() { fs.Close(); up.Close() })
	for _, target := range []struct{ typ, base, path string }{{"openai", up.URL + "/v1", "/v1/embeddings"}, {"gemini", up.URL, "/v1beta/models/up-model:batchEmbedContents"}} {
		t.Run(target.typ, func(t *testing.T) {
			geminiEmbed(t, fs, startGateway(t, sameDialectConfig(target.typ, target.base)), target.path)
		})
	}
}

func geminiEmbed(t *testing.T, fs *fakeupstream.Server, g *gateway, upPath string) {
	post := func(method, body string) (int, []byte) {
		resp, err := http.Post(g.base+"/v1beta/models/auto:"+method, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	st, b := post("batchEmbedContents", `{"requests":[{"model":"models/auto","content":{"parts":[{"text":"one"}]},"output_dimensionality":4},`+
		`{"model":"models/auto","content":{"parts":[{"text":"two"}]},"outputDimensionality":4}]}`)
	var batch struct{ Embeddings []struct{ Values []float32 } }
	if err := json.Unmarshal(b, &batch); st != 200 || err != nil || len(batch.Embeddings) != 2 || len(batch.Embeddings[0].Values) != 4 {
		t.Fatalf("batch: %d %s", st, b)
	}
	recs := fs.Records()
	if last := recs[len(recs)-1]; last.Path != upPath || !(strings.Contains(last.Body, `"dimensions":4`) || strings.Contains(last.Body, `"outputDimensionality":4`)) {
		t.Fatalf("upstream: %s %s", last.Path, last.Body)
	}
	st, b = post("embedContent", `{"content":{"parts":[{"text":"one"}]}}`)
	var one struct{ Embedding struct{ Values []float32 } }
	if err := json.Unmarshal(b, &one); st != 200 || err != nil || len(one.Embedding.Values) != 8 {
		t.Fatalf("single: %d %s", st, b)
	}
	for _, bad := range []string{`{"requests":[]}`, `{"requests":[{"content":{"parts":[{"inlineData":{"mimeType":"image/png","data":"AA=="}}]}}]}`} {
		if st, b := post("batchEmbedContents", bad); st != 400 || !strings.Contains(string(b), `"INVALID_ARGUMENT"`) {
			t.Fatalf("%s: %d %s", bad, st, b)
		}
	}
}
