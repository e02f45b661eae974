package anthropic

import (
	"encoding/base64"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/switchyard/switchyard/engine/llm"
)

// messageText is a message's text: Content, or its text parts joined.
func messageText(m *llm.Message) string {
	if len(m.Parts) == 0 {
		return m.Content
	}
	var b strings.Builder
	for _, p := range m.Parts {
		if p.Type == llm.PartText || p.Type == "" {
			b.WriteString(p.Text)
		}
	}
	return b.String()
}

// appendSystem adds a system or developer message as system blocks: one
// block per message, or one per text part when a part is a cache
// breakpoint, so the breakpoint stays where the client put it.
func appendSystem(dst []wireBlock, m *llm.Message) []wireBlock {
	n := len(dst)
	partHints := false
	for _, p := range m.Parts {
		partHints = partHints || p.Cache != nil
	}
	if partHints {
		for _, p := range m.Parts {
			if (p.Type == llm.PartText || p.Type == "") && p.Text != "" {
				dst = append(dst, wireBlock{Type: "text", Text: p.Text, CacheControl: cacheControl(p.Cache)})
			}
		}
	} else if t := messageText(m); t != "" {
		dst = append(dst, wireBlock{Type: "text", Text: t})
	}
	if len(dst) > n {
		markLast(dst, m.Cache)
	}
	return dst
}

// systemValue is the system parameter: the compact string unless a block
// carries cache_control, which only the block form can say.
func systemValue(blocks []wireBlock) any {
	if len(blocks) == 0 {
		return nil
	}
	if len(blocks) == 1 && blocks[0].CacheControl == nil {
		return blocks[0].Text // the usual case, without the join's slice
	}
	texts := make([]string, len(blocks))
	for i, b := range blocks {
		if b.CacheControl != nil {
			return blocks
		}
		texts[i] = b.Text
	}
	return strings.Join(texts, "\n\n")
}

// cacheControl is a hint as cache_control. The TTL goes as given ("5m",
// "1h"): the API validates it and names the field if it is wrong.
func cacheControl(h *llm.CacheHint) *wireCache {
	if h == nil {
		return nil
	}
	typ := h.Type
	if typ == "" {
		typ = "ephemeral"
	}
	return &wireCache{Type: typ, TTL: h.TTL}
}

// markLast puts a message-level hint on the message's last block: Anthropic
// caches the prompt up to the block that carries cache_control.
func markLast(blocks []wireBlock, h *llm.CacheHint) {
	if h != nil && len(blocks) > 0 {
		blocks[len(blocks)-1].CacheControl = cacheControl(h)
	}
}

// contentBlocks translates text, image and document content.
func (s *settings) contentBlocks(m *llm.Message, idx int) ([]wireBlock, error) {
	if len(m.Parts) == 0 {
		if m.Content == "" {
			return nil, nil
		}
		return []wireBlock{{Type: "text", Text: m.Content}}, nil
	}
	blocks := make([]wireBlock, 0, len(m.Parts))
	for j := range m.Parts {
		p := &m.Parts[j]
		switch p.Type {
		case llm.PartText, "":
			if p.Text != "" {
				blocks = append(blocks, wireBlock{Type: "text", Text: p.Text})
			}
		case llm.PartImage:
			b, err := s.imageBlock(p.ImageURL, idx, j)
			if err != nil {
				return nil, err
			}
			blocks = append(blocks, b)
		case llm.PartFile:
			b, err := s.documentBlock(p.File, idx, j)
			if err != nil {
				return nil, err
			}
			blocks = append(blocks, b)
		case llm.PartAudio:
			return nil, llm.InvalidParam(partParam(idx, j, "input_audio"), "%s: Anthropic models take no audio input; route audio to a target that does", partParam(idx, j, "input_audio"))
		default:
			return nil, llm.InvalidParam(partParam(idx, j, "type"), "messages[%d]: content part type %q is not supported", idx, p.Type)
		}
		// A hint on a part that made no block (empty text) marks the block
		// before it: the cached prefix is the same.
		if p.Cache != nil && len(blocks) > 0 {
			blocks[len(blocks)-1].CacheControl = cacheControl(p.Cache)
		}
	}
	return blocks, nil
}

// partParam names a field of a content part as the client's request
// spelled it in OpenAI's shape.
func partParam(idx, j int, field string) string {
	return fmt.Sprintf("messages[%d].content[%d].%s", idx, j, field)
}

