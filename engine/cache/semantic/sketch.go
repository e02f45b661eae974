package semantic

import (
	"math"
	"math/bits"
	"math/rand/v2"
)

// sketchWords is the sketch size in 64-bit words (128 bits): enough that the
// prefilter passes almost no unrelated entry at the default threshold,
// small enough that comparing it is two popcounts (Index.Search unrolls
// the two words).
const sketchWords = 2

const sketchBits = 64 * sketchWords

// sketch is a vector's signs against fixed random hyperplanes (SimHash).
// For two vectors at angle θ each hyperplane separates them with
// probability θ/π, independently, so the Hamming distance of their
// sketches is Binomial(sketchBits, θ/π): a cheap, unbiased estimate of the
// angle that lets a scan skip entries far below the threshold without
// computing their dot product.
type sketch [sketchWords]uint64

// sketcher holds the hyperplanes for one vector dimension. The seed is
// fixed so that every replica computes the same sketch for the same vector
// (not needed for correctness: sketches never leave the process).
type sketcher struct {
	dim    int
	planes []float32 // sketchBits rows of dim
}

func newSketcher(dim int) *sketcher {
	r := rand.New(rand.NewPCG(0x5357_4954_4348, uint64(dim)))
	s := &sketcher{dim: dim, planes: make([]float32, sketchBits*dim)}
	for i := range s.planes {
		s.planes[i] = float32(r.NormFloat64())
	}
	return s
}

func (s *sketcher) sketch(v []float32) sketch {
	var out sketch
	for b := 0; b < sketchBits; b++ {
		if Dot(s.planes[b*s.dim:(b+1)*s.dim], v) >= 0 {
			out[b/64] |= 1 << (b % 64)
		}
	}
	return out
}

func hamming(a, b *sketch) int {
	return bits.OnesCount64(a[0]^b[0]) + bits.OnesCount64(a[1]^b[1])
}

// hammingBound is the largest sketch distance an entry at cosine threshold
// t (or closer) reaches except with negligible probability: the mean
// sketchBits·θ/π plus eight standard deviations, so the prefilter drops a
// true match with probability far below 1e-9. It only ever costs recall
// (a skipped entry is a miss), never a false hit: what passes is scored
// exactly.
func hammingBound(t float32) int {
	if t <= 0 {
		return sketchBits
	}
	p := math.Acos(math.Min(float64(t), 1)) / math.Pi
	mean := sketchBits * p
	sd := math.Sqrt(sketchBits * p * (1 - p))
	return min(sketchBits, int(math.Ceil(mean+8*sd))+1)
}
