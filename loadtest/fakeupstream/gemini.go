package fakeupstream

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
)

type gmPart struct {
	Text    string `json:"text"`
	Thought bool   `json:"thought"`
	// FunctionResponse is only checked for presence (AutoTool).
	FunctionResponse json.RawMessage `json:"functionResponse,omitempty"`
	FunctionCall     *struct {
		Name string          `json:"name"`
		Args json.RawMessage `json:"args"`
	} `json:"functionCall"`
	ThoughtSignature string `json:"thoughtSignature"`
	// InlineData of any MIME type is taken, as Gemini takes documents and
	// audio; only its presence is checked.
	InlineData *gmBlob `json:"inlineData"`
	// InlineDataSnake is the same in the proto field names google-genai
	// sends (inline_data, mime_type), which Gemini takes as well.
	InlineDataSnake *gmBlob `json:"inline_data"`
}

type gmBlob struct {
	MimeType      string `json:"mimeType"`
	MimeTypeSnake string `json:"mime_type"`
	Data          string `json:"data"`
}

type gmContent struct {
	Role  string   `json:"role"`
	Parts []gmPart `json:"parts"`
}

func (c *gmContent) text() string {
	if len(c.Parts) == 1 {
		return c.Parts[0].Text
	}
	var b strings.Builder
	for _, p := range c.Parts {
		if p.Text == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(p.Text)
	}
	return b.String()
}

// gmRequest is the part of a generateContent body the fake reads. Only
// the camelCase field names are understood.
type gmRequest struct {
	Contents          []gmContent `json:"contents"`
	SystemInstruction *gmContent  `json:"systemInstruction"`
	Tools             []struct {
		FunctionDeclarations []struct {
			Name                 string          `json:"name"`
			Parameters           json.RawMessage `json:"parameters"`
			ParametersJSONSchema json.RawMessage `json:"parametersJsonSchema"`
			// The API takes proto field names too, and google-genai sends
			// this one so.
			ParametersJSONSchemaSnake json.RawMessage `json:"parameters_json_schema"`
		} `json:"functionDeclarations"`
	} `json:"tools"`
	ToolConfig *struct {
		FunctionCallingConfig struct {
			Mode                 string   `json:"mode"`
			AllowedFunctionNames []string `json:"allowedFunctionNames"`
		} `json:"functionCallingConfig"`
	} `json:"toolConfig"`
	GenerationConfig *struct {
		MaxOutputTokens  *int `json:"maxOutputTokens"`
		ResponseLogprobs bool `json:"responseLogprobs"`
		Logprobs         int  `json:"logprobs"`
		ThinkingConfig   *struct {
			IncludeThoughts bool `json:"includeThoughts"`
		} `json:"thinkingConfig"`
		// Structured output and candidates, in either spelling: the API
		// takes the proto field names too, and google-genai may send them.
		ResponseMimeType        string          `json:"responseMimeType"`
		ResponseMimeTypeSnake   string          `json:"response_mime_type"`
		ResponseJSONSchema      json.RawMessage `json:"responseJsonSchema"`
		ResponseJSONSchemaSnake json.RawMessage `json:"response_json_schema"`
		ResponseSchema          json.RawMessage `json:"responseSchema"`
		ResponseSchemaSnake     json.RawMessage `json:"response_schema"`
		CandidateCount          *int            `json:"candidateCount"`
		CandidateCountSnake     *int            `json:"candidate_count"`
	} `json:"generationConfig"`
}

// gmMaxCandidates is the most candidates Gemini answers with.
const gmMaxCandidates = 8

// structured is the JSON text the generation config asks for ("" for
// none): with responseMimeType application/json, JSON valid against
// responseJsonSchema or else responseSchema (an OpenAPI subset, whose
// upper-case types the generator reads), or a small object without one.
func (req *gmRequest) structured() string {
	gc := req.GenerationConfig
	if gc == nil {
		return ""
	}
	mime := gc.ResponseMimeType
	if mime == "" {
		mime = gc.ResponseMimeTypeSnake
	}
	if mime != "application/json" {
		return ""
	}
	for _, schema := range [...]json.RawMessage{gc.ResponseJSONSchema, gc.ResponseJSONSchemaSnake, gc.ResponseSchema, gc.ResponseSchemaSnake} {
		if len(schema) > 0 && string(schema) != "null" {
			return structuredText(schema)
		}
	}
	return structuredText(nil)
}

