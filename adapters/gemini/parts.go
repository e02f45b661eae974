package gemini

import (
	"path"
	"strings"

	"github.com/switchyard/switchyard/engine/llm"
)

// contentParts translates a message's content: text, images, documents
// and audio, each inline (inlineData) or by reference (fileData).
func (t *translation) contentParts(m *llm.Message, idx int) ([]gPart, error) {
	if len(m.Parts) == 0 {
		if m.Content == "" {
			return nil, nil
		}
		return []gPart{{Text: m.Content}}, nil
	}
	parts := make([]gPart, 0, len(m.Parts))
	for j, p := range m.Parts {
		var gp gPart
		var err error
		switch p.Type {
		case llm.PartText, "":
			if p.Text == "" {
				continue
			}
			gp = gPart{Text: p.Text}
		case llm.PartImage:
			gp, err = t.imagePart(p.ImageURL, idx, j)
		case llm.PartFile:
			gp, err = t.filePart(p.File, idx, j)
		case llm.PartAudio:
			gp, err = t.audioPart(p.Audio, idx, j)
		default:
			return nil, llm.InvalidParam("messages", "messages[%d]: content part type %q is not supported", idx, p.Type)
		}
		if err != nil {
			return nil, err
		}
		parts = append(parts, gp)
	}
	return parts, nil
}

// imagePart sends data: URLs inline and http(s) URLs as file references.
func (t *translation) imagePart(u string, idx, j int) (gPart, error) {
	if strings.HasPrefix(u, "data:") {
		mimeType, data, ok := llm.ParseDataURL(u)
		if !ok {
			return gPart{}, llm.InvalidParam("messages", "messages[%d]: image data URL must be data:<type>;base64,<data>", idx)
		}
		return t.inline(mimeType, data, idx, j, "image_url")
	}
	if isHTTP(u) {
		return gPart{FileData: &gFileData{MimeType: mimeFromExt(u), FileURI: u}}, nil
	}
	return gPart{}, llm.InvalidParam("messages", "messages[%d]: image URL must be a data: or http(s) URL", idx)
}

// filePart sends a document inline, or by its URL or Gemini file URI.
// An uploaded-file id is another provider's (OpenAI's Files API): Gemini
// cannot read it.
func (t *translation) filePart(f *llm.FilePart, idx, j int) (gPart, error) {
	switch {
	case f == nil:
		return gPart{}, llm.InvalidParam("messages", "messages[%d].content[%d]: file part without a file", idx, j)
	case f.FileID != "":
		return gPart{}, llm.InvalidParam("messages", "messages[%d].content[%d].file.file_id is not supported by Gemini targets; send file_data or a URL", idx, j)
	case f.Data != "":
		if f.MIMEType == "" {
			return gPart{}, llm.InvalidParam("messages", "messages[%d].content[%d].file: a MIME type is required with inline data", idx, j)
		}
		return t.inline(f.MIMEType, f.Data, idx, j, "file.file_data")
	case f.URL != "":
		mimeType := f.MIMEType
		if mimeType == "" {
			mimeType = mimeFromExt(f.URL)
		}
		return gPart{FileData: &gFileData{MimeType: mimeType, FileURI: f.URL}}, nil
	}
	return gPart{}, llm.InvalidParam("messages", "messages[%d].content[%d].file needs file_data or a URL", idx, j)
}

// audioPart sends audio inline as audio/<format> (Gemini's names: wav,
// mp3, aiff, aac, ogg, flac).
func (t *translation) audioPart(a *llm.AudioPart, idx, j int) (gPart, error) {
	if a == nil || a.Data == "" || a.Format == "" {
		return gPart{}, llm.InvalidParam("messages", "messages[%d].content[%d].input_audio needs data and format", idx, j)
	}
	format := strings.ToLower(a.Format)
	if format == "mpeg" {
		format = "mp3"
	}
	return t.inline("audio/"+format, a.Data, idx, j, "input_audio.data")
}

// inline is an inlineData part, refused when its decoded size is over the
// cap: a clear 400 here rather than Gemini's after the upload.
func (t *translation) inline(mimeType, data string, idx, j int, field string) (gPart, error) {
	if n := len(data) / 4 * 3; n > t.maxPartBytes {
		return gPart{}, llm.InvalidParam("messages", "messages[%d].content[%d].%s is about %d bytes, over the %d-byte limit per part", idx, j, field, n, t.maxPartBytes)
	}
	return gPart{InlineData: &gBlob{MimeType: mimeType, Data: data}}, nil
}

func isHTTP(u string) bool {
	return strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "http://")
}

// mimeFromExt guesses from the extension; fileData may omit it.
func mimeFromExt(u string) string {
	if i := strings.IndexAny(u, "?#"); i >= 0 {
		u = u[:i]
	}
	switch strings.ToLower(path.Ext(u)) {
	case ".png":
		return "image/png"
	case ".jpg", ".jpeg":
		return "image/jpeg"
	case ".webp":
		return "image/webp"
	case ".gif":
		return "image/gif"
	case ".heic":
		return "image/heic"
	case ".pdf":
		return "application/pdf"
	case ".txt":
		return "text/plain"
	case ".wav":
		return "audio/wav"
	case ".mp3":
		return "audio/mp3"
	}
	return ""
}
