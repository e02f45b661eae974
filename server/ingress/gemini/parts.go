package gemini

import (
	"strings"

	"github.com/switchyard/switchyard/engine/llm"
)

// MaxPartBytes caps one inlineData part after base64 decoding, Gemini's
// own limit for inline data in a request: a larger part is refused here,
// with the part named, rather than by whichever target gets it.
const MaxPartBytes = 20 << 20

// sigKind tags the thoughtSignatures Gemini clients send back
// (llm.ToolCall.Signature), as the Gemini adapter tags those it reads.
const sigKind = "gemini"

// inlinePart maps inline bytes by MIME type: images stay image parts (a
// data: URL), audio becomes audio input, anything else a document, so an
// Anthropic or OpenAI target gets a document or audio block rather than a
// broken image.
func inlinePart(b *blob, i, j int) (llm.Part, error) {
	if b.MimeType == "" || b.Data == "" {
		return llm.Part{}, invalid("contents[%d].parts[%d].inlineData needs mimeType and data", i, j)
	}
	if n := len(b.Data) / 4 * 3; n > MaxPartBytes {
		return llm.Part{}, invalid("contents[%d].parts[%d].inlineData is about %d bytes, over the %d-byte limit per part", i, j, n, MaxPartBytes)
	}
	data := stdBase64(b.Data)
	b = &blob{MimeType: b.MimeType, Data: data}
	mt := strings.ToLower(b.MimeType)
	switch {
	case strings.HasPrefix(mt, "image/"):
		return llm.Part{Type: llm.PartImage, ImageURL: "data:" + b.MimeType + ";base64," + b.Data}, nil
	case strings.HasPrefix(mt, "audio/"):
		return llm.Part{Type: llm.PartAudio, Audio: &llm.AudioPart{Data: b.Data, Format: audioFormat(mt)}}, nil
	}
	return llm.Part{Type: llm.PartFile, File: &llm.FilePart{Data: b.Data, MIMEType: b.MimeType}}, nil
}

// filePart maps a file reference: an image URL stays an image, anything
// else (a PDF, a Files API URI) a document by URL.
func filePart(f *fileData, i, j int) (llm.Part, error) {
	if f.FileURI == "" {
		return llm.Part{}, invalid("contents[%d].parts[%d].fileData needs fileUri", i, j)
	}
	if strings.HasPrefix(strings.ToLower(f.MimeType), "image/") {
		return llm.Part{Type: llm.PartImage, ImageURL: f.FileURI}, nil
	}
	return llm.Part{Type: llm.PartFile, File: &llm.FilePart{URL: f.FileURI, MIMEType: f.MimeType}}, nil
}

// audioFormat is an audio MIME type as OpenAI's input_audio format names
// it ("wav", "mp3"); other types keep their subtype (flac, ogg, aac).
func audioFormat(mimeType string) string {
	sub := strings.TrimPrefix(mimeType, "audio/")
	if k := strings.IndexByte(sub, ';'); k >= 0 {
		sub = sub[:k]
	}
	switch sub {
	case "wav", "wave", "x-wav", "vnd.wave":
		return "wav"
	case "mpeg", "mp3", "mpeg3", "x-mp3":
		return "mp3"
	}
	return sub
}

// stdBase64 rewrites base64 in the URL-safe alphabet, or unpadded, as the
// standard padded form. google-genai sends bytes URL-safe, which Gemini
// takes but OpenAI's file_data and Anthropic's base64 sources do not.
func stdBase64(s string) string {
	if !strings.ContainsAny(s, "-_") && len(s)%4 == 0 {
		return s
	}
	b := []byte(s)
	for i, c := range b {
		switch c {
		case '-':
			b[i] = '+'
		case '_':
			b[i] = '/'
		}
	}
	for len(b)%4 != 0 {
		b = append(b, '=')
	}
	return string(b)
}
