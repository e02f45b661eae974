package openaijson

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	switchyardv1 "github.com/switchyard/switchyard/gen/go/switchyard/v1"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/responses")

// checkGolden compares got with testdata/responses/name byte for byte.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "responses", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s\n got: %s\nwant: %s", path, got, want)
	}
}

// The sdk* types mirror the OpenAI SDK response types (openai-python's
// pydantic models): pointers for fields the SDK declares required, so a
// missing one is caught, plus the keys Switchyard adds. Decoding uses
// DisallowUnknownFields so a misspelt key fails too.
type sdkModel struct {
	ID         *string `json:"id"`
	Object     *string `json:"object"`
	Created    *int64  `json:"created"`
	OwnedBy    *string `json:"owned_by"`
	Switchyard *struct {
		Providers []string `json:"providers"`
		Alias     bool     `json:"alias"`
	} `json:"switchyard"`
}

type sdkModelList struct {
	Object *string     `json:"object"`
	Data   *[]sdkModel `json:"data"`
}

type sdkError struct {
	Error *struct {
		Message *string `json:"message"`
		Type    *string `json:"type"`
		Param   *string `json:"param"`
		Code    *string `json:"code"`
	} `json:"error"`
}

func requireFields(t *testing.T, what string, fields map[string]bool) {
	t.Helper()
	for name, ok := range fields {
		if !ok {
			t.Errorf("%s: required field %s missing", what, name)
		}
	}
}

// decodeSDK checks b is valid JSON and decodes it strictly into v.
func decodeSDK(t *testing.T, b []byte, v any) {
	t.Helper()
	if !json.Valid(b) {
		t.Fatalf("output is not valid JSON: %s", b)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("output does not decode as the SDK type: %v\n%s", err, b)
	}
}

func TestAppendModelsGolden(t *testing.T) {
	list := &switchyardv1.ListModelsResponse{Object: "list", Data: []*switchyardv1.Model{
		{Id: "gpt-4o-mini", Object: "model", Created: 1721172741, OwnedBy: "system", Providers: []string{"openai"}},
		{Id: "fast", Object: "model", Created: 0, OwnedBy: "switchyard", Providers: []string{"openai", "anthropic"}, Alias: true},
		{Id: "bare", OwnedBy: "openai"},
	}}
	t.Run("list", func(t *testing.T) {
		got := AppendModelList(nil, list)
		checkGolden(t, "models.json", got)
		var l sdkModelList
		decodeSDK(t, got, &l)
		if l.Object == nil || *l.Object != "list" || l.Data == nil || len(*l.Data) != 3 {
			t.Fatalf("bad list: %s", got)
		}
		for _, m := range *l.Data {
			requireFields(t, "model", map[string]bool{"id": m.ID != nil, "object": m.Object != nil, "created": m.Created != nil, "owned_by": m.OwnedBy != nil})
		}
		if (*l.Data)[2].Switchyard != nil {
			t.Errorf("a model with no providers and no alias has a switchyard block")
		}
	})
	t.Run("empty list", func(t *testing.T) {
		got := AppendModelList(nil, &switchyardv1.ListModelsResponse{})
		if string(got) != `{"object":"list","data":[]}` {
			t.Errorf("got %s", got)
		}
	})
	t.Run("one", func(t *testing.T) {
		got := AppendModel(nil, list.Data[1])
		checkGolden(t, "model.json", got)
		var m sdkModel
		decodeSDK(t, got, &m)
		if m.Switchyard == nil || !m.Switchyard.Alias || len(m.Switchyard.Providers) != 2 {
			t.Errorf("switchyard block = %+v", m.Switchyard)
		}
	})
}

func TestAppendErrorGolden(t *testing.T) {
	tests := []struct {
		golden, message, typ, param, code string
	}{
		{"error_param.json", "Invalid type for 'messages[0].content': expected a string, but got a number instead.", "invalid_request_error", "messages[0].content", "invalid_type"},
		{"error_nulls.json", "Rate limit reached for \"gpt-4o\".\nRetry later.", "rate_limit_error", "", ""},
	}
	for _, tt := range tests {
		t.Run(strings.TrimSuffix(tt.golden, ".json"), func(t *testing.T) {
			got := AppendError(nil, tt.message, tt.typ, tt.param, tt.code)
			checkGolden(t, tt.golden, got)
			var e sdkError
			decodeSDK(t, got, &e)
			if e.Error == nil || e.Error.Message == nil || *e.Error.Message != tt.message || *e.Error.Type != tt.typ {
				t.Fatalf("error = %s", got)
			}
			if (e.Error.Param == nil) != (tt.param == "") || (e.Error.Code == nil) != (tt.code == "") {
				t.Errorf("param/code null-ness wrong: %s", got)
			}
		})
	}
}

func TestAppendToleratesNil(t *testing.T) {
	outputs := map[string][]byte{
		"model list": AppendModelList(nil, &switchyardv1.ListModelsResponse{Data: []*switchyardv1.Model{nil}}),
		"model":      AppendModel(nil, nil),
	}
	for name, b := range outputs {
		if !json.Valid(b) {
			t.Errorf("%s: invalid JSON %s", name, b)
		}
	}
}
