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

// SetData fills Data and MIMEType from a file_data value as OpenAI's
// formats spell it: a base64 data: URL, or bare base64 (MIMEType is then
// kept as given). It reports false for a data: URL that is not base64.
func (f *FilePart) SetData(fileData string) bool {
	if mime, data, ok := ParseDataURL(fileData); ok {
		f.MIMEType, f.Data = mime, data
		return true
	}
	if strings.HasPrefix(fileData, "data:") {
		return false
	}
	f.Data = fileData
	return true
}

// Check validates a content part a transport decoded; param names it in
// the error ("messages[0].content[1]"). Every failure is KindInvalidRequest.
func (p *Part) Check(param string) error {
	switch p.Type {
	case PartImage:
		if p.ImageURL == "" {
			return InvalidParam(param+".image_url.url", "image_url.url is required")
		}
	case PartFile:
		f := p.File
		if f == nil || (f.Data == "" && f.URL == "" && f.FileID == "") {
			return InvalidParam(param+".file", "a file part needs file_data, a file URL or file_id")
		}
		if f.Data != "" && f.MIMEType == "" {
			return InvalidParam(param+".file.mime_type", "bare base64 file_data needs its MIME type (or send a data:<type>;base64, URL)")
		}
	case PartAudio:
		if a := p.Audio; a == nil || a.Data == "" || a.Format == "" {
			return InvalidParam(param+".input_audio", "input_audio needs data and format")
		}
	}
	return nil
}
