package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/loadtest/fakeupstream"
)

// cliRun runs the binary's operator command against base.
func cliRun(t *testing.T, base, stdin string, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(gatewayBinary(t), args...)
	cmd.Env = append(append(os.Environ(), "SWITCHYARD_URL="+base, "SWITCHYARD_ADMIN_KEY="+adminKey), env...)
	cmd.Stdin = strings.NewReader(stdin)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	return o.String(), e.String(), code
}

func TestCLIOperatesAGateway(t *testing.T) {
	up := fakeUpstream(t, fakeupstream.Knobs{Tokens: 5}, "sk-config-provider-key-0001", "sk-cli-added-key-000000009999")
	p := startProc(t, acceptConfig(up, t.TempDir(), ""), "SWITCHYARD_ADMIN_KEY="+adminKey, "SWITCHYARD_MASTER_KEY="+strings.Repeat("ab", 32))

	out, errOut, code := cliRun(t, p.base, "", nil, "keys", "create", "--name", "team-a", "--rpm", "60", "--budget-usd", "5",
		"--budget-period", "month", "--models", "fake-gpt", "--ip", "127.0.0.1,10.0.0.0/8", "--label", "team=a")
	if code != 0 || !strings.Contains(errOut, "shown only once") {
		t.Fatalf("keys create: %d %s %s", code, out, errOut)
	}
	id := regexp.MustCompile(`id:\s+(\S+)`).FindStringSubmatch(out)
	secret := regexp.MustCompile(`secret:\s+(sy-\S+)`).FindStringSubmatch(out)
	if id == nil || secret == nil {
		t.Fatalf("keys create output:\n%s", out)
	}
	// The key works, and carries its limits.
	if st, h, b := call(t, "POST", p.base+"/v1/chat/completions", secret[1], chatBody(5)); st != 200 || h.Get("x-ratelimit-limit-requests") != "60" {
		t.Fatalf("chat with the CLI's key: %d %s %v", st, b, h)
	}

	// Embeddings go through the same gate: they count against the RPM and
	// land in the ledger.
	if st, _, b := call(t, "POST", p.base+"/v1/embeddings", secret[1], `{"model":"fake-gpt","input":["a","b"]}`); st != 200 {
		t.Fatalf("embeddings with the CLI's key: %d %s", st, b)
	}
	if st, h, b := call(t, "POST", p.base+"/v1/chat/completions", secret[1], chatBody(5)); st != 200 || h.Get("x-ratelimit-remaining-requests") != "57" {
		t.Fatalf("third request: %d %s remaining %q, want 57", st, b, h.Get("x-ratelimit-remaining-requests"))
	}
	usageRequests(t, p.base, adminKey, id[1], 3) // the ledger writes in batches

	tests := []struct {
		name   string
		stdin  string
		env    []string
		args   []string
		code   int
		want   []string // substrings of stdout
		stderr string   // substring of stderr
	}{
		{"list", "", nil, []string{"keys", "list"}, 0, []string{id[1], "team-a", "$5.00/month", "fake-gpt", "active"}, ""},
		{"get as json", "", nil, []string{"keys", "get", id[1], "--json"}, 0, []string{`"rpm_limit": 60`, `"team": "a"`}, ""},
		{"usage by key", "", nil, []string{"usage", "--group-by", "key", "--since", "1h"}, 0, []string{"KEY", id[1], "TOTAL"}, ""},
		{"usage by route names the route", "", nil, []string{"usage", "--group-by", "route", "--since", "1h"}, 0, []string{"ROUTE", "CACHE_HITS", "fake-gpt", "TOTAL"}, ""},
		{"config get", "", nil, []string{"config", "get"}, 0, []string{"strategy: priority", "model: auto"}, ""},
		{"config set", "strategy: priority\nfallback_strategy: failover\nroutes:\n  - model: cli-route\n    targets: [{provider: fake, model: fake-gpt}]\n",
			nil, []string{"config", "set", "-"}, 0, []string{"routing config updated: version 2"}, ""},
		{"config set invalid", "routes: [{model: x, targets: [{provider: ghost, model: y}]}]\n", nil, []string{"config", "set", "-"}, 1, nil, "ghost"},
		{"config history", "", nil, []string{"config", "history"}, 0, []string{"VERSION", "cli-route", "admin", "config-file"}, ""},
		{"config rollback", "", nil, []string{"config", "rollback", "1"}, 0, []string{"rolled back to version 1: now version 3"}, ""},
		{"config rollback unknown version", "", nil, []string{"config", "rollback", "99"}, 1, nil, "not_found"},
		{"config set wrapped", "config: {strategy: priority}\n", nil, []string{"config", "set", "-"}, 1, nil, `unknown field "config"`},
		{"add provider key from env", "", []string{"NEW_KEY=sk-cli-added-key-000000009999"}, []string{"providers", "add-key", "fake", "--key-env", "NEW_KEY", "--label", "cli"}, 0, []string{"added key", "****9999"}, ""},
		{"providers list", "", nil, []string{"providers", "list"}, 0, []string{"fake", "****9999", "cli", "api"}, ""},
		{"add provider key from stdin, unknown provider", "sk-whatever-0000000000\n", nil, []string{"providers", "add-key", "ghost"}, 1, nil, "not_found"},
		{"rotate", "", nil, []string{"keys", "rotate", id[1], "--grace", "10m"}, 0, []string{"secret: sy-"}, "10m0s"},
		{"revoke", "", nil, []string{"keys", "revoke", id[1]}, 0, []string{"revoked"}, ""},
		{"get missing", "", nil, []string{"keys", "get", "key_nope"}, 1, nil, "not_found"},
		{"wrong admin key", "", []string{"SWITCHYARD_ADMIN_KEY=wrong-admin-key-000000"}, []string{"keys", "list"}, 1, nil, "unauthenticated"},
		{"unknown subcommand", "", nil, []string{"keys", "explode"}, 2, nil, "unknown command"},
		{"missing argument", "", nil, []string{"keys", "get"}, 1, nil, "want a key id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := cliRun(t, p.base, tt.stdin, tt.env, tt.args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, out, errOut)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("stdout lacks %q:\n%s", w, out)
				}
			}
			if tt.stderr != "" && !strings.Contains(errOut, tt.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tt.stderr, errOut)
			}
		})
	}
	// The revoked key no longer works; the route set through the CLI does.
	if st, _, _ := call(t, "POST", p.base+"/v1/chat/completions", secret[1], chatBody(5)); st != 401 {
		t.Fatalf("revoked key: %d", st)
	}
	// The removed provider key is gone.
	out, _, _ = cliRun(t, p.base, "", nil, "providers", "list", "--json")
	kid := regexp.MustCompile(`"id":\s*"(k[0-9a-f]+)",\s*"masked_key":\s*"\*\*\*\*9999"`).FindStringSubmatch(out)
	if kid == nil {
		t.Fatalf("providers list --json:\n%s", out)
	}
	if _, errOut, code := cliRun(t, p.base, "", nil, "providers", "remove-key", "fake", kid[1]); code != 0 {
		t.Fatalf("remove-key: %d %s", code, errOut)
	}
	if out, _, _ := cliRun(t, p.base, "", nil, "providers", "list"); strings.Contains(out, "****9999") {
		t.Fatalf("removed key still listed:\n%s", out)
	}
	if strings.Contains(p.logs.String(), "sk-cli-added-key-000000009999") {
		t.Fatal("provider key plaintext in the gateway log")
	}
}
