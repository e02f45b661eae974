package anthropic

import (
	"testing"

	"github.com/switchyard/switchyard/engine/llm"
)

// testSettings are the settings New gives a Client with no options.
func testSettings(t testing.TB, o Options) *settings {
	t.Helper()
	s, err := newSettings(o)
	if err != nil {
		t.Fatal(err)
	}
	return &s
}

// encodeRequest encodes with the default settings.
func encodeRequest(req *llm.ChatRequest, stream bool) ([]byte, error) {
	s, err := newSettings(Options{})
	if err != nil {
		return nil, err
	}
	b, _, err := s.encodeRequest(req, stream)
	return b, err
}
