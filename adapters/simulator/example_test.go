package simulator_test

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/switchyard/switchyard/adapters/simulator"
	"github.com/switchyard/switchyard/engine/llm"
)

func ExampleProvider_ChatStream() {
	p := simulator.New("sim", []string{"sim-small"}, simulator.WithResponseTokens(6))
	req := &llm.ChatRequest{
		Model:    "sim-small",
		Messages: []llm.Message{{Role: llm.RoleUser, Content: "Hello, gateway!"}},
	}
	s, err := p.ChatStream(context.Background(), req)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()
	for {
		c, err := s.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			fmt.Println(err)
			return
		}
		if c.Usage != nil {
			fmt.Printf("usage: %d prompt + %d completion\n", c.Usage.PromptTokens, c.Usage.CompletionTokens)
			continue
		}
		if d := c.Choices[0]; d.FinishReason != "" {
			fmt.Println("finish:", d.FinishReason)
		} else if d.Delta.Content != "" {
			fmt.Printf("%q\n", d.Delta.Content)
		}
	}

	// A fault injected through metadata, as a test would.
	req.Metadata = map[string]string{simulator.MetaFailStatus: "429", simulator.MetaRetryAfter: "2"}
	_, err = p.Chat(context.Background(), req)
	var ue *llm.UpstreamError
	if errors.As(err, &ue) {
		fmt.Println(ue.Status, ue.RetryAfter, ue.Retryable())
	}
	// Output:
	// "Simulated "
	// "reply "
	// "from "
	// "sim-small: "
	// "simple "
	// "maple"
	// finish: stop
	// usage: 3 prompt + 6 completion
	// 429 2s true
}
