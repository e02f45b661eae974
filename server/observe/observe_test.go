package observe

import (
	"context"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/engine/gateway"
	"github.com/switchyard/switchyard/engine/llm"
	"github.com/switchyard/switchyard/server/metrics"
	"github.com/switchyard/switchyard/store"
)

// One record reaches Prometheus and the ledger with its dialect, tokens
// and cost; without a ledger only metrics are kept.
func TestObserveFansOut(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, store.Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ledger := store.NewLedger(st, store.WithFlushInterval(10*time.Millisecond))
	m := metrics.New()
	rec := gateway.Record{RequestID: "req-1", Client: "key-1", Route: "auto", Dialect: "responses", Provider: "sim", Model: "sim-small",
		Status: "ok", Usage: llm.Usage{PromptTokens: 3, CompletionTokens: 5}, Cost: 1234, Latency: 20 * time.Millisecond}
	for _, o := range []*Observer{New(m, ledger), New(m, nil)} {
		o.RequestStarted()
		o.Observe(ctx, rec)
		o.RequestFinished()
	}
	if err := ledger.Close(ctx); err != nil {
		t.Fatal(err)
	}
	rows, _, err := st.Usage(ctx, store.UsageQuery{GroupBy: []string{"dialect"}})
	if err != nil || len(rows) != 1 || rows[0].Dialect != "responses" || rows[0].Requests != 1 || rows[0].PromptTokens != 3 || rows[0].CostNanos != 1234 {
		t.Fatalf("ledger rows %+v, %v", rows, err)
	}
	w := httptest.NewRecorder()
	m.Handler().ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(w.Body)
	if !strings.Contains(string(body), `provider="sim"`) {
		t.Fatalf("metrics lack the request:\n%.2000s", body)
	}
}
