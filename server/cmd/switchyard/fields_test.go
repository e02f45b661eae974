package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/loadtest/fakeupstream"
	"github.com/switchyard/switchyard/server/ingress/openai"
)

// Each Chat Completions field reaches a target of each kind as the rule
// table (server/ingress/openai/fields.go) says: at its path in the
// recorded upstream body, dropped, or refused with a 400 naming it.
func TestChatFieldsReachEachTargetAsTheTableSays(t *testing.T) {
	fs := fakeupstream.New(fakeupstream.Options{APIKeys: []string{"sk-upstream-key-0000000001"}, Knobs: fakeupstream.Knobs{Tokens: 4}})
	up := httptest.NewServer(fs)
	t.Cleanup(func() { fs.Close(); up.Close() })
	for _, target := range []struct{ typ, base string }{{"openai", up.URL + "/v1"}, {"anthropic", up.URL}, {"gemini", up.URL}} {
		g := startGateway(t, sameDialectConfig(target.typ, target.base))
		for _, rule := range openai.FieldRules() {
			want := map[string]string{"openai": rule.OpenAI, "anthropic": rule.Anthropic, "gemini": rule.Gemini}[target.typ]
			t.Run(target.typ+"/"+rule.Field, func(t *testing.T) {
				body := `{"model":"auto","max_tokens":4000,"messages":[{"role":"user","content":"hi"}],"` + rule.Field + `":` + rule.Value + `}`
				if rule.Field == "max_tokens" || rule.Field == "max_completion_tokens" {
					body = `{"model":"auto","messages":[{"role":"user","content":"hi"}],"` + rule.Field + `":` + rule.Value + `}`
				}
				before := len(fs.Records())
				resp, err := http.Post(g.base+"/v1/chat/completions", "application/json", strings.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				var answer struct {
					Error struct{ Param string } `json:"error"`
				}
				_ = json.NewDecoder(resp.Body).Decode(&answer)
				resp.Body.Close()
				if want == "400" {
					if resp.StatusCode != 400 || answer.Error.Param != rule.Field {
						t.Fatalf("status %d param %q, want a 400 naming %q", resp.StatusCode, answer.Error.Param, rule.Field)
					}
					return
				}
				if resp.StatusCode != 200 {
					t.Fatalf("status %d: %+v", resp.StatusCode, answer)
				}
				recs := fs.Records()
				if len(recs) == before {
					t.Fatal("nothing reached the upstream")
				}
				var sent map[string]any
				if err := json.Unmarshal([]byte(recs[len(recs)-1].Body), &sent); err != nil {
					t.Fatal(err)
				}
				if want == "-" {
					if _, ok := sent[rule.Field]; ok {
						t.Fatalf("%s reached the upstream: %s", rule.Field, recs[len(recs)-1].Body)
					}
					return
				}
				for _, alt := range strings.Split(want, "|") {
					if hasPath(sent, alt) {
						return
					}
				}
				t.Fatalf("upstream body has no %s: %s", want, recs[len(recs)-1].Body)
			})
		}
	}
}

func hasPath(v any, path string) bool {
	for _, k := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return false
		}
		if v, ok = m[k]; !ok {
			return false
		}
	}
	return true
}

// The README's field table says what the code's table says, row by row.
func TestREADMEFieldTable(t *testing.T) {
	readme, err := os.ReadFile("../../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("(?m)^\\| `([a-z_]+)` \\| (.*) \\| (.*) \\| (.*) \\| (.*) \\|$")
	got := map[string][]string{}
	for _, m := range row.FindAllStringSubmatch(string(readme), -1) {
		got[m[1]] = m[2:]
	}
	cell := func(s string) string {
		switch s {
		case "-":
			return "dropped"
		case "400":
			return "400"
		}
		return "`" + strings.ReplaceAll(s, "|", "` or `") + "`"
	}
	for _, r := range openai.FieldRules() {
		want := []string{cell(r.OpenAI), cell(r.Anthropic), cell(r.Gemini), r.Note}
		if g := got[r.Field]; strings.Join(g, "\x00") != strings.Join(want, "\x00") {
			t.Errorf("README row for %s:\n got | %s |\nwant | `%s` | %s |", r.Field, strings.Join(g, " | "), r.Field, strings.Join(want, " | "))
		}
	}
}
