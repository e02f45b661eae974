package openai

import (
	"testing"

	"github.com/switchyard/switchyard/engine/llm"
	"github.com/switchyard/switchyard/engine/route"
	"github.com/switchyard/switchyard/server/rest/openaijson"
	"github.com/switchyard/switchyard/server/rpc"
)

// The proto variants are what the REST facade did before this package:
// openaijson's scanner into proto, rpc's conversion into the domain, and
// back.

func benchDecodeProto(b *testing.B) {
	b.Run("proto_scanner+convert", func(b *testing.B) {
		b.SetBytes(int64(len(benchChatBody)))
		b.ReportAllocs()
		for b.Loop() {
			p, err := openaijson.DecodeChatRequest(benchChatBody)
			if err == nil {
				_, err = rpc.ChatRequestFromProto(p)
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	})
}

func benchEncodeAnswerProto(b *testing.B, resp *llm.ChatResponse, info *route.Info) {
	b.Run("proto_convert+append", func(b *testing.B) {
		var buf []byte
		b.ReportAllocs()
		for b.Loop() {
			buf = openaijson.AppendChatCompletion(buf[:0], rpc.ChatResponseToProto(resp, infoProto("req_01HXYZ", info)))
		}
	})
}

func benchStreamEventProto(b *testing.B, c *llm.Chunk) {
	b.Run("proto_convert+append", func(b *testing.B) {
		var buf []byte
		b.ReportAllocs()
		for b.Loop() {
			buf = append(buf[:0], sseData...)
			buf = openaijson.AppendChunk(buf, rpc.ChunkToProto(c))
			buf = append(buf, sseEnd...)
		}
	})
}
