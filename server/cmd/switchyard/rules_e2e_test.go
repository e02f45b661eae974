package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	pb "github.com/switchyard/switchyard/gen/go/switchyard/v1"
	"github.com/switchyard/switchyard/loadtest/fakeupstream"
)

// rulesConfig is the seed's "US → OpenAI, Asia → Gemini": one alias whose
// own first target is OpenAI, with a rule sending Asia to Gemini. Both
// providers are the fake upstream, each in its own wire format.
func rulesConfig(base string) string {
	return `
log: {level: error}
providers:
  - name: openai
    type: openai
    base_url: ` + base + `/v1
    api_keys: ["sk-openai-key-000000001"]
    models: [gpt-4o]
  - name: gemini
    type: gemini
    base_url: ` + base + `
    api_keys: ["gemini-key-0000000001"]
    models: [gemini-2.0-flash]
routes:
  - model: smart
    strategy: priority
    targets:
      - {provider: openai, model: gpt-4o, priority: 1}
      - {provider: gemini, model: gemini-2.0-flash, priority: 2}
    rules:
      - name: asia
        when: {region: asia}
        targets: [{provider: gemini, model: gemini-2.0-flash}]
`
}

func TestRegionRuleSendsAsiaToGeminiAndTheRestToOpenAI(t *testing.T) {
	fs := fakeupstream.New(fakeupstream.Options{Knobs: fakeupstream.Knobs{Tokens: 4}})
	up := httptest.NewServer(fs)
	t.Cleanup(func() { fs.Close(); up.Close() })
	g := startGateway(t, rulesConfig(up.URL))

	chat := func(region string, stream bool) *http.Response {
		t.Helper()
		body := `{"model":"smart","messages":[{"role":"user","content":"hi"}]`
		if stream {
			body += `,"stream":true`
		}
		req, err := http.NewRequest(http.MethodPost, g.base+"/v1/chat/completions", strings.NewReader(body+"}"))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		if region != "" {
			req.Header.Set("X-Switchyard-Region", region)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		if resp.StatusCode != 200 {
			t.Fatalf("region %q: status %d", region, resp.StatusCode)
		}
		return resp
	}
	// lastUpstream is where the fake saw the gateway's latest call.
	lastUpstream := func() fakeupstream.Record {
		t.Helper()
		recs := fs.Records()
		if len(recs) == 0 {
			t.Fatal("the fake upstream saw nothing")
		}
		return recs[len(recs)-1]
	}

	cases := []struct {
		name, region string
		stream       bool
		provider     string
		rule         string
		format       string
		path         string // the upstream path the call must hit
	}{
		{"no region: the route's own first target", "", false, "openai", "", "openai", "/v1/chat/completions"},
		{"asia: the rule's target", "asia", false, "gemini", "asia", "gemini", "/v1beta/models/gemini-2.0-flash:generateContent"},
		{"region compared without case", "Asia", false, "gemini", "asia", "gemini", "/v1beta/models/gemini-2.0-flash:generateContent"},
		{"another region: the route's own", "us", false, "openai", "", "openai", "/v1/chat/completions"},
		{"asia streamed", "asia", true, "gemini", "asia", "gemini", "/v1beta/models/gemini-2.0-flash:streamGenerateContent"},
		{"no region streamed", "", true, "openai", "", "openai", "/v1/chat/completions"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := len(fs.Records())
			resp := chat(tc.region, tc.stream)
			if !tc.stream {
				var out struct {
					Model string `json:"model"`
				}
				if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
					t.Fatal(err)
				}
			} else if b, err := io.ReadAll(resp.Body); err != nil || !strings.Contains(string(b), "data: [DONE]") {
				t.Fatalf("stream: %v\n%s", err, b)
			}
			if got := resp.Header.Get("X-Switchyard-Provider"); got != tc.provider {
				t.Fatalf("X-Switchyard-Provider %q, want %q", got, tc.provider)
			}
			if got := resp.Header.Get("X-Switchyard-Rule"); got != tc.rule {
				t.Fatalf("X-Switchyard-Rule %q, want %q", got, tc.rule)
			}
			if n := len(fs.Records()) - before; n != 1 {
				t.Fatalf("%d upstream calls, want 1", n)
			}
			rec := lastUpstream()
			if rec.Format != tc.format || rec.Path != tc.path {
				t.Fatalf("upstream saw %s %s (format %q), want %s (%s)", rec.Method, rec.Path, rec.Format, tc.path, tc.format)
			}
			if tc.provider == "openai" && !strings.Contains(rec.Body, `"gpt-4o"`) {
				t.Fatalf("OpenAI was sent %s", rec.Body)
			}
		})
	}

	t.Run("grpc metadata", func(t *testing.T) {
		conn, err := grpc.NewClient(g.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c := pb.NewChatServiceClient(conn)
		for region, want := range map[string]string{"asia": "gemini", "": "openai"} {
			cctx := ctx
			if region != "" {
				cctx = metadata.AppendToOutgoingContext(ctx, "x-switchyard-region", region)
			}
			resp, err := c.CreateChatCompletion(cctx, chatReq("smart"))
			if err != nil {
				t.Fatal(err)
			}
			if got := resp.GetSwitchyard().GetProvider(); got != want {
				t.Fatalf("region %q: provider %q, want %q", region, got, want)
			}
			if rec := lastUpstream(); rec.Format != want {
				t.Fatalf("region %q: upstream format %q, want %q", region, rec.Format, want)
			}
		}
	})
}

