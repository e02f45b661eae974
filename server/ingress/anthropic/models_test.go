package anthropic

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/engine/route"
)

type fakeModels []route.ModelInfo

func (f fakeModels) Models() []route.ModelInfo { return f }

func (f fakeModels) Model(id string) (route.ModelInfo, bool) {
	for _, m := range f {
		if m.ID == id {
			return m, true
		}
	}
	return route.ModelInfo{}, false
}

func TestServeModels(t *testing.T) {
	models := fakeModels{{ID: "a", Created: 1735689600}, {ID: "b", Created: 1735689600}, {ID: "c", Created: 0}}
	h := New(nil, nil, nil, WithModels(func() Models { return models }))
	mux := http.NewServeMux()
	// The facade's patterns, offering each request here first.
	mux.HandleFunc("GET /v1/models", func(w http.ResponseWriter, r *http.Request) {
		if !h.ServeModels(w, r) {
			_, _ = w.Write([]byte("openai"))
		}
	})
	mux.HandleFunc("GET /v1/models/{id...}", func(w http.ResponseWriter, r *http.Request) {
		if !h.ServeModels(w, r) {
			_, _ = w.Write([]byte("openai"))
		}
	})
	for _, tc := range []struct {
		name, path, version string
		status              int
		want                string
	}{
		{"without anthropic-version it is OpenAI's", "/v1/models", "", 200, `openai`},
		{"list", "/v1/models", "2023-06-01", 200,
			`{"data":[{"type":"model","id":"a","display_name":"a","created_at":"2025-01-01T00:00:00Z","lifecycle":"active"},{"type":"model","id":"b","display_name":"b","created_at":"2025-01-01T00:00:00Z","lifecycle":"active"},{"type":"model","id":"c","display_name":"c","created_at":"1970-01-01T00:00:00Z","lifecycle":"active"}],"has_more":false,"first_id":"a","last_id":"c"}`},
		{"first page", "/v1/models?limit=2", "2023-06-01", 200, `"has_more":true,"first_id":"a","last_id":"b"}`},
		{"after", "/v1/models?limit=2&after_id=b", "2023-06-01", 200, `"has_more":false,"first_id":"c","last_id":"c"}`},
		{"before", "/v1/models?limit=1&before_id=c", "2023-06-01", 200, `"has_more":true,"first_id":"b","last_id":"b"}`},
		{"after an unknown id is empty", "/v1/models?after_id=zz", "2023-06-01", 200, `{"data":[],"has_more":false,"first_id":null,"last_id":null}`},
		{"bad limit", "/v1/models?limit=0", "2023-06-01", 400, `"invalid_request_error"`},
		{"one", "/v1/models/b", "2023-06-01", 200, `{"type":"model","id":"b","display_name":"b","created_at":"2025-01-01T00:00:00Z","lifecycle":"active"}`},
		{"unknown", "/v1/models/nope", "2023-06-01", 404, `"not_found_error"`},
		{"one without anthropic-version", "/v1/models/b", "", 200, `openai`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", tc.path, nil)
			if tc.version != "" {
				r.Header.Set("anthropic-version", tc.version)
			}
			w := httptest.NewRecorder()
			mux.ServeHTTP(w, r)
			if w.Code != tc.status || !strings.Contains(w.Body.String(), tc.want) {
				t.Fatalf("%d %s\nwant %d with %s", w.Code, w.Body, tc.status, tc.want)
			}
		})
	}
}

// Without WithModels the handler claims nothing: OpenAI's list answers.
func TestServeModelsDeclinesWithoutAList(t *testing.T) {
	r := httptest.NewRequest("GET", "/v1/models", nil)
	r.Header.Set("anthropic-version", "2023-06-01")
	if New(nil, nil, nil).ServeModels(httptest.NewRecorder(), r) {
		t.Fatal("claimed a request it cannot answer")
	}
}
