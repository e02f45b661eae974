package llm

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
)

// anthropicToolUseID is the pattern Anthropic requires of tool_use ids.
var anthropicToolUseID = regexp.MustCompile(`^[a-zA-Z0-9_-]+$`)

func TestWireToolCallIDRoundTrips(t *testing.T) {
	tests := []struct {
		name, id, sig string
	}{
		{"no signature is the bare id", "call_abc", ""},
		{"gemini signature", "call_0", "gemini:CiQBjz1rX+/9w=="},
		{"anthropic-style id", "toolu_01A09q90qw90lq917835lq9", "gemini:c2lnbmF0dXJl"},
		{"long binary-looking signature", "call_1", "gemini:AAAA////++++===="},
		{"hyphenated kind", "id-1", "vertex-ai:abc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wire := WireToolCallID(tt.id, tt.sig)
			if tt.sig == "" && wire != tt.id {
				t.Fatalf("WireToolCallID(%q, \"\") = %q, want the id", tt.id, wire)
			}
			if !anthropicToolUseID.MatchString(wire) {
				t.Errorf("wire id %q does not match Anthropic's tool_use id pattern", wire)
			}
			id, sig := SplitToolCallID(wire)
			if id != tt.id || sig != tt.sig {
				t.Errorf("SplitToolCallID(%q) = %q, %q; want %q, %q", wire, id, sig, tt.id, tt.sig)
			}
		})
	}
}

func TestSplitToolCallIDLeavesForeignIDsAlone(t *testing.T) {
	for _, wire := range []string{
		"call_abc",
		"toolu_01",
		"call__sig__",              // separator, nothing after
		"call__sig__!!!",           // not base64url
		"call__sig__c2lnbmF0dXJl",  // "signature": no provider tag
		"call__sig__OnZhbHVl",      // ":value": empty kind
		"call__sig__R0VNSU5JOng",   // "GEMINI:x": kind must be lowercase
		"call__sig__Z2VtaW5pOg",    // "gemini:": empty value
		"__sig__Z2VtaW5pOng" + "=", // padded: RawURLEncoding refuses it
	} {
		t.Run(wire, func(t *testing.T) {
			id, sig := SplitToolCallID(wire)
			if id != wire || sig != "" {
				t.Errorf("SplitToolCallID(%q) = %q, %q; want it unchanged with no signature", wire, id, sig)
			}
		})
	}
}

func TestSignatureForKeepsOnlyTheIssuingKind(t *testing.T) {
	tests := []struct{ kind, sig, want string }{
		{"gemini", "gemini:abc", "abc"},
		{"gemini", "anthropic:abc", ""},
		{"gemini", "abc", ""},
		{"gemini", "", ""},
		{"gemini", "geminix:abc", ""},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%s", tt.kind, tt.sig), func(t *testing.T) {
			if got := SignatureFor(tt.kind, tt.sig); got != tt.want {
				t.Errorf("SignatureFor(%q, %q) = %q, want %q", tt.kind, tt.sig, got, tt.want)
			}
		})
	}
}

func ExampleWireToolCallID() {
	wire := WireToolCallID("call_0", "gemini:c2ln")
	id, sig := SplitToolCallID(wire)
	fmt.Println(wire)
	fmt.Println(id, sig)
	// Output:
	// call_0__sig__Z2VtaW5pOmMybG4
	// call_0 gemini:c2ln
}

func FuzzSplitToolCallID(f *testing.F) {
	f.Add("call_0", "gemini:c2ln")
	f.Add("toolu_01", "")
	f.Add("a__sig__b", "gemini:x")
	f.Fuzz(func(t *testing.T, id, sig string) {
		// Any wire string splits without panicking into an id that is a
		// prefix of it.
		if gotID, _ := SplitToolCallID(id); len(gotID) > len(id) || id[:len(gotID)] != gotID {
			t.Fatalf("SplitToolCallID(%q) id %q is not a prefix", id, gotID)
		}
		// A signed id round-trips whenever the id holds no separator and
		// the signature is provider-tagged.
		if !anthropicToolUseID.MatchString(id) || strings.Contains(id, toolCallSigSep) || !taggedSignature([]byte(sig)) {
			return
		}
		gotID, gotSig := SplitToolCallID(WireToolCallID(id, sig))
		if gotID != id || gotSig != sig {
			t.Fatalf("round trip of (%q, %q) gave (%q, %q)", id, sig, gotID, gotSig)
		}
		if w := WireToolCallID(id, sig); !anthropicToolUseID.MatchString(w) {
			t.Fatalf("wire id %q does not match Anthropic's pattern", w)
		}
	})
}

func BenchmarkWireToolCallID(b *testing.B) {
	sig := "gemini:" + string(make([]byte, 512))
	b.ReportAllocs()
	for b.Loop() {
		id, _ := SplitToolCallID(WireToolCallID("call_0", sig))
		if id != "call_0" {
			b.Fatal(id)
		}
	}
}
