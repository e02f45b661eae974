package simulator

import (
	"strconv"
	"strings"

	"github.com/switchyard/switchyard/engine/llm"
)

// thoughtWords is the length of a simulated reasoning text.
const thoughtWords = 8

// thought is the reasoning text of a thinking answer, derived from the
// request hash like the reply.
func (p *Provider) thought(h uint64) string {
	var b strings.Builder
	b.WriteString("Simulated thinking:")
	for i := range thoughtWords {
		b.WriteByte(' ')
		b.WriteString(p.vocab[mix(h^0x7468696e6b+uint64(i)*golden)%uint64(len(p.vocab))])
	}
	return b.String()
}

// signature is the simulated signature over a reasoning text: anything
// holding it can check that the text came back unchanged.
func signature(reasoning string) string {
	return "simsig_" + strconv.FormatUint(mix(hashString(fnvOffset, reasoning)), 16)
}

// checkSignatures refuses signed reasoning whose signature does not
// match, as Anthropic refuses a thinking block altered on its way back.
func (p *Provider) checkSignatures(msgs []llm.Message) error {
	for i := range msgs {
		m := &msgs[i]
		if m.ReasoningSignature != "" && m.ReasoningSignature != signature(m.ReasoningContent) {
			return p.invalid("messages[%d]: invalid signature in thinking block", i)
		}
	}
	return nil
}
