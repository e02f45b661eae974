package route

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/engine/breaker"
	"github.com/switchyard/switchyard/engine/llm"
)

// ruleRouter serves alias "smart" from a/m1 then b/m2 (priority order),
// with the given rules; c/m3 is the "mini" model only rules send to.
func ruleRouter(t testing.TB, a, b, c Provider, retry RetrySpec, rules []RuleSpec, opts ...Option) *Router {
	t.Helper()
	pa := prov("a", []string{"m1"}, a)
	pa.Prices = map[string]Price{"m1": {Input: 1, Output: 2}}
	pb := prov("b", []string{"m2"}, b)
	pc := prov("c", []string{"m3"}, c)
	r, err := New(Spec{
		Providers: []ProviderSpec{pa, pb, pc},
		Routes: []RouteSpec{{Model: "smart", Strategy: "priority", Retry: retry, Rules: rules,
			Targets: []TargetSpec{{Provider: "a", Model: "m1", Priority: 1}, {Provider: "b", Model: "m2", Priority: 2}}}},
	}, append([]Option{WithJitter(func() float64 { return 0 })}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func chatReq(content string, region string, labels, meta map[string]string) *llm.ChatRequest {
	return &llm.ChatRequest{Model: "smart", Messages: []llm.Message{{Role: llm.RoleUser, Content: content}},
		Metadata: meta, Hints: llm.Hints{Region: region, Labels: labels}}
}

func TestRulesPickTargetsFromRequestAttributes(t *testing.T) {
	// First own target a/m1 costs $1 in / $2 out per million; a request of
	// "hi" estimates 2 prompt and 256 completion tokens, about $0.0005; one
	// of 8000 bytes 2001 prompt tokens, about $0.0025.
	rules := []RuleSpec{
		{Name: "asia", When: Condition{Region: "asia"}, Targets: []TargetSpec{{Provider: "c", Model: "m3"}}},
		{Name: "free-research", When: Condition{KeyLabels: map[string]string{"tier": "free"}, Metadata: map[string]string{"team": "research"}},
			Targets: []TargetSpec{{Provider: "b", Model: "m2"}}},
		{When: Condition{EstimatedCostAbove: 0.001}, Targets: []TargetSpec{{Provider: "c", Model: "m3"}}},
	}
	big := strings.Repeat("x", 8000)
	free := map[string]string{"tier": "free", "team": "other"}
	research := map[string]string{"team": "research"}
	cases := []struct {
		name         string
		req          *llm.ChatRequest
		wantRule     string
		wantProvider string
	}{
		{"no attribute: the route's own first target", chatReq("hi", "", nil, nil), "", "a"},
		{"region matches whatever its case", chatReq("hi", "ASIA", nil, nil), "asia", "c"},
		{"another region", chatReq("hi", "europe", nil, nil), "", "a"},
		{"label and metadata both hold", chatReq("hi", "", free, research), "free-research", "b"},
		{"label without the metadata", chatReq("hi", "", free, nil), "", "a"},
		{"metadata without the label", chatReq("hi", "", map[string]string{"tier": "paid"}, research), "", "a"},
		{"a label is not metadata", chatReq("hi", "", map[string]string{"tier": "free", "team": "research"}, nil), "", "a"},
		{"first match wins", chatReq(big, "asia", free, research), "asia", "c"},
		{"estimated cost above the ceiling", chatReq(big, "", nil, nil), "rules[2]", "c"},
		{"estimated cost below it", chatReq(strings.Repeat("x", 1000), "", nil, nil), "", "a"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := ruleRouter(t, &fake{name: "a"}, &fake{name: "b"}, &fake{name: "c"}, RetrySpec{}, rules)
			_, info, err := r.Chat(context.Background(), tc.req)
			if err != nil {
				t.Fatal(err)
			}
			if info.Rule != tc.wantRule || info.Provider != tc.wantProvider || info.Route != "smart" {
				t.Fatalf("route %q rule %q provider %q; want smart, %q, %q", info.Route, info.Rule, info.Provider, tc.wantRule, tc.wantProvider)
			}
			s, err := r.ChatStream(context.Background(), tc.req)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := readAll(s); err != nil {
				t.Fatal(err)
			}
			_ = s.Close()
			if si := s.Info(); si.Rule != tc.wantRule || si.Provider != tc.wantProvider {
				t.Fatalf("stream: rule %q provider %q; want %q, %q", si.Rule, si.Provider, tc.wantRule, tc.wantProvider)
			}
		})
	}
}

func TestRuleTargetFailingFailsOverToTheRoutesOwn(t *testing.T) {
	cases := []struct {
		name         string
		ruleTarget   string // provider of the rule's one target
		failing      string // which provider answers 503
		wantProvider string
		wantCalls    map[string]int64
	}{
		{"rule's target down: the route's first own target", "c", "c", "a", map[string]int64{"c": 1, "a": 1, "b": 0}},
		{"rule's target is an own one: not tried twice", "b", "b", "a", map[string]int64{"b": 1, "a": 1}},
		{"rule's target up: the own targets are not touched", "c", "a", "c", map[string]int64{"c": 1, "a": 0, "b": 0}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fakes := map[string]*fake{"a": {name: "a"}, "b": {name: "b"}, "c": {name: "c"}}
			fakes[tc.failing].fail = always(&llm.UpstreamError{Provider: tc.failing, Status: 503})
			model := map[string]string{"a": "m1", "b": "m2", "c": "m3"}[tc.ruleTarget]
			r := ruleRouter(t, fakes["a"], fakes["b"], fakes["c"], RetrySpec{MaxAttempts: 2},
				[]RuleSpec{{Name: "asia", When: Condition{Region: "asia"}, Targets: []TargetSpec{{Provider: tc.ruleTarget, Model: model}}}})
			_, info, err := r.Chat(context.Background(), chatReq("hi", "asia", nil, nil))
			if err != nil {
				t.Fatal(err)
			}
			if info.Provider != tc.wantProvider || info.Rule != "asia" {
				t.Fatalf("provider %q rule %q, want %q, asia", info.Provider, info.Rule, tc.wantProvider)
			}
			for p, n := range tc.wantCalls {
				if got := fakes[p].calls.Load(); got != n {
					t.Errorf("%s called %d times, want %d", p, got, n)
				}
			}
		})
	}
}

func TestRuleVariantLeavesItsTargetsOutOfTheOwnGroupAndHasItsOwnSignature(t *testing.T) {
	r := ruleRouter(t, &fake{name: "a"}, &fake{name: "b"}, &fake{name: "c"}, RetrySpec{},
		[]RuleSpec{{When: Condition{Region: "asia"}, Targets: []TargetSpec{{Provider: "b", Model: "m2"}}}})
	base := r.Table().routes["smart"]
	v := base.rules[0].variant
	var ids []string
	for _, g := range v.groups {
		var gs []string
		for _, tg := range g.targets {
			gs = append(gs, tg.Provider)
		}
		ids = append(ids, strings.Join(gs, ","))
	}
	if got := strings.Join(ids, " | "); got != "b | a" {
		t.Fatalf("variant groups %q, want \"b | a\"", got)
	}
	if v.sig == base.sig || v.sig == "" {
		t.Fatalf("variant signature %q, base %q: cached answers would cross", v.sig, base.sig)
	}
	if v.Name != "smart" || v.Retry != base.Retry || v.Strategy != base.Strategy {
		t.Fatalf("variant lost the route's policies: %+v", v)
	}
}

func TestConsecutiveFailuresDegradeThenRecover(t *testing.T) {
	clk := newClock()
	a, aDown := switchable("a")
	b, bDown := switchable("b")
	mini := &fake{name: "c"}
	r := ruleRouter(t, a, b, mini, RetrySpec{MaxAttempts: 2, InitialBackoff: time.Millisecond, MaxBackoff: time.Millisecond},
		[]RuleSpec{{Name: "degrade", When: Condition{ConsecutiveFailures: 3}, Targets: []TargetSpec{{Provider: "c", Model: "m3"}}}},
		WithClock(clk.now))
	send := func() (Info, error) {
		_, info, err := r.Chat(context.Background(), chatReq("hi", "", nil, nil))
		return info, err
	}
	aDown.Store(true)
	for i := range 3 { // a fails each time, b serves: only one own target failing
		info, err := send()
		if err != nil || info.Provider != "b" || info.Rule != "" {
			t.Fatalf("request %d: %v, provider %q rule %q; want b, no rule", i, err, info.Provider, info.Rule)
		}
	}
	bDown.Store(true)
	for i := range 2 { // both fail now; b's streak reaches 2, a's 5
		if _, err := send(); err == nil {
			t.Fatalf("request %d with both targets down succeeded", i)
		}
	}
	info, err := send() // b's third failure
	if err == nil {
		t.Fatalf("third failure of b succeeded: %+v", info)
	}
	before := a.calls.Load() + b.calls.Load()
	for i := range 3 {
		info, err := send()
		if err != nil || info.Provider != "c" || info.Rule != "degrade" {
			t.Fatalf("degraded request %d: %v, provider %q rule %q; want c, degrade", i, err, info.Provider, info.Rule)
		}
	}
	if n := a.calls.Load() + b.calls.Load(); n != before {
		t.Fatalf("the failing targets got %d calls while degraded", n-before)
	}

	// Within the recovery period the rule holds; after it, one request
	// tries the own targets. They are still down: it fails over to
	// nothing, fails, and the rule holds again.
	clk.advance(RuleRecovery - time.Second)
	if info, _ := send(); info.Rule != "degrade" {
		t.Fatalf("rule ended before the recovery period: %+v", info)
	}
	clk.advance(2 * time.Second)
	if _, err := send(); err == nil {
		t.Fatal("the trial request after the recovery period did not reach the failing targets")
	}
	if info, _ := send(); info.Rule != "degrade" {
		t.Fatalf("a failed trial did not degrade again: %+v", info)
	}

	// Recovered upstream: after the next period the trial succeeds, the
	// streak ends and the route's own targets serve again.
	aDown.Store(false)
	bDown.Store(false)
	clk.advance(RuleRecovery + time.Second)
	for i := range 3 {
		info, err := send()
		if err != nil || info.Provider != "a" || info.Rule != "" {
			t.Fatalf("recovered request %d: %v, provider %q rule %q; want a, no rule", i, err, info.Provider, info.Rule)
		}
	}
}

func TestStreakCountsWhatTheBreakerHoldsAgainstATarget(t *testing.T) {
	now := func() time.Time { return time.Unix(100, 0) }
	cases := []struct {
		name     string
		outcomes []breaker.Outcome
		want     int64
	}{
		{"failures count", []breaker.Outcome{breaker.Failure, breaker.Failure}, 2},
		{"a refused key counts", []breaker.Outcome{breaker.Failure, breaker.Rejected}, 2},
		{"a success ends the streak", []breaker.Outcome{breaker.Failure, breaker.Failure, breaker.Success, breaker.Failure}, 1},
		{"429 and the client's errors leave it", []breaker.Outcome{breaker.Failure, breaker.RateLimited, breaker.Neutral, breaker.Failure}, 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var s streak
			for _, o := range tc.outcomes {
				s.record(o, now)
			}
			if got := s.n.Load(); got != tc.want {
				t.Fatalf("streak %d, want %d", got, tc.want)
			}
			if !s.failing(int(tc.want), now()) || s.failing(int(tc.want)+1, now()) {
				t.Fatal("failing disagrees with the count")
			}
			if s.failing(1, now().Add(RuleRecovery)) {
				t.Fatal("still failing a recovery period after the latest failure")
			}
		})
	}
}

