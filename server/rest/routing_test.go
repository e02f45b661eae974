package rest

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/switchyard/switchyard/config"
	"github.com/switchyard/switchyard/server/middleware"
	"github.com/switchyard/switchyard/server/rpc"
)

// recordingRouting accepts every change and remembers the last one.
type recordingRouting struct {
	state rpc.RoutingState
	last  *rpc.RoutingChange
}

func (r *recordingRouting) Routing() rpc.RoutingState { return r.state }
func (r *recordingRouting) ValidateRouting(config.Routing, []config.Route) error {
	return nil
}
func (r *recordingRouting) UpdateRouting(_ context.Context, ch rpc.RoutingChange) (rpc.RoutingState, error) {
	r.last = &ch
	r.state = rpc.RoutingState{Routing: ch.Routing, Routes: ch.Routes, Version: r.state.Version + 1}
	return r.state, nil
}
func (r *recordingRouting) RoutingHistory(context.Context, int) ([]rpc.RoutingVersion, error) {
	return nil, nil
}
func (r *recordingRouting) RoutingVersion(context.Context, int64) (rpc.RoutingVersion, error) {
	return rpc.RoutingVersion{Version: 1, Routes: []config.Route{{Model: "auto"}}}, nil
}

func TestRoutingRESTBodiesAreStrict(t *testing.T) {
	seed := `{"strategy":"latency_priority","fallback_strategy":"failover","providers":[{"name":"openai","priority":1,"weight":60},{"name":"anthropic","priority":2,"weight":40}]}`
	tests := []struct {
		name      string
		path      string
		body      string
		status    int
		wantInMsg []string
		check     func(t *testing.T, ch *rpc.RoutingChange)
	}{
		{name: "unknown field is named", path: "/v1/routing/config", body: `{"bogus":1}`, status: 400, wantInMsg: []string{`unknown field "bogus"`}},
		{name: "unknown nested field is named", path: "/v1/routing/config", body: `{"providers":[{"name":"openai","prio":1}]}`, status: 400, wantInMsg: []string{`unknown field "prio"`}},
		{name: "config wrapper is refused with the shape to send", path: "/v1/routing/config", body: `{"config":` + seed + `}`, status: 400,
			wantInMsg: []string{`unknown field "config"`, "not wrapped"}},
		{name: "unknown field in a rollback", path: "/v1/routing/config/rollback", body: `{"version":1,"force":true}`, status: 400, wantInMsg: []string{`unknown field "force"`}},
		{name: "validate is strict too", path: "/v1/routing/config:validate", body: `{"stratgy":"priority"}`, status: 400, wantInMsg: []string{`unknown field "stratgy"`}},
		{name: "seed body is the config", path: "/v1/routing/config", body: seed, status: 200, check: func(t *testing.T, ch *rpc.RoutingChange) {
			if ch.Routing.Strategy != "latency_priority" || len(ch.Routing.Providers) != 2 || ch.Routing.Providers[1].Weight != 40 {
				t.Fatalf("change %+v", ch.Routing)
			}
			if len(ch.Routes) != 1 || ch.Routes[0].Model != "auto" {
				t.Fatalf("routes in force not kept: %+v", ch.Routes)
			}
		}},
		{name: "flags ride as query parameters", path: "/v1/routing/config?clear_routes=true&allow_unrouted=true", body: seed, status: 200, check: func(t *testing.T, ch *rpc.RoutingChange) {
			if len(ch.Routes) != 0 {
				t.Fatalf("clear_routes ignored: %+v", ch.Routes)
			}
		}},
		{name: "rollback body", path: "/v1/routing/config/rollback", body: `{"version":1}`, status: 200, check: func(t *testing.T, ch *rpc.RoutingChange) {
			if ch.RollbackOf != 1 {
				t.Fatalf("rollback_of %d", ch.RollbackOf)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctl := &recordingRouting{state: rpc.RoutingState{Version: 1, Routes: []config.Route{{Model: "auto"}}}}
			mux := http.NewServeMux()
			if err := New(hclog.NewNullLogger(), rpc.Services{Routing: rpc.NewRoutingConfig(ctl)}, nil).Register(context.Background(), mux); err != nil {
				t.Fatal(err)
			}
			h := middleware.Wrap(hclog.NewNullLogger(), 1<<20, mux)
			req := httptest.NewRequest(http.MethodPost, tt.path, strings.NewReader(tt.body))
			req.Header.Set("Content-Type", "application/json")
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			body, _ := io.ReadAll(w.Body)
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tt.status, body)
			}
			if tt.status != 200 {
				var e struct {
					Error struct{ Message, Type string }
				}
				if err := json.Unmarshal(body, &e); err != nil || e.Error.Type != "invalid_request_error" {
					t.Fatalf("not an OpenAI error: %s", body)
				}
				for _, s := range tt.wantInMsg {
					if !strings.Contains(e.Error.Message, s) {
						t.Errorf("message %q lacks %q", e.Error.Message, s)
					}
				}
				if ctl.last != nil {
					t.Fatalf("refused body reached the control: %+v", ctl.last)
				}
				return
			}
			if ctl.last == nil {
				t.Fatal("change not applied")
			}
			tt.check(t, ctl.last)
		})
	}
}
