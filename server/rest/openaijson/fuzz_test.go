package openaijson

import (
	"bytes"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	switchyardv1 "github.com/switchyard/switchyard/gen/go/switchyard/v1"
)

// FuzzDecodeChatRequest checks that decoding never panics, agrees with
// encoding/json on what is valid JSON, produces protos that marshal (valid
// UTF-8 everywhere), and that any decoded request re-encodes
// deterministically to JSON that decodes back to the same request.
func FuzzDecodeChatRequest(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "requests", "*.json"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := DecodeChatRequest(body)
		valid := json.Valid(body)
		if !valid {
			if err == nil || !IsMalformed(err) {
				t.Fatalf("invalid JSON %q: got err %v, want a malformed-JSON error", body, err)
			}
			return
		}
		if IsMalformed(err) {
			t.Fatalf("valid JSON %q reported as malformed: %v", body, err)
		}
		if err != nil {
			return
		}
		if _, err := proto.Marshal(req); err != nil {
			t.Fatalf("decoded request does not marshal: %v", err)
		}
		enc := appendChatRequest(nil, req)
		if again := appendChatRequest(nil, req); !bytes.Equal(enc, again) {
			t.Fatalf("re-encoding is not deterministic:\n%s\n%s", enc, again)
		}
		if !json.Valid(enc) {
			t.Fatalf("re-encoded request is not valid JSON: %s", enc)
		}
		back, err := DecodeChatRequest(enc)
		if err != nil {
			t.Fatalf("re-encoded request %s does not decode: %v", enc, err)
		}
		if !proto.Equal(req, back) {
			t.Fatalf("round trip changed the request\nfirst:  %s\nsecond: %s", prototext.Format(req), prototext.Format(back))
		}
	})
}

