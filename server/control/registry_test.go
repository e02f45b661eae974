package control

import (
	"net/http"
	"slices"
	"strings"
	"testing"

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
