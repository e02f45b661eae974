package main

import (
	"fmt"
	"strings"
	"testing"
)

// Without SWITCHYARD_ADMIN_KEY the first client key is refused, through
// REST and the CLI alike, with the way out; nothing is created, so the
// gateway stays administrable from loopback.
func TestFirstClientKeyWithoutAdminKeyIsRefused(t *testing.T) {
	cfg := fmt.Sprintf("storage: {data_dir: %q}\nproviders:\n  - {name: sim, type: simulator, models: [m]}\n", t.TempDir())
	p := startProc(t, cfg, "SWITCHYARD_ADMIN_KEY=")

	st, _, b := call(t, "POST", p.base+"/v1/keys", "", `{"key":{"name":"team-a"}}`)
	if st != 400 || !strings.Contains(string(b), "SWITCHYARD_ADMIN_KEY") || !strings.Contains(string(b), "restart") {
		t.Fatalf("REST create without an admin key: %d %s", st, b)
	}
	out, errOut, code := cliRun(t, p.base, "", []string{"SWITCHYARD_ADMIN_KEY="}, "keys", "create", "--name", "team-a")
	if code != 1 || !strings.Contains(errOut, "failed_precondition") || !strings.Contains(errOut, "SWITCHYARD_ADMIN_KEY") {
		t.Fatalf("CLI create without an admin key: exit %d\n%s%s", code, out, errOut)
	}
	// Still keyless: loopback callers (and admin APIs) keep working.
	if st, _, b := call(t, "GET", p.base+"/v1/keys", "", ""); st != 200 || strings.Contains(string(b), `"id"`) {
		t.Fatalf("list after the refusals: %d %s", st, b)
	}
	if st, _, b := call(t, "POST", p.base+"/v1/chat/completions", "", `{"model":"m","messages":[{"role":"user","content":"hi"}]}`); st != 200 {
		t.Fatalf("chat after the refusals: %d %s", st, b)
	}
}
