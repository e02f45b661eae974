package main

import (
	"strings"
	"testing"
)

func TestRunRejectsBadFlagsBeforeListening(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"negative ttft", []string{"--ttft", "-1s"}, "ttft"},
		{"too many tokens", []string{"--tokens", "1000000"}, "tokens"},
		{"unknown flag", []string{"--colour", "blue"}, "colour"},
		{"bad address", []string{"--listen", "127.0.0.1:notaport"}, "notaport"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := run(tt.args)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("run(%q) = %v, want an error mentioning %q", tt.args, err, tt.want)
			}
		})
	}
}
