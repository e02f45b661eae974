package sim

import (
	"math"
	"math/rand/v2"
	"time"
)

// Kind is the kind of a request.
type Kind int

// The kinds of request in the mix.
const (
	Short Kind = iota
	Long
	Stream
)

func (k Kind) String() string {
	switch k {
	case Long:
		return "long"
	case Stream:
		return "stream"
	default:
		return "short"
	}
}

// Arrival is one request of the day: when it is sent (real time since the
// start of the run) and what it is.
type Arrival struct {
	ID   int
	At   time.Duration
	Kind Kind
}

// Rate is the request rate, per real second, at simulated time sim: a
// raised cosine from MinRate at 01:00 to MaxRate at 13:00.
func (s *Scenario) Rate(sim time.Duration) float64 {
	h := sim.Hours()
	x := (1 - math.Cos(2*math.Pi*(h-1)/24)) / 2
	return s.MinRate + (s.MaxRate-s.MinRate)*x
}

// Schedule draws the day's arrivals for a day lasting dayLength: a
// Poisson process whose rate follows Rate (by thinning), each request's
// kind drawn from the mix. The same seed gives the same day, so every
// policy faces the same requests at the same moments.
func (s *Scenario) Schedule(dayLength time.Duration) []Arrival {
	c := Clock{DayLength: dayLength}
	r := rand.New(rand.NewPCG(s.Seed, s.Seed^0x5eed))
	var out []Arrival
	t := 0.0 // real seconds
	end := dayLength.Seconds()
	for {
		t += r.ExpFloat64() / s.MaxRate
		if t >= end {
			return out
		}
		at := time.Duration(t * float64(time.Second))
		if r.Float64()*s.MaxRate > s.Rate(c.Sim(at)) {
			continue
		}
		k := Short
		switch u := r.Float64(); {
		case u < s.Mix.Long:
			k = Long
		case u < s.Mix.Long+s.Mix.Stream:
			k = Stream
		}
		out = append(out, Arrival{ID: len(out), At: at, Kind: k})
	}
}

// Shape is the size of a request of kind k.
func (s *Scenario) Shape(k Kind) Shape {
	switch k {
	case Long:
		return s.Long
	case Stream:
		return s.Stream
	default:
		return s.Short
	}
}
