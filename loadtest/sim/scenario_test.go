package sim

import (
	"strings"
	"testing"
	"time"
)

func TestStateAtAppliesEveryEventUpToTheMoment(t *testing.T) {
	sc := Default()
	if err := sc.Validate(); err != nil {
		t.Fatal(err)
	}
	start := Price{Input: 0.30, Output: 2.50}
	cut := Price{Input: 0.15, Output: 0.60}
	normal := Latency{TTFT: 400 * time.Millisecond, TokenDelay: 5 * time.Millisecond}
	spike := Latency{Latency: 2 * time.Second, TTFT: 400 * time.Millisecond, TokenDelay: 5 * time.Millisecond}
	for _, tc := range []struct {
		name     string
		provider string
		at       time.Duration
		want     State
	}{
		{"midnight", "gemini", 0, State{Price: start, Latency: normal}},
		{"a second before the cut", "gemini", 10*time.Hour - time.Second, State{Price: start, Latency: normal}},
		{"at the cut", "gemini", 10 * time.Hour, State{Price: cut, Latency: normal}},
		{"in the outage", "gemini", 15 * time.Hour, State{Price: cut, Latency: normal, Status: 503}},
		{"after the outage", "gemini", 16*time.Hour + time.Minute, State{Price: cut, Latency: normal}},
		{"in the spike", "gemini", 19 * time.Hour, State{Price: cut, Latency: spike}},
		{"after the spike", "gemini", 23 * time.Hour, State{Price: cut, Latency: normal}},
		{"a provider without events", "openai", 15 * time.Hour,
			State{Price: Price{Input: 2.50, Output: 10}, Latency: Latency{TTFT: 350 * time.Millisecond, TokenDelay: 10 * time.Millisecond}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := sc.StateAt(tc.provider, tc.at); got != tc.want {
				t.Errorf("StateAt(%s, %s) = %+v, want %+v", tc.provider, HHMM(tc.at), got, tc.want)
			}
		})
	}
}

func TestValidateRefusesABrokenScript(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edit  func(*Scenario)
		wants string
	}{
		{"unknown provider", func(s *Scenario) { s.Events[0].Provider = "ghost" }, `unknown provider "ghost"`},
		{"event after the day", func(s *Scenario) { s.Events[0].At = 25 * time.Hour }, "outside the day"},
		{"duplicate provider", func(s *Scenario) { s.Providers = append(s.Providers, s.Providers[0]) }, "twice"},
		{"no rate", func(s *Scenario) { s.MinRate = 0 }, "rates"},
		{"mix over 1", func(s *Scenario) { s.Mix = Mix{Long: 0.7, Stream: 0.5} }, "mix"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc := Default()
			tc.edit(&sc)
			err := sc.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.wants) {
				t.Errorf("Validate() = %v, want an error with %q", err, tc.wants)
			}
		})
	}
}

func TestValidateSortsEventsKeepingTheWrittenOrderAtOneMoment(t *testing.T) {
	sc := Default()
	sc.Events = []Event{
		{At: 5 * time.Hour, Provider: "gemini", Label: "b", Change: Change{Status: ptr(503)}},
		{At: time.Hour, Provider: "gemini", Label: "a"},
		{At: 5 * time.Hour, Provider: "gemini", Label: "c", Change: Change{Status: ptr(0)}},
	}
	if err := sc.Validate(); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range sc.Events {
		got = append(got, e.Label)
	}
	if strings.Join(got, "") != "abc" {
		t.Errorf("order %v, want a b c", got)
	}
	if st := sc.StateAt("gemini", 5*time.Hour); st.Status != 0 {
		t.Errorf("status at 05:00 = %d, want 0 (the later event of the two wins)", st.Status)
	}
}

