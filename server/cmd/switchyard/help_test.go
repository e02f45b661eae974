package main

import (
	"bytes"
	"flag"
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

// The gateway's usage is rendered from the flag set run parses: every flag
// appears with its description.
func TestGatewayUsageListsEveryFlagOfRun(t *testing.T) {
	fs, _ := gatewayFlags(func(string) string { return "" })
	usage := gatewayUsage()
	fs.VisitAll(func(f *flag.Flag) {
		_, desc := flag.UnquoteUsage(f)
		if !strings.Contains(usage, "--"+f.Name) || !strings.Contains(usage, desc) {
			t.Errorf("usage lacks --%s (%s):\n%s", f.Name, desc, usage)
		}
	})
}
