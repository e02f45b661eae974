package main

import (
	"bufio"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/loadtest/fakeupstream"
)

// streamedMessageID is the id of the message item a streamed response
// ends with (response.completed's output).
func streamedMessageID(t *testing.T, url, key, body string) string {
	t.Helper()
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 1<<16), 1<<20)
	for sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		var ev struct {
			Type     string
			Response struct{ Output []struct{ ID, Type string } }
		}
		if json.Unmarshal([]byte(data), &ev) == nil && ev.Type == "response.completed" {
			for _, o := range ev.Response.Output {
				if o.Type == "message" {
					return o.ID
				}
			}
		}
	}
	t.Fatalf("no message in the stream's response.completed")
	return ""
}

// item_reference (what the Vercel AI SDK sends for the turns it got back
// while store is on): an output item of a stored response, unary or
// streamed, and an input item, are read back into the conversation; an id
// the gateway never gave, or another key's, is a 404.
func TestResponsesItemReference(t *testing.T) {
	const keyA, keyB = "sk-test-key-a-0123456789", "sk-test-key-b-0123456789"
	g := startGatewayWithStore(t, testConfig+"\nauth: {api_keys: ["+keyA+", "+keyB+"]}\n")
	url := g.base + "/v1/responses"

	first := mustResponse(t, "POST", url, keyA, `{"model":"auto","input":"one two three"}`)
	var firstRaw struct {
		Output []struct{ ID string }
	}
	_, b := doResponses(t, "GET", url+"/"+first.ID, keyA, "")
	if json.Unmarshal(b, &firstRaw) != nil || len(firstRaw.Output) != 1 {
		t.Fatalf("first: %s", b)
	}
	msgID := firstRaw.Output[0].ID
	ref := func(id string) string {
		return `{"model":"auto","input":[{"role":"user","content":"one two three"},{"type":"item_reference","id":"` + id +
			`"},{"role":"user","content":[{"type":"input_text","text":"and more"}]}]}`
	}
	second := mustResponse(t, "POST", url, keyA, ref(msgID))
	if second.Usage.InputTokens < first.Usage.InputTokens+first.Usage.OutputTokens {
		t.Fatalf("prompt %d tokens, want ≥ %d + %d: the referenced answer was not carried",
			second.Usage.InputTokens, first.Usage.InputTokens, first.Usage.OutputTokens)
	}
	st, b := doResponses(t, "GET", url+"/"+second.ID+"/input_items?order=asc", keyA, "")
	var items struct {
		Data []struct{ ID, Type, Role string }
	}
	if st != 200 || json.Unmarshal(b, &items) != nil || len(items.Data) != 3 || items.Data[1].Type != "message" ||
		items.Data[1].Role != "assistant" || items.Data[1].ID == msgID {
		t.Fatalf("input_items: %d %s", st, b)
	}
	// An input item of a stored response is referable too.
	mustResponse(t, "POST", url, keyA, ref(items.Data[0].ID))

	streamed := streamedMessageID(t, url, keyA, `{"model":"auto","input":"hello","stream":true}`)
	mustResponse(t, "POST", url, keyA, ref(streamed))

	for _, probe := range []struct{ name, key, body string }{
		{"another key's item", keyB, ref(msgID)},
		{"an id never given", keyA, ref("msg_nope")},
		{"a deleted response", keyA, ref(msgID)},
	} {
		if probe.name == "a deleted response" {
			if st, b := doResponses(t, "DELETE", url+"/"+first.ID, keyA, ""); st != 200 {
				t.Fatalf("delete: %d %s", st, b)
			}
		}
		st, b := doResponses(t, "POST", url, probe.key, probe.body)
		if st != 404 || !strings.Contains(string(b), "Item with id") || !strings.Contains(string(b), `"param":"input[1].id"`) {
			t.Errorf("%s: %d %s, want 404 naming input[1].id", probe.name, st, b)
		}
	}
	if st, b := doResponses(t, "POST", url, keyA, `{"model":"auto","input":[{"type":"item_reference"}]}`); st != 400 {
		t.Errorf("item_reference without id: %d %s, want 400", st, b)
	}
}

// A referenced item goes to an OpenAI Responses target spelled out, since
// the upstream never saw the gateway's ids.
func TestResponsesItemReferenceSpelledOutUpstream(t *testing.T) {
	fs := fakeupstream.New(fakeupstream.Options{APIKeys: []string{"sk-upstream-key-0000000001"}})
	up := httptest.NewServer(fs)
	t.Cleanup(func() { fs.Close(); up.Close() })
	g := startGatewayWithStore(t, sameDialectConfig("openai", up.URL+"/v1"))
	url := g.base + "/v1/responses"

	var first struct {
		ID     string
		Output []struct{ ID string }
	}
	_, b := doResponses(t, "POST", url, "", `{"model":"auto","input":"hello again"}`)
	if json.Unmarshal(b, &first) != nil || len(first.Output) == 0 {
		t.Fatalf("first: %s", b)
	}
	mustResponse(t, "POST", url, "", `{"model":"auto","input":[{"role":"user","content":"hello again"},{"type":"item_reference","id":"`+first.Output[0].ID+`"},{"role":"user","content":"more"}]}`)
	recs := fs.Records()
	last := recs[len(recs)-1]
	if last.Path != "/v1/responses" || strings.Contains(last.Body, "item_reference") || strings.Contains(last.Body, first.Output[0].ID) ||
		!strings.Contains(last.Body, `"role":"assistant"`) {
		t.Fatalf("upstream body: %s", last.Body)
	}
}
