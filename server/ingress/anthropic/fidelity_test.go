package anthropic

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/engine/llm"
)

func TestDecodeDocumentsAsFileParts(t *testing.T) {
	body := `{"model":"m","max_tokens":8,"messages":[{"role":"user","content":[
		{"type":"document","title":"report.pdf","source":{"type":"base64","media_type":"application/pdf","data":"JVBERi0="}},
		{"type":"document","source":{"type":"text","media_type":"text/plain","data":"Hello."}},
		{"type":"document","source":{"type":"url","url":"https://example.com/a.pdf"}},
		{"type":"document","source":{"type":"file","file_id":"file_011CNha8iCJcU1wXNR6q4V8w"}},
		{"type":"document","source":{"type":"content","content":[{"type":"text","text":"Inline."}]}},
		{"type":"image","source":{"type":"base64","media_type":"application/pdf","data":"JVBERi0="}},
		{"type":"text","text":"Summarise."}]}]}`
	req, _, err := decode([]byte(body), false)
	if err != nil {
		t.Fatal(err)
	}
	want := []llm.Part{
		{Type: llm.PartFile, File: &llm.FilePart{Data: "JVBERi0=", MIMEType: "application/pdf", Filename: "report.pdf"}},
		{Type: llm.PartFile, File: &llm.FilePart{Data: "SGVsbG8u", MIMEType: "text/plain"}},
		{Type: llm.PartFile, File: &llm.FilePart{URL: "https://example.com/a.pdf", MIMEType: "application/pdf"}},
		{Type: llm.PartFile, File: &llm.FilePart{FileID: "file_011CNha8iCJcU1wXNR6q4V8w"}},
		{Type: llm.PartFile, File: &llm.FilePart{Data: "SW5saW5lLg==", MIMEType: "text/plain"}},
		// A PDF sent as an image is a document for every target.
		{Type: llm.PartFile, File: &llm.FilePart{Data: "JVBERi0=", MIMEType: "application/pdf"}},
		{Type: llm.PartText, Text: "Summarise."},
	}
	if got := req.Messages[0].Parts; !reflect.DeepEqual(got, want) {
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(want)
		t.Fatalf("parts\n got %s\nwant %s", g, w)
	}
}

func TestDecodeRefusesBadDocuments(t *testing.T) {
	for _, tc := range []struct{ name, block, param string }{
		{"no source", `{"type":"document"}`, "messages.0.content.0.source"},
		{"unknown source", `{"type":"document","source":{"type":"s3"}}`, "messages.0.content.0.source.type"},
		{"file without id", `{"type":"document","source":{"type":"file"}}`, "messages.0.content.0.source.file_id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := decode([]byte(`{"model":"m","max_tokens":8,"messages":[{"role":"user","content":[`+tc.block+`]}]}`), false)
			var de *llm.Error
			if !errors.As(err, &de) || de.Param != tc.param {
				t.Fatalf("err %v, want param %s", err, tc.param)
			}
		})
	}
}

func TestDecodeCacheControlIntoHints(t *testing.T) {
	eph := &llm.CacheHint{Type: "ephemeral"}
	hour := &llm.CacheHint{Type: "ephemeral", TTL: "1h"}
	body := `{"model":"m","max_tokens":8,
	"system":[{"type":"text","text":"Rules.","cache_control":{"type":"ephemeral","ttl":"1h"}},{"type":"text","text":"Today."}],
	"tools":[{"name":"a","input_schema":{"type":"object"}},{"name":"b","input_schema":{"type":"object"},"cache_control":{"type":"ephemeral"}}],
	"messages":[
	{"role":"system","content":[{"type":"text","text":"Agents.","cache_control":{"type":"ephemeral"}}]},
	{"role":"user","content":[{"type":"text","text":"Long doc."},{"type":"text","text":"Question?","cache_control":{"type":"ephemeral"}}]},
	{"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"a","input":{},"cache_control":{"type":"ephemeral"}}]},
	{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":"ok","cache_control":{"type":"ephemeral"}}]}]}`
	req, _, err := decode([]byte(body), false)
	if err != nil {
		t.Fatal(err)
	}
	m := req.Messages
	// A breakpoint before the last system block keeps the blocks apart.
	if len(m[0].Parts) != 2 || !reflect.DeepEqual(m[0].Parts[0].Cache, hour) || m[0].Parts[1].Cache != nil || m[0].Cache != nil {
		t.Errorf("system %+v", m[0])
	}
	// One on the last block marks the message, which stays a string.
	if m[1].Content != "Agents." || !reflect.DeepEqual(m[1].Cache, eph) {
		t.Errorf("system turn %+v", m[1])
	}
	if m[2].Content != "Long doc.\nQuestion?" || !reflect.DeepEqual(m[2].Cache, eph) {
		t.Errorf("user %+v", m[2])
	}
	if !reflect.DeepEqual(m[3].Cache, eph) || len(m[3].ToolCalls) != 1 {
		t.Errorf("assistant %+v", m[3])
	}
	if m[4].Role != llm.RoleTool || !reflect.DeepEqual(m[4].Cache, eph) {
		t.Errorf("tool result %+v", m[4])
	}
	if req.Tools[0].Cache != nil || !reflect.DeepEqual(req.Tools[1].Cache, eph) {
		t.Errorf("tools %+v", req.Tools)
	}
}

func TestDecodeStructuredOutput(t *testing.T) {
	schema := `{"type":"object","properties":{"a":{"type":"string"}},"required":["a"],"additionalProperties":false}`
	for _, tc := range []struct{ name, field, effort, wantErr string }{
		{name: "output_config.format", field: `"output_config":{"format":{"type":"json_schema","schema":` + schema + `},"effort":"low"}`, effort: "low"},
		{name: "beta output_format", field: `"output_format":{"type":"json_schema","schema":` + schema + `}`},
		{name: "unknown format type", field: `"output_config":{"format":{"type":"xml"}}`, wantErr: "output_config.format.type"},
		{name: "no schema", field: `"output_format":{"type":"json_schema"}`, wantErr: "output_format.schema"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _, err := decode([]byte(`{"model":"m","max_tokens":8,`+tc.field+`,"messages":[{"role":"user","content":"x"}]}`), false)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			rf := req.ResponseFormat
			if rf == nil || rf.Type != "json_schema" || string(rf.Schema) != schema || req.ReasoningEffort != tc.effort {
				t.Fatalf("response format %+v, effort %q", rf, req.ReasoningEffort)
			}
		})
	}
}
