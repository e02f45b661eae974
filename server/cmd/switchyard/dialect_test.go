package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/switchyard/switchyard/gen/go/switchyard/v1/switchyardv1connect"
)

// The ledger records the wire format each request came in, so usage can
// be grouped by it: OpenAI REST is "openai", gRPC and Connect are "grpc".
func TestLedgerRecordsTheIngressDialect(t *testing.T) {
	g := startGatewayWithStore(t, testConfig)
	post(t, g.base+"/v1/chat/completions", `{"model":"auto","messages":[{"role":"user","content":"hi"}]}`)
	_, _ = io.ReadAll(post(t, g.base+"/v1/embeddings", `{"model":"auto","input":"hi"}`).Body)
	c := switchyardv1connect.NewChatServiceClient(http.DefaultClient, g.base)
	if _, err := c.CreateChatCompletion(context.Background(), chatReq("auto")); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"openai": "2", "grpc": "1"}
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp, err := http.Get(g.base + "/v1/usage?group_by=dialect")
		if err != nil {
			t.Fatal(err)
		}
		var u struct {
			Rows []struct {
				Dialect  string `json:"dialect"`
				Requests string `json:"requests"`
			} `json:"rows"`
		}
		err = json.NewDecoder(resp.Body).Decode(&u)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, r := range u.Rows {
			got[r.Dialect] = r.Requests
		}
		if len(got) == len(want) && got["openai"] == want["openai"] && got["grpc"] == want["grpc"] {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("usage by dialect %v, want %v", got, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
