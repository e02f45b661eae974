package responses

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestCarriedReasoningRoundTrips(t *testing.T) {
	cases := []struct {
		sig      string
		redacted []string
	}{
		{"EqQBCkYIBxgC+/=", nil},
		{"", []string{"enc1", "enc2"}},
		{"s", []string{"r"}},
	}
	for _, c := range cases {
		enc := carryReasoning(c.sig, c.redacted)
		if !strings.HasPrefix(enc, carriedPrefix) {
			t.Fatalf("carryReasoning(%q) = %q", c.sig, enc)
		}
		sig, red, ok := uncarryReasoning(enc)
		if !ok || sig != c.sig || strings.Join(red, ",") != strings.Join(c.redacted, ",") {
			t.Fatalf("round trip of %+v: %q %v %v", c, sig, red, ok)
		}
	}
	if carryReasoning("", nil) != "" {
		t.Fatal("nothing to carry must carry nothing")
	}
	for _, foreign := range []string{"", "gAAAAABoOpenAIsOwn", "sy1:!!!", "sy1:" + "bm90IGpzb24"} {
		if _, _, ok := uncarryReasoning(foreign); ok {
			t.Fatalf("uncarryReasoning(%q) read it", foreign)
		}
	}
}

// An OpenAI Responses target never sees a reasoning item the gateway
// carried for another provider; OpenAI's own pass as they came.
func TestOriginalLeavesOutCarriedReasoning(t *testing.T) {
	carriedItem := `{"type":"reasoning","id":"rs_1","summary":[],"encrypted_content":"` + carryReasoning("sig", nil) + `"}`
	own := `{"type":"reasoning","id":"rs_2","summary":[],"encrypted_content":"gAAAAABown"}`
	msg := `{"role":"user","content":"hi"}`
	body := `{"model":"m","store":false,"input":[` + msg + `,` + carriedItem + `,` + own + `]}`
	items := []json.RawMessage{json.RawMessage(msg), json.RawMessage(carriedItem), json.RawMessage(own)}
	o, err := original([]byte(body), items, 0, false)
	if err != nil {
		t.Fatal(err)
	}
	var got struct{ Input []map[string]any }
	if err := json.Unmarshal(o.Body, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Input) != 2 || got.Input[1]["id"] != "rs_2" {
		t.Fatalf("upstream input: %s", o.Body)
	}
	// Without carried items the body is the client's, byte for byte.
	plain := `{"model":"m","input":[` + msg + `]}`
	if o, _ := original([]byte(plain), items[:1], 0, false); string(o.Body) != plain {
		t.Fatalf("body changed: %s", o.Body)
	}
}
