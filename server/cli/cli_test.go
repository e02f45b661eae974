package cli

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
)

// Usage mistakes are ErrUsage (exit 2) with the usage on stderr, and no
// call is made; asking for a command's help prints just its lines.
func TestRunRefusesMalformedCommandsWithoutCalling(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantErr    error
		wantStdout string
		wantStderr string
	}{
		{"no command", nil, ErrUsage, "", "usage: switchyard <command>"},
		{"no subcommand", []string{"keys"}, ErrUsage, "", "usage: switchyard <command>"},
		{"flag instead of subcommand", []string{"config", "--json"}, ErrUsage, "", "usage: switchyard <command>"},
		{"command help", []string{"config", "--help"}, nil, "config history [--limit N]", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var o, e bytes.Buffer
			// An unroutable URL: a call would fail with a connection error, not ErrUsage.
			env := Env{Stdin: strings.NewReader(""), Stdout: &o, Stderr: &e, Getenv: func(k string) string {
				if k == "SWITCHYARD_URL" {
					return "http://127.0.0.1:1"
				}
				return ""
			}}
			err := Run(context.Background(), tt.args, env)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("err %v, want %v", err, tt.wantErr)
			}
			if !strings.Contains(o.String(), tt.wantStdout) || !strings.Contains(e.String(), tt.wantStderr) {
				t.Fatalf("stdout %q\nstderr %q", o.String(), e.String())
			}
		})
	}
}

func TestIsCommandNamesTheOperatorCommands(t *testing.T) {
	for cmd, want := range map[string]bool{"keys": true, "usage": true, "config": true, "providers": true, "serve": false, "": false, "--check": false} {
		if IsCommand(cmd) != want {
			t.Errorf("IsCommand(%q) = %v", cmd, !want)
		}
	}
}
