package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

func TestParseAppliesDefaults(t *testing.T) {
	src := `
providers:
  - {name: sim, type: simulator, models: [m]}
  - {name: oa, type: openai, api_keys: [sk-0123456789]}
  - {name: an, type: anthropic, api_keys: [sk-0123456789]}
  - {name: ge, type: gemini, api_keys: [sk-0123456789]}
routes:
  - {model: auto, targets: [{provider: sim, model: m}]}
  - {model: manual, strategy: weighted, fallback_strategy: none, cache: {mode: all}, hybrid: {latency: 1}, targets: [{provider: sim, model: m}]}
`
	c, err := Parse([]byte(src), fakeEnv(nil))
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"listen", c.Listen, "127.0.0.1:8080"},
		{"log level", c.Log.Level, "info"},
		{"log format", c.Log.Format, "text"},
		{"max body", c.Server.MaxBodyBytes, int64(8 << 20)},
		{"shutdown", c.Server.ShutdownTimeout.D(), 30 * time.Second},
		{"read header", c.Server.ReadHeaderTimeout.D(), 10 * time.Second},
		{"request timeout", c.Server.RequestTimeout.D(), 10 * time.Minute},
		{"simulator base url stays empty", c.Providers[0].BaseURL, ""},
		{"simulator block created", c.Providers[0].Simulator != nil, true},
		{"simulator response tokens", c.Providers[0].Simulator.ResponseTokens, 24},
		{"simulator fail status", c.Providers[0].Simulator.FailStatus, 503},
		{"openai base url", c.Providers[1].BaseURL, "https://api.openai.com/v1"},
		{"anthropic base url", c.Providers[2].BaseURL, "https://api.anthropic.com"},
		{"anthropic version", c.Providers[2].APIVersion, "2023-06-01"},
		{"openai has no api version", c.Providers[1].APIVersion, ""},
		{"gemini base url", c.Providers[3].BaseURL, "https://generativelanguage.googleapis.com"},
		{"provider timeout", c.Providers[1].Timeout.D(), 120 * time.Second},
		{"idle conns", c.Providers[1].MaxIdleConnsPerHost, 256},
		{"routing strategy", c.Routing.Strategy, "priority"},
		{"routing fallback", c.Routing.FallbackStrategy, "failover"},
		{"route inherits strategy", c.Routes[0].Strategy, "priority"},
		{"route inherits fallback", c.Routes[0].FallbackStrategy, "failover"},
		{"route cache mode", c.Routes[0].Cache.Mode, "deterministic"},
		{"route hybrid weights", c.Routes[0].Hybrid, Hybrid{Cost: 0.4, Latency: 0.3, Quality: 0.3}},
		{"explicit strategy kept", c.Routes[1].Strategy, "weighted"},
		{"explicit fallback kept", c.Routes[1].FallbackStrategy, "none"},
		{"explicit cache mode kept", c.Routes[1].Cache.Mode, "all"},
		{"explicit hybrid kept", c.Routes[1].Hybrid, Hybrid{Latency: 1}},
	}
	for _, ck := range checks {
		t.Run(ck.name, func(t *testing.T) {
			if !reflect.DeepEqual(ck.got, ck.want) {
				t.Errorf("got %v, want %v", ck.got, ck.want)
			}
		})
	}
}