func TestClockMapsRealToSimulatedTime(t *testing.T) {
	c := Clock{DayLength: 72 * time.Second}
	for _, tc := range []struct {
		real, sim time.Duration
	}{
		{0, 0},
		{3 * time.Second, time.Hour},
		{30 * time.Second, 10 * time.Hour},
		{72 * time.Second, Day},
	} {
		if got := c.Sim(tc.real); got != tc.sim {
			t.Errorf("Sim(%v) = %v, want %v", tc.real, got, tc.sim)
		}
		if got := c.Real(tc.sim); got != tc.real {
			t.Errorf("Real(%v) = %v, want %v", tc.sim, got, tc.real)
		}
	}
	if got := c.Sim(100 * time.Second); got != Day {
		t.Errorf("Sim past the end = %v, want the end of the day", got)
	}
	if got := c.Sim(-time.Second); got != 0 {
		t.Errorf("Sim before the start = %v, want 0", got)
	}
}

func TestHHMM(t *testing.T) {
	for d, want := range map[time.Duration]string{0: "00:00", 14*time.Hour + 5*time.Minute: "14:05", Day: "24:00"} {
		if got := HHMM(d); got != want {
			t.Errorf("HHMM(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestRateIsLowAtNightAndPeaksAtMidday(t *testing.T) {
	sc := Default()
	for _, tc := range []struct {
		at   time.Duration
		want float64
	}{
		{time.Hour, sc.MinRate},
		{13 * time.Hour, sc.MaxRate},
		{7 * time.Hour, (sc.MinRate + sc.MaxRate) / 2},
		{19 * time.Hour, (sc.MinRate + sc.MaxRate) / 2},
	} {
		if got := sc.Rate(tc.at); got < tc.want-1e-9 || got > tc.want+1e-9 {
			t.Errorf("Rate(%s) = %v, want %v", HHMM(tc.at), got, tc.want)
		}
	}
}

func TestScheduleIsReproducibleAndFollowsTheRateAndMix(t *testing.T) {
	sc := Default()
	day := 72 * time.Second
	a, b := sc.Schedule(day), sc.Schedule(day)
	if len(a) != len(b) {
		t.Fatalf("two draws with one seed: %d and %d arrivals", len(a), len(b))
	}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("arrival %d differs: %+v vs %+v", i, a[i], b[i])
		}
	}
	// The expected count is the rate's integral: the mean of the raised
	// cosine over the day times the day's length.
	want := (sc.MinRate + sc.MaxRate) / 2 * day.Seconds()
	if n := float64(len(a)); n < 0.9*want || n > 1.1*want {
		t.Errorf("%d arrivals, want about %.0f", len(a), want)
	}
	c := Clock{DayLength: day}
	var night, noon int
	kinds := map[Kind]int{}
	prev := time.Duration(-1)
	for i, x := range a {
		if x.ID != i || x.At < prev || x.At >= day {
			t.Fatalf("arrival %d = %+v after %v: ids must count up and times rise within the day", i, x, prev)
		}
		prev = x.At
		kinds[x.Kind]++
		switch h := c.Sim(x.At).Hours(); {
		case h < 3:
			night++
		case h >= 12 && h < 15:
			noon++
		}
	}
	if noon < 4*night {
		t.Errorf("00:00-03:00 had %d arrivals, 12:00-15:00 %d: want midday several times busier", night, noon)
	}
	for k, share := range map[Kind]float64{Long: sc.Mix.Long, Stream: sc.Mix.Stream, Short: 1 - sc.Mix.Long - sc.Mix.Stream} {
		got := float64(kinds[k]) / float64(len(a))
		if got < share-0.04 || got > share+0.04 {
			t.Errorf("%s share %.3f, want about %.2f", k, got, share)
		}
	}
	other := sc
	other.Seed++
	if c := other.Schedule(day); len(c) == len(a) && c[len(c)/2] == a[len(a)/2] {
		t.Errorf("another seed drew the same day")
	}
}

func TestPromptIsUniqueAndCarriesTheAnswerSize(t *testing.T) {
	sh := Shape{PromptWords: 10, AnswerTokens: 33}
	p1, p2 := Prompt(1, sh), Prompt(2, sh)
	if p1 == p2 {
		t.Error("two requests have the same prompt: the cache would join them")
	}
	if !strings.HasPrefix(p1, "[[fake:tokens=33]] ") {
		t.Errorf("prompt %q lacks the directive", p1)
	}
	if n := len(strings.Fields(p1)); n != 10+3 {
		t.Errorf("prompt has %d words, want 10 plus the directive and the request number", n)
	}
}
