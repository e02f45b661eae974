package fakeupstream

import (
	"encoding/json"
	"strings"
	"testing"
)

// autoCase is one conversation shape of the auto-tool table; each format
// builds its own body for it.
type autoCase int

const (
	autoDeclared    autoCase = iota // the tool is declared, the user asks
	autoAfterResult                 // the conversation ends in the tool's result
	autoUndeclared                  // only another tool is declared
	autoChoiceNone                  // the tool choice forbids calls
)

// autoFormat is one endpoint under the AutoTool knob: its request for a
// case, and the tool calls (name and arguments) and text of its answer.
type autoFormat struct {
	name    string
	request func(c autoCase, stream bool) call
	answer  func(t *testing.T, raw []byte, stream bool) (calls map[string]string, text string)
}

var autoHeader = map[string]string{"X-Fake-Auto-Tool": "get_time"}

func withAuto(h map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range h {
		out[k] = v
	}
	for k, v := range autoHeader {
		out[k] = v
	}
	return out
}

var autoFormats = []autoFormat{
	{
		name: "openai chat",
		request: func(c autoCase, stream bool) call {
			tools, extra := weatherTools, ""
			msgs := `[{"role":"user","content":"What time is it?"}]`
			switch c {
			case autoAfterResult:
				msgs = `[{"role":"user","content":"What time is it?"},` +
					`{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_time","arguments":"{}"}}]},` +
					`{"role":"tool","tool_call_id":"call_1","content":"three o'clock"}]`
			case autoUndeclared:
				tools = `,"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object"}}}]`
			case autoChoiceNone:
				extra = `,"tool_choice":"none"`
			}
			b := `{"model":"fake-gpt","messages":` + msgs + tools + extra
			if stream {
				b += `,"stream":true`
			}
			return call{path: "/v1/chat/completions", headers: withAuto(openaiHeaders), body: b + "}"}
		},
		answer: func(t *testing.T, raw []byte, stream bool) (map[string]string, string) {
			calls := map[string]string{}
			if !stream {
				v := decode(t, raw)
				text, _ := path(v, "choices", 0, "message", "content").(string)
				tcs, _ := path(v, "choices", 0, "message", "tool_calls").([]any)
				for _, c := range tcs {
					calls[path(c, "function", "name").(string)] = path(c, "function", "arguments").(string)
				}
				if len(calls) > 0 && path(v, "choices", 0, "finish_reason") != "tool_calls" {
					t.Errorf("finish_reason: %s", raw)
				}
				return calls, text
			}
			events := parseSSE(t, raw)
			_, names, args, finish := reassemble(t, events)
			for i, n := range names {
				calls[n] = args[i]
			}
			if len(calls) > 0 && finish != "tool_calls" {
				t.Errorf("finish_reason %q", finish)
			}
			return calls, strings.Join(apiFormats[0].chunks(t, raw).texts, "")
		},
	},
	{
		name: "openai responses",
		request: func(c autoCase, stream bool) call {
			tools := `,"tools":[{"type":"function","name":"get_weather","parameters":{"type":"object"}},` +
				`{"type":"function","name":"get_time","parameters":{"type":"object","properties":{"tz":{"type":"string"}}}}]`
			input, extra := `"What time is it?"`, ""
			switch c {
			case autoAfterResult:
				input = `[{"role":"user","content":"What time is it?"},` +
					`{"type":"function_call","call_id":"call_1","name":"get_time","arguments":"{}"},` +
					`{"type":"function_call_output","call_id":"call_1","output":"three o'clock"}]`
			case autoUndeclared:
				tools = `,"tools":[{"type":"function","name":"get_weather","parameters":{"type":"object"}}]`
			case autoChoiceNone:
				extra = `,"tool_choice":"none"`
			}
			b := `{"model":"fake-gpt","input":` + input + tools + extra
			if stream {
				b += `,"stream":true`
			}
			return call{path: "/v1/responses", headers: withAuto(openaiHeaders), body: b + "}"}
		},
		answer: func(t *testing.T, raw []byte, stream bool) (map[string]string, string) {
			var output []any
			if !stream {
				output, _ = path(decode(t, raw), "output").([]any)
			} else {
				for _, e := range parseSSE(t, raw) {
					if e.name == "response.output_item.done" {
						output = append(output, path(decode(t, []byte(e.data)), "item"))
					}
				}
			}
			calls, text := map[string]string{}, ""
			for _, it := range output {
				switch path(it, "type") {
				case "function_call":
					calls[path(it, "name").(string)] = path(it, "arguments").(string)
				case "message":
					text, _ = path(it, "content", 0, "text").(string)
				}
			}
			return calls, text
		},
	},
	{
		name: "anthropic",
		request: func(c autoCase, stream bool) call {
			tools, extra := anthropicTools, ""
			msgs := `[{"role":"user","content":"What time is it?"}]`
			switch c {
			case autoAfterResult:
				msgs = `[{"role":"user","content":"What time is it?"},` +
					`{"role":"assistant","content":[{"type":"tool_use","id":"toolu_1","name":"get_time","input":{}}]},` +
					`{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":"three o'clock"}]}]`
			case autoUndeclared:
				tools = `,"tools":[{"name":"get_weather","input_schema":{"type":"object"}}]`
			case autoChoiceNone:
				extra = `,"tool_choice":{"type":"none"}`
			}
			b := `{"model":"fake-claude","max_tokens":1024,"messages":` + msgs + tools + extra
			if stream {
				b += `,"stream":true`
			}
			return call{path: "/v1/messages", headers: withAuto(anthropicHeaders), body: b + "}"}
		},
		answer: func(t *testing.T, raw []byte, stream bool) (map[string]string, string) {
			calls, text, stop := map[string]string{}, "", ""
			if !stream {
				v := decode(t, raw)
				blocks, _ := path(v, "content").([]any)
				for _, b := range blocks {
					switch path(b, "type") {
					case "tool_use":
						args, _ := json.Marshal(path(b, "input"))
						calls[path(b, "name").(string)] = string(args)
					case "text":
						text += path(b, "text").(string)
					}
				}
				stop, _ = path(v, "stop_reason").(string)
			} else {
				names := map[int]string{}
				for _, e := range parseSSE(t, raw) {
					v := decode(t, []byte(e.data))
					i := num(path(v, "index"))
					switch e.name {
					case "content_block_start":
						if path(v, "content_block", "type") == "tool_use" {
							names[i] = path(v, "content_block", "name").(string)
							calls[names[i]] = ""
						}
					case "content_block_delta":
						if s, ok := path(v, "delta", "partial_json").(string); ok {
							calls[names[i]] += s
						}
						if s, ok := path(v, "delta", "text").(string); ok {
							text += s
						}
					case "message_delta":
						stop, _ = path(v, "delta", "stop_reason").(string)
					}
				}
			}
			if len(calls) > 0 && stop != "tool_use" {
				t.Errorf("stop_reason %q: %s", stop, raw)
			}
			return calls, text
		},
	},
	{
		name: "gemini",
		request: func(c autoCase, stream bool) call {
			tools, extra := geminiTools, ""
			contents := `[{"role":"user","parts":[{"text":"What time is it?"}]}]`
			switch c {
			case autoAfterResult:
				contents = `[{"role":"user","parts":[{"text":"What time is it?"}]},` +
					`{"role":"model","parts":[{"functionCall":{"name":"get_time","args":{}}}]},` +
					`{"role":"user","parts":[{"functionResponse":{"name":"get_time","response":{"hour":3}}}]}]`
			case autoUndeclared:
				tools = `,"tools":[{"functionDeclarations":[{"name":"get_weather"}]}]`
			case autoChoiceNone:
				extra = `,"toolConfig":{"functionCallingConfig":{"mode":"NONE"}}`
			}
			p := "/v1beta/models/fake-gemini:generateContent"
			if stream {
				p = "/v1beta/models/fake-gemini:streamGenerateContent?alt=sse"
			}
			return call{path: p, headers: withAuto(geminiHeaders), body: `{"contents":` + contents + tools + extra + "}"}
		},
		answer: func(t *testing.T, raw []byte, stream bool) (map[string]string, string) {
			var chunks [][]byte
			if !stream {
				chunks = [][]byte{raw}
			} else {
				for _, e := range parseSSE(t, raw) {
					chunks = append(chunks, []byte(e.data))
				}
			}
			calls, text := map[string]string{}, ""
			for _, c := range chunks {
				parts, _ := path(decode(t, c), "candidates", 0, "content", "parts").([]any)
				for _, p := range parts {
					if fc, ok := path(p, "functionCall").(map[string]any); ok {
						args, _ := json.Marshal(fc["args"])
						calls[fc["name"].(string)] = string(args)
					}
					if s, ok := path(p, "text").(string); ok {
						text += s
					}
				}
			}
			return calls, text
		},
	},
}

