package gemini

import "github.com/switchyard/switchyard/engine/llm"

// encodeRequest and translateRequest translate with zero Options, as most
// tests want.
func encodeRequest(req *llm.ChatRequest) ([]byte, error) { return defaults().encodeRequest(req) }

func translateRequest(req *llm.ChatRequest) (*gRequest, error) {
	return defaults().translateRequest(req)
}
