package fakeupstream

import (
	"encoding/json"
	"testing"
)

func TestResponsesToolChoice(t *testing.T) {
	for _, tc := range []struct {
		raw    string
		forced bool
		name   string
		err    bool
	}{
		{``, false, "", false},
		{`"auto"`, false, "", false},
		{`"required"`, true, "", false},
		{`{"type":"function","name":"f"}`, false, "f", false},
		{`{"type":"function","function":{"name":"f"}}`, false, "", true},
		{`"sometimes"`, false, "", true},
	} {
		forced, name, err := responsesToolChoice(json.RawMessage(tc.raw))
		if forced != tc.forced || name != tc.name || (err != nil) != tc.err {
			t.Errorf("%s: %v %q %v", tc.raw, forced, name, err)
		}
	}
}
