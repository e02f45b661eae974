package anthropic

import (
	"github.com/switchyard/switchyard/adapters/internal/upstream"
	"github.com/switchyard/switchyard/engine/llm"
)

// encode is the upstream body: a request that came in as Anthropic
// Messages goes as its client wrote it (cache_control, betas' fields,
// thinking blocks and signatures, fields not known yet), with only the
// model and the stream flag set; any other is built from the domain request.
func encode(req *llm.ChatRequest, stream bool) ([]byte, error) {
	if o := req.Original; o != nil && o.Dialect == llm.DialectAnthropic {
		return upstream.OriginalBody(o, req.Model, stream)
	}
	return encodeRequest(req, stream)
}
