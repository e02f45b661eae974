package control

import (
	"testing"

	"github.com/switchyard/switchyard/config"
)

func TestBuildSpecCarriesPanicMode(t *testing.T) {
	tests := []struct {
		name        string
		routing     string
		wantDefault bool            // NoPanic of plain model names
		wantRoutes  map[string]bool // NoPanic by alias
	}{
		{"on by default", "", false, map[string]bool{"inherit": false, "on": false, "off": true}},
		{"routing off", "routing: {panic_mode: false}\n", true, map[string]bool{"inherit": true, "on": false, "off": true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := tt.routing + `
providers:
  - {name: sim, type: simulator, models: [m1]}
routes:
  - {model: inherit, targets: [{provider: sim, model: m1}]}
  - {model: "on", panic_mode: true, targets: [{provider: sim, model: m1}]}
  - {model: "off", panic_mode: false, targets: [{provider: sim, model: m1}]}
`
			cfg, err := config.Parse([]byte(src), func(string) (string, bool) { return "", false })
			if err != nil {
				t.Fatal(err)
			}
			spec := buildSpec(cfg, nil)
			if spec.DefaultNoPanic != tt.wantDefault {
				t.Fatalf("DefaultNoPanic %v, want %v", spec.DefaultNoPanic, tt.wantDefault)
			}
			for _, rs := range spec.Routes {
				if rs.NoPanic != tt.wantRoutes[rs.Model] {
					t.Fatalf("route %s NoPanic %v, want %v", rs.Model, rs.NoPanic, tt.wantRoutes[rs.Model])
				}
			}
			if len(spec.Routes) != len(tt.wantRoutes) {
				t.Fatalf("%d routes", len(spec.Routes))
			}
		})
	}
}
