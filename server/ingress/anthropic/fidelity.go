package anthropic

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/switchyard/switchyard/engine/llm"
	"github.com/switchyard/switchyard/server/ingress"
)

// cacheControl is a block's or tool's cache_control: a prompt-cache
// breakpoint after it. Decoded into llm.CacheHint so a request that does
// not travel as its original body (another dialect's target on the way,
// or a translation) keeps its breakpoints.
type cacheControl struct {
	Type string `json:"type"`
	TTL  string `json:"ttl"`
}

func (c *cacheControl) hint() *llm.CacheHint {
	if c == nil {
		return nil
	}
	return &llm.CacheHint{Type: c.Type, TTL: c.TTL}
}

// outputFormat is structured outputs' format: output_config.format, or
// output_format in the beta spelling.
type outputFormat struct {
	Type   string          `json:"type"`
	Schema json.RawMessage `json:"schema"`
}

type outputConfig struct {
	Format *outputFormat `json:"format"`
	// Effort (low, medium, high) is the adaptive-thinking models' effort.
	Effort string `json:"effort"`
}

// structuredOutput maps output_config.format (or output_format) onto the
// domain's response_format, so OpenAI and Gemini targets constrain the
// answer too, and output_config.effort onto reasoning_effort when the
// thinking budget did not already set one.
func structuredOutput(in *request, out *llm.ChatRequest) error {
	f, param := in.OutputFormat, "output_format"
	if in.OutputConfig != nil {
		if in.OutputConfig.Format != nil {
			f, param = in.OutputConfig.Format, "output_config.format"
		}
		if e := in.OutputConfig.Effort; e != "" && out.ReasoningEffort == "" {
			out.ReasoningEffort = e
		}
	}
	if f == nil {
		return nil
	}
	if f.Type != "json_schema" {
		return invalid(param+".type", "%s.type: want json_schema, got %q", param, f.Type)
	}
	schema := bytes.TrimSpace(f.Schema)
	if len(schema) == 0 || schema[0] != '{' {
		return invalid(param+".schema", "%s.schema: Field required (a JSON Schema object)", param)
	}
	out.ResponseFormat = &llm.ResponseFormat{Type: "json_schema", SchemaName: "output", Schema: json.RawMessage(schema)}
	return nil
}

// systemMessage decodes the system parameter (a string or text blocks)
// into one system message, keeping cache_control: a breakpoint on the last
// block marks the message, one on an earlier block keeps the blocks apart
// as parts so it stays where it was.
func systemMessage(raw json.RawMessage, param string) (llm.Message, error) {
	m := llm.Message{Role: llm.RoleSystem}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return m, nil
	}
	if raw[0] == '"' {
		if err := json.Unmarshal(raw, &m.Content); err != nil {
			return m, invalid(param, "%s: %v", param, err)
		}
		return m, nil
	}
	var blocks []block
	if err := json.Unmarshal(raw, &blocks); err != nil {
		return m, invalid(param, "%s: want a string or an array of text blocks", param)
	}
	for i, bl := range blocks {
		if bl.Type != "text" {
			return m, invalid(fmt.Sprintf("%s.%d.type", param, i), "%s.%d: only text blocks are allowed", param, i)
		}
		m.Parts = append(m.Parts, llm.Part{Type: llm.PartText, Text: bl.Text, Cache: bl.CacheControl.hint()})
	}
	collapse(&m, "\n\n")
	return m, nil
}

// collapse makes text-only content a plain string (ingress.Collapse), the
// form every target takes most simply, unless a part other than the last
// is a cache breakpoint; the last one's becomes the message's own. sep
// joins the texts (system blocks have always been joined by a blank line).
func collapse(m *llm.Message, sep string) {
	for i, p := range m.Parts {
		if p.Type != llm.PartText || (p.Cache != nil && i < len(m.Parts)-1) {
			return
		}
	}
	if n := len(m.Parts); n > 0 && m.Parts[n-1].Cache != nil {
		m.Cache, m.Parts[n-1].Cache = m.Parts[n-1].Cache, nil
	}
	if sep == "\n" {
		ingress.Collapse(m)
		return
	}
	texts := make([]string, len(m.Parts))
	for i, p := range m.Parts {
		texts[i] = p.Text
	}
	m.Content, m.Parts = strings.Join(texts, sep), nil
}

// imagePart decodes an image block. A base64 source whose media type is a
// PDF (some clients send documents this way) becomes a file part, so an
// OpenAI or Gemini target gets a document rather than a broken image.
func imagePart(bl *block, param string) (llm.Part, error) {
	src := bl.Source
	if src == nil {
		return llm.Part{}, invalid(param+".source", "%s.source: Field required", param)
	}
	if src.Type == "base64" {
		if src.MediaType == "application/pdf" {
			return llm.Part{Type: llm.PartFile, File: &llm.FilePart{Data: src.Data, MIMEType: src.MediaType}, Cache: bl.CacheControl.hint()}, nil
		}
		return llm.Part{Type: llm.PartImage, ImageURL: "data:" + src.MediaType + ";base64," + src.Data, Cache: bl.CacheControl.hint()}, nil
	}
	return llm.Part{Type: llm.PartImage, ImageURL: src.URL, Cache: bl.CacheControl.hint()}, nil
}

// documentPart decodes a document block into a file part: a base64 PDF,
// plain text (carried base64, as every other format takes files), a URL,
// or an Anthropic file id (only an Anthropic target can use it; others
// refuse it by name). A content source (text blocks) becomes its text.
func documentPart(bl *block, param string) (llm.Part, error) {
	src := bl.Source
	if src == nil {
		return llm.Part{}, invalid(param+".source", "%s.source: Field required", param)
	}
	f := &llm.FilePart{Filename: bl.Title}
	switch src.Type {
	case "base64":
		if src.Data == "" || src.MediaType == "" {
			return llm.Part{}, invalid(param+".source", "%s.source: media_type and data are required", param)
		}
		f.Data, f.MIMEType = src.Data, src.MediaType
	case "text":
		mt := src.MediaType
		if mt == "" {
			mt = "text/plain"
		}
		f.Data, f.MIMEType = base64.StdEncoding.EncodeToString([]byte(src.Data)), mt
	case "url":
		if src.URL == "" {
			return llm.Part{}, invalid(param+".source.url", "%s.source.url: Field required", param)
		}
		f.URL, f.MIMEType = src.URL, "application/pdf"
	case "file":
		if src.FileID == "" {
			return llm.Part{}, invalid(param+".source.file_id", "%s.source.file_id: Field required", param)
		}
		f.FileID = src.FileID
	case "content":
		text, err := resultText(src.Content)
		if err != nil {
			return llm.Part{}, invalid(param+".source.content", "%s.source.content: %v", param, err)
		}
		f.Data, f.MIMEType = base64.StdEncoding.EncodeToString([]byte(text)), "text/plain"
	default:
		return llm.Part{}, invalid(param+".source.type", "%s.source.type: unknown source type %q", param, src.Type)
	}
	return llm.Part{Type: llm.PartFile, File: f, Cache: bl.CacheControl.hint()}, nil
}