// candidates is generationConfig.candidateCount (0 when unset), or -1 when
// it is out of range.
func (req *gmRequest) candidates() int {
	gc := req.GenerationConfig
	if gc == nil {
		return 0
	}
	n := gc.CandidateCount
	if n == nil {
		n = gc.CandidateCountSnake
	}
	if n == nil {
		return 0
	}
	if *n < 0 || *n > gmMaxCandidates {
		return -1
	}
	return *n
}

// geminiAuth checks x-goog-api-key or ?key=.
func (s *Server) geminiAuth(w http.ResponseWriter, r *http.Request) bool {
	key := r.Header.Get("X-Goog-Api-Key")
	if key == "" {
		key = r.URL.Query().Get("key")
	}
	if key == "" {
		s.writeError(w, fmtGemini, apiError{status: http.StatusForbidden,
			message: "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API."})
		return false
	}
	if s.keys != nil && !s.keys[key] {
		s.writeError(w, fmtGemini, apiError{status: http.StatusBadRequest, reason: "API_KEY_INVALID",
			message: "API key not valid. Please pass a valid API key."})
		return false
	}
	if s.overQuota(w, fmtGemini, key) {
		return false
	}
	return true
}

// geminiCall serves POST /v1beta/{models|tunedModels}/{model}:{method}.
func (s *Server) geminiCall(w http.ResponseWriter, r *http.Request, body []byte) {
	rest := strings.TrimPrefix(r.URL.Path, "/v1beta/")
	i := strings.LastIndexByte(rest, ':')
	model := ""
	if i > 0 {
		for _, p := range [...]string{"models/", "tunedModels/"} {
			if m, ok := strings.CutPrefix(rest[:i], p); ok && m != "" {
				model = m
			}
		}
	}
	if model == "" {
		s.writeError(w, fmtGemini, apiError{status: http.StatusNotFound, message: "Requested entity was not found."})
		return
	}
	if !s.geminiAuth(w, r) {
		return
	}
	switch method := rest[i+1:]; method {
	case "generateContent", "streamGenerateContent":
		s.geminiGenerate(w, r, body, model, method == "streamGenerateContent")
	case "countTokens":
		s.geminiCountTokens(w, r, body)
	case "embedContent", "batchEmbedContents":
		s.geminiEmbed(w, r, body, method == "batchEmbedContents")
	default:
		s.writeError(w, fmtGemini, apiError{status: http.StatusNotFound, message: "Method not found: " + method})
	}
}

// geminiContents validates the turns and counts their words; it returns
// the text of the last user turn for directives.
func (s *Server) geminiContents(w http.ResponseWriter, contents []gmContent) (prompt int, lastUser string, ok bool) {
	if len(contents) == 0 {
		s.badRequest(w, fmtGemini, "", "* GenerateContentRequest.contents: contents is not specified")
		return 0, "", false
	}
	for _, c := range contents {
		switch c.Role {
		case "", "user":
			lastUser = c.text()
		case "model", "function":
		default:
			s.badRequest(w, fmtGemini, "", "Please use a valid role: user, model.")
			return 0, "", false
		}
		for _, p := range c.Parts {
			d := p.InlineData
			if d == nil {
				d = p.InlineDataSnake
			}
			if d != nil && ((d.MimeType == "" && d.MimeTypeSnake == "") || d.Data == "") {
				s.badRequest(w, fmtGemini, "", "* GenerateContentRequest.contents.parts.inline_data: mime_type and data are required")
				return 0, "", false
			}
			prompt += countWords(p.Text)
		}
	}
	return prompt, lastUser, true
}

