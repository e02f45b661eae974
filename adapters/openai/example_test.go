package openai_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/switchyard/switchyard/adapters/openai"
	"github.com/switchyard/switchyard/engine/llm"
)

func Example() {
	// A stand-in for an OpenAI-compatible server.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, `data: {"id":"c1","choices":[{"index":0,"delta":{"role":"assistant","content":"Hel"}}]}`+"\n\n")
		io.WriteString(w, `data: {"id":"c1","choices":[{"index":0,"delta":{"content":"lo"},"finish_reason":"stop"}]}`+"\n\n")
		io.WriteString(w, `data: {"id":"c1","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}}`+"\n\n")
		io.WriteString(w, "data: [DONE]\n\n")
	}))
	defer srv.Close()

	// One client per provider, sharing one connection pool.
	client, err := openai.New(openai.Options{
		Name:       "local-vllm",
		BaseURL:    srv.URL + "/v1",
		HTTPClient: openai.NewHTTPClient(64, 0),
	})
	if err != nil {
		panic(err)
	}
	stream, err := client.ChatStream(context.Background(), &llm.ChatRequest{
		Model:    "qwen2.5-7b-instruct",
		Messages: []llm.Message{{Role: llm.RoleUser, Content: "Say hello"}},
	})
	if err != nil {
		panic(err)
	}
	defer stream.Close()
	for {
		chunk, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			panic(err)
		}
		for _, c := range chunk.Choices {
			fmt.Print(c.Delta.Content)
		}
		if chunk.Usage != nil {
			fmt.Printf("\ntokens: %d in, %d out\n", chunk.Usage.PromptTokens, chunk.Usage.CompletionTokens)
		}
	}
	// Output:
	// Hello
	// tokens: 5 in, 2 out
}
