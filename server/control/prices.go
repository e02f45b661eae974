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

// startPriceFeed fetches the feed at once and then every pricing.refresh
// until Close. Off without pricing.feed_url.
func (c *Control) startPriceFeed(pc config.Pricing) {
	if pc.FeedURL == "" {
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
// routing table so cost_priority and hybrid rank on the new figures. A
// failed fetch keeps the last good prices (in memory; they do not survive
// a restart) and logs a warning.
func (c *Control) refreshPrices(ctx context.Context, src string) {
	f, err := c.fetchFeed(ctx, src)
	if err != nil {
		if ctx.Err() == nil {
			c.log.Warn("price feed refresh failed; keeping the last good prices", "feed", config.RedactURL(src), "error", err)
		}
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.feed, c.feedAt = f, c.now()
	spec := c.router.Spec()
	spec.Providers = c.withFeed(c.cfg, spec.Providers)
	if err := c.router.Update(spec); err != nil {
		c.log.Error("the fetched prices could not be applied", "error", err)
		return
	}
	c.log.Debug("prices refreshed from the feed", "feed", config.RedactURL(src), "format", f.format, "models", len(f.byID))
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
