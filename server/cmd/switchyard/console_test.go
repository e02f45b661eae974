package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	pb "github.com/switchyard/switchyard/gen/go/switchyard/v1"
	"github.com/switchyard/switchyard/gen/go/switchyard/v1/switchyardv1connect"
)

// The console is served from the binary, and its live feed sees a request
// as it finishes (without its content) and ends when the gateway drains
// rather than holding the drain until its deadline.
func TestConsole_ServedAndTailEndsOnDrain(t *testing.T) {
	d := startDrainable(t)

	resp, err := http.Get(d.base + "/console/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(page), `src="main.js"`) {
		t.Fatalf("GET /console/: %d %.200s", resp.StatusCode, page)
	}

	usage := switchyardv1connect.NewUsageServiceClient(http.DefaultClient, d.base)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	stream, err := usage.TailRequests(ctx, &pb.TailRequestsRequest{Route: "auto"})
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Close()
	// The first message is empty and comes once the handler has subscribed,
	// so the request below is sure to reach the stream.
	if !stream.Receive() || stream.Msg().GetEvent() != nil {
		t.Fatalf("want an empty first message: %v %v", stream.Msg(), stream.Err())
	}
	const secret = "a prompt the live view must never show"
	body := `{"model":"auto","messages":[{"role":"user","content":"` + secret + `"}]}`
	chat, err := http.Post(d.base+"/v1/chat/completions", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, chat.Body)
	chat.Body.Close()
	if !stream.Receive() {
		t.Fatalf("no event: %v", stream.Err())
	}
	ev := stream.Msg().GetEvent()
	if ev.GetRoute() != "auto" || ev.GetProvider() != "sim" || ev.GetStatus() != "ok" || ev.GetCompletionTokens() == 0 || ev.GetCost() == "" {
		t.Fatalf("event %+v", ev)
	}
	if strings.Contains(ev.String(), secret) {
		t.Fatal("the live event carries the prompt")
	}

	start := time.Now()
	drained := d.shutdown(10 * time.Second)
	for stream.Receive() {
	}
	if err := <-drained; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("the drain waited %s for the live stream", took)
	}
}