func TestRoutingAPISetsAndShowsRules(t *testing.T) {
	fs := fakeupstream.New(fakeupstream.Options{Knobs: fakeupstream.Knobs{Tokens: 4}})
	up := httptest.NewServer(fs)
	t.Cleanup(func() { fs.Close(); up.Close() })
	g := startGateway(t, rulesConfig(up.URL))

	// The API's body replaces the routes: the asia rule gives way to one
	// for eu (JSON as the REST facade takes it).
	body := `{"routes":[{"model":"smart","strategy":"priority","targets":[{"provider":"openai","model":"gpt-4o"}],
		"rules":[{"name":"eu","when":{"region":"eu"},"targets":[{"provider":"gemini","model":"gemini-2.0-flash"}]}]}]}`
	if resp := post(t, g.base+"/v1/routing/config", body); resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("update: %d %s", resp.StatusCode, b)
	}
	resp := getPrices(t, g.base+"/v1/routing/config") // a plain GET, closed at the end
	var got struct {
		Config struct {
			Routes []struct {
				Model string `json:"model"`
				Rules []struct {
					Name string `json:"name"`
					When struct {
						Region string `json:"region"`
					} `json:"when"`
				} `json:"rules"`
			} `json:"routes"`
		} `json:"config"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	if rs := got.Config.Routes; len(rs) != 1 || len(rs[0].Rules) != 1 || rs[0].Rules[0].Name != "eu" || rs[0].Rules[0].When.Region != "eu" {
		t.Fatalf("GET shows %+v", got.Config.Routes)
	}
	for region, want := range map[string]string{"eu": "gemini", "asia": "openai"} {
		req, _ := http.NewRequest(http.MethodPost, g.base+"/v1/chat/completions", strings.NewReader(`{"model":"smart","messages":[{"role":"user","content":"hi"}]}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Switchyard-Region", region)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if p := resp.Header.Get("X-Switchyard-Provider"); resp.StatusCode != 200 || p != want {
			t.Fatalf("region %s after the update: %d from %q, want %q", region, resp.StatusCode, p, want)
		}
	}

	bad := `{"routes":[{"model":"smart","targets":[{"provider":"openai","model":"gpt-4o"}],"rules":[{"when":{},"targets":[{"provider":"gemini","model":"gemini-2.0-flash"}]}]}]}`
	resp = post(t, g.base+"/v1/routing/config", bad)
	var e openAIError
	_ = json.NewDecoder(resp.Body).Decode(&e)
	if resp.StatusCode != 400 || !strings.Contains(e.Error.Message, "routes[0].rules[0].when") {
		t.Fatalf("empty when: %d %q", resp.StatusCode, e.Error.Message)
	}
}