func (s *Server) geminiGenerate(w http.ResponseWriter, r *http.Request, body []byte, model string, stream bool) {
	var req gmRequest
	if err := json.Unmarshal(body, &req); err != nil {
		s.badRequest(w, fmtGemini, "", "Invalid JSON payload received. "+err.Error())
		return
	}
	prompt, lastUser, ok := s.geminiContents(w, req.Contents)
	if !ok {
		return
	}
	if req.SystemInstruction != nil {
		prompt += countWords(req.SystemInstruction.text())
	}
	f := geminiFeatures(model, &req)
	if f.signed {
		if msg := geminiCheckSignatures(req.Contents); msg != "" {
			s.badRequest(w, fmtGemini, "", msg)
			return
		}
	}
	var tools []tool
	for _, t := range req.Tools {
		for _, d := range t.FunctionDeclarations {
			schema := d.ParametersJSONSchema
			if len(schema) == 0 {
				schema = d.ParametersJSONSchemaSnake
			}
			if len(schema) == 0 {
				schema = d.Parameters
			}
			tools = append(tools, tool{name: d.Name, schema: schema})
		}
	}
	forced, none := false, false
	var allowed []string
	if tc := req.ToolConfig; tc != nil {
		none = tc.FunctionCallingConfig.Mode == "NONE"
		switch tc.FunctionCallingConfig.Mode {
		case "ANY":
			forced, allowed = true, tc.FunctionCallingConfig.AllowedFunctionNames
		case "", "AUTO", "NONE", "VALIDATED", "MODE_UNSPECIFIED":
		default:
			s.badRequest(w, fmtGemini, "", "Invalid value at 'tool_config.function_calling_config.mode': "+tc.FunctionCallingConfig.Mode)
			return
		}
	}
	if forced && len(tools) == 0 {
		s.badRequest(w, fmtGemini, "", "Function calling config is set without function_declarations.")
		return
	}
	n := req.candidates()
	if n < 0 {
		s.badRequest(w, fmtGemini, "", "* GenerateContentRequest.generation_config.candidate_count: must be between 1 and 8")
		return
	}
	k, err := s.requestKnobs(r, lastUser)
	if err != nil {
		s.badRequest(w, fmtGemini, "", "fakeupstream: "+err.Error())
		return
	}
	if !s.faults(w, r, fmtGemini, &k) {
		return
	}
	var maxTokens *int
	if req.GenerationConfig != nil {
		maxTokens = req.GenerationConfig.MaxOutputTokens
	}
	a := newAnswer(&k, s.nextID(""), model, 0, prompt, maxTokens)
	a.n = n
	if text := req.structured(); text != "" {
		a.setJSON(text, maxTokens)
	}
	if forced {
		if len(allowed) > 0 {
			keep := tools[:0:0]
			for _, t := range tools {
				for _, n := range allowed {
					if t.name == n {
						keep = append(keep, t)
						break
					}
				}
			}
			if len(keep) == 0 {
				s.badRequest(w, fmtGemini, "", "allowed_function_names must name declared functions")
				return
			}
			tools = keep
		}
		picked, _ := pickTools(tools, "", true)
		for i, t := range picked {
			a.calls = append(a.calls, newToolCall("", t, i))
		}
		a.finish = finishTools
	} else if t, ok := autoTool(&k, tools, !none, geminiAfterResult(req.Contents)); ok {
		a.calls = append(a.calls, newAutoCall("", t))
		a.finish = finishTools
	}
	if stream {
		s.geminiStream(w, r, &k, &a, &f, r.URL.Query().Get("alt") == "sse")
		return
	}
	s.writeUnary(w, r, &k, a.completion(), geminiUnary(&a, &f))
}

// geminiAfterResult reports whether the last content holds a
// functionResponse part.
func geminiAfterResult(contents []gmContent) bool {
	if len(contents) == 0 {
		return false
	}
	for _, p := range contents[len(contents)-1].Parts {
		if len(p.FunctionResponse) > 0 {
			return true
		}
	}
	return false
}

func finishReasonGemini(f finish) string {
	if f == finishLength {
		return "MAX_TOKENS"
	}
	return "STOP" // Gemini ends function calls with STOP too
}

