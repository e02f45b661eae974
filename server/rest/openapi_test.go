package rest

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/switchyard/switchyard/gen/openapi"
	"github.com/switchyard/switchyard/server/middleware"
	"github.com/switchyard/switchyard/server/rpc"
	"github.com/switchyard/switchyard/store"
)

// newStoreFacade serves the admin services over a real (SQLite) store.
func newStoreFacade(t *testing.T) (http.Handler, *store.Store) {
	t.Helper()
	st, err := store.Open(context.Background(), store.Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	svc := rpc.Services{Usage: rpc.NewUsage(st), Keys: rpc.NewKeys(st, func(string) {}, rpc.WithAdminKeyConfigured(true)), Billing: &rpc.Billing{}}
	mux := http.NewServeMux()
	if err := New(hclog.NewNullLogger(), svc, nil).Register(context.Background(), mux); err != nil {
		t.Fatal(err)
	}
	return middleware.Wrap(hclog.NewNullLogger(), 1<<20, mux), st
}

func TestOpenAPIDocumentIsServed(t *testing.T) {
	h, _ := newStoreFacade(t)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/openapi.json", nil))
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("%d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	if rec.Body.String() != openapi.JSON {
		t.Fatal("served document differs from gen/openapi/switchyard.swagger.json")
	}
	var doc struct {
		Swagger string                     `json:"swagger"`
		Paths   map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil || doc.Swagger != "2.0" || doc.Paths["/v1/usage"] == nil {
		t.Fatalf("not the Swagger 2.0 document with /v1/usage: %v %q", err, doc.Swagger)
	}
}

// The REST answer is what the OpenAPI document says: proto field names,
// int64 as strings, zero scalars present, unset messages absent (not null).
func TestRESTUsageByRouteNamesRoutesAndCountsCacheHits(t *testing.T) {
	h, st := newStoreFacade(t)
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	if err := st.InsertUsage(context.Background(), []store.UsageRecord{
		{TS: at, Route: "fast", Cache: "hit"},
		{TS: at, Route: "fast", Cache: "coalesced"},
		{TS: at, Route: "smart", Cache: "miss", Status: "upstream_503"},
	}); err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET",
		"/v1/usage?group_by=route&start_time=2026-03-01T00:00:00Z&end_time=2026-03-02T00:00:00Z", nil))
	if rec.Code != 200 {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	var resp struct {
		Rows  []map[string]any `json:"rows"`
		Total map[string]any   `json:"total"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		got  map[string]any
		want map[string]any
	}{
		{"fast", row(resp.Rows, 0), map[string]any{"route": "fast", "requests": "2", "errors": "0", "cache_hits": "1", "coalesced": "1"}},
		{"smart", row(resp.Rows, 1), map[string]any{"route": "smart", "requests": "1", "errors": "1", "cache_hits": "0", "coalesced": "0"}},
		{"total", resp.Total, map[string]any{"route": "", "requests": "3", "errors": "1", "cache_hits": "1", "coalesced": "1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.want {
				if tt.got[k] != v {
					t.Errorf("%s = %#v, want %#v (row %v)", k, tt.got[k], v, tt.got)
				}
			}
		})
	}
	if len(resp.Rows) != 2 {
		t.Fatalf("%d rows, want 2: %s", len(resp.Rows), rec.Body)
	}
}

func row(rows []map[string]any, i int) map[string]any {
	if i < len(rows) {
		return rows[i]
	}
	return nil
}

func TestRESTLeavesUnsetMessagesOutInsteadOfNull(t *testing.T) {
	h, _ := newStoreFacade(t)
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("POST", "/v1/keys", strings.NewReader(`{"key":{"name":"team-a"}}`))
	req.Header.Set("Content-Type", "application/json")
	h.ServeHTTP(rec, req)
	if rec.Code != 200 {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	var resp struct {
		Key map[string]json.RawMessage `json:"key"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
		t.Fatal(err)
	}
	for _, absent := range []string{"budget", "expires_at", "revoked_at"} {
		if v, ok := resp.Key[absent]; ok {
			t.Errorf("%s sent as %s; an unset message must be left out", absent, v)
		}
	}
	if string(resp.Key["rpm_limit"]) != "0" || string(resp.Key["name"]) != `"team-a"` {
		t.Errorf("zero scalars must still be sent: rpm_limit=%s name=%s", resp.Key["rpm_limit"], resp.Key["name"])
	}
}

// PATCH /v1/keys/{id} names the key in the path, like its sibling routes;
// the body is the key.
func TestRESTPatchKeyByPathID(t *testing.T) {
	h, _ := newStoreFacade(t)
	send := func(method, path, body string) (int, map[string]json.RawMessage) {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		h.ServeHTTP(rec, req)
		var resp struct {
			Key map[string]json.RawMessage `json:"key"`
		}
		_ = json.Unmarshal(rec.Body.Bytes(), &resp)
		return rec.Code, resp.Key
	}
	code, created := send("POST", "/v1/keys", `{"key":{"name":"team-a"}}`)
	var id string
	if code != 200 || json.Unmarshal(created["id"], &id) != nil || id == "" {
		t.Fatalf("create: %d %v", code, created)
	}
	tests := []struct {
		name, path, body string
		status           int
		wantName         string
	}{
		{"path only", "/v1/keys/" + id, `{"name":"renamed","rpm_limit":5}`, 200, `"renamed"`},
		{"path and matching body id", "/v1/keys/" + id, `{"id":"` + id + `","name":"again"}`, 200, `"again"`},
		{"body id disagrees with the path", "/v1/keys/" + id, `{"id":"key_other","name":"x"}`, 400, ""},
		{"unknown key", "/v1/keys/key_nope", `{"name":"x"}`, 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, key := send("PATCH", tt.path, tt.body)
			if code != tt.status {
				t.Fatalf("status %d, want %d (%v)", code, tt.status, key)
			}
			if tt.wantName != "" && string(key["name"]) != tt.wantName {
				t.Fatalf("name %s, want %s", key["name"], tt.wantName)
			}
		})
	}
}
