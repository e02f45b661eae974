package balancer

import (
	"errors"
	"math"
	"sync"
	"testing"
	"time"
)

func TestMask(t *testing.T) {
	tests := []struct {
		name string
		m    Mask
		in   []int
		out  []int
	}{
		{"empty", 0, nil, []int{0, 1, 63}},
		{"low", Mask(0).With(0).With(2), []int{0, 2}, []int{1, 3, 63}},
		{"top bit", Mask(0).With(63), []int{63}, []int{0, 62}},
		{"with is idempotent", Mask(0).With(5).With(5), []int{5}, []int{4, 6}},
		{"beyond the word is never set", ^Mask(0), []int{0, 63}, []int{64, 100}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, i := range tc.in {
				if !tc.m.Has(i) {
					t.Errorf("Has(%d) = false, want true", i)
				}
			}
			for _, i := range tc.out {
				if tc.m.Has(i) {
					t.Errorf("Has(%d) = true, want false", i)
				}
			}
		})
	}
}

func TestSnapshot(t *testing.T) {
	st := func(n int) []*Stats {
		out := make([]*Stats, n)
		for i := range out {
			out[i] = new(Stats)
		}
		return out
	}
	many := make([]Target, MaxTargets+1)
	tests := []struct {
		name    string
		targets []Target
		stats   []*Stats
		wantErr bool
	}{
		{"none", nil, nil, true},
		{"too many", many, st(len(many)), true},
		{"length mismatch", []Target{{ID: "a"}}, st(2), true},
		{"nil stats", []Target{{ID: "a"}}, []*Stats{nil}, true},
		{"negative weight", []Target{{ID: "a", Weight: -1}}, st(1), true},
		{"quality above 1", []Target{{ID: "a", Quality: 1.5}}, st(1), true},
		{"quality NaN", []Target{{ID: "a", Quality: math.NaN()}}, st(1), true},
		{"negative price", []Target{{ID: "a", InputPrice: -1}}, st(1), true},
		{"infinite price", []Target{{ID: "a", OutputPrice: math.Inf(1)}}, st(1), true},
		{"one", []Target{{ID: "a"}}, st(1), false},
		{"max", many[1:], st(MaxTargets), false},
		{"duplicate IDs allowed", []Target{{ID: "a"}, {ID: "a"}}, st(2), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Snapshot(tc.targets, tc.stats)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if err != nil && !errors.Is(err, ErrInvalidSnapshot) {
				t.Errorf("err = %v, want ErrInvalidSnapshot", err)
			}
		})
	}
	t.Run("weights defaulted and capped, input copied", func(t *testing.T) {
		in := []Target{{ID: "a"}, {ID: "b", Weight: 3}, {ID: "c", Weight: MaxWeight * 4}}
		out, err := Snapshot(in, st(3))
		if err != nil {
			t.Fatal(err)
		}
		if got := []int{out[0].Weight, out[1].Weight, out[2].Weight}; got[0] != 1 || got[1] != 3 || got[2] != MaxWeight {
			t.Errorf("weights = %v, want [1 3 %d]", got, MaxWeight)
		}
		in[1].Weight = 99
		if out[1].Weight != 3 {
			t.Error("snapshot shares the caller's slice")
		}
	})
}

func TestStatsInFlightAndCalls(t *testing.T) {
	var s Stats
	now := time.Unix(1000, 0)
	s.Begin()
	s.Begin()
	if got := s.InFlight(); got != 2 {
		t.Fatalf("InFlight = %d, want 2", got)
	}
	s.Done(now, DoneInfo{Latency: 10 * time.Millisecond})
	if s.InFlight() != 1 || s.Calls() != 1 {
		t.Fatalf("after Done: InFlight %d Calls %d, want 1 1", s.InFlight(), s.Calls())
	}
}

func TestStatsConcurrentBeginDone(t *testing.T) {
	var s Stats
	var wg sync.WaitGroup
	now := time.Unix(1000, 0)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 1000; i++ {
				s.Begin()
				s.Done(now, DoneInfo{Latency: time.Millisecond, Failed: i%2 == 0})
			}
		}()
	}
	wg.Wait()
	if s.InFlight() != 0 || s.Calls() != 8000 {
		t.Fatalf("InFlight %d Calls %d, want 0 8000", s.InFlight(), s.Calls())
	}
	if e := s.ErrorRate(now); e < 0 || e > 1 {
		t.Fatalf("ErrorRate %v outside [0,1]", e)
	}
}

