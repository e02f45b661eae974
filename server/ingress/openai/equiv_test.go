package openai

import (
	"bytes"
	"encoding/json"
	"github.com/switchyard/switchyard/engine/route"
	pb "github.com/switchyard/switchyard/gen/go/switchyard/v1"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/engine/llm"
	"github.com/switchyard/switchyard/server/rest/openaijson"
	"github.com/switchyard/switchyard/server/rpc"
)

// oldPath is what the REST facade did: the proto scanner, then rpc's
// conversion and validation.
func oldPath(body []byte) (*llm.ChatRequest, bool, error) {
	p, err := openaijson.DecodeChatRequest(body)
	if err != nil {
		return nil, false, err
	}
	r, err := rpc.ChatRequestFromProto(p)
	return r, p.GetStream(), err
}

func newPath(body []byte) (*llm.ChatRequest, bool, error) {
	r, err := decodeChat(body)
	if err != nil {
		return nil, false, err
	}
	if err := r.validate(); err != nil {
		return nil, false, err
	}
	return &r.ChatRequest, r.stream, nil
}

func canon(t testing.TB, b []byte) any {
	if b == nil {
		return nil
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	return v
}

// normalize replaces JSON fields by their decoded values so that
// re-serialized (protojson) and as-written JSON compare equal.
func normalize(t testing.TB, r *llm.ChatRequest) map[string]any {
	c := *r
	out := map[string]any{}
	var params []any
	c.Tools = append([]llm.Tool(nil), r.Tools...)
	for i := range c.Tools {
		params = append(params, canon(t, c.Tools[i].Parameters))
		c.Tools[i].Parameters = nil
	}
	out["params"] = params
	if c.ResponseFormat != nil {
		rf := *c.ResponseFormat
		out["schema"] = canon(t, rf.Schema)
		rf.Schema = nil
		c.ResponseFormat = &rf
	}
	extra := map[string]any{}
	for k, v := range c.Extra {
		extra[k] = canon(t, v)
	}
	out["extra"] = extra
	c.Extra = nil
	out["req"] = c
	return out
}

func checkSame(t *testing.T, body []byte) {
	t.Helper()
	want, wantStream, werr := oldPath(body)
	got, gotStream, gerr := newPath(body)
	if (werr == nil) != (gerr == nil) {
		t.Fatalf("%s\nold err %v, new err %v", body, werr, gerr)
	}
	if werr != nil {
		we, ge := werr.(*llm.Error), gerr.(*llm.Error)
		if we.Message != ge.Message || we.Param != ge.Param || we.Kind != ge.Kind || IsMalformed(gerr) != openaijson.IsMalformed(werr) {
			t.Fatalf("%s\nold %+v\nnew %+v", body, we, ge)
		}
		return
	}
	if wantStream != gotStream {
		t.Fatalf("stream %v vs %v", wantStream, gotStream)
	}
	if w, g := normalize(t, want), normalize(t, got); !reflect.DeepEqual(w, g) {
		t.Fatalf("%s\nold %#v\nnew %#v", body, w, g)
	}
}

var equivBodies = []string{
	``, `[]`, `null`, `{}`, `{"model":"m"}`, `{"model":"m","messages":[]}`,
	`{"model":"m","messages":[{"role":"user","content":"hi"}],"temperature":3}`,
	`{"model":"m","messages":[{"role":"robot","content":"hi"}]}`,
	`{"model":"m","messages":[{"content":"hi"}]}`,
	`{"model":"m","messages":[{"role":"tool","content":"42"}]}`,
	`{"model":"m","messages":[{"role":"user","tool_calls":[{"id":"c"}]}]}`,
	`{"model":"m","messages":[{"role":"user","tool_calls":[]}]}`,
	`{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{}}]}]}`,
	`{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":null}]}]}`,
	`{"model":"m","messages":[{"role":"user","content":"a","content":null}],"max_tokens":0}`,
	`{"model":"m","messages":[{"role":"user","content":"a"}],"max_tokens":0,"max_completion_tokens":5}`,
	`{"model":"m","messages":[{"role":"user","content":"a"}],"max_completion_tokens":0,"max_tokens":5}`,
	`{"model":"m","messages":[{"role":"user","content":"a"}],"n":129}`,
	`{"model":"m","messages":[{"role":"user","content":"a"}],"top_logprobs":21,"logprobs":true}`,
	`{"model":"m","messages":[{"role":"user","content":"a"}],"stop":["1","2","3","4","5","6","7","8","9","10","11","12","13","14","15","16","17"]}`,
	`{"model":"m","messages":[{"role":"user","content":"a"}],"tools":[{"type":"retrieval","function":{"name":"f"}}]}`,
	`{"model":"m","messages":[{"role":"user","content":"a"}],"tools":[{"type":"function"}]}`,
	`{"model":"m","messages":[{"role":"user","content":"a"}],"tools":[{"function":{"name":"f","parameters":{"a":[1,2.5e3,"x\u00e9",true,null,{}]}}}],"tool_choice":"auto"}`,
	`{"model":"m","messages":[{"role":"user","content":"a"}],"tool_choice":"sometimes"}`,
	`{"model":"m","messages":[{"role":"user","content":"a"}],"tool_choice":""}`,
	`{"model":"m","messages":[{"role":"user","content":"a"}],"tool_choice":null}`,
	`{"model":"m","messages":[{"role":"user","content":"a"}],"response_format":{"type":"yaml"}}`,
	`{"model":"m","messages":[{"role":"user","content":"a"}],"response_format":{"type":""}}`,
	`{"model":"m","messages":[{"role":"user","content":"a"}],"response_format":{"type":"json_schema"}}`,
	`{"model":"m","messages":[{"role":"user","content":"a"}],"response_format":{"type":"json_schema","json_schema":{"name":"n"}}}`,
	`{"model":"m","messages":[{"role":"user","content":"a"}],"response_format":{"type":"json_object","json_schema":{"name":"n","schema":{"x":1}}}}`,
	`{"model":"m","messages":[{"role":"user","content":"a"}],"extra":{}}`,
	`{"model":"m","messages":[{"role":"user","content":"a"}],"extra":{"a":null,"b":[],"c":"s"}}`,
	`{"model":"m","messages":[{"role":"user","content":"a"}],"switchyard":{"cache_ttl_seconds":-1}}`,
	`{"model":"m","messages":[{"role":"user","content":"a"}],"switchyard":{}}`,
	`{"model":"m","messages":[{"role":"user","content":"a"}],"switchyard":null,"stream":true,"stream_options":{"include_usage":false}}`,
	`{"model":"m","messages":[{"role":"assistant","content":null,"refusal":"no","reasoning_content":"hm","name":"x"}]}`,
	`{"model":"m","messages":[{"role":"user","content":"a"}],"temperature":NaN}`,
	`{"model":"","messages":[{"role":"robot"}],"temperature":9}`,
}

func TestDecodeMatchesTheProtoPath(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "requests", "*.json"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(filepath.Base(f), func(t *testing.T) { checkSame(t, b) })
	}
	for _, b := range equivBodies {
		t.Run(b, func(t *testing.T) { checkSame(t, []byte(b)) })
	}
}

