package control

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/switchyard/switchyard/config"
	"github.com/switchyard/switchyard/store"
)

func TestParseFeedReadsBothFormatsByShape(t *testing.T) {
	for _, tc := range []struct {
		file, format string
	}{
		{"feed_openrouter.json", "openrouter"},
		{"feed_litellm.json", "litellm"},
	} {
		t.Run(tc.format, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("testdata", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			f, err := parseFeed(b)
			if err != nil {
				t.Fatal(err)
			}
			if f.format != tc.format {
				t.Errorf("format = %s", f.format)
			}
			cases := []struct {
				ptype, model string
				want         config.Price
			}{
				{"openai", "gpt-4o", config.Price{Input: 2.5, Output: 10, CachedInput: 1.25}},
				{"anthropic", "claude-3-5-haiku-20241022", config.Price{Input: 0.8, Output: 4, CachedInput: 0.08, CacheWrite: 1}},
			}
			for _, c := range cases {
				got, _, ok := f.lookup(c.ptype, c.model)
				if !ok || got != c.want {
					t.Errorf("%s = %+v, %v; want %+v", c.model, got, ok, c.want)
				}
			}
			for _, skipped := range []string{"openrouter/auto", "sample_spec", "dall-e-3"} {
				if _, ok := f.byID[skipped]; ok {
					t.Errorf("%s has a price; entries without one are skipped", skipped)
				}
			}
		})
	}
}

func TestParseFeedRefusesOtherShapes(t *testing.T) {
	for _, body := range []string{`[]`, `{"data":[]}`, `{"x":{"y":1}}`, `not json`} {
		if _, err := parseFeed([]byte(body)); err == nil {
			t.Errorf("%s parsed", body)
		}
	}
}

func TestFeedLookupMatchesTheModelPartOfVendorIDs(t *testing.T) {
	b, _ := os.ReadFile(filepath.Join("testdata", "feed_openrouter.json"))
	f, err := parseFeed(b)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, ptype, model, wantID string
	}{
		{"own vendor first", "openai", "gpt-4o", "openai/gpt-4o"},
		{"other vendor when the type has none", "azure", "gpt-4o", "openai/gpt-4o"},
		{"type's vendor among several", "azure", "model-b", "azure/model-b"},
		{"alphabetically first among several", "openai", "model-b", "acme/model-b"},
		{"no match", "openai", "nope", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, id, _ := f.lookup(tc.ptype, tc.model)
			if id != tc.wantID {
				t.Errorf("id = %q, want %q", id, tc.wantID)
			}
		})
	}
}

func TestResolvePricesPrefersConfigThenFeedThenBuiltin(t *testing.T) {
	f := &feedPrices{byID: map[string]config.Price{"openai/gpt-4o": {Input: 9, Output: 9}, "openai/gpt-4.1": {Input: 7, Output: 7}}}
	p := config.Provider{Name: "o", Type: "openai", Models: []string{"gpt-4o", "gpt-4.1", "gpt-4o-mini", "unknown"},
		Prices: map[string]config.Price{"gpt-4o": {Input: 1, Output: 1}}}
	_, rows := resolvePrices(p, f)
	for model, want := range map[string]string{"gpt-4o": SourceConfig, "gpt-4.1": SourceFeed, "gpt-4o-mini": SourceBuiltin} {
		if rows[model].Source != want {
			t.Errorf("%s source = %s, want %s", model, rows[model].Source, want)
		}
	}
	if rows["gpt-4.1"].Input != 7 || rows["gpt-4o"].Input != 1 {
		t.Errorf("rows = %+v", rows)
	}
	if _, ok := rows["unknown"]; ok {
		t.Error("a model in no table has a price")
	}
}

func TestFailedRefreshKeepsTheLastGoodPrices(t *testing.T) {
	dir := t.TempDir()
	feed := filepath.Join(dir, "prices.json")
	write := func(s string) {
		if err := os.WriteFile(feed, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(`{"data":[{"id":"sim/sim-small","pricing":{"prompt":"0.000004","completion":"0.000005"}}]}`)
	cfg, err := config.Parse([]byte(`
providers:
  - {name: sim, type: simulator, models: [sim-small]}
pricing: {feed_url: `+feed+`, refresh: 1h}
`), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tick := make(chan time.Time)
	c, err := New(hclog.NewNullLogger(), "", cfg, nil, WithClock(func() time.Time { return at }), WithPriceTicker(tick))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	c.StartPriceFeed()
	price := func() PriceRow {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			rows := c.Prices()
			if len(rows) == 1 && rows[0].Source == SourceFeed || time.Now().After(deadline) {
				return rows[0]
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	if got := price(); got.Input != 4 || !got.FetchedAt.Equal(at) {
		t.Fatalf("first fetch: %+v", got)
	}
	if got := c.router.Spec().Providers[0].Prices["sim-small"]; got.Input != 4 || got.Output != 5 {
		t.Fatalf("the router bills %+v, not the feed's price", got)
	}
	write(`garbage`)
	c.refreshPrices(context.Background(), feed)
	if got := price(); got.Input != 4 || got.Source != SourceFeed {
		t.Fatalf("after a failed refresh: %+v", got)
	}
}

func TestARestartWhileTheFeedIsDownServesTheStoredPrices(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, store.Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	feed := filepath.Join(t.TempDir(), "prices.json")
	if err := os.WriteFile(feed, []byte(`{"sim-small":{"input_cost_per_token":4e-06,"output_cost_per_token":5e-06}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse([]byte(`
providers:
  - {name: sim, type: simulator, models: [sim-small]}
pricing: {feed_url: `+feed+`}
`), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	start := func() *Control {
		c, err := New(hclog.NewNullLogger(), "", cfg, nil, WithClock(func() time.Time { return at }))
		if err != nil {
			t.Fatal(err)
		}
		c.SetStore(st, nil, nil)
		if err := c.Restore(ctx); err != nil {
			t.Fatal(err)
		}
		return c
	}
	first := start()
	first.refreshPrices(ctx, feed)
	first.Close()

	if err := os.Remove(feed); err != nil {
		t.Fatal(err)
	}
	fetched := at
	at = at.Add(time.Hour)
	second := start()
	t.Cleanup(second.Close)
	second.refreshPrices(ctx, feed) // fails: the file is gone
	rows := second.Prices()
	if len(rows) != 1 || rows[0].Source != SourceFeed || rows[0].Input != 4 || !rows[0].FetchedAt.Equal(fetched) {
		t.Fatalf("after a restart with the feed down: %+v", rows)
	}
	if got := second.router.Spec().Providers[0].Prices["sim-small"]; got.Input != 4 {
		t.Fatalf("the router bills %+v", got)
	}
}
