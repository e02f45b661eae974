package sim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/switchyard/switchyard/loadtest/fakeupstream"
)

// Fakes are one fake upstream per provider, each on its own loopback port
// so its knobs are its own, plus one more serving the live price feed (the
// role OpenRouter's model list plays for a real gateway).
type Fakes struct {
	sc      *Scenario
	servers map[string]*fakeupstream.Server
	feed    *fakeupstream.Server
	https   []*http.Server
	ep      Endpoints
	client  *http.Client
}

// StartFakes serves the scenario's providers and the feed on 127.0.0.1.
func StartFakes(sc *Scenario) (*Fakes, error) {
	f := &Fakes{
		sc:      sc,
		servers: map[string]*fakeupstream.Server{},
		ep:      Endpoints{Providers: map[string]string{}},
		client:  &http.Client{Timeout: 5 * time.Second},
	}
	for _, p := range sc.Providers {
		// Records keep the head of each body only: enough to tell the
		// gateway's probes from the load.
		s := fakeupstream.New(fakeupstream.Options{Knobs: knobs(State{Latency: p.Latency}), MaxRecordBody: 512, Models: []string{p.Model}})
		url, err := f.serve(s)
		if err != nil {
			f.Close()
			return nil, err
		}
		f.servers[p.Name] = s
		f.ep.Providers[p.Name] = url
	}
	f.feed = fakeupstream.New(fakeupstream.Options{RecordLimit: -1, Prices: f.feedAt(0)})
	url, err := f.serve(f.feed)
	if err != nil {
		f.Close()
		return nil, err
	}
	f.ep.Feed = url + "/_control/prices"
	return f, nil
}

func (f *Fakes) serve(s *fakeupstream.Server) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		s.Close()
		return "", err
	}
	hs := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	f.https = append(f.https, hs)
	go func() { _ = hs.Serve(ln) }()
	return "http://" + ln.Addr().String(), nil
}

// Endpoints are the fakes' URLs.
func (f *Fakes) Endpoints() Endpoints { return f.ep }

func knobs(st State) fakeupstream.Knobs {
	return fakeupstream.Knobs{Latency: st.Latency.Latency, TTFT: st.Latency.TTFT, TokenDelay: st.Latency.TokenDelay, Status: st.Status}
}

// feedAt is the feed's content at simulated time at.
func (f *Fakes) feedAt(at time.Duration) map[string]fakeupstream.FeedPrice {
	m := map[string]fakeupstream.FeedPrice{}
	for _, p := range f.sc.Providers {
		pr := f.sc.PriceAt(p.Name, at)
		m[p.FeedID] = fakeupstream.FeedPrice{Input: pr.Input, Output: pr.Output}
	}
	return m
}

// Apply puts event e into force: a price change is POSTed to the feed
// (the whole feed as of that moment), a latency or status change becomes
// the provider's server-wide knobs.
func (f *Fakes) Apply(ctx context.Context, e Event) error {
	if e.Change.Price != nil {
		b, _ := json.Marshal(f.feedAt(e.At))
		if err := f.post(ctx, f.ep.Feed, b); err != nil {
			return fmt.Errorf("%s: %w", e.Label, err)
		}
	}
	if e.Change.Latency != nil || e.Change.Status != nil {
		b, _ := json.Marshal(knobsJSON(f.sc.StateAt(e.Provider, e.At)))
		if err := f.post(ctx, f.ep.Providers[e.Provider]+"/_control", b); err != nil {
			return fmt.Errorf("%s: %w", e.Label, err)
		}
	}
	return nil
}

// knobsJSON is the /_control body for st (durations in milliseconds).
func knobsJSON(st State) map[string]any {
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	return map[string]any{"latency": ms(st.Latency.Latency), "ttft": ms(st.Latency.TTFT), "token_delay": ms(st.Latency.TokenDelay), "status": st.Status}
}

func (f *Fakes) post(ctx context.Context, url string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := f.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("POST %s: %d %s", url, resp.StatusCode, msg)
	}
	return nil
}

// Reset puts every fake back to midnight: starting knobs and prices,
// counters at zero.
func (f *Fakes) Reset() {
	for _, s := range f.servers {
		s.Reset()
	}
	f.feed.Reset()
}

// Upstream is how many requests reached each provider's fake since the
// last Reset (answered or not).
func (f *Fakes) Upstream() map[string]uint64 {
	out := map[string]uint64{}
	for name, s := range f.servers {
		var n uint64
		for _, c := range s.Counts() {
			n += c
		}
		out[name] = n
	}
	return out
}

// ProbeCall is one request the gateway made on its own to a provider.
type ProbeCall struct {
	Provider string
	Time     time.Time
}

// ProbeCalls are the recorded requests whose body carries prompt as a
// JSON string (the gateway's probe prompt, "ping" by default), which no
// request of the load contains.
func (f *Fakes) ProbeCalls(prompt string) []ProbeCall {
	needle, _ := json.Marshal(prompt)
	var out []ProbeCall
	for name, s := range f.servers {
		for _, r := range s.Records() {
			if bytes.Contains([]byte(r.Body), needle) {
				out = append(out, ProbeCall{Provider: name, Time: r.Time})
			}
		}
	}
	return out
}

// Close stops every fake.
func (f *Fakes) Close() error {
	var errs []error
	for _, s := range f.servers {
		errs = append(errs, s.Close())
	}
	if f.feed != nil {
		errs = append(errs, f.feed.Close())
	}
	for _, hs := range f.https {
		errs = append(errs, hs.Close())
	}
	return errors.Join(errs...)
}
