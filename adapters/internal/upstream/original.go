package upstream

import (
	"encoding/json"

	"github.com/switchyard/switchyard/engine/llm"
)

// OriginalBody is a client's own body for a target that speaks its
// dialect, with what the gateway owns set: the target's model, and whether
// this call streams (a cached or coalesced answer may be fetched either
// way). Everything else goes as the client wrote it.
func OriginalBody(o *llm.Original, model string, stream bool) ([]byte, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(o.Body, &m); err != nil {
		return nil, llm.InvalidParam("", "request body is not valid JSON: %v", err)
	}
	m["model"], _ = json.Marshal(model)
	if stream {
		m["stream"] = json.RawMessage(`true`)
	} else {
		delete(m, "stream")
	}
	return json.Marshal(m)
}
