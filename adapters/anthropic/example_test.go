package anthropic_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"

	"github.com/switchyard/switchyard/adapters/anthropic"
	"github.com/switchyard/switchyard/engine/llm"
)

func ExampleClient_ChatStream() {
	// A stand-in for api.anthropic.com replaying a recorded stream.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := os.ReadFile("testdata/stream_tool_use.sse")
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = w.Write(body)
	}))
	defer srv.Close()

	c, err := anthropic.New(anthropic.Options{BaseURL: srv.URL, APIKey: "sk-ant-example"})
	if err != nil {
		panic(err)
	}
	s, err := c.ChatStream(context.Background(), &llm.ChatRequest{
		Model:    "claude-sonnet-4-5-20250929",
		Messages: []llm.Message{{Role: llm.RoleUser, Content: "Weather and time in Paris?"}},
	})
	if err != nil {
		panic(err)
	}
	defer s.Close()
	for {
		ch, err := s.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			panic(err)
		}
		if ch.Usage != nil {
			fmt.Printf("usage: prompt=%d (cached %d) completion=%d\n",
				ch.Usage.PromptTokens, ch.Usage.CachedTokens, ch.Usage.CompletionTokens)
		}
		for _, c := range ch.Choices {
			for _, tc := range c.Delta.ToolCalls {
				fmt.Printf("tool[%d] %s%s\n", tc.Index, tc.Name, tc.Arguments)
			}
			if c.FinishReason != "" {
				fmt.Println("finish:", c.FinishReason)
			}
		}
	}
	// Output:
	// tool[0] get_weather
	// tool[0] {"location":
	// tool[0]  "Paris, France"
	// tool[0] , "unit": "celsius"}
	// tool[1] get_time
	// tool[1] {}
	// finish: tool_calls
	// usage: prompt=2572 (cached 2000) completion=89
}
