package gemini_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"

	"github.com/switchyard/switchyard/adapters/gemini"
	"github.com/switchyard/switchyard/engine/llm"
)

func ExampleClient_Chat() {
	// A stand-in for generativelanguage.googleapis.com.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := os.ReadFile("testdata/response_tool_use.json")
		_, _ = w.Write(body)
	}))
	defer srv.Close()

	c, err := gemini.New(gemini.Options{BaseURL: srv.URL, APIKey: "AIza-example"})
	if err != nil {
		panic(err)
	}
	resp, err := c.Chat(context.Background(), &llm.ChatRequest{
		Model:    "gemini-2.5-pro",
		Messages: []llm.Message{{Role: llm.RoleUser, Content: "Weather and time in Paris?"}},
		Tools:    []llm.Tool{{Name: "get_weather"}, {Name: "get_time"}},
	})
	if err != nil {
		panic(err)
	}
	ch := resp.Choices[0]
	for _, tc := range ch.Message.ToolCalls {
		fmt.Printf("%s %s(%s)\n", tc.ID, tc.Name, tc.Arguments)
	}
	fmt.Println("finish:", ch.FinishReason)
	fmt.Printf("usage: prompt=%d completion=%d (reasoning %d) cached=%d\n",
		resp.Usage.PromptTokens, resp.Usage.CompletionTokens, resp.Usage.ReasoningTokens, resp.Usage.CachedTokens)
	// Output:
	// call_0 get_weather({"location":"Paris, France","unit":"celsius"})
	// call_1 get_time({})
	// finish: tool_calls
	// usage: prompt=120 completion=90 (reasoning 50) cached=64
}
