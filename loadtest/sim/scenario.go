// Package sim replays a synthetic day against fake providers whose prices
// and latencies change on a script, through the real gateway binary, once
// per routing policy, and reports what each policy cost, how fast and how
// reliably it answered.
//
// The spend is computed here, from the usage of each answer and the price
// the answering provider charged at that moment according to the script,
// never from the gateway's own cost: a gateway routing on stale prices
// bills itself at stale prices, but the invoice follows the real ones.
package sim

import (
	"fmt"
	"sort"
	"time"
)

// Day is the length of the simulated day.
const Day = 24 * time.Hour

// Price is a model's price in USD per million tokens.
type Price struct {
	Input  float64 `json:"input"`
	Output float64 `json:"output"`
}

// Cost is what tokens cost at p, in USD.
func (p Price) Cost(prompt, completion int) float64 {
	return (float64(prompt)*p.Input + float64(completion)*p.Output) / 1e6
}

// Latency is how a fake provider answers: Latency before the response
// starts, TTFT before the first token, TokenDelay between tokens (the fake
// waits the same for a unary answer as if it had streamed it).
type Latency struct {
	Latency    time.Duration `json:"latency"`
	TTFT       time.Duration `json:"ttft"`
	TokenDelay time.Duration `json:"token_delay"`
}

// Provider is one fake provider of the scenario.
type Provider struct {
	// Name is the gateway's provider name; the answer's
	// X-Switchyard-Provider header carries it.
	Name string `json:"name"`
	// Type is the gateway's provider type (openai, anthropic, gemini,
	// openai-compatible), so each speaks its own wire format.
	Type  string `json:"type"`
	Model string `json:"model"`
	// FeedID names the model in the live price feed.
	FeedID string `json:"feed_id"`
	// Price is the price at midnight.
	Price   Price   `json:"price"`
	Latency Latency `json:"latency"`
	// Note says where the figures come from.
	Note string `json:"note,omitempty"`
}

// Change is what an event does to one provider. Nil fields leave that
// aspect alone; Status 0 ends an outage.
type Change struct {
	Price   *Price   `json:"price,omitempty"`
	Latency *Latency `json:"latency,omitempty"`
	Status  *int     `json:"status,omitempty"`
}

// Event is one step of the script at a simulated time of day.
type Event struct {
	At       time.Duration `json:"at"`
	Provider string        `json:"provider"`
	Label    string        `json:"label"`
	Change   Change        `json:"change"`
	// Marker puts the event on the chart (the ends of an outage or a
	// spike are not marked).
	Marker bool `json:"marker,omitempty"`
}

// Mix is the share of each kind of request; the rest of 1 are short unary
// prompts.
type Mix struct {
	Long   float64 `json:"long"`
	Stream float64 `json:"stream"`
}

// Shape is the size of one kind of request: prompt words and answer tokens.
type Shape struct {
	PromptWords  int `json:"prompt_words"`
	AnswerTokens int `json:"answer_tokens"`
}

// Scenario is the whole script.
type Scenario struct {
	Providers []Provider `json:"providers"`
	Events    []Event    `json:"events"`
	// MinRate and MaxRate are requests per real second at the quietest
	// (01:00) and the busiest (13:00) moment; the rate in between follows a
	// raised cosine.
	MinRate float64 `json:"min_rate"`
	MaxRate float64 `json:"max_rate"`
	Mix     Mix     `json:"mix"`
	Short   Shape   `json:"short"`
	Long    Shape   `json:"long"`
	Stream  Shape   `json:"stream"`
	Seed    uint64  `json:"seed"`
}

// Provider returns the provider named name.
func (s *Scenario) Provider(name string) (Provider, bool) {
	for _, p := range s.Providers {
		if p.Name == name {
			return p, true
		}
	}
	return Provider{}, false
}

// Validate checks that every event names a provider and falls within the
// day, and sorts the events by time (stable, so two events at one moment
// apply in the order written).
func (s *Scenario) Validate() error {
	if len(s.Providers) == 0 {
		return fmt.Errorf("scenario: no providers")
	}
	seen := map[string]bool{}
	for _, p := range s.Providers {
		if p.Name == "" || p.Model == "" || p.Type == "" {
			return fmt.Errorf("scenario: provider %+v needs a name, type and model", p)
		}
		if seen[p.Name] {
			return fmt.Errorf("scenario: provider %q twice", p.Name)
		}
		seen[p.Name] = true
	}
	for _, e := range s.Events {
		if !seen[e.Provider] {
			return fmt.Errorf("scenario: event %q names unknown provider %q", e.Label, e.Provider)
		}
		if e.At < 0 || e.At >= Day {
			return fmt.Errorf("scenario: event %q at %v is outside the day", e.Label, e.At)
		}
	}
	if !(s.MinRate > 0) || s.MaxRate < s.MinRate {
		return fmt.Errorf("scenario: rates %v..%v, want 0 < min <= max", s.MinRate, s.MaxRate)
	}
	if s.Mix.Long < 0 || s.Mix.Stream < 0 || s.Mix.Long+s.Mix.Stream > 1 {
		return fmt.Errorf("scenario: mix %+v does not fit in 1", s.Mix)
	}
	sort.SliceStable(s.Events, func(i, j int) bool { return s.Events[i].At < s.Events[j].At })
	return nil
}

// State is a provider's condition at one moment.
type State struct {
	Price   Price
	Latency Latency
	Status  int
}