func TestStatsDone(t *testing.T) {
	t0 := time.Unix(1000, 0)
	ms := time.Millisecond
	decay := math.Exp(-1) // weight left to the old value after one Tau
	tests := []struct {
		name      string
		calls     []DoneInfo
		gaps      []time.Duration // before each call after the first
		readAfter time.Duration   // after the last call
		lat, ttft float64
		errRate   float64
	}{
		{
			name:  "unknown before any call",
			calls: nil, lat: 0, ttft: 0, errRate: 0,
		},
		{
			name:  "first observation is taken as is",
			calls: []DoneInfo{{Latency: 200 * ms, TTFT: 50 * ms}},
			lat:   200, ttft: 50, errRate: 0,
		},
		{
			name:  "zero TTFT is unknown, not fast",
			calls: []DoneInfo{{Latency: 200 * ms, TTFT: 50 * ms}, {Latency: 200 * ms}},
			gaps:  []time.Duration{Tau},
			lat:   200, ttft: 50,
		},
		{
			name:  "slower observation is taken at once (peak)",
			calls: []DoneInfo{{Latency: 100 * ms}, {Latency: 900 * ms}},
			gaps:  []time.Duration{time.Millisecond},
			lat:   900,
		},
		{
			name:  "faster observation blends by elapsed time",
			calls: []DoneInfo{{Latency: 900 * ms}, {Latency: 100 * ms}},
			gaps:  []time.Duration{Tau},
			lat:   900*decay + 100*(1-decay),
		},
		{
			name:    "errors blend both ways",
			calls:   []DoneInfo{{Failed: true}, {Failed: false}},
			gaps:    []time.Duration{Tau},
			errRate: decay,
		},
		{
			name:      "fresh values do not decay",
			calls:     []DoneInfo{{Latency: 400 * ms, Failed: true}},
			readAfter: Tau,
			lat:       400, errRate: 1,
		},
		{
			name:      "stale values decay toward zero",
			calls:     []DoneInfo{{Latency: 400 * ms, Failed: true}},
			readAfter: 3 * Tau,
			lat:       400 * math.Exp(-2), errRate: math.Exp(-2),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var s Stats
			now := t0
			for i, c := range tc.calls {
				if i > 0 {
					now = now.Add(tc.gaps[i-1])
				}
				s.Begin()
				s.Done(now, c)
			}
			now = now.Add(tc.readAfter)
			for _, v := range []struct {
				what      string
				got, want float64
			}{
				{"LatencyMs", s.LatencyMs(now), tc.lat},
				{"TTFTMs", s.TTFTMs(now), tc.ttft},
				{"ErrorRate", s.ErrorRate(now), tc.errRate},
			} {
				if math.Abs(v.got-v.want) > 1e-9*max(1, v.want) {
					t.Errorf("%s = %v, want %v", v.what, v.got, v.want)
				}
			}
		})
	}
}

func BenchmarkStatsDone(b *testing.B) {
	var s Stats
	now := time.Unix(1000, 0)
	info := DoneInfo{Latency: 120 * time.Millisecond, TTFT: 30 * time.Millisecond}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			s.Begin()
			s.Done(now, info)
		}
	})
}

func BenchmarkStatsRead(b *testing.B) {
	var s Stats
	now := time.Unix(1000, 0)
	s.Begin()
	s.Done(now, DoneInfo{Latency: 120 * time.Millisecond, TTFT: 30 * time.Millisecond})
	b.ReportAllocs()
	var sink float64
	for b.Loop() {
		sink += s.LatencyMs(now) + s.TTFTMs(now) + s.ErrorRate(now) + float64(s.InFlight())
	}
	_ = sink
}

func TestKnownStrategyAcceptsExactlyTheListedNames(t *testing.T) {
	names := Strategies()
	if len(names) == 0 {
		t.Fatal("no strategies")
	}
	seen := map[string]bool{}
	for _, s := range names {
		if seen[s] {
			t.Fatalf("%q listed twice", s)
		}
		seen[s] = true
		if !KnownStrategy(s) {
			t.Fatalf("listed strategy %q is not known", s)
		}
	}
	for _, s := range []string{"", "random", "Priority", "hybrid "} {
		if KnownStrategy(s) {
			t.Fatalf("%q should not be known", s)
		}
	}
	names[0] = "mutated"
	if Strategies()[0] == "mutated" {
		t.Fatal("Strategies shares its slice with callers")
	}
}
