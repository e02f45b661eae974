package switchyard_test

import (
	"context"
	"fmt"
	"log"
	"strings"

	switchyardv1 "github.com/switchyard/switchyard/gen/go/switchyard/v1"
	switchyard "github.com/switchyard/switchyard/sdk/go"
)

// The examples run against the gateway TestMain started (gatewayURL would be
// e.g. "http://127.0.0.1:8080"); its simulator answers deterministically.

func ExampleClient_Chat() {
	client, err := switchyard.NewClient(gatewayURL, switchyard.WithAPIKey(testAPIKey))
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	resp, err := client.Chat(context.Background(), &switchyardv1.CreateChatCompletionRequest{
		Model:    "auto",
		Messages: []*switchyardv1.ChatMessage{switchyard.UserMessage("Hello!")},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.GetChoices()[0].GetMessage().GetContent())
	sw := resp.GetSwitchyard()
	fmt.Println("served by", sw.GetProvider(), sw.GetUpstreamModel(), "in", sw.GetAttempts(), "attempt")
	// Output:
	// Simulated reply from sim-small: simple gentle simple routing lantern careful signal stream
	// served by sim sim-small in 1 attempt
}

func ExampleClient_ChatStream() {
	client, err := switchyard.NewClient(gatewayURL,
		switchyard.WithProtocol(switchyard.GRPC), switchyard.WithAPIKey(testAPIKey))
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	req := &switchyardv1.CreateChatCompletionRequest{
		Model:         "auto",
		Messages:      []*switchyardv1.ChatMessage{switchyard.UserMessage("Hello!")},
		StreamOptions: &switchyardv1.StreamOptions{IncludeUsage: true},
	}
	var text strings.Builder
	for chunk, err := range client.ChatStream(context.Background(), req) {
		if err != nil {
			log.Fatal(err)
		}
		for _, choice := range chunk.GetChoices() {
			text.WriteString(choice.GetDelta().GetContent())
		}
		if u := chunk.GetUsage(); u != nil {
			fmt.Println(text.String())
			fmt.Println("completion tokens:", u.GetCompletionTokens())
		}
	}
	// Output:
	// Simulated reply from sim-small: simple gentle simple routing lantern careful signal stream
	// completion tokens: 12
}

func ExampleIsNotFound() {
	client, err := switchyard.NewClient(gatewayURL, switchyard.WithAPIKey(testAPIKey))
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	_, err = client.GetModel(context.Background(), "gpt-99")
	fmt.Println(switchyard.IsNotFound(err))
	// Output: true
}

func ExampleClient_ListModels() {
	client, err := switchyard.NewClient(gatewayURL,
		switchyard.WithProtocol(switchyard.GRPCWeb), switchyard.WithAPIKey(testAPIKey))
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	models, err := client.ListModels(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	for _, m := range models {
		if m.GetAlias() { // the routes; the providers' own models follow them
			fmt.Println(m.GetId(), m.GetProviders())
		}
	}
	// Output:
	// auto [sim]
	// flaky [faulty]
}
