package simulator_test

import (
	"context"
	"errors"
	"testing"

	"github.com/switchyard/switchyard/adapters/simulator"
	"github.com/switchyard/switchyard/engine/llm"
)

func TestEmbedRefusesTokenInputNamingIt(t *testing.T) {
	p := simulator.New("sim", nil)
	_, err := p.Embed(context.Background(), &llm.EmbeddingRequest{Model: "m", InputTokens: [][]int{{1, 2}}})
	var de *llm.Error
	if !errors.As(err, &de) || de.Kind != llm.KindInvalidRequest || de.Param != "input" {
		t.Fatalf("err = %v, want an invalid request naming input", err)
	}
}