func TestAutoToolKnobCallsTheDeclaredToolUnasked(t *testing.T) {
	_, ts := serve(t, Options{})
	cases := []struct {
		name   string
		c      autoCase
		called bool
	}{
		{"auto tool called", autoDeclared, true},
		{"not called after a tool result", autoAfterResult, false},
		{"not called when the tool is not declared", autoUndeclared, false},
		{"not called with tool choice none", autoChoiceNone, false},
	}
	for _, f := range autoFormats {
		for _, tc := range cases {
			for _, stream := range []bool{false, true} {
				name := f.name + "/" + tc.name + "/unary"
				if stream {
					name = f.name + "/" + tc.name + "/stream"
				}
				t.Run(name, func(t *testing.T) {
					resp, raw := mustDo(t, ts.URL, f.request(tc.c, stream))
					if resp.StatusCode != 200 {
						t.Fatalf("status %d: %s", resp.StatusCode, raw)
					}
					calls, text := f.answer(t, raw, stream)
					if !tc.called {
						if len(calls) > 0 || text == "" {
							t.Errorf("calls %v text %q, want a text answer: %s", calls, text, raw)
						}
						return
					}
					args, ok := calls["get_time"]
					if len(calls) != 1 || !ok || text != "" {
						t.Fatalf("calls %v text %q, want one call of get_time: %s", calls, text, raw)
					}
					var obj map[string]any
					if err := json.Unmarshal([]byte(args), &obj); err != nil {
						t.Errorf("arguments %q are not a JSON object: %v", args, err)
					}
				})
			}
		}
	}
}

