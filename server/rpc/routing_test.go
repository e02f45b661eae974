package rpc

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"

	"github.com/switchyard/switchyard/config"
	"github.com/switchyard/switchyard/engine/llm"
	pb "github.com/switchyard/switchyard/gen/go/switchyard/v1"
)

const routingTestYAML = `
providers:
  - {name: openai, type: openai, api_keys: [sk-test-openai], models: [gpt-4o-mini]}
  - {name: anthropic, type: anthropic, api_keys: [sk-test-anthropic], models: [claude-3-5-haiku-20241022]}
routes:
  - model: auto
    targets: [{provider: openai, model: gpt-4o-mini}, {provider: anthropic, model: claude-3-5-haiku-20241022}]
  - model: faq
    targets: [{provider: openai, model: gpt-4o-mini}]
`

// fakeRouting keeps versions in memory the way server/cmd's control does.
type fakeRouting struct {
	base     *config.Config
	state    RoutingState
	versions []RoutingVersion // oldest first
}

func newFakeRouting(t *testing.T) *fakeRouting {
	t.Helper()
	cfg, err := config.Parse([]byte(routingTestYAML), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeRouting{base: cfg}
	f.state = RoutingState{Routing: cfg.Routing, Routes: cfg.Routes, Version: 1, Served: []string{"gpt-4o-mini", "claude-3-5-haiku-20241022"}}
	f.versions = []RoutingVersion{{Version: 1, Routing: cfg.Routing, Routes: cfg.Routes, UpdatedBy: "config-file"}}
	return f
}

func (f *fakeRouting) Routing() RoutingState { return f.state }

func (f *fakeRouting) ValidateRouting(r config.Routing, routes []config.Route) error {
	_, err := f.base.WithRouting(r, routes)
	return err
}

func (f *fakeRouting) UpdateRouting(_ context.Context, ch RoutingChange) (RoutingState, error) {
	if ch.IfVersion != f.state.Version {
		return RoutingState{}, ErrRoutingConflict
	}
	n, err := f.base.WithRouting(ch.Routing, ch.Routes)
	if err != nil {
		return RoutingState{}, err
	}
	v := f.state.Version + 1
	f.versions = append(f.versions, RoutingVersion{Version: v, Routing: n.Routing, Routes: n.Routes, UpdatedAt: ch.At, UpdatedBy: ch.By, RollbackOf: ch.RollbackOf})
	f.state = RoutingState{Routing: n.Routing, Routes: n.Routes, Version: v, UpdatedAt: ch.At, Served: f.state.Served}
	return f.state, nil
}

func (f *fakeRouting) RoutingHistory(_ context.Context, limit int) ([]RoutingVersion, error) {
	out := slices.Clone(f.versions)
	slices.Reverse(out)
	return out[:min(limit, len(out))], nil
}

func (f *fakeRouting) RoutingVersion(_ context.Context, v int64) (RoutingVersion, error) {
	for _, rv := range f.versions {
		if rv.Version == v {
			return rv, nil
		}
	}
	return RoutingVersion{}, &llm.Error{Kind: llm.KindNotFound, Param: "version", Message: "no such version"}
}

// servedAt answers RoutesServedSince from fixed request times.
type servedAt map[string]time.Time

func (s servedAt) RoutesServedSince(_ context.Context, since time.Time) ([]string, error) {
	var out []string
	for m, at := range s {
		if !at.Before(since) {
			out = append(out, m)
		}
	}
	slices.Sort(out)
	return out, nil
}

func aliases(routes []*pb.Route) []string {
	var out []string
	for _, r := range routes {
		out = append(out, r.GetModel())
	}
	return out
}

// seedBody is the routing body of seed 000: no routes.
func seedBody() *pb.RoutingConfig {
	return &pb.RoutingConfig{Strategy: "latency_priority", FallbackStrategy: "failover", Providers: []*pb.ProviderWeight{
		{Name: "openai", Priority: 1, Weight: 60}, {Name: "anthropic", Priority: 2, Weight: 40}}}
}

func onlyFast() *pb.RoutingConfig {
	return &pb.RoutingConfig{Strategy: "priority", Routes: []*pb.Route{{Model: "fast", Targets: []*pb.RouteTarget{{Provider: "openai", Model: "gpt-4o-mini"}}}}}
}

func TestUpdateRoutingConfig(t *testing.T) {
	now := time.Date(2031, 3, 4, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name        string
		req         *pb.UpdateRoutingConfigRequest
		served      servedAt
		wantCode    connect.Code // 0: accepted
		wantInMsg   []string
		wantAliases []string
		wantDefault string
	}{
		{name: "seed shape changes the default route and keeps every route",
			req: &pb.UpdateRoutingConfigRequest{Config: seedBody()}, served: servedAt{"auto": now.Add(-time.Minute)},
			wantAliases: []string{"auto", "faq"}, wantDefault: "latency_priority"},
		{name: "routes replace the routes in force when nothing recent is lost",
			req: &pb.UpdateRoutingConfigRequest{Config: onlyFast()}, served: servedAt{"auto": now.Add(-61 * time.Minute), "gpt-4o-mini": now},
			wantAliases: []string{"fast"}, wantDefault: "priority"},
		{name: "unrouting models served in the last hour is refused, naming them and the flag",
			req: &pb.UpdateRoutingConfigRequest{Config: onlyFast()}, served: servedAt{"auto": now.Add(-59 * time.Minute), "faq": now, "nope": now},
			wantCode: connect.CodeFailedPrecondition, wantInMsg: []string{`"auto", "faq"`, "allow_unrouted", "--allow-unrouted"}},
		{name: "allow_unrouted applies it anyway",
			req: &pb.UpdateRoutingConfigRequest{Config: onlyFast(), AllowUnrouted: true}, served: servedAt{"auto": now},
			wantAliases: []string{"fast"}, wantDefault: "priority"},
		{name: "clear_routes removes every route, guarded too",
			req: &pb.UpdateRoutingConfigRequest{Config: seedBody(), ClearRoutes: true}, served: servedAt{"faq": now},
			wantCode: connect.CodeFailedPrecondition, wantInMsg: []string{`"faq"`}},
		{name: "clear_routes with allow_unrouted leaves no route",
			req:    &pb.UpdateRoutingConfigRequest{Config: seedBody(), ClearRoutes: true, AllowUnrouted: true},
			served: servedAt{"faq": now}, wantDefault: "latency_priority"},
		{name: "clear_routes with routes is contradictory",
			req:      &pb.UpdateRoutingConfigRequest{Config: onlyFast(), ClearRoutes: true},
			wantCode: connect.CodeInvalidArgument, wantInMsg: []string{"clear_routes"}},
		{name: "invalid config names the field",
			req:      &pb.UpdateRoutingConfigRequest{Config: &pb.RoutingConfig{Strategy: "fastest"}},
			wantCode: connect.CodeInvalidArgument, wantInMsg: []string{"routing.strategy"}},
		{name: "no config", req: &pb.UpdateRoutingConfigRequest{},
			wantCode: connect.CodeInvalidArgument, wantInMsg: []string{"config"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctl := newFakeRouting(t)
			svc := NewRoutingConfig(ctl, WithServedRoutes(tt.served), WithRoutingClock(func() time.Time { return now }))
			resp, err := svc.UpdateRoutingConfig(context.Background(), tt.req)
			if tt.wantCode != 0 {
				if err == nil || Code(err) != tt.wantCode {
					t.Fatalf("err %v (code %v), want %v", err, Code(err), tt.wantCode)
				}
				for _, s := range tt.wantInMsg {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("message %q lacks %q", err, s)
					}
				}
				if len(ctl.versions) != 1 {
					t.Fatalf("refused change saved a version: %+v", ctl.versions)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := aliases(resp.GetConfig().GetRoutes()); !slices.Equal(got, tt.wantAliases) {
				t.Fatalf("routes %v, want %v", got, tt.wantAliases)
			}
			if resp.GetConfig().GetStrategy() != tt.wantDefault || resp.GetVersion() != 2 {
				t.Fatalf("strategy %q version %d", resp.GetConfig().GetStrategy(), resp.GetVersion())
			}
			last := ctl.versions[len(ctl.versions)-1]
			if last.UpdatedBy != "open-mode" || !last.UpdatedAt.Equal(now) {
				t.Fatalf("audit %q at %v", last.UpdatedBy, last.UpdatedAt)
			}
		})
	}
}

func TestUpdateRoutingConfig_ConcurrentChangeIsRefused(t *testing.T) {
	ctl := newFakeRouting(t)
	svc := NewRoutingConfig(&bumpFirst{fakeRouting: ctl})
	_, err := svc.UpdateRoutingConfig(context.Background(), &pb.UpdateRoutingConfigRequest{Config: seedBody()})
	if Code(err) != connect.CodeFailedPrecondition || !strings.Contains(err.Error(), "retry") {
		t.Fatalf("%v", err)
	}
}

// bumpFirst makes another change land between the checks and the swap.
type bumpFirst struct{ *fakeRouting }

func (b *bumpFirst) UpdateRouting(ctx context.Context, ch RoutingChange) (RoutingState, error) {
	b.state.Version++
	return b.fakeRouting.UpdateRouting(ctx, ch)
}

func TestRoutingHistoryAndRollback(t *testing.T) {
	t0 := time.Date(2031, 3, 4, 10, 0, 0, 0, time.UTC)
	clock := t0
	ctl := newFakeRouting(t)
	served := servedAt{}
	svc := NewRoutingConfig(ctl, WithServedRoutes(served), WithRoutingClock(func() time.Time { return clock }))
	ctx := context.Background()

	clock = t0.Add(time.Minute)
	if _, err := svc.UpdateRoutingConfig(ctx, &pb.UpdateRoutingConfigRequest{Config: seedBody()}); err != nil { // v2
		t.Fatal(err)
	}
	clock = t0.Add(2 * time.Minute)
	if _, err := svc.UpdateRoutingConfig(ctx, &pb.UpdateRoutingConfigRequest{Config: onlyFast()}); err != nil { // v3
		t.Fatal(err)
	}
	served["fast"] = clock

	tests := []struct {
		name        string
		req         *pb.RollbackRoutingConfigRequest
		wantCode    connect.Code
		wantVersion int64
		wantAliases []string
	}{
		{"rollback that unroutes live traffic is refused", &pb.RollbackRoutingConfigRequest{Version: 2}, connect.CodeFailedPrecondition, 0, nil},
		{"rollback with allow_unrouted restores v2 as v4", &pb.RollbackRoutingConfigRequest{Version: 2, AllowUnrouted: true}, 0, 4, []string{"auto", "faq"}},
		{"rollback of a rollback restores v3 as v5", &pb.RollbackRoutingConfigRequest{Version: 3}, 0, 5, []string{"fast"}},
		{"unknown version", &pb.RollbackRoutingConfigRequest{Version: 42}, connect.CodeNotFound, 0, nil},
		{"version zero", &pb.RollbackRoutingConfigRequest{}, connect.CodeInvalidArgument, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock = clock.Add(time.Minute)
			resp, err := svc.RollbackRoutingConfig(ctx, tt.req)
			if tt.wantCode != 0 {
				if Code(err) != tt.wantCode {
					t.Fatalf("err %v, want %v", err, tt.wantCode)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if resp.GetVersion() != tt.wantVersion || !slices.Equal(aliases(resp.GetConfig().GetRoutes()), tt.wantAliases) {
				t.Fatalf("v%d routes %v", resp.GetVersion(), aliases(resp.GetConfig().GetRoutes()))
			}
			if st := ctl.Routing(); st.Version != tt.wantVersion {
				t.Fatalf("in force v%d", st.Version)
			}
		})
	}

	t.Run("history is newest first, limited, with who, when and rollback_of", func(t *testing.T) {
		h, err := svc.ListRoutingConfigHistory(ctx, &pb.ListRoutingConfigHistoryRequest{Limit: 3})
		if err != nil {
			t.Fatal(err)
		}
		var got []int64
		for _, v := range h.GetVersions() {
			got = append(got, v.GetVersion())
		}
		if !slices.Equal(got, []int64{5, 4, 3}) {
			t.Fatalf("versions %v", got)
		}
		v4 := h.GetVersions()[1]
		if v4.GetRollbackOf() != 2 || v4.GetUpdatedBy() != "open-mode" || !v4.GetUpdatedAt().AsTime().Equal(t0.Add(4*time.Minute)) ||
			!slices.Equal(aliases(v4.GetConfig().GetRoutes()), []string{"auto", "faq"}) {
			t.Fatalf("v4 %+v", v4)
		}
		all, _ := svc.ListRoutingConfigHistory(ctx, &pb.ListRoutingConfigHistoryRequest{})
		if len(all.GetVersions()) != 5 {
			t.Fatalf("default limit returned %d", len(all.GetVersions()))
		}
		if _, err := svc.ListRoutingConfigHistory(ctx, &pb.ListRoutingConfigHistoryRequest{Limit: -1}); Code(err) != connect.CodeInvalidArgument {
			t.Fatalf("negative limit: %v", err)
		}
	})
}

func TestUpdateRoutingConfig_GuardErrorSurfaces(t *testing.T) {
	ctl := newFakeRouting(t)
	svc := NewRoutingConfig(ctl, WithServedRoutes(failingServed{}))
	_, err := svc.UpdateRoutingConfig(context.Background(), &pb.UpdateRoutingConfigRequest{Config: onlyFast()})
	if Code(err) != connect.CodeUnavailable || !strings.Contains(err.Error(), "allow_unrouted") {
		t.Fatalf("%v", err)
	}
}

type failingServed struct{}

func (failingServed) RoutesServedSince(context.Context, time.Time) ([]string, error) {
	return nil, errors.New("disk on fire")
}

func TestRoutingConnectJSONIsStrict(t *testing.T) {
	tests := []struct {
		name        string
		contentType string
		body        string
		status      int
		inBody      string
	}{
		{"unknown field is named", "application/json", `{"config":{"strategy":"priority","bogus":1}}`, 400, "bogus"},
		{"unknown top-level field is named", "application/json; charset=utf-8", `{"cfg":{}}`, 400, "cfg"},
		{"known fields pass", "application/json", `{"config":{"strategy":"priority"}}`, 200, `"version":"2"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mux := http.NewServeMux()
			Register(mux, Services{Routing: NewRoutingConfig(newFakeRouting(t))})
			srv := httptest.NewServer(mux)
			t.Cleanup(srv.Close)
			resp, err := http.Post(srv.URL+"/switchyard.v1.RoutingConfigService/UpdateRoutingConfig", tt.contentType, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.status || !strings.Contains(string(b), tt.inBody) {
				t.Fatalf("%d %s, want %d containing %s", resp.StatusCode, b, tt.status, tt.inBody)
			}
		})
	}
}

// A route's semantic cache, panic mode and fan-out survive the routing
// API both ways: a GET shows them, an update that sends them back keeps
// them (before, an API update switched the semantic cache off).
func TestRoutingProtoCarriesSemanticCachePanicModeAndFanOut(t *testing.T) {
	on, off := true, false
	rt := config.Route{Model: "auto", PanicMode: &off, FanOutN: &on,
		Targets: []config.Target{{Provider: "p", Model: "m"}},
		Cache: config.Cache{Mode: "deterministic", TTL: config.Duration(time.Minute), Semantic: config.Semantic{
			Enabled: true, Model: "text-embedding-3-small", Dimensions: 256, Threshold: 0.97,
			TTL: config.Duration(30 * time.Second), Scope: config.SemanticScopeShared, AllowTools: true,
			Timeout: config.Duration(1500 * time.Millisecond)}}}
	_, routes := routingFromProto(routingToProto(config.Routing{}, []config.Route{rt}))
	if len(routes) != 1 {
		t.Fatalf("routes %+v", routes)
	}
	got := routes[0]
	if got.Cache.Semantic != rt.Cache.Semantic || got.PanicMode == nil || *got.PanicMode || got.FanOutN == nil || !*got.FanOutN {
		t.Fatalf("round trip:\n got %+v panic=%v fan=%v\nwant %+v", got.Cache.Semantic, got.PanicMode, got.FanOutN, rt.Cache.Semantic)
	}
	// Unset stays unset, so an update without them keeps the running value.
	_, routes = routingFromProto(routingToProto(config.Routing{}, []config.Route{{Model: "auto"}}))
	if routes[0].PanicMode != nil || routes[0].FanOutN != nil || routes[0].Cache.Semantic != (config.Semantic{}) {
		t.Fatalf("unset fields came back set: %+v", routes[0])
	}
}
