package console

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHandler_ServesAssetsAndFallsBackToIndex(t *testing.T) {
	mux := http.NewServeMux()
	mux.Handle("GET "+Prefix, Handler())
	index, err := dist.ReadFile("dist/index.html")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path, wantType string
		wantBody             string
	}{
		{"the root is index.html", "/console/", "text/html", string(index)},
		{"a page path reloads into index.html", "/console/keys", "text/html", string(index)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			mux.ServeHTTP(w, httptest.NewRequest("GET", tt.path, nil))
			body, _ := io.ReadAll(w.Body)
			if w.Code != 200 || !strings.HasPrefix(w.Header().Get("Content-Type"), tt.wantType) || string(body) != tt.wantBody {
				t.Fatalf("%d %s %.80q", w.Code, w.Header().Get("Content-Type"), body)
			}
			if w.Header().Get("Content-Security-Policy") == "" {
				t.Error("no Content-Security-Policy")
			}
		})
	}
}
