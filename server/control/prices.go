package control

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/switchyard/switchyard/config"
	"github.com/switchyard/switchyard/engine/route"
	"github.com/switchyard/switchyard/store"
)

// Price sources, as GET /v1/prices shows them.
const (
	SourceConfig  = "config"
	SourceFeed    = "feed"
	SourceBuiltin = "builtin"
)

// maxFeedBytes bounds one feed download (LiteLLM's file is ~1.5 MB).
const maxFeedBytes = 64 << 20

// PriceRow is one served model's price in force, per million tokens.
type PriceRow struct {
	Provider    string    `json:"provider"`
	Model       string    `json:"model"`
	Input       float64   `json:"input_per_million"`
	Output      float64   `json:"output_per_million"`
	CachedInput float64   `json:"cached_input_per_million"`
	Source      string    `json:"source"`            // config | feed | builtin
	FeedID      string    `json:"feed_id,omitempty"` // the feed entry it came from
	FetchedAt   time.Time `json:"fetched_at,omitzero"`
}

// WithPriceTicker replaces the feed's refresh ticker (tests drive refreshes
// by hand); nil keeps the time.Ticker of pricing.refresh.
func WithPriceTicker(tick <-chan time.Time) Option {
	return func(c *Control) { c.priceTick = tick }
}

// WithFeedClient sets the HTTP client that fetches a feed URL.
func WithFeedClient(hc *http.Client) Option { return func(c *Control) { c.feedClient = hc } }

// resolvePrices is provider p's price table with the feed f: for each model
// the config's price, else the feed's, else the built-in one. A model in
// none has no entry (it costs 0, as before the feed).
func resolvePrices(p config.Provider, f *feedPrices) (map[string]route.Price, map[string]PriceRow) {
	builtin := config.BuiltinPrices()
	prices := map[string]route.Price{}
	rows := map[string]PriceRow{}
	set := func(m string, pr config.Price, src, id string) {
		prices[m] = routePrice(pr)
		rows[m] = PriceRow{Provider: p.Name, Model: m, Input: pr.Input, Output: pr.Output, CachedInput: pr.CachedInput, Source: src, FeedID: id}
	}
	for _, m := range p.Models {
		if pr, id, ok := f.lookup(p.Type, m); ok {
			set(m, pr, SourceFeed, id)
		} else if pr, ok := builtin[m]; ok {
			set(m, pr, SourceBuiltin, "")
		}
	}
	for m, pr := range p.Prices {
		set(m, pr, SourceConfig, "")
	}
	return prices, rows
}

// withFeed reprices providers (built from cfg) with the last good feed.
// Callers hold c.mu, or are New before anything else runs.
func (c *Control) withFeed(cfg *config.Config, providers []route.ProviderSpec) []route.ProviderSpec {
	byName := map[string]config.Provider{}
	for _, p := range cfg.Providers {
		byName[p.Name] = p
	}
	out := append([]route.ProviderSpec(nil), providers...)
	for i := range out {
		if p, ok := byName[out[i].Name]; ok {
			out[i].Prices, _ = resolvePrices(p, c.feed)
		}
	}
	return out
}

// Prices lists the price in force of every configured provider's models,
// with its source and, for feed prices, when the feed was fetched.
func (c *Control) Prices() []PriceRow {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []PriceRow
	for _, p := range c.cfg.Providers {
		_, rows := resolvePrices(p, c.feed)
		for _, r := range rows {
			if r.Source == SourceFeed {
				r.FetchedAt = c.feedAt
			}
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Provider != out[j].Provider {
			return out[i].Provider < out[j].Provider
		}
		return out[i].Model < out[j].Model
	})
	return out
}

// ServePrices answers GET /v1/prices: {"object":"list","data":[PriceRow...]}.
func (c *Control) ServePrices(w http.ResponseWriter, r *http.Request) {
	b, err := json.Marshal(struct {
		Object string     `json:"object"`
		Data   []PriceRow `json:"data"`
	}{"list", c.Prices()})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b)
}