func TestAutoToolKnobFromServerWideKnobsAndDirective(t *testing.T) {
	f := autoFormats[0]
	t.Run("server-wide", func(t *testing.T) {
		_, ts := serve(t, Options{Knobs: Knobs{AutoTool: "get_time"}})
		c := f.request(autoDeclared, false)
		c.headers = openaiHeaders
		_, raw := mustDo(t, ts.URL, c)
		if calls, _ := f.answer(t, raw, false); len(calls) != 1 || calls["get_time"] == "" {
			t.Errorf("calls %v: %s", calls, raw)
		}
	})
	t.Run("directive", func(t *testing.T) {
		_, ts := serve(t, Options{})
		body := `{"model":"fake-gpt","messages":[{"role":"user","content":"[[fake:auto_tool=get_weather]] Weather?"}]` + weatherTools + "}"
		_, raw := mustDo(t, ts.URL, call{path: "/v1/chat/completions", headers: openaiHeaders, body: body})
		if calls, _ := f.answer(t, raw, false); len(calls) != 1 || calls["get_weather"] == "" {
			t.Errorf("calls %v: %s", calls, raw)
		}
	})
	t.Run("without the knob no call", func(t *testing.T) {
		_, ts := serve(t, Options{})
		c := f.request(autoDeclared, false)
		c.headers = openaiHeaders
		_, raw := mustDo(t, ts.URL, c)
		if calls, text := f.answer(t, raw, false); len(calls) != 0 || text == "" {
			t.Errorf("calls %v: %s", calls, raw)
		}
	})
}
