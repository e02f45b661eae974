package llm

import "strings"

// ParseDataURL splits a base64 data: URL ("data:<type>;base64,<data>") into
// its MIME type and payload, which stays base64. Every wire format carries
// inline bytes as base64, so nothing here decodes them.
func ParseDataURL(u string) (mimeType, data string, ok bool) {
	rest, found := strings.CutPrefix(u, "data:")
	if !found {
		return "", "", false
	}
	meta, data, found := strings.Cut(rest, ",")
	mimeType, isBase64 := strings.CutSuffix(meta, ";base64")
	if !found || !isBase64 || mimeType == "" || data == "" {
		return "", "", false
	}
	return mimeType, data, true
}
