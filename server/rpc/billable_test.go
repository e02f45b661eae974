package rpc

import (
	"testing"

	"github.com/switchyard/switchyard/engine/llm"
	"github.com/switchyard/switchyard/engine/route"
)

func TestBillableUsageSkipsAnswersTheUpstreamDidNotMake(t *testing.T) {
	u := llm.Usage{PromptTokens: 10, CompletionTokens: 20}
	for _, tc := range []struct {
		cache llm.CacheStatus
		want  llm.Usage
	}{
		{llm.CacheMiss, u}, {llm.CacheBypass, u}, {llm.CacheHit, llm.Usage{}}, {llm.CacheCoalesced, llm.Usage{}},
	} {
		if got := billable(route.Info{Cache: tc.cache}, u); got != tc.want {
			t.Errorf("%v: billable %+v, want %+v", tc.cache, got, tc.want)
		}
	}
}
