package responses

import (
	"encoding/base64"
	"encoding/json"
	"strings"
)

// carriedPrefix marks an encrypted_content the gateway wrote: a signed or
// redacted reasoning block from a provider other than OpenAI (Anthropic's
// thinking signature and redacted_thinking), carried through the client
// the way OpenAI carries its own encrypted reasoning. Codex CLI and other
// store:false clients send reasoning items back as they came, so the
// signature a tool-use turn needs comes back too.
const carriedPrefix = "sy1:"

type carried struct {
	Signature string   `json:"s,omitempty"`
	Redacted  []string `json:"r,omitempty"`
}

// carryReasoning is the encrypted_content for a signature and redacted
// blocks, or "" when there are none.
func carryReasoning(signature string, redacted []string) string {
	if signature == "" && len(redacted) == 0 {
		return ""
	}
	b, _ := json.Marshal(carried{signature, redacted})
	return carriedPrefix + base64.RawURLEncoding.EncodeToString(b)
}

// uncarryReasoning reads what carryReasoning wrote; ok is false for
// anything else (OpenAI's own encrypted reasoning, which only OpenAI reads).
func uncarryReasoning(s string) (signature string, redacted []string, ok bool) {
	rest, found := strings.CutPrefix(s, carriedPrefix)
	if !found {
		return "", nil, false
	}
	b, err := base64.RawURLEncoding.DecodeString(rest)
	if err != nil {
		return "", nil, false
	}
	var c carried
	if json.Unmarshal(b, &c) != nil {
		return "", nil, false
	}
	return c.Signature, c.Redacted, true
}
