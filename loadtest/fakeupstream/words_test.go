package fakeupstream

import (
	"slices"
	"testing"
)

func TestNormalisedWords(t *testing.T) {
	tests := []struct {
		text string
		want []string
	}{
		{"介绍一下人工智能", []string{"ai"}},
		{"请详细说明AI技术", []string{"ai"}},
		{"什么是人工智障", []string{"人", "工", "智", "障"}},
		{"How do I repair my Automobiles?", []string{"how", "fix", "car"}},
		{"Is coffee not healthy?", []string{"coffee", "not", "good-for-health"}},
		{"Convert 50 km to miles", []string{"convert", "50", "km", "mile"}},
		{"怎么修车", []string{"how", "fix", "car"}},
	}
	for _, tc := range tests {
		t.Run(tc.text, func(t *testing.T) {
			if got := NormalisedWords(tc.text); !slices.Equal(got, tc.want) {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestWordEmbeddingIsDeterministicAndUnit(t *testing.T) {
	a, b := WordEmbedding("What is AI?", 64), WordEmbedding("explain artificial intelligence", 64)
	var dot, norm float32
	for i := range a {
		dot += a[i] * b[i]
		norm += a[i] * a[i]
	}
	if dot < 0.999 || norm < 0.999 || norm > 1.001 {
		t.Fatalf("dot %v norm %v", dot, norm)
	}
	if e := WordEmbedding("?!", 8); e[0] != 1 {
		t.Fatalf("an all-filler text has no direction: %v", e)
	}
}

func BenchmarkWordEmbedding(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		WordEmbedding("Can you tell me about quantum computing, please?", 1536)
	}
}
