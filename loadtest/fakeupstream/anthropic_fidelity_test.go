package fakeupstream

import (
	"encoding/json"
	"strings"
	"testing"
)

const weatherFormat = `{"type":"json_schema","schema":{"type":"object","properties":{"city":{"type":"string"},"celsius":{"type":"number"}},"required":["city","celsius"],"additionalProperties":false}}`

// Structured outputs answer JSON text that fits the schema, unary and
// streamed, in either spelling of the field.
func TestAnthropicStructuredOutput(t *testing.T) {
	_, ts := serve(t, Options{})
	want := `{"celsius":21.5,"city":"routes"}`
	for _, field := range []string{`"output_config":{"format":` + weatherFormat + `}`, `"output_format":` + weatherFormat} {
		body := `{"model":"fake-claude","max_tokens":1024,` + field + `,"messages":[{"role":"user","content":"Weather?"}]}`
		resp, raw := mustDo(t, ts.URL, call{path: "/v1/messages", headers: anthropicHeaders, body: body})
		if resp.StatusCode != 200 {
			t.Fatalf("status %d: %s", resp.StatusCode, raw)
		}
		v := decode(t, raw)
		if got := path(v, "content", 0, "text"); got != want || path(v, "stop_reason") != "end_turn" {
			t.Errorf("unary text %v stop %v, want %s", got, path(v, "stop_reason"), want)
		}
		_, sraw := mustDo(t, ts.URL, call{path: "/v1/messages", headers: anthropicHeaders, body: strings.Replace(body, `"max_tokens"`, `"stream":true,"max_tokens"`, 1)})
		var text strings.Builder
		for _, e := range parseSSE(t, sraw) {
			var d struct {
				Delta struct {
					Type string `json:"type"`
					Text string `json:"text"`
				} `json:"delta"`
			}
			_ = json.Unmarshal([]byte(e.data), &d)
			if d.Delta.Type == "text_delta" {
				text.WriteString(d.Delta.Text)
			}
		}
		if text.String() != want {
			t.Errorf("streamed text %q, want %s", text.String(), want)
		}
	}
}

// cache_control earns a write of the marked prefix the first time and a
// read after; input_tokens excludes both, and the 1h lifetime is reported
// under its own count.
func TestAnthropicCacheUsage(t *testing.T) {
	_, ts := serve(t, Options{})
	body := func(ttl, question string) string {
		cc := `{"type":"ephemeral"}`
		if ttl != "" {
			cc = `{"type":"ephemeral","ttl":"` + ttl + `"}`
		}
		return `{"model":"fake-claude","max_tokens":1024,"system":[{"type":"text","text":"You are a very careful weather bot.","cache_control":` + cc + `}],` +
			`"messages":[{"role":"user","content":[{"type":"text","text":"` + question + `"}]}]}`
	}
	usage := func(b string) map[string]any {
		resp, raw := mustDo(t, ts.URL, call{path: "/v1/messages", headers: anthropicHeaders, body: b})
		if resp.StatusCode != 200 {
			t.Fatalf("status %d: %s", resp.StatusCode, raw)
		}
		return path(decode(t, raw), "usage").(map[string]any)
	}
	first := usage(body("1h", "Paris today?"))
	if num(first["cache_creation_input_tokens"]) != 7 || num(first["cache_read_input_tokens"]) != 0 || num(first["input_tokens"]) != 2 ||
		num(path(first, "cache_creation", "ephemeral_1h_input_tokens")) != 7 {
		t.Errorf("first usage %v", first)
	}
	again := usage(body("1h", "And Rome tomorrow?"))
	if num(again["cache_read_input_tokens"]) != 7 || num(again["cache_creation_input_tokens"]) != 0 || num(again["input_tokens"]) != 3 {
		t.Errorf("second usage %v", again)
	}
	// The marked block is part of the prefix, its ttl too: a 5m write.
	other := usage(body("", "Paris today?"))
	if num(other["cache_creation_input_tokens"]) != 7 || num(path(other, "cache_creation", "ephemeral_5m_input_tokens")) != 7 {
		t.Errorf("third usage %v", other)
	}
	plain := usage(`{"model":"fake-claude","max_tokens":1024,"messages":[{"role":"user","content":"Paris today?"}]}`)
	if num(plain["cache_read_input_tokens"]) != 0 || num(plain["cache_creation_input_tokens"]) != 0 || plain["cache_creation"] != nil {
		t.Errorf("uncached usage %v", plain)
	}
}

func TestAnthropicDocuments(t *testing.T) {
	_, ts := serve(t, Options{})
	for _, tc := range []struct {
		name, block string
		status      int
	}{
		{"pdf", `{"type":"document","source":{"type":"base64","media_type":"application/pdf","data":"JVBERi0="},"title":"a.pdf"}`, 200},
		{"text", `{"type":"document","source":{"type":"text","media_type":"text/plain","data":"Hello there."}}`, 200},
		{"url", `{"type":"document","source":{"type":"url","url":"https://example.com/a.pdf"}}`, 200},
		{"image media type as a document", `{"type":"document","source":{"type":"base64","media_type":"image/png","data":"iVBO"}}`, 400},
		{"no source", `{"type":"document"}`, 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := `{"model":"fake-claude","max_tokens":1024,"messages":[{"role":"user","content":[` + tc.block + `,{"type":"text","text":"Summarise."}]}]}`
			resp, raw := mustDo(t, ts.URL, call{path: "/v1/messages", headers: anthropicHeaders, body: body})
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, raw)
			}
		})
	}
}
