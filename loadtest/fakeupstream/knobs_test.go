package fakeupstream

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestKnobSetParsesEachKey(t *testing.T) {
	tests := []struct {
		key, val string
		want     Knobs
		err      string
	}{
		{"latency", "250ms", Knobs{Latency: 250 * time.Millisecond}, ""},
		{"latency", "40", Knobs{Latency: 40 * time.Millisecond}, ""},
		{"ttft", "1.5", Knobs{TTFT: 1500 * time.Microsecond}, ""},
		{"token_delay", "2s", Knobs{TokenDelay: 2 * time.Second}, ""},
		{"tokens", "7", Knobs{Tokens: 7}, ""},
		{"status", "503", Knobs{Status: 503}, ""},
		{"retry_after", "2", Knobs{RetryAfter: 2 * time.Second}, ""},
		{"retry_after", "0.5", Knobs{RetryAfter: 500 * time.Millisecond}, ""},
		{"retry_after_ms", "1500", Knobs{RetryAfter: 1500 * time.Millisecond}, ""},
		{"hang", "", Knobs{Hang: true}, ""},
		{"hang", "false", Knobs{}, ""},
		{"reset", "1", Knobs{Reset: true}, ""},
		{"abort_after", "3", Knobs{AbortAfter: 3}, ""},
		{"auto_tool", " Read ", Knobs{AutoTool: "Read"}, ""},
		{"latency", "soon", Knobs{}, "latency"},
		{"latency", "-1", Knobs{}, "out of range"},
		{"ttft", "11m", Knobs{}, ""}, // set accepts it; validate rejects it
		{"tokens", "x", Knobs{}, "tokens"},
		{"hang", "maybe", Knobs{}, "hang"},
		{"colour", "1", Knobs{}, "unknown knob"},
	}
	for _, tt := range tests {
		t.Run(tt.key+"="+tt.val, func(t *testing.T) {
			var k Knobs
			err := k.set(tt.key, tt.val)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want one mentioning %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.key == "ttft" && tt.val == "11m" {
				if k.validate() == nil {
					t.Error("validate accepted ttft 11m")
				}
				return
			}
			if k != tt.want {
				t.Errorf("got %+v, want %+v", k, tt.want)
			}
		})
	}
}

func TestDirectiveAndHeaders(t *testing.T) {
	tests := []struct {
		name string
		text string
		want Knobs
		err  string
	}{
		{"none", "plain text", Knobs{}, ""},
		{"several keys", "[[fake:status=503, retry_after=2]] hello", Knobs{Status: 503, RetryAfter: 2 * time.Second}, ""},
		{"anywhere in the text", "please [[fake:abort_after=3]]", Knobs{AbortAfter: 3}, ""},
		{"bare key and case", "[[fake:HANG]]", Knobs{Hang: true}, ""},
		{"only the first directive", "[[fake:tokens=2]] [[fake:tokens=9]]", Knobs{Tokens: 2}, ""},
		{"empty directive", "[[fake:]]", Knobs{}, ""},
		{"unclosed", "[[fake:tokens=2", Knobs{}, "not closed"},
		{"bad value", "[[fake:tokens=two]]", Knobs{}, "tokens"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var k Knobs
			err := k.applyDirective(tt.text)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || k != tt.want {
				t.Errorf("got %+v (%v), want %+v", k, err, tt.want)
			}
		})
	}
	t.Run("headers", func(t *testing.T) {
		h := http.Header{}
		h.Set("X-Fake-Token-Delay", "5")
		h.Set("X-Fake-Retry-After-Ms", "250")
		h.Set("X-Fake-Retry-After", "9") // the milliseconds win whatever the map order
		h.Set("x-fake-abort-after", "2")
		h.Set("X-Fake-Auto-Tool", "exec_command")
		h.Set("Authorization", "Bearer x")
		var k Knobs
		if !hasKnobHeaders(h) {
			t.Fatal("hasKnobHeaders = false")
		}
		if err := k.applyHeaders(h); err != nil {
			t.Fatal(err)
		}
		if want := (Knobs{TokenDelay: 5 * time.Millisecond, RetryAfter: 250 * time.Millisecond, AbortAfter: 2, AutoTool: "exec_command"}); k != want {
			t.Errorf("got %+v, want %+v", k, want)
		}
		if hasKnobHeaders(http.Header{"Accept": {"*/*"}}) {
			t.Error("hasKnobHeaders true without knob headers")
		}
	})
}

func TestKnobsJSONIsAPatch(t *testing.T) {
	k := Knobs{Tokens: 5, Status: 503}
	if err := json.Unmarshal([]byte(`{"ttft":"20ms","token_delay":2.5,"status":0,"auto_tool":"Read"}`), &k); err != nil {
		t.Fatal(err)
	}
	if want := (Knobs{Tokens: 5, TTFT: 20 * time.Millisecond, TokenDelay: 2500 * time.Microsecond, AutoTool: "Read"}); k != want {
		t.Errorf("got %+v, want %+v", k, want)
	}
	for _, bad := range []string{`{"ttft":-1}`, `{"ttft":true}`, `{"auto_tool":1}`, `{"x":1}`, `[]`} {
		if err := json.Unmarshal([]byte(bad), &k); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

func TestNewCapsKnobsIntoRange(t *testing.T) {
	s := New(Options{Knobs: Knobs{Latency: time.Hour, Tokens: -3, Status: 200, AbortAfter: -1}})
	if k := s.Knobs(); k.Latency != MaxDelay || k.Tokens != 0 || k.Status != 0 || k.AbortAfter != 0 {
		t.Errorf("knobs %+v", k)
	}
	if err := s.SetKnobs(Knobs{Status: 302}); err == nil {
		t.Error("SetKnobs accepted status 302")
	}
	if err := s.SetKnobs(Knobs{AutoTool: strings.Repeat("x", MaxToolName+1)}); err == nil {
		t.Error("SetKnobs accepted an auto_tool longer than MaxToolName")
	}
	if k := New(Options{Knobs: Knobs{AutoTool: strings.Repeat("x", MaxToolName+1)}}).Knobs(); k.AutoTool != "" {
		t.Errorf("New kept an auto_tool of %d bytes", len(k.AutoTool))
	}
}
