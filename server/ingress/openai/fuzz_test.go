package openai

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"unicode/utf8"

	"github.com/switchyard/switchyard/engine/llm"
)

// FuzzDecodeChat checks that decoding never panics, agrees with
// encoding/json on what is valid JSON, and yields valid UTF-8 strings and
// valid JSON in every passed-through field.
func FuzzDecodeChat(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "requests", "*.json"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := decodeChat(body)
		if !json.Valid(body) {
			if err == nil || !IsMalformed(err) {
				t.Fatalf("invalid JSON %q: got err %v, want a malformed-JSON error", body, err)
			}
			return
		}
		if IsMalformed(err) {
			t.Fatalf("valid JSON %q reported as malformed: %v", body, err)
		}
		if err != nil {
			return
		}
		checkDecoded(t, &req.ChatRequest)
		_ = req.validate() // must not panic either
	})
}

func checkDecoded(t *testing.T, r *llm.ChatRequest) {
	t.Helper()
	strs := []string{r.Model, r.User, r.ReasoningEffort}
	strs = append(strs, r.Stop...)
	for _, m := range r.Messages {
		strs = append(strs, string(m.Role), m.Content, m.Name, m.ToolCallID, m.Refusal, m.ReasoningContent)
		for _, p := range m.Parts {
			strs = append(strs, p.Text, p.ImageURL, p.ImageDetail)
		}
		for _, tc := range m.ToolCalls {
			strs = append(strs, tc.ID, tc.Name, tc.Arguments)
		}
	}
	for k, v := range r.Metadata {
		strs = append(strs, k, v)
	}
	raws := []json.RawMessage{}
	for _, tl := range r.Tools {
		strs = append(strs, tl.Name, tl.Description)
		if tl.Parameters != nil {
			raws = append(raws, tl.Parameters)
		}
	}
	if rf := r.ResponseFormat; rf != nil && rf.Schema != nil {
		raws = append(raws, rf.Schema)
	}
	for k, v := range r.Extra {
		strs = append(strs, k)
		raws = append(raws, v)
	}
	for _, s := range strs {
		if !utf8.ValidString(s) {
			t.Fatalf("decoded string %q is not valid UTF-8", s)
		}
	}
	for _, b := range raws {
		if !json.Valid(b) || !utf8.Valid(b) {
			t.Fatalf("passed-through JSON %q is not valid", b)
		}
	}
}

// FuzzDecodeString checks string decoding against encoding/json, which is
// the reference for escapes, surrogates and invalid UTF-8.
func FuzzDecodeString(f *testing.F) {
	for _, s := range []string{`"plain"`, `"\u00e9\ud83d\ude00"`, `"\ud800x"`, "\"\xff\xfe\"", `"\\\/\b"`, `"\ud83d\u0041"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, lit []byte) {
		var want string
		if len(lit) == 0 || lit[0] != '"' || json.Unmarshal(lit, &want) != nil {
			return
		}
		req, err := decodeChat([]byte(`{"model":` + string(lit) + `}`))
		if err != nil {
			t.Fatalf("%q: %v", lit, err)
		}
		if req.Model != want {
			t.Fatalf("%q decoded as %q, encoding/json says %q", lit, req.Model, want)
		}
	})
}

// FuzzAppendString checks string encoding against encoding/json (with its
// HTML escaping off, as OpenAI sends < > & raw).
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "plain", "q\"b\\", "\x00\x1f\b\f\n\r\t", "\u2028\u2029", "\xff", "é😀", "<&>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := appendString(nil, s)
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(s); err != nil {
			t.Fatal(err)
		}
		if want := bytes.TrimSuffix(buf.Bytes(), []byte("\n")); !bytes.Equal(got, want) {
			t.Fatalf("appendString(%q) = %s, encoding/json gives %s", s, got, want)
		}
	})
}
