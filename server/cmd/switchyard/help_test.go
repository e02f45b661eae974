package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestHelpPrintsUsageToStdoutAndExitsZero(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"bare help", nil, 0, "providers  list providers"},
		{"flags come from the flag set", nil, 0, "--connect           with --check, also dial"},
		{"help keys", []string{"keys"}, 0, "keys rotate"},
		{"help providers", []string{"providers"}, 0, "providers add-key"},
		{"unknown command", []string{"nope"}, 2, `unknown command "nope"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var o, e bytes.Buffer
			if code := printHelp(&o, &e, tc.args); code != tc.code {
				t.Fatalf("code %d, want %d", code, tc.code)
			}
			if !strings.Contains(o.String()+e.String(), tc.want) {
				t.Fatalf("output %q lacks %q", o.String()+e.String(), tc.want)
			}
		})
	}
}