// StateAt is provider's condition at simulated time at: its starting
// values with every event up to and including at applied.
func (s *Scenario) StateAt(provider string, at time.Duration) State {
	p, _ := s.Provider(provider)
	st := State{Price: p.Price, Latency: p.Latency}
	for _, e := range s.Events {
		if e.At > at {
			break
		}
		if e.Provider == provider {
			st = st.apply(e.Change)
		}
	}
	return st
}

func (st State) apply(c Change) State {
	if c.Price != nil {
		st.Price = *c.Price
	}
	if c.Latency != nil {
		st.Latency = *c.Latency
	}
	if c.Status != nil {
		st.Status = *c.Status
	}
	return st
}

// PriceAt is the price provider charged at simulated time at.
func (s *Scenario) PriceAt(provider string, at time.Duration) Price {
	return s.StateAt(provider, at).Price
}

// Clock maps real time since the start of a run to the simulated time of
// day: the whole day passes in DayLength.
type Clock struct {
	DayLength time.Duration
}

// Sim is the simulated time of day after real elapsed (capped at the end
// of the day).
func (c Clock) Sim(elapsed time.Duration) time.Duration {
	if elapsed <= 0 {
		return 0
	}
	s := time.Duration(float64(elapsed) * float64(Day) / float64(c.DayLength))
	return min(s, Day)
}

// Real is the real time since the start at which the simulated clock shows
// sim.
func (c Clock) Real(sim time.Duration) time.Duration {
	return time.Duration(float64(sim) * float64(c.DayLength) / float64(Day))
}

// HHMM formats a simulated time of day.
func HHMM(d time.Duration) string {
	m := int(d / time.Minute)
	return fmt.Sprintf("%02d:%02d", m/60, m%60)
}

func ptr[T any](v T) *T { return &v }

// Default is the scenario of `make simulate`.
//
// Prices are the providers' list prices as the gateway's built-in table
// has them (config/prices.go, from the providers' pricing pages), so the
// static-price policies and the truth agree until the script moves them.
// Latencies are round figures of the kind public latency leaderboards show
// for these models (time to first token, output speed); they are
// illustrative, not measured here. At 10:00 Gemini cuts Flash to a
// promotional price (made up: half the input, a quarter of the output
// price); at 14:00 Gemini fails with 503 for two hours; at 18:00 its
// latency jumps by two seconds for two hours (the promotion's traffic
// catching up with it). OpenAI, the single-provider baseline, has no event.
func Default() Scenario {
	return Scenario{
		Providers: []Provider{
			{Name: "openai", Type: "openai", Model: "gpt-4o", FeedID: "openai/gpt-4o",
				Price:   Price{Input: 2.50, Output: 10.00},
				Latency: Latency{TTFT: 350 * time.Millisecond, TokenDelay: 10 * time.Millisecond},
				Note:    "OpenAI wire format; ~100 tokens/s"},
			{Name: "anthropic", Type: "anthropic", Model: "claude-3-5-haiku-20241022", FeedID: "anthropic/claude-3-5-haiku-20241022",
				Price:   Price{Input: 0.80, Output: 4.00},
				Latency: Latency{TTFT: 450 * time.Millisecond, TokenDelay: 15 * time.Millisecond},
				Note:    "Anthropic Messages wire format; ~65 tokens/s"},
			{Name: "gemini", Type: "gemini", Model: "gemini-2.5-flash", FeedID: "google/gemini-2.5-flash",
				Price:   Price{Input: 0.30, Output: 2.50},
				Latency: Latency{TTFT: 400 * time.Millisecond, TokenDelay: 5 * time.Millisecond},
				Note:    "Gemini generateContent wire format; ~200 tokens/s"},
			{Name: "deepseek", Type: "openai-compatible", Model: "deepseek-chat", FeedID: "deepseek/deepseek-chat",
				Price:   Price{Input: 0.27, Output: 1.10},
				Latency: Latency{TTFT: 700 * time.Millisecond, TokenDelay: 30 * time.Millisecond},
				Note:    "OpenAI-compatible, cheap and slow; ~33 tokens/s"},
		},
		Events: []Event{
			{At: 10 * time.Hour, Provider: "gemini", Label: "10:00 Gemini price cut", Marker: true,
				Change: Change{Price: &Price{Input: 0.15, Output: 0.60}}},
			{At: 14 * time.Hour, Provider: "gemini", Label: "14:00 Gemini outage (503)", Marker: true,
				Change: Change{Status: ptr(503)}},
			{At: 16 * time.Hour, Provider: "gemini", Label: "16:00 Gemini back",
				Change: Change{Status: ptr(0)}},
			{At: 18 * time.Hour, Provider: "gemini", Label: "18:00 Gemini latency +2 s", Marker: true,
				Change: Change{Latency: &Latency{Latency: 2 * time.Second, TTFT: 400 * time.Millisecond, TokenDelay: 5 * time.Millisecond}}},
			{At: 20 * time.Hour, Provider: "gemini", Label: "20:00 Gemini latency normal",
				Change: Change{Latency: &Latency{TTFT: 400 * time.Millisecond, TokenDelay: 5 * time.Millisecond}}},
		},
		MinRate: 3,
		MaxRate: 30,
		Mix:     Mix{Long: 0.15, Stream: 0.15},
		Short:   Shape{PromptWords: 40, AnswerTokens: 40},
		Long:    Shape{PromptWords: 1500, AnswerTokens: 200},
		Stream:  Shape{PromptWords: 120, AnswerTokens: 120},
		Seed:    18,
	}
}