func TestEstimateCoversTheRulesTargets(t *testing.T) {
	pricey := []RuleSpec{{When: Condition{Region: "asia"}, Targets: []TargetSpec{{Provider: "c", Model: "m3"}}}}
	with := ruleRouter(t, &fake{}, &fake{}, &fake{}, RetrySpec{}, pricey)
	without := ruleRouter(t, &fake{}, &fake{}, &fake{}, RetrySpec{}, nil)
	req := chatReq("hi", "", nil, nil)
	// prov gives m1 a price; here c/m3 is priced above it.
	for _, r := range []*Router{with, without} {
		for _, tg := range r.Table().targets {
			if tg.Model == "m3" {
				tg.Price = Price{Input: 50, Output: 50}
			}
		}
	}
	e1, err := with.Estimate(req)
	if err != nil {
		t.Fatal(err)
	}
	e0, _ := without.Estimate(req)
	if e1.MaxCost <= e0.MaxCost {
		t.Fatalf("hold with a pricier rule target %d, without %d", e1.MaxCost, e0.MaxCost)
	}
}

func TestRuleMatchingAllocatesNothing(t *testing.T) {
	rules := []RuleSpec{
		{When: Condition{Region: "asia", KeyLabels: map[string]string{"tier": "free"}}, Targets: []TargetSpec{{Provider: "c", Model: "m3"}}},
		{When: Condition{EstimatedCostAbove: 1, ConsecutiveFailures: 2}, Targets: []TargetSpec{{Provider: "c", Model: "m3"}}},
		{When: Condition{Metadata: map[string]string{"team": "research"}}, Targets: []TargetSpec{{Provider: "b", Model: "m2"}}},
	}
	r := ruleRouter(t, &fake{}, &fake{}, &fake{}, RetrySpec{}, rules)
	plain := ruleRouter(t, &fake{}, &fake{}, &fake{}, RetrySpec{}, nil)
	for name, tc := range map[string]struct {
		r   *Router
		req *llm.ChatRequest
	}{
		"no rules": {plain, chatReq("hi", "asia", nil, nil)},
		"no match": {r, chatReq("hi", "asia", map[string]string{"tier": "paid"}, nil)},
		"match":    {r, chatReq("hi", "", nil, map[string]string{"team": "research"})},
	} {
		rt := tc.r.Table().routes["smart"]
		if n := testing.AllocsPerRun(100, func() { rt.match(tc.req, tc.r.now) }); n != 0 {
			t.Errorf("%s: %v allocations a match", name, n)
		}
	}
}