func geminiUnary(a *answer, f *gmFeatures) []byte {
	b := append([]byte(nil), `{"candidates":[`...)
	start := len(b)
	b = append(b, gmCandidateOpen...)
	if f.thoughts {
		b = appendThoughtPart(b)
	}
	if len(a.calls) == 0 {
		b = append(b, `{"text":`...)
		b = appendJSONString(b, a.text())
		b = append(b, '}')
	}
	for i := range a.calls {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendFunctionCall(b, &a.calls[i], f.signed && i == 0)
	}
	b = append(b, `],"role":"model"},"finishReason":"`...)
	b = append(b, finishReasonGemini(a.finish)...)
	b = append(b, `","index":0`...)
	if len(a.calls) == 0 {
		b = appendLogprobs(b, f, a, 0, a.pieces())
	}
	b = append(b, '}')
	b = repeatCandidate(b, start, a.choices())
	b = append(b, `],`...)
	b = appendGeminiUsage(b, a, true, f.thoughtTokens())
	b = appendGeminiTrailer(b, a)
	return append(b, '}')
}

// gmCandidateOpen opens a candidate, up to its parts.
const gmCandidateOpen = `{"content":{"parts":[`

// repeatCandidate follows the candidate at b[start:] with n-1 copies of
// it, indexes 1 to n-1: every candidate of a candidateCount answer is the
// same answer. The candidate's own "index":0 is the last in it; only
// logprobs, which hold no such key, follow it.
func repeatCandidate(b []byte, start, n int) []byte {
	if n <= 1 {
		return b
	}
	const key = `"index":0`
	end := len(b)
	at := start + bytes.LastIndex(b[start:end], []byte(key))
	for i := 1; i < n; i++ {
		b = append(b, ',')
		b = append(b, b[start:at]...)
		b = append(b, `"index":`...)
		b = strconv.AppendInt(b, int64(i), 10)
		b = append(b, b[at+len(key):end]...)
	}
	return b
}

// appendFunctionCall writes a functionCall part; a signed one carries its
// thoughtSignature (Gemini 3 signs the first call of a step only).
func appendFunctionCall(b []byte, c *toolCall, signed bool) []byte {
	b = append(b, `{"functionCall":{"name":`...)
	b = appendJSONString(b, c.name)
	b = append(b, `,"args":`...)
	b = append(b, c.args...)
	b = append(b, '}')
	if signed {
		b = append(b, `,"thoughtSignature":"`...)
		b = append(b, geminiCallSignature(c.name, json.RawMessage(c.args))...)
		b = append(b, '"')
	}
	return append(b, '}')
}

// appendGeminiUsage writes usageMetadata; chunks before the last carry
// only the prompt count, as Gemini's do. Thoughts are counted apart from
// candidates, and in the total.
func appendGeminiUsage(b []byte, a *answer, final bool, thoughts int) []byte {
	b = append(b, `"usageMetadata":{"promptTokenCount":`...)
	b = strconv.AppendInt(b, int64(a.prompt), 10)
	total := a.prompt
	if final {
		b = append(b, `,"candidatesTokenCount":`...)
		b = strconv.AppendInt(b, int64(a.completionAll()), 10)
		total += a.completionAll()
		if thoughts > 0 {
			b = append(b, `,"thoughtsTokenCount":`...)
			b = strconv.AppendInt(b, int64(thoughts), 10)
			total += thoughts
		}
	}
	b = append(b, `,"totalTokenCount":`...)
	b = strconv.AppendInt(b, int64(total), 10)
	return append(b, '}')
}

func appendGeminiTrailer(b []byte, a *answer) []byte {
	b = append(b, `,"modelVersion":`...)
	b = appendJSONString(b, a.model)
	b = append(b, `,"responseId":"`...)
	b = append(b, a.id...)
	return append(b, '"')
}