// FuzzDecodeString checks string decoding against encoding/json, which is
// the reference for escapes, surrogates and invalid UTF-8.
func FuzzDecodeString(f *testing.F) {
	for _, s := range []string{`"plain"`, `"\u00e9\ud83d\ude00"`, `"\ud800x"`, "\"\xff\xfe\"", `"\\\/\b"`, `"\ud83d\u0041"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, lit []byte) {
		var want string
		if len(lit) == 0 || lit[0] != '"' || json.Unmarshal(lit, &want) != nil {
			return
		}
		req, err := DecodeChatRequest([]byte(`{"model":` + string(lit) + `}`))
		if err != nil {
			t.Fatalf("%q: %v", lit, err)
		}
		if req.GetModel() != want {
			t.Fatalf("%q decoded as %q, encoding/json says %q", lit, req.GetModel(), want)
		}
	})
}

// FuzzAppendString checks string encoding against encoding/json (with its
// HTML escaping off, as OpenAI sends < > & raw).
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "plain", "q\"b\\", "\x00\x1f\b\f\n\r\t", "\u2028\u2029", "\xff", "é😀", "<&>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := appendString(nil, s)
		if want := stdJSON(t, s); !bytes.Equal(got, want) {
			t.Fatalf("appendString(%q) = %s, encoding/json gives %s", s, got, want)
		}
		var back string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatalf("%s: %v", got, err)
		}
		if utf8.ValidString(s) && back != s {
			t.Fatalf("round trip of %q gave %q", s, back)
		}
	})
}

func stdJSON(t testing.TB, v any) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// appendChatRequest is the inverse of DecodeChatRequest, for the round-trip
// property only: the gateway never sends this JSON anywhere. Map keys are
// sorted so the output is deterministic.
func appendChatRequest(dst []byte, r *switchyardv1.CreateChatCompletionRequest) []byte {
	dst = append(dst, `{"model":`...)
	dst = appendString(dst, r.GetModel())
	dst = append(dst, `,"messages":[`...)
	for i, m := range r.GetMessages() {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendRequestMessage(dst, m)
	}
	dst = append(dst, ']')
	optFloat := func(key string, v *float64) {
		if v != nil {
			dst = append(dst, `,"`+key+`":`...)
			dst = appendFloat(dst, *v, 64)
		}
	}
	optInt := func(key string, v *int64) {
		if v != nil {
			dst = append(dst, `,"`+key+`":`...)
			dst = appendInt(dst, *v)
		}
	}
	optInt32 := func(key string, v *int32) {
		if v != nil {
			x := int64(*v)
			optInt(key, &x)
		}
	}
	optBool := func(key string, v *bool) {
		if v != nil {
			dst = append(dst, `,"`+key+`":`...)
			dst = appendBool(dst, *v)
		}
	}
	optFloat("temperature", r.Temperature)
	optFloat("top_p", r.TopP)
	optInt32("max_tokens", r.MaxTokens)
	optInt32("max_completion_tokens", r.MaxCompletionTokens)
	optInt32("n", r.N)
	if len(r.GetStop()) > 0 {
		dst = append(dst, `,"stop":[`...)
		for i, s := range r.GetStop() {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendString(dst, s)
		}
		dst = append(dst, ']')
	}
	optInt("seed", r.Seed)
	optFloat("presence_penalty", r.PresencePenalty)
	optFloat("frequency_penalty", r.FrequencyPenalty)
	if len(r.GetTools()) > 0 {
		dst = append(dst, `,"tools":[`...)
		for i, t := range r.GetTools() {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, `{"type":`...)
			dst = appendString(dst, t.GetType())
			if fn := t.GetFunction(); fn != nil {
				dst = append(dst, `,"function":{"name":`...)
				dst = appendString(dst, fn.GetName())
				dst = append(dst, `,"description":`...)
				dst = appendString(dst, fn.GetDescription())
				if fn.Parameters != nil {
					dst = append(dst, `,"parameters":`...)
					dst = appendStruct(dst, fn.Parameters)
				}
				if fn.Strict != nil {
					dst = append(dst, `,"strict":`...)
					dst = appendBool(dst, *fn.Strict)
				}
				dst = append(dst, '}')
			}
			dst = append(dst, '}')
		}
		dst = append(dst, ']')
	}
	if tc := r.GetToolChoice(); tc != nil {
		dst = append(dst, `,"tool_choice":`...)
		if tc.GetFunctionName() != "" {
			dst = append(dst, `{"type":"function","function":{"name":`...)
			dst = appendString(dst, tc.GetFunctionName())
			dst = append(dst, "}}"...)
		} else {
			dst = appendString(dst, tc.GetMode())
		}
	}
	if rf := r.GetResponseFormat(); rf != nil {
		dst = append(dst, `,"response_format":{"type":`...)
		dst = appendString(dst, rf.GetType())
		if js := rf.GetJsonSchema(); js != nil {
			dst = append(dst, `,"json_schema":{"name":`...)
			dst = appendString(dst, js.GetName())
			dst = append(dst, `,"description":`...)
			dst = appendString(dst, js.GetDescription())
			if js.Schema != nil {
				dst = append(dst, `,"schema":`...)
				dst = appendStruct(dst, js.Schema)
			}
			if js.Strict != nil {
				dst = append(dst, `,"strict":`...)
				dst = appendBool(dst, *js.Strict)
			}
			dst = append(dst, '}')
		}
		dst = append(dst, '}')
	}
	dst = append(dst, `,"user":`...)
	dst = appendString(dst, r.GetUser())
	if r.Metadata != nil {
		dst = append(dst, `,"metadata":{`...)
		for i, k := range slices.Sorted(maps.Keys(r.Metadata)) {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendString(dst, k)
			dst = append(dst, ':')
			dst = appendString(dst, r.Metadata[k])
		}
		dst = append(dst, '}')
	}
	dst = append(dst, `,"stream":`...)
	dst = appendBool(dst, r.GetStream())
	if so := r.GetStreamOptions(); so != nil {
		dst = append(dst, `,"stream_options":{"include_usage":`...)
		dst = appendBool(dst, so.GetIncludeUsage())
		dst = append(dst, '}')
	}
	optBool("parallel_tool_calls", r.ParallelToolCalls)
	if r.LogitBias != nil {
		dst = append(dst, `,"logit_bias":{`...)
		dst = appendSortedScores(dst, r.LogitBias)
		dst = append(dst, '}')
	}
	optBool("logprobs", r.Logprobs)
	optInt32("top_logprobs", r.TopLogprobs)
	dst = append(dst, `,"reasoning_effort":`...)
	dst = appendString(dst, r.GetReasoningEffort())
	if r.Extra != nil {
		dst = append(dst, `,"extra":`...)
		dst = appendStruct(dst, r.Extra)
	}
	if o := r.GetSwitchyard(); o != nil {
		dst = append(dst, `,"switchyard":{"route":`...)
		dst = appendString(dst, o.GetRoute())
		dst = append(dst, `,"strategy":`...)
		dst = appendString(dst, o.GetStrategy())
		dst = append(dst, `,"cache_control":`...)
		dst = appendString(dst, map[switchyardv1.CacheControl]string{
			switchyardv1.CacheControl_CACHE_CONTROL_NO_CACHE: "no-cache",
			switchyardv1.CacheControl_CACHE_CONTROL_NO_STORE: "no-store",
			switchyardv1.CacheControl_CACHE_CONTROL_REFRESH:  "refresh",
		}[o.GetCacheControl()])
		dst = append(dst, `,"cache_ttl_seconds":`...)
		dst = appendInt(dst, int64(o.GetCacheTtlSeconds()))
		dst = append(dst, `,"affinity_key":`...)
		dst = appendString(dst, o.GetAffinityKey())
		dst = append(dst, '}')
	}
	return append(dst, '}')
}

func appendRequestMessage(dst []byte, m *switchyardv1.ChatMessage) []byte {
	dst = append(dst, `{"role":`...)
	dst = appendString(dst, m.GetRole())
	dst = append(dst, `,"content":`...)
	if len(m.GetContentParts()) > 0 {
		dst = append(dst, '[')
		for i, p := range m.GetContentParts() {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, `{"type":`...)
			dst = appendString(dst, p.GetType())
			if p.GetType() == "text" {
				dst = append(dst, `,"text":`...)
				dst = appendString(dst, p.GetText())
			}
			if u := p.GetImageUrl(); u != nil {
				dst = append(dst, `,"image_url":{"url":`...)
				dst = appendString(dst, u.GetUrl())
				dst = append(dst, `,"detail":`...)
				dst = appendString(dst, u.GetDetail())
				dst = append(dst, '}')
			}
			dst = append(dst, '}')
		}
		dst = append(dst, ']')
	} else {
		dst = appendOptString(dst, m.Content)
	}
	dst = append(dst, `,"name":`...)
	dst = appendString(dst, m.GetName())
	if len(m.GetToolCalls()) > 0 {
		dst = append(dst, `,"tool_calls":[`...)
		for i, tc := range m.GetToolCalls() {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, `{"id":`...)
			dst = appendString(dst, tc.GetId())
			dst = append(dst, `,"type":`...)
			dst = appendString(dst, tc.GetType())
			if fn := tc.GetFunction(); fn != nil {
				dst = append(dst, `,"function":{"name":`...)
				dst = appendString(dst, fn.GetName())
				dst = append(dst, `,"arguments":`...)
				dst = appendString(dst, fn.GetArguments())
				dst = append(dst, '}')
			}
			dst = append(dst, '}')
		}
		dst = append(dst, ']')
	}
	dst = append(dst, `,"tool_call_id":`...)
	dst = appendString(dst, m.GetToolCallId())
	dst = append(dst, `,"refusal":`...)
	dst = appendOptString(dst, m.Refusal)
	dst = append(dst, `,"reasoning_content":`...)
	dst = appendOptString(dst, m.ReasoningContent)
	return append(dst, '}')
}

func appendStruct(dst []byte, s *structpb.Struct) []byte {
	dst = append(dst, '{')
	for i, k := range slices.Sorted(maps.Keys(s.GetFields())) {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendString(dst, k)
		dst = append(dst, ':')
		dst = appendStructValue(dst, s.GetFields()[k])
	}
	return append(dst, '}')
}

func appendStructValue(dst []byte, v *structpb.Value) []byte {
	switch k := v.GetKind().(type) {
	case *structpb.Value_StructValue:
		return appendStruct(dst, k.StructValue)
	case *structpb.Value_ListValue:
		dst = append(dst, '[')
		for i, e := range k.ListValue.GetValues() {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendStructValue(dst, e)
		}
		return append(dst, ']')
	case *structpb.Value_StringValue:
		return appendString(dst, k.StringValue)
	case *structpb.Value_NumberValue:
		return appendFloat(dst, k.NumberValue, 64)
	case *structpb.Value_BoolValue:
		return appendBool(dst, k.BoolValue)
	}
	return append(dst, "null"...)
}

func TestRoundTripFixtures(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "requests", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, name := range files {
		if strings.Contains(name, "embeddings") {
			continue
		}
		t.Run(filepath.Base(name), func(t *testing.T) {
			body, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			req, err := DecodeChatRequest(body)
			if err != nil {
				t.Fatal(err)
			}
			back, err := DecodeChatRequest(appendChatRequest(nil, req))
			if err != nil {
				t.Fatal(err)
			}
			if !proto.Equal(req, back) {
				t.Errorf("round trip changed the request\nfirst:  %s\nsecond: %s", prototext.Format(req), prototext.Format(back))
			}
		})
	}
}
