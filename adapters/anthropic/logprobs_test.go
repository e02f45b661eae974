package anthropic

import (
	"errors"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/engine/llm"
)

// The Messages API has no log probabilities: a request for them is refused
// naming the field, unless the provider is set to ignore them.
func TestLogprobsRefusedUnlessIgnored(t *testing.T) {
	yes, no := true, false
	cases := []struct {
		name     string
		opts     Options
		logprobs *bool
		refused  bool
	}{
		{"asked, default refuses", Options{}, &yes, true},
		{"asked, ignore answers without", Options{IgnoreLogprobs: true}, &yes, false},
		{"explicitly false is fine", Options{}, &no, false},
		{"unset is fine", Options{}, nil, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := &llm.ChatRequest{Model: "claude", Logprobs: tc.logprobs,
				Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}}}
			body, _, err := testSettings(t, tc.opts).encodeRequest(req, false)
			var le *llm.Error
			switch {
			case tc.refused && (!errors.As(err, &le) || le.Kind != llm.KindInvalidRequest || le.Param != "logprobs"):
				t.Fatalf("want a 400 naming logprobs, got %v", err)
			case !tc.refused && err != nil:
				t.Fatal(err)
			case !tc.refused && strings.Contains(string(body), "logprobs"):
				t.Fatalf("logprobs reached the body: %s", body)
			}
		})
	}
}