// geminiStream writes GenerateContentResponse chunks: as SSE events
// ("data: ...\r\n\r\n", what ?alt=sse gets) or as one JSON array streamed
// element by element (the default). The last chunk carries the last word,
// the finishReason and the full usage. With candidateCount every chunk
// carries each candidate.
func (s *Server) geminiStream(w http.ResponseWriter, r *http.Request, k *Knobs, a *answer, f *gmFeatures, sse bool) {
	sb := s.getBuf()
	defer s.putBuf(sb)
	ct := hdrJSON
	if sse {
		ct = hdrEventStream
	}
	st := s.startStream(w, r, k, ct)
	defer st.close()

	// rest closes every chunk but the last after its candidates: usage and ids.
	rest := append(sb.head[:0], `],`...)
	rest = appendGeminiUsage(rest, a, false, 0)
	rest = appendGeminiTrailer(rest, a)
	rest = append(rest, '}')
	sb.head = rest
	nc := a.choices()
	n := 0     // chunks framed so far
	start := 0 // where the chunk's first candidate starts
	frame := func(b []byte) []byte {
		switch {
		case sse:
			b = append(b, "data: "...)
		case n == 0:
			b = append(b, '[')
		default:
			b = append(b, ",\r\n"...)
		}
		n++
		b = append(b, `{"candidates":[`...)
		start = len(b)
		return append(b, gmCandidateOpen...)
	}
	// closeChunk ends a chunk's first candidate, then repeats it and
	// closes the chunk with rest.
	closeChunk := func(b []byte) []byte {
		b = append(b, '}')
		b = repeatCandidate(b, start, nc)
		return append(b, rest...)
	}
	end := func(b []byte) []byte {
		if sse {
			return append(b, "\r\n\r\n"...)
		}
		return b
	}
	b := sb.buf[:0]
	defer func() { sb.buf = b }()
	if f.thoughts {
		b = frame(b[:0])
		b = appendThoughtPart(b)
		b = append(b[:len(b)-1], gmTailHead...) // without the part's comma
		if !st.content(end(closeChunk(b))) {
			return
		}
	}
	if len(a.calls) == 0 {
		for i := 0; i < a.pieces()-1; i++ {
			b = frame(b[:0])
			b = append(b, `{"text":`...)
			b = a.appendPiece(b, i)
			b = append(b, '}')
			b = append(b, gmTailHead...)
			b = appendLogprobs(b, f, a, i, i+1)
			if !st.content(end(closeChunk(b))) {
				return
			}
		}
	} else {
		for i := range a.calls {
			b = frame(b[:0])
			b = appendFunctionCall(b, &a.calls[i], f.signed && i == 0)
			b = append(b, gmTailHead...)
			if !st.content(end(closeChunk(b))) {
				return
			}
		}
	}
	b = frame(b[:0])
	b = append(b, `{"text":`...)
	if len(a.calls) == 0 {
		b = a.appendPiece(b, a.pieces()-1)
	} else {
		b = append(b, `""`...)
	}
	b = append(b, `}],"role":"model"},"finishReason":"`...)
	b = append(b, finishReasonGemini(a.finish)...)
	b = append(b, `","index":0`...)
	if len(a.calls) == 0 {
		b = appendLogprobs(b, f, a, a.pieces()-1, a.pieces())
	}
	b = append(b, '}')
	b = repeatCandidate(b, start, nc)
	b = append(b, `],`...)
	b = appendGeminiUsage(b, a, true, f.thoughtTokens())
	b = appendGeminiTrailer(b, a)
	b = append(b, '}')
	if !sse {
		b = append(b, ']')
	}
	st.terminal(end(b), len(a.calls) == 0)
}

func (s *Server) geminiModels(w http.ResponseWriter, r *http.Request, _ []byte) {
	if !s.geminiAuth(w, r) {
		return
	}
	k, err := s.requestKnobs(r, "")
	if err != nil {
		s.badRequest(w, fmtGemini, "", "fakeupstream: "+err.Error())
		return
	}
	if !s.faults(w, r, fmtGemini, &k) {
		return
	}
	type model struct {
		Name                       string   `json:"name"`
		Version                    string   `json:"version"`
		DisplayName                string   `json:"displayName"`
		InputTokenLimit            int      `json:"inputTokenLimit"`
		OutputTokenLimit           int      `json:"outputTokenLimit"`
		SupportedGenerationMethods []string `json:"supportedGenerationMethods"`
	}
	data := make([]model, len(s.opts.Models))
	for i, m := range s.opts.Models {
		data[i] = model{"models/" + m, "001", m, 1048576, 65536, []string{"generateContent", "countTokens", "embedContent", "batchEmbedContents"}}
	}
	writeJSON(w, map[string][]model{"models": data})
}
