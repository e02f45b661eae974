package llm

import "regexp"

// keyLike matches fragments of provider secrets as upstreams echo them:
// raw keys (sk-…, sk-ant-…, sk-proj-…, AIza…), masked forms (sk-****…cccc,
// sk-...abcd), Bearer tokens and key= query parameters.
var keyLike = regexp.MustCompile(`(?i)(bearer\s+[A-Za-z0-9._~+/=-]+|[?&]?\bkey=[^&\s"']+|\bsk-[A-Za-z0-9_*.\-…]*[A-Za-z0-9*…]|\bAIza[0-9A-Za-z_\-]{10,})`)

// Redact removes key-like fragments from upstream text before it reaches a
// client, a log or a metric.
func Redact(s string) string {
	if s == "" {
		return s
	}
	return keyLike.ReplaceAllString(s, "[redacted]")
}
