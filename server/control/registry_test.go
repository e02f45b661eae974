package control

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/switchyard/switchyard/config"
	"github.com/switchyard/switchyard/engine/route"
)

// config validates provider types and fills default base URLs without
// importing this package, so the two lists are kept equal here.
func TestBuiltinRegistryAgreesWithConfig(t *testing.T) {
	reg := Builtin()
	if got, want := reg.Types(), config.Types(); !slices.Equal(got, want) {
		t.Fatalf("registry types %v, config types %v", got, want)
	}
	for _, typ := range reg.Types() {
		a, _ := reg.Lookup(typ)
		if a.DefaultBaseURL == "" {
			continue
		}
		t.Run(typ, func(t *testing.T) {
			src := "providers:\n  - {name: p, type: " + typ + ", api_keys: [sk-0123456789abcdef], models: [m]}\n" +
				"routes:\n  - {model: r, targets: [{provider: p, model: m}]}\n"
			cfg, err := config.Parse([]byte(src), func(string) (string, bool) { return "", false })
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.Providers[0].BaseURL; got != a.DefaultBaseURL {
				t.Fatalf("config defaults base_url to %q, registry to %q", got, a.DefaultBaseURL)
			}
		})
	}
}

func TestNewRegistryRefusesDuplicatesAndIncompleteAdapters(t *testing.T) {
	build := func(config.Provider, string, *http.Client) (route.Provider, error) { return nil, nil }
	tests := []struct {
		name     string
		adapters []Adapter
		wantErr  string
	}{
		{"a type twice", []Adapter{{Type: "x", New: build}, {Type: "x", New: build}}, "twice"},
		{"no constructor", []Adapter{{Type: "x"}}, "constructor"},
		{"no type", []Adapter{{New: build}}, "type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewRegistry(tt.adapters...)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %v, want one mentioning %q", err, tt.wantErr)
			}
		})
	}
}

func TestUnregisteredTypeIsRefusedAtBuild(t *testing.T) {
	reg, err := NewRegistry(Adapter{Type: config.TypeSimulator, Local: true, New: newSimulator})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse([]byte(keyIDConfig), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	names, err := newKeyNamer(nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := buildProviders(reg, cfg, nil, names, nil); err == nil || !strings.Contains(err.Error(), `unknown provider type "openai-compatible"`) {
		t.Fatalf("error %v", err)
	}
}

func ExampleBuiltin() {
	reg := Builtin()
	for _, typ := range reg.Types() {
		a, _ := reg.Lookup(typ)
		fmt.Printf("%s %q local=%v\n", a.Type, a.DefaultBaseURL, a.Local)
	}
	// Output:
	// openai "https://api.openai.com/v1" local=false
	// anthropic "https://api.anthropic.com" local=false
	// gemini "https://generativelanguage.googleapis.com" local=false
	// openai-compatible "" local=false
	// azure "" local=false
	// simulator "" local=true
}

func TestControlBuildsProvidersThroughItsRegistry(t *testing.T) {
	var built []string
	reg, err := NewRegistry(Adapter{Type: config.TypeSimulator, Local: true, New: func(p config.Provider, key string, hc *http.Client) (route.Provider, error) {
		built = append(built, p.Name+"/"+key)
		return newSimulator(p, key, hc)
	}})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse([]byte(testConfig), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	ctl, err := New(hclog.NewNullLogger(), "", cfg, nil, WithRegistry(reg))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ctl.Close)
	if !slices.Equal(built, []string{"sim/"}) {
		t.Fatalf("registry built %v, want the keyless simulator once", built)
	}
	if _, err := ctl.AddKey(context.Background(), "sim", "sk-sim-added-0001", "", 1); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(built, []string{"sim/", "sim/sk-sim-added-0001"}) {
		t.Fatalf("registry built %v after AddKey", built)
	}
}
