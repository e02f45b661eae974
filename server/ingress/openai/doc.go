// Package openai is the OpenAI Chat Completions and Embeddings dialect:
// POST /v1/chat/completions (JSON, or SSE when the body says "stream")
// and POST /v1/embeddings (float or base64 vectors). It decodes the wire
// JSON straight into engine/llm, validates it as server/rpc validates
// gRPC requests (same rules, params and messages), calls engine/gateway
// once per request and appends the answer, each stream chunk and the
// in-band error event straight to a reused buffer. Errors are OpenAI's
// shape (server/rest.WriteError); GET /v1/models stays with server/rest.
//
// Besides OpenAI's fields a request may carry "switchyard" (route,
// strategy, cache_control, cache_ttl_seconds, affinity_key; SDK users send
// it with extra_body) and "extra" (provider-specific fields passed to the
// upstream body as written); the X-Switchyard-Cache header overrides the
// cache directive. Answers carry a "switchyard" routing block (on a
// stream: the first chunk and the usage chunk) and the
// X-Switchyard-Provider and X-Switchyard-Cache headers.
//
// # Why a hand-written codec
//
// Decoding uses the shared scanner in internal/jsonscan, encoding appends
// with internal/jsonw. The choice was measured (bench_test.go; go test
// -bench 'DecodeChat|EncodeAnswer|StreamEvent' -benchmem -count 5, one
// interleaved run, median ns/op, 2-core AMD EPYC, Go 1.26). Decode is a
// realistic agent request (system and user message, two tools with
// schemas, tool_choice, json_schema response format, stream_options)
// through to a validated llm.ChatRequest; the answer and the chunk are
// encoded from llm types:
//
//	DecodeChat/scanner (this package)          7453 ns/op   2912 B/op   33 allocs/op
//	DecodeChat/goccy (goccy/go-json v0.10.5)  10402 ns/op   7550 B/op   46 allocs/op
//	DecodeChat/encoding_json                  26892 ns/op   5360 B/op   62 allocs/op
//	DecodeChat/proto_scanner+convert          67579 ns/op  21972 B/op  518 allocs/op  (the old REST path)
//	EncodeAnswer/append (this package)          676 ns/op      0 B/op    0 allocs/op
//	EncodeAnswer/goccy                         1999 ns/op   1593 B/op   12 allocs/op
//	EncodeAnswer/encoding_json                 3294 ns/op   1592 B/op   12 allocs/op
//	EncodeAnswer/proto_convert+append          1679 ns/op    824 B/op    9 allocs/op
//	StreamEvent/append (this package)           131 ns/op      0 B/op    0 allocs/op
//	StreamEvent/goccy                           649 ns/op    528 B/op    6 allocs/op
//	StreamEvent/encoding_json                  1134 ns/op    528 B/op    6 allocs/op
//	StreamEvent/proto_convert+append            406 ns/op    408 B/op    5 allocs/op
//
// Reflection libraries also cannot say which parameter had the wrong type
// in OpenAI's words ("Invalid type for 'messages[0].content': …"), and
// need a second decode for every union field (content, stop, tool_choice).
// The goccy variant builds with -tags jsonbench_goccy (see
// bench_goccy_test.go; it is not a module dependency). The proto variants
// (bench_proto_test.go) were measured at commit bc3de9e, which added this
// package, before the REST facade's proto codec was removed.
package openai