// checkSize refuses a base64 payload that decodes to more than the limit.
func (s *settings) checkSize(b64 string, param string) error {
	if n := base64.StdEncoding.DecodedLen(len(b64)); n > s.maxPart {
		e := llm.InvalidParam(param, "%s: part is about %d bytes, over the %d-byte limit per part", param, n, s.maxPart)
		e.Code = "part_too_large"
		return e
	}
	return nil
}

// imageBlock turns a data: URL into a base64 source and an http(s) URL into
// a url source. A PDF data URL becomes a document block, which is how the
// Messages API takes PDFs.
func (s *settings) imageBlock(u string, idx, j int) (wireBlock, error) {
	param := partParam(idx, j, "image_url")
	switch {
	case strings.HasPrefix(u, "data:"):
		mediaType, data, ok := llm.ParseDataURL(u)
		if !ok {
			return wireBlock{}, llm.InvalidParam(param, "%s: image data URL must be data:<type>;base64,<data>", param)
		}
		if err := s.checkSize(data, param); err != nil {
			return wireBlock{}, err
		}
		typ := "image"
		if mediaType == "application/pdf" {
			typ = "document"
		}
		return wireBlock{Type: typ, Source: &wireSource{Type: "base64", MediaType: mediaType, Data: data}}, nil
	case strings.HasPrefix(u, "https://"), strings.HasPrefix(u, "http://"):
		return wireBlock{Type: "image", Source: &wireSource{Type: "url", URL: u}}, nil
	}
	return wireBlock{}, llm.InvalidParam(param, "%s: image URL must be a data: or http(s) URL", param)
}

// documentBlock translates a file part: a PDF as a base64 document, plain
// text (any text/* type) as a text document, an image as an image block,
// an http(s) URL as a url document. A file id is another provider's
// upload (OpenAI's Files API), which Anthropic cannot read: a 400 naming it
// rather than a confusing upstream error.
func (s *settings) documentBlock(f *llm.FilePart, idx, j int) (wireBlock, error) {
	param := partParam(idx, j, "file")
	if f == nil {
		return wireBlock{}, llm.InvalidParam(param, "%s: Field required", param)
	}
	if f.FileID != "" {
		return wireBlock{}, llm.InvalidParam(param+".file_id", "%s.file_id: %q is another provider's uploaded file, which Anthropic cannot read; send the file's data (file_data) instead", param, f.FileID)
	}
	b := wireBlock{Type: "document", Title: f.Filename}
	mime, _, _ := strings.Cut(f.MIMEType, ";")
	mime = strings.ToLower(strings.TrimSpace(mime))
	switch {
	case f.Data != "":
		if err := s.checkSize(f.Data, param); err != nil {
			return wireBlock{}, err
		}
		switch {
		case mime == "application/pdf":
			b.Source = &wireSource{Type: "base64", MediaType: mime, Data: f.Data}
		case strings.HasPrefix(mime, "text/"):
			// Anthropic's text source takes the text itself, as text/plain.
			raw, err := base64.StdEncoding.DecodeString(f.Data)
			if err != nil || !utf8.Valid(raw) {
				return wireBlock{}, llm.InvalidParam(param+".file_data", "%s.file_data: a %s file must be base64 of UTF-8 text", param, mime)
			}
			b.Source = &wireSource{Type: "text", MediaType: "text/plain", Data: string(raw)}
		case strings.HasPrefix(mime, "image/"):
			return wireBlock{Type: "image", Source: &wireSource{Type: "base64", MediaType: mime, Data: f.Data}}, nil
		case mime == "":
			return wireBlock{}, llm.InvalidParam(param+".file_data", "%s.file_data: the file's MIME type is required (a data: URL carries it)", param)
		default:
			return wireBlock{}, llm.InvalidParam(param+".file_data", "%s.file_data: Anthropic takes PDF, text and image files, not %s", param, mime)
		}
	case strings.HasPrefix(f.URL, "https://"), strings.HasPrefix(f.URL, "http://"):
		if strings.HasPrefix(mime, "image/") {
			return wireBlock{Type: "image", Source: &wireSource{Type: "url", URL: f.URL}}, nil
		}
		b.Source = &wireSource{Type: "url", URL: f.URL}
	case f.URL != "":
		return wireBlock{}, llm.InvalidParam(param+".file_url", "%s.file_url: Anthropic fetches only http(s) URLs, not %q", param, f.URL)
	default:
		return wireBlock{}, llm.InvalidParam(param, "%s: file_data, file_url or file_id is required", param)
	}
	return b, nil
}
