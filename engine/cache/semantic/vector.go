// Package semantic is the semantic response cache: a request whose last
// user turn means the same as one already answered, everything else equal,
// is answered from that answer.
//
// Safety comes first, because a semantic cache that answers a different
// question is worse than none:
//
//   - Only the last user turn is compared by meaning. Everything else
//     (route, targets, scope, system prompt, earlier turns, tools, sampling,
//     response format) must match exactly: it is hashed into a partition key
//     (cache.NewPartitionKey) and only entries of the same partition are
//     compared.
//   - Similarity is the cosine of normalised embeddings, against a
//     conservative threshold; the best match above it wins.
//   - The answer itself lives in the exact cache under the key of the
//     request that produced it (the entry's id), so a semantic hit replays
//     exactly what that request got, unary or streamed.
//
// The Index is an exact scan over each partition's vectors, with a random
// hyperplane sketch as a prefilter (see Index): at the sizes a gateway
// keeps (10k–100k entries) it measures well under a millisecond, returns
// the true best match above the threshold, deletes in O(1) and costs no
// graph to build. Shared (Redis) makes the entries of every replica visible
// to every other.
//
// The package logs nothing and starts no goroutine except Shared's
// follower, which Close stops.
package semantic

import "math"

// Dot is the dot product of a and b (equal lengths), unrolled by four:
// the inner loop of every lookup. Plain Go, no assembly: see
// BenchmarkDot for what it costs.
func Dot(a, b []float32) float32 {
	n := min(len(a), len(b))
	a, b = a[:n], b[:n]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= n; i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < n; i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// Normalize scales v to unit length in place (in float64, so long vectors
// lose nothing to float32 rounding) and reports false for a zero or
// non-finite vector, which can match nothing.
func Normalize(v []float32) bool {
	var sum float64
	for _, x := range v {
		sum += float64(x) * float64(x)
	}
	if sum == 0 || math.IsInf(sum, 0) || math.IsNaN(sum) {
		return false
	}
	inv := 1 / math.Sqrt(sum)
	for i, x := range v {
		v[i] = float32(float64(x) * inv)
	}
	return true
}
