package gemini

import "github.com/switchyard/switchyard/engine/llm"

// encode is the upstream body: a request that came in as Gemini
// generateContent goes as its client wrote it (the model and the stream
// choice are in the URL, not the body, so nothing needs setting); any
// other is built from the domain request.
func encode(req *llm.ChatRequest, tr *translation) ([]byte, error) {
	if o := req.Original; o != nil && o.Dialect == llm.DialectGemini {
		return o.Body, nil
	}
	return tr.encodeRequest(req)
}
