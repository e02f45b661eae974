//go:build !jsonbench_goccy

package openai

// otherCodecs are third-party JSON libraries to compare; built with
// -tags jsonbench_goccy (see bench_goccy_test.go) it holds goccy/go-json.
var otherCodecs []codec
