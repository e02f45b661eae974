package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/loadtest/fakeupstream"
	"github.com/switchyard/switchyard/store"
)

func doResponses(t *testing.T, method, url, key, body string) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, url, rd)
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

type responseObject struct {
	ID     string `json:"id"`
	Object string `json:"object"`
	Status string `json:"status"`
	Output []struct {
		Type    string `json:"type"`
		Role    string `json:"role"`
		CallID  string `json:"call_id"`
		Name    string `json:"name"`
		Content []struct{ Type, Text string }
	} `json:"output"`
	Usage struct {
		InputTokens  int `json:"input_tokens"`
		OutputTokens int `json:"output_tokens"`
	} `json:"usage"`
}

func mustResponse(t *testing.T, method, url, key, body string) responseObject {
	t.Helper()
	status, b := doResponses(t, method, url, key, body)
	var o responseObject
	if status != 200 || json.Unmarshal(b, &o) != nil || o.Object != "response" || !strings.HasPrefix(o.ID, "resp_") {
		t.Fatalf("%d %s", status, b)
	}
	return o
}

// The Responses API at the door: unary and the stream's event sequence, a
// three-turn previous_response_id chain that carries the whole context, the
// stored response read back, listed and deleted by its key and by no other,
// a function call, errors in OpenAI's shape, and the ledger's dialect.
func TestResponsesDialect(t *testing.T) {
	const keyA, keyB = "sk-test-key-a-0123456789", "sk-test-key-b-0123456789"
	g := startGatewayWithStore(t, testConfig+"\nauth: {api_keys: ["+keyA+", "+keyB+"]}\n")
	url := g.base + "/v1/responses"

	first := mustResponse(t, "POST", url, keyA, `{"model":"auto","instructions":"Be brief.","input":"one two three"}`)
	if first.Status != "completed" || len(first.Output) != 1 || first.Output[0].Type != "message" || first.Output[0].Content[0].Type != "output_text" ||
		first.Output[0].Content[0].Text == "" || first.Usage.InputTokens == 0 || first.Usage.OutputTokens == 0 {
		t.Fatalf("first: %+v", first)
	}
	// Each turn is sent only its own input; the chain supplies the rest, so
	// the prompt grows by at least the previous answer every turn.
	prev, prompt := first, first.Usage.InputTokens
	for turn := 2; turn <= 3; turn++ {
		next := mustResponse(t, "POST", url, keyA,
			`{"model":"auto","input":[{"role":"user","content":[{"type":"input_text","text":"and more"}]}],"previous_response_id":"`+prev.ID+`"}`)
		if next.Usage.InputTokens < prompt+prev.Usage.OutputTokens {
			t.Fatalf("turn %d prompt %d tokens, want ≥ %d + %d: the chain was not carried", turn, next.Usage.InputTokens, prompt, prev.Usage.OutputTokens)
		}
		prev, prompt = next, next.Usage.InputTokens
	}
	st, b := doResponses(t, "GET", g.base+"/v1/responses/"+prev.ID+"/input_items?order=asc", keyA, "")
	var items struct {
		Object string
		Data   []struct{ ID, Type, Role string }
	}
	if st != 200 || json.Unmarshal(b, &items) != nil || items.Object != "list" || len(items.Data) != 5 ||
		items.Data[0].Role != "user" || items.Data[1].Role != "assistant" || items.Data[4].ID == "" {
		t.Fatalf("input_items: %d %s", st, b)
	}
	if got := mustResponse(t, "GET", g.base+"/v1/responses/"+prev.ID, keyA, ""); got.ID != prev.ID {
		t.Fatalf("get: %+v", got)
	}
	for _, probe := range []struct{ method, path, body string }{
		{"GET", "/v1/responses/" + prev.ID, ""},
		{"GET", "/v1/responses/" + prev.ID + "/input_items", ""},
		{"DELETE", "/v1/responses/" + prev.ID, ""},
		{"POST", "/v1/responses", `{"model":"auto","input":"hi","previous_response_id":"` + prev.ID + `"}`},
	} {
		if st, b := doResponses(t, probe.method, g.base+probe.path, keyB, probe.body); st != 404 || !strings.Contains(string(b), "not found") {
			t.Errorf("another key's %s %s: %d %s, want 404", probe.method, probe.path, st, b)
		}
	}
	if st, b := doResponses(t, "DELETE", g.base+"/v1/responses/"+first.ID, keyA, ""); st != 200 || !strings.Contains(string(b), `"deleted":true`) {
		t.Fatalf("delete: %d %s", st, b)
	}
	if st, _ := doResponses(t, "GET", g.base+"/v1/responses/"+first.ID, keyA, ""); st != 404 {
		t.Fatalf("deleted response still served: %d", st)
	}
	noStore := mustResponse(t, "POST", url, keyA, `{"model":"auto","input":"hi","store":false}`)
	if st, _ := doResponses(t, "GET", g.base+"/v1/responses/"+noStore.ID, keyA, ""); st != 404 {
		t.Fatalf("store:false response was kept: %d", st)
	}

	// A required function call comes back as a function_call item; its
	// output goes back as function_call_output and gets a text answer.
	call := mustResponse(t, "POST", url, keyA, `{"model":"auto","input":"weather?","tool_choice":"required",
		"tools":[{"type":"function","name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}]}`)
	if len(call.Output) != 1 || call.Output[0].Type != "function_call" || call.Output[0].Name != "get_weather" || call.Output[0].CallID == "" {
		t.Fatalf("function call: %+v", call)
	}
	answer := mustResponse(t, "POST", url, keyA, `{"model":"auto","previous_response_id":"`+call.ID+`",
		"input":[{"type":"function_call_output","call_id":"`+call.Output[0].CallID+`","output":"sunny"}]}`)
	if answer.Output[0].Type != "message" {
		t.Fatalf("after the tool result: %+v", answer)
	}

	st, b = doResponses(t, "POST", url, keyA, `{"model":"auto","input":"count","stream":true}`)
	var names []string
	seq := 0
	for _, line := range strings.Split(string(b), "\n") {
		if name, ok := strings.CutPrefix(line, "event: "); ok && (len(names) == 0 || names[len(names)-1] != name) {
			names = append(names, name)
		}
		if data, ok := strings.CutPrefix(line, "data: "); ok {
			var ev struct {
				Seq int `json:"sequence_number"`
			}
			if json.Unmarshal([]byte(data), &ev) != nil || ev.Seq != seq {
				t.Fatalf("event %d has sequence_number %d: %s", seq, ev.Seq, data)
			}
			seq++
		}
	}
	want := "response.created response.in_progress response.output_item.added response.content_part.added response.output_text.delta " +
		"response.output_text.done response.content_part.done response.output_item.done response.completed"
	if st != 200 || strings.Join(names, " ") != want {
		t.Fatalf("stream %d events %v\nwant %s", st, names, want)
	}

	for _, tc := range []struct{ name, body, code string }{
		{"unknown model", `{"model":"nope","input":"hi"}`, "model_not_found"},
		{"tool without a type", `{"model":"auto","input":"hi","tools":[{"name":"x"}]}`, ""},
		{"no input", `{"model":"auto"}`, ""},
		{"unknown previous", `{"model":"auto","input":"hi","previous_response_id":"resp_nope"}`, ""},
	} {
		st, b := doResponses(t, "POST", url, keyA, tc.body)
		var e struct {
			Error struct{ Message, Type, Code string }
		}
		if st < 400 || json.Unmarshal(b, &e) != nil || e.Error.Message == "" || (tc.code != "" && e.Error.Code != tc.code) {
			t.Errorf("%s: %d %s", tc.name, st, b)
		}
	}

	// 8 requests reached the engine: 7 answered, and the unknown model.
	deadline := time.Now().Add(5 * time.Second)
	for {
		rows, _, err := g.ctl.Store().Usage(context.Background(), store.UsageQuery{GroupBy: []string{"dialect"}})
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) == 1 && rows[0].Dialect == "responses" && rows[0].Requests == 8 && rows[0].Errors == 1 && rows[0].PromptTokens > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("ledger by dialect: %+v, want 8 responses requests, 1 error", rows)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// The whole product behind the Responses dialect: the second identical
// request is a cache hit (told in X-Switchyard-Cache, unary and streamed),
// and a fault the upstream reports before the first byte is answered with
// its status, not inside a 200 stream.
func TestResponsesGetsTheCacheAndRoutingHeaders(t *testing.T) {
	up := fakeUpstream(t, fakeupstream.Knobs{}, "sk-upstream-0000000001")
	g := startGateway(t, cacheConfig(up+"/v1", ""))
	post := func(body string, hdr ...string) *http.Response {
		req, _ := http.NewRequest("POST", g.base+"/v1/responses", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp
	}
	for _, body := range []string{`{"model":"cached","input":"What is a switchyard?","store":false}`,
		`{"model":"cached","input":"What is a switchyard, streamed?","stream":true,"store":false}`} {
		first, second := post(body), post(body)
		if first.StatusCode != 200 || first.Header.Get("X-Switchyard-Cache") != "miss" || first.Header.Get("X-Switchyard-Provider") != "up" ||
			second.Header.Get("X-Switchyard-Cache") != "hit" {
			t.Fatalf("%s: first %d %v, second %v", body, first.StatusCode, first.Header, second.Header)
		}
	}
	// X-Fake-Status is not forwarded; the directive in the prompt is.
	if resp := post(`{"model":"cached","input":"[[fake:status=503]] hi","stream":true,"store":false}`); resp.StatusCode != 503 {
		t.Fatalf("upstream 503 before the stream: %d %v", resp.StatusCode, resp.Header)
	}
}
