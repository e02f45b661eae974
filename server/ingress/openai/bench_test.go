package openai

import (
	"encoding/json"
	"testing"

	"github.com/switchyard/switchyard/engine/llm"
	"github.com/switchyard/switchyard/engine/route"
)

// benchChatBody is a realistic agent request: a system and a user message,
// two tools with JSON Schemas, tool_choice, a json_schema response format
// and stream_options.
var benchChatBody = []byte(`{
  "model": "gpt-4o-mini",
  "messages": [
    {"role": "system", "content": "You are a concise travel assistant. Use the tools when the user asks about weather or flights, and answer in the requested JSON shape."},
    {"role": "user", "content": "What's the weather in Paris tomorrow, and is there a morning flight from Berlin? Caf\u00e9 recommendations welcome."}
  ],
  "tools": [
    {"type": "function", "function": {"name": "get_weather", "description": "Get the forecast for a city on a date",
      "parameters": {"type": "object", "properties": {
        "city": {"type": "string", "description": "City name, e.g. Paris"},
        "date": {"type": "string", "format": "date"},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
        "required": ["city", "date"], "additionalProperties": false}, "strict": true}},
    {"type": "function", "function": {"name": "search_flights", "description": "Search direct flights between two airports",
      "parameters": {"type": "object", "properties": {
        "from": {"type": "string", "minLength": 3, "maxLength": 3},
        "to": {"type": "string", "minLength": 3, "maxLength": 3},
        "departure_after": {"type": "string", "format": "time"},
        "max_results": {"type": "integer", "minimum": 1, "maximum": 20}},
        "required": ["from", "to"]}}}
  ],
  "tool_choice": "auto",
  "parallel_tool_calls": true,
  "response_format": {"type": "json_schema", "json_schema": {"name": "travel_answer", "strict": true, "schema": {
    "type": "object", "properties": {"summary": {"type": "string"}, "cafes": {"type": "array", "items": {"type": "string"}}},
    "required": ["summary", "cafes"], "additionalProperties": false}}},
  "temperature": 0.3,
  "max_completion_tokens": 512,
  "stream": true,
  "stream_options": {"include_usage": true},
  "user": "user-1234"
}`)

func benchAnswer() (*llm.ChatResponse, *route.Info) {
	return &llm.ChatResponse{
			ID: "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT", Created: 1741569952, Model: "gpt-4o-mini-2024-07-18",
			Choices: []llm.Choice{{Message: llm.Message{Role: "assistant",
				Content: "{\"summary\":\"Paris will be 18°C and sunny tomorrow; a 07:10 direct flight leaves BER.\",\"cafes\":[\"Café de Flore\",\"Le Procope\"]}"},
				FinishReason: "stop"}},
			Usage:             llm.Usage{PromptTokens: 312, CompletionTokens: 41, TotalTokens: 353, CachedTokens: 256},
			SystemFingerprint: "fp_44709d6fcb",
		}, &route.Info{Route: "fast", Strategy: "least_connections", Provider: "openai", Target: "openai/k1/gpt-4o-mini",
			UpstreamModel: "gpt-4o-mini", Attempts: 1, Cache: llm.CacheMiss, Cost: 13_500}
}

func benchChunk() *llm.Chunk {
	return &llm.Chunk{ID: "chatcmpl-123", Created: 1694268190, Model: "gpt-4o-mini",
		Choices: []llm.ChunkChoice{{Delta: llm.Message{Content: " the Eiffel\n \"Tower\""}}}}
}

// codec is a JSON library the benchmark compares the hand-written codec
// with: encoding/json here, others when built with their tag.
type codec struct {
	name      string
	unmarshal func([]byte, any) error
	marshal   func(any) ([]byte, error)
}

var stdCodec = codec{"encoding_json", json.Unmarshal, json.Marshal}

func BenchmarkDecodeChat(b *testing.B) {
	b.Run("scanner", func(b *testing.B) {
		b.SetBytes(int64(len(benchChatBody)))
		b.ReportAllocs()
		for b.Loop() {
			r, err := decodeChat(benchChatBody)
			if err == nil {
				err = r.validate()
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, c := range append([]codec{stdCodec}, otherCodecs...) {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(benchChatBody)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := wireDecodeChat(c, benchChatBody); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkEncodeAnswer(b *testing.B) {
	resp, info := benchAnswer()
	b.Run("append", func(b *testing.B) {
		buf := appendCompletion(nil, resp, info, "req_01HXYZ")
		b.SetBytes(int64(len(buf)))
		b.ReportAllocs()
		for b.Loop() {
			buf = appendCompletion(buf[:0], resp, info, "req_01HXYZ")
		}
	})
	for _, c := range append([]codec{stdCodec}, otherCodecs...) {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.marshal(wireCompletion(resp, info, "req_01HXYZ")); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkStreamEvent(b *testing.B) {
	c := benchChunk()
	b.Run("append", func(b *testing.B) {
		buf := appendChunk(nil, c, false, nil, "")
		b.SetBytes(int64(len(buf)))
		b.ReportAllocs()
		for b.Loop() {
			buf = append(buf[:0], sseData...)
			buf = appendChunk(buf, c, false, nil, "")
			buf = append(buf, sseEnd...)
		}
	})
	for _, cd := range append([]codec{stdCodec}, otherCodecs...) {
		b.Run(cd.name, func(b *testing.B) {
			var buf []byte
			b.ReportAllocs()
			for b.Loop() {
				j, err := cd.marshal(wireChunkOf(c, false))
				if err != nil {
					b.Fatal(err)
				}
				buf = append(append(append(buf[:0], sseData...), j...), sseEnd...)
			}
		})
	}
}

func BenchmarkDecodeEmbeddings(b *testing.B) {
	body := []byte(`{"model":"text-embedding-3-small","input":["The food was delicious and the waiter...","second text"],"encoding_format":"base64"}`)
	b.ReportAllocs()
	for b.Loop() {
		r, err := decodeEmbeddings(body)
		if err == nil {
			err = r.validate()
		}
		if err != nil {
			b.Fatal(err)
		}
	}
}
