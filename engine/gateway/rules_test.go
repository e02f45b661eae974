package gateway

import (
	"context"
	"errors"
	"testing"

	"github.com/switchyard/switchyard/engine/access"
	"github.com/switchyard/switchyard/engine/llm"
	"github.com/switchyard/switchyard/engine/route"
)

// named answers with its name; the route's rules decide which is called.
type named string

func (n named) Chat(context.Context, *llm.ChatRequest) (*llm.ChatResponse, error) {
	return &llm.ChatResponse{Choices: []llm.Choice{{Message: llm.Message{Role: llm.RoleAssistant, Content: string(n)}}}}, nil
}

func (n named) ChatStream(context.Context, *llm.ChatRequest) (llm.Stream, error) {
	return nil, errors.New("not used")
}

// The Call's region and its key's labels reach the router's rules.
func TestCallRegionAndKeyLabelsReachRouteRules(t *testing.T) {
	provider := func(name string) route.ProviderSpec {
		return route.ProviderSpec{Name: name, Models: []string{name + "-m"}, Keys: []route.KeySpec{{ID: "k", Provider: named(name)}}}
	}
	r, err := route.New(route.Spec{
		Providers: []route.ProviderSpec{provider("us"), provider("asia"), provider("free")},
		Routes: []route.RouteSpec{{Model: "smart", Targets: []route.TargetSpec{{Provider: "us", Model: "us-m"}}, Rules: []route.RuleSpec{
			{Name: "asia", When: route.Condition{Region: "asia"}, Targets: []route.TargetSpec{{Provider: "asia", Model: "asia-m"}}},
			{Name: "free", When: route.Condition{KeyLabels: map[string]string{"tier": "free"}}, Targets: []route.TargetSpec{{Provider: "free", Model: "free-m"}}},
		}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	g := New(r, nil)
	for _, tc := range []struct {
		name         string
		call         Call
		wantProvider string
		wantRule     string
	}{
		{"nothing known", Call{}, "us", ""},
		{"region", Call{Region: "Asia"}, "asia", "asia"},
		{"key label", Call{Client: "k1", Key: &access.Key{ID: "k1", Labels: map[string]string{"tier": "free"}}}, "free", "free"},
		{"key with other labels", Call{Client: "k2", Key: &access.Key{ID: "k2", Labels: map[string]string{"tier": "paid"}}}, "us", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := &llm.ChatRequest{Model: "smart", Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}}}
			_, info, err := g.Chat(context.Background(), tc.call, req)
			if err != nil {
				t.Fatal(err)
			}
			if info.Provider != tc.wantProvider || info.Rule != tc.wantRule {
				t.Fatalf("provider %q rule %q, want %q %q", info.Provider, info.Rule, tc.wantProvider, tc.wantRule)
			}
		})
	}
}
