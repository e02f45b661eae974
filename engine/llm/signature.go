package llm

import (
	"encoding/base64"
	"strings"
	"unicode/utf8"
)

// toolCallSigSep joins a tool call id and its signature on the wire. The
// dialects without a place for a call's signature (Chat Completions,
// Anthropic Messages, Responses) get it inside the id, as LiteLLM does, so
// a client that echoes the id back in its next turn echoes the signature
// too. Provider ids ("call_…", "toolu_…", Gemini's) never hold a double
// underscore, and the result keeps to Anthropic's tool_use id pattern
// ^[a-zA-Z0-9_-]+$ whenever the id does.
const toolCallSigSep = "__sig__"

// WireToolCallID is the id a client sees for a call with signature sig
// (ToolCall.Signature, provider prefix included): id itself when there is
// no signature, else id, the separator and sig in unpadded base64url.
func WireToolCallID(id, sig string) string {
	if sig == "" {
		return id
	}
	enc := base64.RawURLEncoding
	b := make([]byte, len(id)+len(toolCallSigSep)+enc.EncodedLen(len(sig)))
	n := copy(b, id)
	n += copy(b[n:], toolCallSigSep)
	enc.Encode(b[n:], []byte(sig))
	return string(b)
}

// SplitToolCallID undoes WireToolCallID. An id without the separator, or
// whose tail does not decode to a provider-tagged signature ("kind:…"), is
// an id of its own with no signature: a client's own ids pass unchanged.
func SplitToolCallID(wire string) (id, sig string) {
	i := strings.Index(wire, toolCallSigSep)
	if i < 0 {
		return wire, ""
	}
	raw, err := base64.RawURLEncoding.DecodeString(wire[i+len(toolCallSigSep):])
	if err != nil || !taggedSignature(raw) {
		return wire, ""
	}
	return wire[:i], string(raw)
}

// taggedSignature reports whether s is "kind:value" with a lowercase
// alphanumeric kind, as ToolCall.Signature is, so random base64url after a
// lookalike separator is not taken for a signature.
func taggedSignature(s []byte) bool {
	if !utf8.Valid(s) {
		return false
	}
	for i, c := range s {
		switch {
		case c == ':':
			return i > 0 && i < len(s)-1
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-':
		default:
			return false
		}
	}
	return false
}

// SignatureFor is the provider value of sig when it was issued by a
// provider of kind ("gemini"), else "": a signature travels back only to
// the kind that issued it.
func SignatureFor(kind, sig string) string {
	if v, ok := strings.CutPrefix(sig, kind+":"); ok {
		return v
	}
	return ""
}
