package fakeupstream

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestAppendJSONStringMatchesEncodingJSON(t *testing.T) {
	tests := []string{"", "plain", `quote " and \ backslash`, "tab\tnew\nline\rcr", "\x00\x1f ctrl", "naïve 東京 🚀", "bad \xff utf8", "<html>&"}
	for _, s := range tests {
		t.Run(s, func(t *testing.T) {
			got := appendJSONString(nil, s)
			var back string
			if err := json.Unmarshal(got, &back); err != nil {
				t.Fatalf("%q is not a JSON string: %v", got, err)
			}
			want := strings.ToValidUTF8(s, "\uFFFD")
			if back != want {
				t.Errorf("round trip %q, want %q", back, want)
			}
		})
	}
}

func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "a\"b", "\xff\xfe", "\u2028"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var back string
		if err := json.Unmarshal(appendJSONString(nil, s), &back); err != nil {
			t.Fatalf("invalid JSON for %q: %v", s, err)
		}
		if utf8.ValidString(s) && back != s {
			t.Fatalf("round trip %q, want %q", back, s)
		}
	})
}

func TestCountWords(t *testing.T) {
	tests := []struct {
		in   string
		want int
	}{{"", 0}, {"   ", 0}, {"one", 1}, {" two  words ", 2}, {"a\nb\tc\r\nd", 4}}
	for _, tt := range tests {
		if got := countWords(tt.in); got != tt.want {
			t.Errorf("countWords(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

func TestAnswerTextAndStreamedWordsAgree(t *testing.T) {
	for _, n := range []int{1, 2, len(wordList), len(wordList) + 3} {
		var b strings.Builder
		for i := 0; i < n; i++ {
			var w string
			_ = json.Unmarshal(wordJSON(i), &w)
			b.WriteString(w)
		}
		if b.String() != answerText(n) || countWords(answerText(n)) != n {
			t.Errorf("n=%d: streamed %q, unary %q", n, b.String(), answerText(n))
		}
	}
}

func TestToolArgsFollowTheSchema(t *testing.T) {
	tests := []struct {
		name   string
		schema string
		want   string
	}{
		{"no schema", ``, `{}`},
		{"unreadable", `{"properties":7}`, `{}`},
		{"empty object", `{"type":"object","properties":{}}`, `{}`},
		{"types in key order", `{"properties":{"s":{"type":"string"},"b":{"type":"boolean"},"i":{"type":"integer"},"n":{"type":"number"},"a":{"type":"array"},"o":{"type":"object"}}}`,
			`{"a":[],"b":true,"i":44,"n":21.5,"o":{},"s":"the"}`},
		{"enum wins", `{"properties":{"unit":{"type":"string","enum":["c","f"]},"level":{"enum":[3,4]}}}`, `{"level":3,"unit":"c"}`},
		{"nullable type list", `{"properties":{"tz":{"type":["null","string"]}}}`, `{"tz":"Switchyard"}`},
		{"OpenAPI uppercase", `{"type":"OBJECT","properties":{"n":{"type":"INTEGER"}}}`, `{"n":42}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := toolArgs(json.RawMessage(tt.schema), 0, false)
			if got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
			if !json.Valid([]byte(got)) {
				t.Errorf("%s is not JSON", got)
			}
		})
	}
}

func TestAutoCallFillsOnlyRequiredProperties(t *testing.T) {
	// Codex's exec_command in short: cmd required, a usize and a shell
	// optional.
	schema := `{"type":"object","properties":{"cmd":{"type":"string"},"max_output_tokens":{"type":"number"},"shell":{"type":"string"}},"required":["cmd"]}`
	tests := []struct {
		name   string
		schema string
		want   string
	}{
		{"required only", schema, `{"cmd":"Switchyard"}`},
		{"nothing required", `{"type":"object","properties":{"path":{"type":"string"}}}`, `{}`},
		{"no schema", ``, `{}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newAutoCall("id", tool{name: "exec_command", schema: json.RawMessage(tt.schema)})
			if c.args != tt.want || strings.Join(c.frags, "") != tt.want || c.name != "exec_command" {
				t.Errorf("call %+v, want arguments %s", c, tt.want)
			}
		})
	}
}

func TestToolCallFragmentsRejoinOnRuneBoundaries(t *testing.T) {
	c := newToolCall("id", tool{name: "t", schema: json.RawMessage(`{"properties":{"city":{"enum":["Zürich ölüdeniz 東京"]}}}`)}, 0)
	if strings.Join(c.frags, "") != c.args {
		t.Fatalf("fragments %q do not rejoin into %q", c.frags, c.args)
	}
	for _, f := range c.frags {
		if !utf8.ValidString(f) || len(f) > argFragment+utf8.UTFMax {
			t.Errorf("fragment %q", f)
		}
	}
	if c.tokens() != 1+len(c.frags) {
		t.Errorf("tokens %d", c.tokens())
	}
}

func TestPickTools(t *testing.T) {
	tools := []tool{{name: "a"}, {name: "b"}, {name: "c"}, {name: "d"}, {name: "e"}}
	names := func(ts []tool) string {
		var s []string
		for _, t := range ts {
			s = append(s, t.name)
		}
		return strings.Join(s, ",")
	}
	tests := []struct {
		name     string
		named    string
		parallel bool
		want     string
		ok       bool
	}{
		{"parallel caps at four", "", true, "a,b,c,d", true},
		{"serial takes the first", "", false, "a", true},
		{"named", "c", true, "c", true},
		{"named missing", "z", true, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := pickTools(tools, tt.named, tt.parallel)
			if names(got) != tt.want || ok != tt.ok {
				t.Errorf("got %s %v, want %s %v", names(got), ok, tt.want, tt.ok)
			}
		})
	}
}

func TestTextContentReadsEveryShape(t *testing.T) {
	tests := []struct{ in, want string }{
		{`"plain"`, "plain"},
		{`null`, ""},
		{`[{"type":"text","text":"a"},{"type":"image_url","image_url":{"url":"x"}},{"type":"text","text":"b"}]`, "a b"},
		{`[{"type":"tool_result","tool_use_id":"t","content":[{"type":"text","text":"15C"}]},{"type":"text","text":"ok"}]`, "15C ok"},
		{`[{"type":"tool_result","tool_use_id":"t","content":"sunny"}]`, "sunny"},
	}
	for _, tt := range tests {
		var c textContent
		if err := json.Unmarshal([]byte(tt.in), &c); err != nil || string(c) != tt.want {
			t.Errorf("%s: got %q (%v), want %q", tt.in, c, err, tt.want)
		}
	}
	var c textContent
	if err := json.Unmarshal([]byte(`7`), &c); err == nil {
		t.Error("a number decoded as content")
	}
}