// StartPriceFeed fetches the feed at once and then every pricing.refresh
// until Close; off without pricing.feed_url. Call it after SetStore and
// Restore (which brings back the feed kept in the store), before serving.
func (c *Control) StartPriceFeed() {
	pc := c.Config().Pricing
	if pc.FeedURL == "" || c.stopFeed != nil {
		return
	}
	tick := c.priceTick
	var ticker *time.Ticker
	if tick == nil {
		ticker = time.NewTicker(time.Duration(pc.Refresh))
		tick = ticker.C
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	c.stopFeed = func() { cancel(); <-done }
	go func() {
		defer close(done)
		if ticker != nil {
			defer ticker.Stop()
		}
		for {
			c.refreshPrices(ctx, pc.FeedURL)
			select {
			case <-ctx.Done():
				return
			case <-tick:
			}
		}
	}()
}

// refreshPrices fetches the feed once and, when it parses, reprices the
// routing table so cost_priority and hybrid rank on the new figures, and
// keeps the feed in the store. A failed fetch keeps the last good prices
// and logs a warning.
func (c *Control) refreshPrices(ctx context.Context, src string) {
	f, err := c.fetchFeed(ctx, src)
	if err != nil {
		if ctx.Err() == nil {
			c.log.Warn("price feed refresh failed; keeping the last good prices", "feed", config.RedactURL(src), "error", err)
		}
		return
	}
	at := c.now()
	c.applyFeed(f, at)
	c.log.Debug("prices refreshed from the feed", "feed", config.RedactURL(src), "format", f.format, "models", len(f.byID))
	if c.store == nil {
		return
	}
	body, err := json.Marshal(storedFeed{Format: f.format, Prices: f.byID})
	if err == nil {
		err = c.store.SavePriceFeed(ctx, store.PriceFeed{Source: src, Body: body, FetchedAt: at})
	}
	if err != nil && ctx.Err() == nil {
		c.log.Warn("the fetched prices serve but could not be kept in the store", "error", err)
	}
}

// applyFeed makes f the feed in force and reprices the routing table.
func (c *Control) applyFeed(f *feedPrices, at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.feed, c.feedAt = f, at
	spec := c.router.Spec()
	spec.Providers = c.withFeed(c.cfg, spec.Providers)
	if err := c.router.Update(spec); err != nil {
		c.log.Error("the fetched prices could not be applied", "error", err)
	}
}

// storedFeed is a parsed feed as the store keeps it: only the prices, a
// small fraction of LiteLLM's file.
type storedFeed struct {
	Format string                  `json:"format"`
	Prices map[string]config.Price `json:"prices"`
}

// restoreFeed loads the feed kept for src, so a gateway restarting while
// the feed is down bills and ranks on the last prices it fetched rather
// than the built-in table. Callers hold c.mu.
func (c *Control) restoreFeed(ctx context.Context, src string) error {
	if src == "" || c.store == nil || c.feed != nil {
		return nil
	}
	kept, ok, err := c.store.LoadPriceFeed(ctx, src)
	if err != nil || !ok {
		return err
	}
	var sf storedFeed
	if err := json.Unmarshal(kept.Body, &sf); err != nil {
		c.log.Warn("the price feed kept in the store is unreadable; waiting for a fetch", "error", err)
		return nil
	}
	c.feed, c.feedAt = &feedPrices{format: sf.Format, byID: sf.Prices}, kept.FetchedAt
	c.log.Info("prices restored from the last good feed", "feed", config.RedactURL(src), "fetched_at", kept.FetchedAt)
	return nil
}

// fetchFeed reads src: an http(s) URL, or else a file path.
func (c *Control) fetchFeed(ctx context.Context, src string) (*feedPrices, error) {
	var b []byte
	if strings.HasPrefix(src, "http://") || strings.HasPrefix(src, "https://") {
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, src, nil)
		if err != nil {
			return nil, err
		}
		hc := c.feedClient
		if hc == nil {
			hc = http.DefaultClient
		}
		resp, err := hc.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("feed answered %s", resp.Status)
		}
		if b, err = io.ReadAll(io.LimitReader(resp.Body, maxFeedBytes)); err != nil {
			return nil, err
		}
	} else {
		var err error
		if b, err = os.ReadFile(strings.TrimPrefix(src, "file://")); err != nil {
			return nil, err
		}
	}
	return parseFeed(b)
}