func TestBadRuleSpecsAreRefused(t *testing.T) {
	for name, ru := range map[string]RuleSpec{
		"no condition":     {Targets: []TargetSpec{{Provider: "c", Model: "m3"}}},
		"no targets":       {When: Condition{Region: "asia"}},
		"unknown provider": {When: Condition{Region: "asia"}, Targets: []TargetSpec{{Provider: "zz", Model: "m3"}}},
		"negative cost":    {When: Condition{EstimatedCostAbove: -1}, Targets: []TargetSpec{{Provider: "c", Model: "m3"}}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := New(Spec{Providers: []ProviderSpec{prov("a", []string{"m1"}, &fake{}), prov("c", []string{"m3"}, &fake{})},
				Routes: []RouteSpec{{Model: "smart", Targets: []TargetSpec{{Provider: "a", Model: "m1"}}, Rules: []RuleSpec{ru}}}})
			if err == nil {
				t.Fatal("built")
			}
		})
	}
}

func BenchmarkResolve(b *testing.B) {
	rules := []RuleSpec{
		{When: Condition{Region: "asia"}, Targets: []TargetSpec{{Provider: "c", Model: "m3"}}},
		{When: Condition{KeyLabels: map[string]string{"tier": "free"}}, Targets: []TargetSpec{{Provider: "b", Model: "m2"}}},
		{When: Condition{EstimatedCostAbove: 0.05}, Targets: []TargetSpec{{Provider: "c", Model: "m3"}}},
		{When: Condition{ConsecutiveFailures: 3}, Targets: []TargetSpec{{Provider: "c", Model: "m3"}}},
	}
	for _, bc := range []struct {
		name  string
		rules []RuleSpec
		req   *llm.ChatRequest
	}{
		{"no_rules", nil, chatReq("hello there", "", nil, nil)},
		{"four_rules_none_match", rules, chatReq("hello there", "us", map[string]string{"tier": "paid"}, nil)},
		{"first_rule_matches", rules, chatReq("hello there", "asia", nil, nil)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			r := ruleRouter(b, &fake{}, &fake{}, &fake{}, RetrySpec{}, bc.rules)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := r.resolve(bc.req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
