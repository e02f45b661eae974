package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/loadtest/fakeupstream"
)

var updateFraming = flag.Bool("update", false, "rewrite the stream framing goldens in testdata/framing")

// A stream reaches the client framed exactly as its dialect's reference
// API frames it, whatever wire format the target answered in: one golden
// per dialect × target format × (text, tool call). Volatile values (ids,
// timestamps, routing) are masked; the event sequence, field presence and
// order of keys within each event are what is compared.
func TestStreamFramingPerDialectAndTarget(t *testing.T) {
	fixed := time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)
	fs := fakeupstream.New(fakeupstream.Options{APIKeys: []string{"sk-upstream-key-0000000001"},
		Knobs: fakeupstream.Knobs{Tokens: 4}, Now: func() time.Time { return fixed }})
	up := httptest.NewServer(fs)
	t.Cleanup(func() { fs.Close(); up.Close() })

	const weather = `{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}`
	dialects := []struct {
		name, path string
		header     http.Header
		text, tool string
	}{
		{"chat", "/v1/chat/completions", nil,
			`{"model":"auto","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"Say hi"}]}`,
			`{"model":"auto","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"Weather in Paris?"}],` +
				`"tools":[{"type":"function","function":{"name":"get_weather","parameters":` + weather + `}}],"tool_choice":"required"}`},
		{"responses", "/v1/responses", nil,
			`{"model":"auto","stream":true,"store":false,"input":"Say hi"}`,
			`{"model":"auto","stream":true,"store":false,"input":"Weather in Paris?","tools":[{"type":"function","name":"get_weather","parameters":` + weather + `}],"tool_choice":"required"}`},
		{"anthropic", "/v1/messages", http.Header{"Anthropic-Version": {"2023-06-01"}},
			`{"model":"auto","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"Say hi"}]}`,
			`{"model":"auto","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"Weather in Paris?"}],` +
				`"tools":[{"name":"get_weather","input_schema":` + weather + `}],"tool_choice":{"type":"any"}}`},
		{"gemini", "/v1beta/models/auto:streamGenerateContent?alt=sse", nil,
			`{"contents":[{"role":"user","parts":[{"text":"Say hi"}]}]}`,
			`{"contents":[{"role":"user","parts":[{"text":"Weather in Paris?"}]}],"tools":[{"functionDeclarations":[{"name":"get_weather","parameters":` + weather + `}]}],` +
				`"toolConfig":{"functionCallingConfig":{"mode":"ANY"}}}`},
	}
	for _, target := range []struct{ typ, base string }{{"openai", up.URL + "/v1"}, {"anthropic", up.URL}, {"gemini", up.URL}} {
		g := startGateway(t, sameDialectConfig(target.typ, target.base))
		for _, d := range dialects {
			for _, c := range []struct{ name, body string }{{"text", d.text}, {"tool", d.tool}} {
				name := d.name + "_from_" + target.typ + "_" + c.name
				t.Run(name, func(t *testing.T) {
					req, _ := http.NewRequest("POST", g.base+d.path, strings.NewReader(c.body))
					req.Header.Set("Content-Type", "application/json")
					for k, v := range d.header {
						req.Header[k] = v
					}
					resp, err := http.DefaultClient.Do(req)
					if err != nil {
						t.Fatal(err)
					}
					defer resp.Body.Close()
					b, _ := io.ReadAll(resp.Body)
					if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
						t.Fatalf("%d %s: %s", resp.StatusCode, resp.Header.Get("Content-Type"), b)
					}
					goldenStream(t, filepath.Join("testdata", "framing", name+".sse"), maskStream(t, b))
				})
			}
		}
	}
}

// maskStream rewrites each SSE event's JSON with volatile values masked,
// keeping event names, [DONE] and the shape.
func maskStream(t *testing.T, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok || data == "[DONE]" {
			out.WriteString(line + "\n")
			continue
		}
		var v any
		if err := json.Unmarshal([]byte(data), &v); err != nil {
			t.Fatalf("event data is not JSON: %q", data)
		}
		out.WriteString("data: ")
		writeMasked(&out, "", v)
		out.WriteString("\n")
	}
	return out.Bytes()
}

// volatile are keys whose values differ per run: ids the gateway or the
// upstream mints, clocks, and Switchyard's routing block.
var volatile = map[string]bool{"id": true, "created": true, "created_at": true, "completed_at": true, "item_id": true,
	"call_id": true, "response_id": true, "switchyard": true, "responseId": true, "system_fingerprint": false}

// writeMasked writes v as JSON with sorted keys (Go maps lose the wire's
// order) and volatile values replaced by "<key>".
func writeMasked(w *bytes.Buffer, key string, v any) {
	if volatile[key] && v != nil {
		fmt.Fprintf(w, `"<%s>"`, key)
		return
	}
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		w.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				w.WriteByte(',')
			}
			kb, _ := json.Marshal(k)
			w.Write(kb)
			w.WriteByte(':')
			writeMasked(w, k, x[k])
		}
		w.WriteByte('}')
	case []any:
		w.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				w.WriteByte(',')
			}
			writeMasked(w, "", e)
		}
		w.WriteByte(']')
	default:
		b, _ := json.Marshal(x)
		w.Write(b)
	}
}

func goldenStream(t *testing.T, path string, got []byte) {
	t.Helper()
	if *updateFraming {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run StreamFraming -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("stream differs from %s\n got:\n%s\nwant:\n%s", path, got, want)
	}
}