func FuzzDecodeMatchesTheProtoPath(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "requests", "*.json"))
	for _, name := range files {
		b, _ := os.ReadFile(name)
		f.Add(b)
	}
	for _, b := range equivBodies {
		f.Add([]byte(b))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if strings.Count(string(body), "[")+strings.Count(string(body), "{") > 400 {
			return // nesting limits differ by a level in extra
		}
		checkSame(t, body)
	})
}

func infoProto(requestID string, in *route.Info) *pb.RoutingInfo {
	return &pb.RoutingInfo{RequestId: requestID, Route: in.Route, Strategy: in.Strategy, Provider: in.Provider,
		Target: in.Target, UpstreamModel: in.UpstreamModel, Attempts: int32(in.Attempts), Cache: pb.CacheStatus(in.Cache),
		CostUsd: in.Cost.Dollars(), CostNanoUsd: int64(in.Cost), Estimated: in.Estimated, Scores: in.Scores}
}

func TestEncodeMatchesTheProtoPath(t *testing.T) {
	for _, tt := range completionCases() {
		got := appendCompletion(nil, tt.in, tt.info, "req_9")
		want := openaijson.AppendChatCompletion(nil, rpc.ChatResponseToProto(tt.in, infoProto("req_9", tt.info)))
		if !bytes.Equal(got, want) {
			t.Errorf("%s\n got %s\nwant %s", tt.golden, got, want)
		}
	}
	extra := []chunkCase{
		{"first delta", &llm.Chunk{ID: "a", Choices: []llm.ChunkChoice{{Delta: llm.Message{Role: "assistant", Content: "x"}}}}, true, fixedInfo()},
		{"usage and choices", &llm.Chunk{ID: "a", Choices: []llm.ChunkChoice{{Delta: llm.Message{Content: "x"}, FinishReason: "stop"}},
			Usage: &llm.Usage{PromptTokens: 1, CompletionTokens: 2, CachedTokens: 1, ReasoningTokens: 1}}, true, fixedInfo()},
		{"tool role delta", &llm.Chunk{Choices: []llm.ChunkChoice{{Delta: llm.Message{Role: "assistant", ToolCalls: []llm.ToolCall{{ID: "c"}}}}}}, false, nil},
		{"refusal role delta", &llm.Chunk{Choices: []llm.ChunkChoice{{Delta: llm.Message{Role: "assistant", Refusal: "no"}}}}, false, nil},
	}
	for _, tt := range append(chunkCases(), extra...) {
		got := appendChunk(nil, tt.in, tt.withUsage, tt.info, "req_9")
		p := rpc.ChunkToProto(tt.in)
		if !tt.withUsage {
			p.Usage = nil
		}
		if tt.info != nil {
			p.Switchyard = infoProto("req_9", tt.info)
		}
		if want := openaijson.AppendChunk(nil, p); !bytes.Equal(got, want) {
			t.Errorf("%s\n got %s\nwant %s", tt.golden, got, want)
		}
	}
}