func TestParseExpandsEnvironment(t *testing.T) {
	env := fakeEnv(map[string]string{"KEY": "sk-abc", "HOST": "llm.internal:8000", "TOKEN": "t0k"})
	tests := []struct {
		name    string
		field   string
		in      string
		want    string
		wantErr string
	}{
		{"whole api key", "api_keys", "${KEY}", "sk-abc", ""},
		{"api key with prefix and suffix", "api_keys", "pre-${KEY}-post", "pre-sk-abc-post", ""},
		{"literal api key untouched", "api_keys", "sk-literal-123", "sk-literal-123", ""},
		{"dollar without braces untouched", "api_keys", "$KEY", "$KEY", ""},
		{"invalid name untouched", "api_keys", "${1BAD}x", "${1BAD}x", ""},
		{"unterminated reference untouched", "api_keys", "${KEY", "${KEY", ""},
		{"unset variable is an error", "api_keys", "${NOPE}", "", "environment variable NOPE is not set"},
		{"base url", "base_url", "http://${HOST}/v1", "http://llm.internal:8000/v1", ""},
		{"header value", "headers", "Bearer ${TOKEN}", "Bearer t0k", ""},
		{"two variables", "headers", "${TOKEN}:${KEY}", "t0k:sk-abc", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := Provider{Name: "p", Type: TypeOpenAICompatible, BaseURL: "http://localhost:1/v1", APIKeys: []string{"sk-fixed-0"}}
			switch tt.field {
			case "api_keys":
				p.APIKeys = []string{tt.in}
			case "base_url":
				p.BaseURL = tt.in
			case "headers":
				p.Headers = map[string]string{"X-Custom": tt.in}
			}
			src, err := yaml.Marshal(Config{Providers: []Provider{p}})
			if err != nil {
				t.Fatal(err)
			}
			c, err := Parse(src, env)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("want error %q, got %v", tt.wantErr, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{
				"api_keys": c.Providers[0].APIKeys[0],
				"base_url": c.Providers[0].BaseURL,
				"headers":  c.Providers[0].Headers["X-Custom"],
			}[tt.field]
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParseDoesNotExpandOtherFields(t *testing.T) {
	src := "providers: [{name: s, type: simulator, models: ['${KEY}']}]"
	c, err := Parse([]byte(src), fakeEnv(map[string]string{"KEY": "x"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Providers[0].Models[0] != "${KEY}" {
		t.Fatalf("model expanded to %q", c.Providers[0].Models[0])
	}
}

func TestParseDecodeErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{"misspelled top-level key names its line", "listen: ':1'\nprovider:\n  - name: x\n", []string{"line 2", "field provider not found"}},
		{"misspelled nested key names its line", "providers:\n  - name: s\n    type: simulator\n    modles: [a]\n", []string{"line 4", "field modles not found"}},
		{"misspelled simulator key", "providers:\n  - name: s\n    type: simulator\n    simulator:\n      token_dealy: 1s\n", []string{"line 5", "token_dealy"}},
		{"duration without unit", "server:\n  shutdown_timeout: 30\n", []string{"line 2", `invalid duration "30"`}},
		{"duration garbage", "server:\n\n  request_timeout: soon\n", []string{"line 3", `invalid duration "soon"`}},
		{"duration as a list", "server:\n  request_timeout: [1s]\n", []string{"line 2", "duration must be text"}},
		{"wrong type", "listen: [a, b]\n", []string{"line 1", "cannot unmarshal"}},
		{"two documents", "listen: ':1'\n---\nlisten: ':2'\n", []string{"more than one YAML document"}},
		{"syntax error", "listen: ':1\n", []string{"config: "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.src), fakeEnv(nil))
			if err == nil {
				t.Fatal("want error")
			}
			var ve *ValidationError
			if errors.As(err, &ve) {
				t.Fatalf("want a decode error, got validation: %v", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if !strings.HasPrefix(err.Error(), "config: ") {
				t.Errorf("error %q lacks the config: prefix", err)
			}
		})
	}
}

func TestEmptyDocumentNeedsProviders(t *testing.T) {
	_, err := Parse(nil, fakeEnv(nil))
	var ve *ValidationError
	if !errors.As(err, &ve) || ve.Errors[0].Field != "providers" {
		t.Fatalf("got %v", err)
	}
}

func TestDurationRoundTrip(t *testing.T) {
	tests := []struct {
		text string
		want time.Duration
		out  string
	}{
		{"250ms", 250 * time.Millisecond, "250ms"},
		{"2s", 2 * time.Second, "2s"},
		{"1m", time.Minute, "1m0s"},
		{"1h30m", 90 * time.Minute, "1h30m0s"},
		{"1.5s", 1500 * time.Millisecond, "1.5s"},
		{"0", 0, "0s"},
		{"0s", 0, "0s"},
		{"-3s", -3 * time.Second, "-3s"},
	}
	type doc struct {
		D Duration `yaml:"d"`
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			var d doc
			if err := yaml.Unmarshal([]byte("d: "+tt.text), &d); err != nil {
				t.Fatal(err)
			}
			if d.D.D() != tt.want {
				t.Fatalf("decoded %v, want %v", d.D.D(), tt.want)
			}
			out, err := yaml.Marshal(d)
			if err != nil {
				t.Fatal(err)
			}
			if string(out) != "d: "+tt.out+"\n" {
				t.Fatalf("marshalled %q, want %q", out, "d: "+tt.out+"\n")
			}
			var back doc
			if err := yaml.Unmarshal(out, &back); err != nil || back != d {
				t.Fatalf("round trip gave %v, %v", back, err)
			}
			txt, _ := d.D.MarshalText()
			var fromText Duration
			if err := fromText.UnmarshalText(txt); err != nil || fromText != d.D {
				t.Fatalf("text round trip gave %v, %v", fromText, err)
			}
		})
	}
}

func TestDefault(t *testing.T) {
	keys := map[string]string{
		"OPENAI_API_KEY":    "openai",
		"ANTHROPIC_API_KEY": "anthropic",
		"GEMINI_API_KEY":    "gemini",
		"DEEPSEEK_API_KEY":  "deepseek",
	}
	tests := []struct {
		name          string
		env           map[string]string
		wantProviders []string
	}{
		{"no keys: simulator only", nil, []string{"simulator"}},
		{"empty key counts as absent", map[string]string{"OPENAI_API_KEY": ""}, []string{"simulator"}},
		{"blank key counts as absent", map[string]string{"GEMINI_API_KEY": "  "}, []string{"simulator"}},
		{"openai", map[string]string{"OPENAI_API_KEY": "sk-o-0123456789"}, []string{"simulator", "openai"}},
		{"anthropic", map[string]string{"ANTHROPIC_API_KEY": "sk-a-0123456789"}, []string{"simulator", "anthropic"}},
		{"gemini", map[string]string{"GEMINI_API_KEY": "g-0123456789"}, []string{"simulator", "gemini"}},
		{"deepseek", map[string]string{"DEEPSEEK_API_KEY": "sk-d-0123456789"}, []string{"simulator", "deepseek"}},
		{"all four", map[string]string{"OPENAI_API_KEY": "sk-o-0123456789", "ANTHROPIC_API_KEY": "sk-a-0123456789",
			"GEMINI_API_KEY": "g-0123456789", "DEEPSEEK_API_KEY": "sk-d-0123456789", "UNRELATED": "x"},
			[]string{"simulator", "openai", "anthropic", "gemini", "deepseek"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Default(fakeEnv(tt.env))
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, p := range c.Providers {
				names = append(names, p.Name)
			}
			if !slices.Equal(names, tt.wantProviders) {
				t.Fatalf("providers = %v, want %v", names, tt.wantProviders)
			}
			sim := c.Providers[0]
			if sim.Type != TypeSimulator || !slices.Equal(sim.Models, []string{"sim-small", "sim-large"}) {
				t.Fatalf("simulator provider = %+v", sim)
			}
			if sim.Simulator.TokenDelay.D() != 20*time.Millisecond {
				t.Errorf("token delay = %v", sim.Simulator.TokenDelay)
			}
			for _, p := range c.Providers {
				for _, m := range p.Models {
					pr, ok := p.Prices[m]
					if !ok || pr.Input <= 0 {
						t.Errorf("%s/%s has no input price", p.Name, m)
					}
				}
				if p.Type == TypeSimulator {
					continue
				}
				envName := ""
				for k, v := range keys {
					if v == p.Name {
						envName = k
					}
				}
				if len(p.APIKeys) != 1 || p.APIKeys[0] != tt.env[envName] {
					t.Errorf("%s keys = %v, want the value of %s", p.Name, p.APIKeys, envName)
				}
			}
			if len(c.Routes) != 2 || c.Routes[0].Model != "auto" || c.Routes[1].Model != "sim" {
				t.Fatalf("routes = %+v, want auto and sim", c.Routes)
			}
			// sim is the simulator alone, probed: never a real provider.
			if p := c.Routes[1].Probe; p == nil || !p.Enabled {
				t.Errorf("sim's probe = %+v, want on", p)
			}
			for _, tg := range c.Routes[1].Targets {
				if tg.Provider != "simulator" {
					t.Errorf("sim targets %s; probes must reach the simulator only", tg.Provider)
				}
			}
			var targets []string
			for _, tg := range c.Routes[0].Targets {
				targets = append(targets, tg.Provider)
			}
			// One target per real provider present, then the simulator's two.
			want := append(slices.Clone(tt.wantProviders[1:]), "simulator", "simulator")
			if !slices.Equal(targets, want) {
				t.Fatalf("auto targets = %v, want %v", targets, want)
			}
		})
	}
}

func TestDefaultDeepseekIsOpenAICompatible(t *testing.T) {
	c, err := Default(fakeEnv(map[string]string{"DEEPSEEK_API_KEY": "sk-d-0123456789"}))
	if err != nil {
		t.Fatal(err)
	}
	p := c.Providers[1]
	if p.Type != TypeOpenAICompatible || p.BaseURL != "https://api.deepseek.com/v1" {
		t.Fatalf("deepseek = %+v", p)
	}
}

// exampleEnv sets every variable testdata/example.yaml references.
var exampleEnv = map[string]string{
	"OPENAI_API_KEY": "sk-openai-aaaaaaaaaaaa", "OPENAI_API_KEY_2": "sk-openai-bbbbbbbbbbbb",
	"ANTHROPIC_API_KEY": "sk-ant-cccccccccccc", "GEMINI_API_KEY": "gem-dddddddddddd",
	"DEEPSEEK_API_KEY": "sk-ds-eeeeeeeeeeee", "AZURE_OPENAI_API_KEY": "az-ffffffffffff",
	"AZURE_RESOURCE": "my-resource", "SWITCHYARD_API_KEY": "sk-switchyard-from-env-000000", "SWITCHYARD_POSTGRES_URL": "postgres://sy:pw@127.0.0.1:5432/sy",
	"SWITCHYARD_METRICS_TOKEN": "scrape-from-env-000000000",
}

func TestExampleFileIsValidAndComplete(t *testing.T) {
	c, err := Load(filepath.Join("testdata", "example.yaml"), fakeEnv(exampleEnv))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Providers[4].BaseURL; got != "https://my-resource.openai.azure.com" {
		t.Errorf("azure base_url = %q", got)
	}
	// Every field must be set somewhere in the sample, so the README's link
	// shows all of them; a new field without a sample line fails here.
	raw, err := os.ReadFile(filepath.Join("testdata", "example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var plain Config
	if err := yaml.Unmarshal(raw, &plain); err != nil {
		t.Fatal(err)
	}
	for _, missing := range unsetFields(reflect.ValueOf(plain), "") {
		t.Errorf("example.yaml never sets %s", missing)
	}
}

func TestExampleFileNeedsItsVariables(t *testing.T) {
	env := map[string]string{}
	for k, v := range exampleEnv {
		if k != "DEEPSEEK_API_KEY" {
			env[k] = v
		}
	}
	_, err := Load(filepath.Join("testdata", "example.yaml"), fakeEnv(env))
	if err == nil || !strings.Contains(err.Error(), "example.yaml: providers[3].api_keys[0]: environment variable DEEPSEEK_API_KEY is not set") {
		t.Fatalf("got %v", err)
	}
}

// unsetFields lists the struct fields that are zero in every element where
// they occur (slices and maps are searched element by element).
func unsetFields(v reflect.Value, path string) []string {
	seen := map[string]bool{}
	collectSet(v, path, seen)
	var all []string
	collectPaths(v.Type(), path, &all)
	var out []string
	for _, p := range all {
		if !seen[p] {
			out = append(out, p)
		}
	}
	return out
}

func collectPaths(t reflect.Type, path string, out *[]string) {
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Map:
		collectPaths(t.Elem(), path, out)
	case reflect.Struct:
		for i := range t.NumField() {
			f := t.Field(i)
			p := path + "." + f.Name
			*out = append(*out, p)
			collectPaths(f.Type, p, out)
		}
	}
}

func collectSet(v reflect.Value, path string, seen map[string]bool) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			collectSet(v.Elem(), path, seen)
		}
	case reflect.Slice:
		for i := range v.Len() {
			collectSet(v.Index(i), path, seen)
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			collectSet(v.MapIndex(k), path, seen)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			p := path + "." + v.Type().Field(i).Name
			if !v.Field(i).IsZero() {
				seen[p] = true
			}
			collectSet(v.Field(i), p, seen)
		}
	}
}

func TestLoadErrorsNameTheFile(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("listen: ':1'\nbogus: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	invalid := filepath.Join(dir, "invalid.yaml")
	if err := os.WriteFile(invalid, []byte("providers: [{name: s, type: nope}]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path string
		want       []string
	}{
		{"missing file", filepath.Join(dir, "absent.yaml"), []string{"absent.yaml", "no such file"}},
		{"decode error", bad, []string{bad, "line 2", "field bogus not found"}},
		{"validation error", invalid, []string{"config: " + invalid + ": providers[0].type: unknown type"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(tt.path, fakeEnv(nil))
			if err == nil {
				t.Fatal("want error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func loadExample(t *testing.T) *Config {
	t.Helper()
	c, err := Load(filepath.Join("testdata", "example.yaml"), fakeEnv(exampleEnv))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestWithRouting(t *testing.T) {
	c := loadExample(t)
	before := c.clone()

	t.Run("valid section replaces routing and defaults zero fields", func(t *testing.T) {
		routes := []Route{{Model: "fast", Targets: []Target{{Provider: "simulator", Model: "sim-small"}}}}
		n, err := c.WithRouting(Routing{Strategy: StrategyWeighted}, routes)
		if err != nil {
			t.Fatal(err)
		}
		if n.Routing.Strategy != "weighted" || n.Routing.FallbackStrategy != "failover" {
			t.Errorf("routing = %+v", n.Routing)
		}
		if len(n.Routes) != 1 || n.Routes[0].Strategy != "weighted" || n.Routes[0].Cache.Mode != "deterministic" {
			t.Errorf("routes = %+v", n.Routes)
		}
		routes[0].Targets[0].Model = "changed"
		if n.Routes[0].Targets[0].Model != "sim-small" {
			t.Error("the copy shares targets with the caller's slice")
		}
		n.Providers[0].APIKeys[0] = "mutated"
		n.Providers[0].Prices["gpt-4o"] = Price{}
		if !reflect.DeepEqual(c, before) {
			t.Error("the original changed")
		}
	})
	t.Run("invalid section is refused and changes nothing", func(t *testing.T) {
		_, err := c.WithRouting(Routing{Strategy: "bogus"}, []Route{{Model: "x", Targets: []Target{{Provider: "ghost"}}}})
		var ve *ValidationError
		if !errors.As(err, &ve) {
			t.Fatalf("want *ValidationError, got %v", err)
		}
		fields := map[string]bool{}
		for _, fe := range ve.Errors {
			fields[fe.Field] = true
		}
		if !fields["routing.strategy"] || !fields["routes[0].targets[0].provider"] {
			t.Errorf("errors = %v", err)
		}
		if !reflect.DeepEqual(c, before) {
			t.Error("the original changed")
		}
	})
}

func TestRedacted(t *testing.T) {
	c := loadExample(t)
	c.Providers[0].Headers["Authorization"] = "Bearer secret-token-value"
	c.Providers[3].BaseURL = "https://user:hunter2@api.deepseek.com/v1"
	c.Server.MetricsToken = "scrape-token-0123456789"
	before := c.clone()
	r := c.Redacted()

	if got := r.Server.MetricsToken; got != "****6789" {
		t.Errorf("metrics token = %q", got)
	}

	if got := r.Providers[0].APIKeys; !slices.Equal(got, []string{"****aaaa", "****bbbb"}) {
		t.Errorf("keys = %v", got)
	}
	if got := r.Providers[0].Headers["Authorization"]; got != "****alue" {
		t.Errorf("authorization header = %q", got)
	}
	if got := r.Providers[0].Headers["OpenAI-Organization"]; got != "org-example" {
		t.Errorf("harmless header masked: %q", got)
	}
	if got := r.Providers[3].BaseURL; strings.Contains(got, "hunter2") {
		t.Errorf("base_url leaks the password: %q", got)
	}
	out, err := yaml.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range exampleEnv {
		if len(secret) > 12 && strings.Contains(string(out), secret) {
			t.Errorf("redacted YAML contains %q", secret)
		}
	}
	if !reflect.DeepEqual(c, before) {
		t.Error("Redacted changed the original")
	}
}

func TestMaskSecret(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"short", "****"},
		{"12345678", "****"},
		{"sk-proj-abcdefghijklmnop", "****mnop"},
		{"${OPENAI_API_KEY}", "${OPENAI_API_KEY}"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := MaskSecret(tt.in); got != tt.want {
				t.Errorf("MaskSecret(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestEffectivePricesPreferConfigOverBuiltin(t *testing.T) {
	p := Provider{Models: []string{"gpt-4o-mini", "gpt-4o", "my-model"}, Prices: map[string]Price{"gpt-4o": {Input: 1, Output: 2}}}
	got := p.EffectivePrices()
	cases := []struct {
		model string
		want  Price
		ok    bool
	}{
		{"gpt-4o-mini", BuiltinPrices()["gpt-4o-mini"], true},
		{"gpt-4o", Price{Input: 1, Output: 2}, true},
		{"my-model", Price{}, false},
	}
	for _, tc := range cases {
		if pr, ok := got[tc.model]; ok != tc.ok || pr != tc.want {
			t.Errorf("%s: %+v %v, want %+v %v", tc.model, pr, ok, tc.want, tc.ok)
		}
	}
	for m, pr := range BuiltinPrices() {
		if pr.Input < 0 || pr.Output < 0 || pr.CachedInput > pr.Input {
			t.Errorf("%s: implausible price %+v", m, pr)
		}
	}
}

func TestDataDirEnvironmentOverridesFile(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"unset keeps the default", nil, "data"},
		{"empty keeps the default", map[string]string{"SWITCHYARD_DATA_DIR": ""}, "data"},
		{"set wins", map[string]string{"SWITCHYARD_DATA_DIR": "/srv/sy"}, "/srv/sy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Default(fakeEnv(tt.env))
			if err != nil {
				t.Fatal(err)
			}
			if c.Storage.DataDir != tt.want {
				t.Fatalf("data dir = %q, want %q", c.Storage.DataDir, tt.want)
			}
		})
	}
}
