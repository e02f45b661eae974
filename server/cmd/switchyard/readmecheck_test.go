package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// scripts/readme-check.sh runs shell blocks in order (exports carry over),
// skips marked ones with their reason, ignores other languages, runs only
// the prompted lines of console blocks, and reports a failing command with
// its line in the README and the gateway's answer.
func TestReadmeCheckRunsBlocksAndPinpointsAFailure(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash not found")
	}
	root, err := filepath.Abs("../../..")
	if err != nil {
		t.Fatal(err)
	}
	const fence = "```"
	head := []string{
		"# Example",
		"",
		fence + "sh",
		"curl -s http://127.0.0.1:8080/healthz",
		"export GREETING=hello",
		fence,
		"",
		"<!-- readme-check: skip (needs the internet) -->",
		fence + "bash",
		"exit 3",
		fence,
		"",
		fence + "python",
		"raise SystemExit(1)",
		fence,
		"",
		fence + "console",
		`$ test "$GREETING" = hello`,
		"this output line is not run",
		"$ curl -s http://localhost:8080/v1/models >/dev/null",
	}
	failing := "$ curl -s http://localhost:8080/v1/nothing/here"
	for _, tc := range []struct {
		name  string
		lines []string
		code  int
		want  []string
	}{
		{"all pass", append(append([]string{}, head...), fence), 0,
			[]string{"skipped (needs the internet)", "2 blocks ran, 1 skipped"}},
		{"a failing command", append(append([]string{}, head...), failing, fence), 1,
			[]string{
				fmt.Sprintf("FAIL: the block at EXAMPLE.md:%d exited 22", 17),
				fmt.Sprintf("EXAMPLE.md:%d: exit 22: curl -s http://127.0.0.1:", len(head)+1),
				"unknown_url",
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			readme := filepath.Join(dir, "EXAMPLE.md")
			if err := os.WriteFile(readme, []byte(strings.Join(tc.lines, "\n")+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			tmp := filepath.Join(dir, "tmp")
			if err := os.Mkdir(tmp, 0o700); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(filepath.Join(root, "scripts", "readme-check.sh"), readme)
			cmd.Env = append(os.Environ(), "SWITCHYARD_BIN="+gatewayBinary(t), "TMPDIR="+tmp)
			out, err := cmd.CombinedOutput()
			code := 0
			var ee *exec.ExitError
			switch {
			case errors.As(err, &ee):
				code = ee.ExitCode()
			case err != nil:
				t.Fatal(err)
			}
			if code != tc.code {
				t.Fatalf("exit %d, want %d:\n%s", code, tc.code, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(string(out), w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			if left, _ := os.ReadDir(tmp); len(left) != 0 {
				t.Fatalf("the check left %d entries in its TMPDIR", len(left))
			}
		})
	}
}
