// Package helm_test checks what deploy/helm/switchyard renders: the probes
// and drain budget against the gateway's own drain deadline, the security
// context, and the rendered config against the gateway's validation with
// the rendered Secret as its environment. scripts/test-helm.sh runs it with
// SWITCHYARD_HELM set; without a helm binary it skips.
package helm_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/switchyard/switchyard/config"
	"github.com/switchyard/switchyard/server/metrics"
)

func helmBinary(t *testing.T) string {
	t.Helper()
	if h := os.Getenv("SWITCHYARD_HELM"); h != "" {
		return h
	}
	if _, err := os.Stat("../../tools/bin/helm"); err == nil {
		return "../../tools/bin/helm"
	}
	t.Skip("no helm: scripts/install-helm.sh installs it, scripts/test-helm.sh runs this test")
	return ""
}

type doc = map[string]any

func render(t *testing.T, args ...string) []doc {
	t.Helper()
	cmd := exec.Command(helmBinary(t), append([]string{"template", "sy", "switchyard"}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("helm template: %v\n%s", err, stderr.String())
	}
	var docs []doc
	dec := yaml.NewDecoder(bytes.NewReader(out))
	for {
		var d doc
		err := dec.Decode(&d)
		if errors.Is(err, io.EOF) {
			return docs
		}
		if err != nil {
			t.Fatalf("render is not YAML: %v", err)
		}
		if d != nil {
			docs = append(docs, d)
		}
	}
}

// get walks a path of map keys and list indexes.
func get(t *testing.T, v any, keys ...any) any {
	t.Helper()
	for _, k := range keys {
		switch k := k.(type) {
		case string:
			m, ok := v.(doc)
			if !ok {
				t.Fatalf("%v: not a map at %q", keys, k)
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				t.Fatalf("%v: no item %d", keys, k)
			}
			v = l[k]
		}
	}
	return v
}

func one(t *testing.T, docs []doc, kind string) doc {
	t.Helper()
	var found []doc
	for _, d := range docs {
		if d["kind"] == kind {
			found = append(found, d)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d %s objects rendered, want 1", len(found), kind)
	}
	return found[0]
}

func has(docs []doc, kind string) bool {
	return slices.ContainsFunc(docs, func(d doc) bool { return d["kind"] == kind })
}

func num(t *testing.T, v any) int {
	t.Helper()
	n, ok := v.(int)
	if !ok {
		t.Fatalf("%v (%T) is not an integer", v, v)
	}
	return n
}

func TestChartRendersADrainSafeLockedDownGatewayWhoseConfigValidates(t *testing.T) {
	for _, tc := range []struct {
		name                     string
		args                     []string
		preStop, shutdown, exit  int
		watch                    string
		monitor, inFlight, roll  bool
		postgresURL, redisURL    string
		clientKeys, providerKeys int
	}{
		{name: "defaults", preStop: 5, shutdown: 30, exit: 16, watch: "5s"},
		{name: "every option", args: []string{"-f", "switchyard/ci/full-values.yaml"}, preStop: 10, shutdown: 120, exit: 16, watch: "10s",
			monitor: true, inFlight: true, roll: true,
			postgresURL: "postgres://switchyard:pw@postgres:5432/switchyard?sslmode=disable", redisURL: "redis://redis:6379/0", clientKeys: 1, providerKeys: 1},
		{name: "no watch, no preStop, short drain", args: []string{"--set", "configReload.watchInterval=", "--set", "drain.shutdownTimeoutSeconds=7",
			"--set", "drain.preStopSleepSeconds=0", "--set", "autoscaling.enabled=false"},
			preStop: 0, shutdown: 7, exit: 16},
	} {
		t.Run(tc.name, func(t *testing.T) {
			docs := render(t, tc.args...)
			dep := one(t, docs, "Deployment")
			pod := get(t, dep, "spec", "template", "spec").(doc)
			c := get(t, pod, "containers", 0).(doc)

			// The config the gateway will load, with the Secret as its env.
			secret := one(t, docs, "Secret")
			env := map[string]string{}
			if sd, ok := secret["stringData"].(doc); ok {
				for k, v := range sd {
					env[k] = v.(string)
				}
			}
			if ref := get(t, c, "envFrom", 0, "secretRef", "name"); ref != get(t, secret, "metadata", "name") {
				t.Fatalf("envFrom names secret %v, the chart's is %v", ref, get(t, secret, "metadata", "name"))
			}
			raw := get(t, one(t, docs, "ConfigMap"), "data", "switchyard.yaml").(string)
			cfg, err := config.Parse([]byte(raw), func(k string) (string, bool) { v, ok := env[k]; return v, ok })
			if err != nil {
				t.Fatalf("the rendered config does not validate: %v\n%s", err, raw)
			}

			// Drain: preStop, then the gateway's deadline, then its exit work.
			if got := time.Duration(cfg.Server.ShutdownTimeout); got != time.Duration(tc.shutdown)*time.Second {
				t.Fatalf("server.shutdown_timeout %v, want %ds", got, tc.shutdown)
			}
			grace := num(t, pod["terminationGracePeriodSeconds"])
			if grace != tc.preStop+tc.shutdown+tc.exit {
				t.Fatalf("terminationGracePeriodSeconds %d, want %d+%d+%d", grace, tc.preStop, tc.shutdown, tc.exit)
			}
			if tc.preStop == 0 {
				if c["lifecycle"] != nil {
					t.Fatalf("lifecycle %v with no preStop sleep asked for", c["lifecycle"])
				}
			} else if got := num(t, get(t, c, "lifecycle", "preStop", "sleep", "seconds")); got != tc.preStop {
				t.Fatalf("preStop sleeps %ds, want %d", got, tc.preStop)
			}
			for _, probe := range []string{"readinessProbe", "livenessProbe"} {
				if p := get(t, c, probe, "httpGet", "path"); p != "/healthz" || get(t, c, probe, "httpGet", "port") != "http" {
					t.Fatalf("%s probes %v", probe, get(t, c, probe))
				}
			}
			live := num(t, get(t, c, "livenessProbe", "periodSeconds")) * num(t, get(t, c, "livenessProbe", "failureThreshold"))
			if live <= grace {
				t.Fatalf("liveness gives up after %ds, within the %ds grace period: a long drain would be killed", live, grace)
			}

			// Security: non-root, read-only root, no capabilities.
			if get(t, pod, "securityContext", "runAsNonRoot") != true || get(t, pod, "securityContext", "runAsUser") != 65532 {
				t.Fatalf("pod securityContext %v", pod["securityContext"])
			}
			sc := c["securityContext"].(doc)
			if sc["readOnlyRootFilesystem"] != true || sc["allowPrivilegeEscalation"] != false || !slices.Contains(get(t, sc, "capabilities", "drop").([]any), any("ALL")) {
				t.Fatalf("container securityContext %v", sc)
			}

			// What the gateway writes sits on a writable volume; the config
			// directory is mounted whole, so ConfigMap updates reach it.
			mounts := map[string]doc{}
			for _, m := range c["volumeMounts"].([]any) {
				mounts[m.(doc)["mountPath"].(string)] = m.(doc)
			}
			var cfgArg string
			for _, a := range c["args"].([]any) {
				if v, ok := strings.CutPrefix(a.(string), "--config="); ok {
					cfgArg = v
				}
			}
			cm, ok := mounts[path.Dir(cfgArg)]
			if !ok || cm["subPath"] != nil {
				t.Fatalf("--config=%s is not in a whole-directory mount: %v", cfgArg, mounts)
			}
			if !writableUnder(mounts, cfg.Storage.DataDir) || !writableUnder(mounts, "/tmp") {
				t.Fatalf("data dir %s or /tmp is not on a writable volume: %v", cfg.Storage.DataDir, mounts)
			}
			if !slices.Contains(c["args"].([]any), any("--watch-config="+tc.watch)) != (tc.watch == "") {
				t.Fatalf("args %v, want --watch-config=%q", c["args"], tc.watch)
			}
			annotations, _ := get(t, dep, "spec", "template", "metadata").(doc)["annotations"].(doc)
			_, rolled := annotations["checksum/config"]
			if rolled != tc.roll {
				t.Fatalf("checksum/config annotation present %v, want %v", rolled, tc.roll)
			}

			// One port, the one the config listens on.
			port := num(t, get(t, c, "ports", 0, "containerPort"))
			if !strings.HasSuffix(cfg.Listen, ":"+strconv.Itoa(port)) || get(t, c, "ports", 0, "name") != "http" {
				t.Fatalf("listen %s, container port %d", cfg.Listen, port)
			}
			sel := get(t, dep, "spec", "selector", "matchLabels").(doc)
			for _, kind := range []string{"Service", "PodDisruptionBudget"} {
				d := one(t, docs, kind)
				got := get(t, d, "spec", "selector")
				if m, ok := got.(doc)["matchLabels"]; ok {
					got = m
				}
				if !mapsEqual(got.(doc), sel) {
					t.Fatalf("%s selects %v, the pods carry %v", kind, got, sel)
				}
			}

			// Shared state reaches the config from the Secret.
			if cfg.Storage.PostgresURL != tc.postgresURL || cfg.Storage.RedisURL != tc.redisURL || cfg.ResponseCache.RedisURL != tc.redisURL {
				t.Fatalf("postgres %q redis %q cache %q", cfg.Storage.PostgresURL, cfg.Storage.RedisURL, cfg.ResponseCache.RedisURL)
			}
			if len(cfg.Auth.APIKeys) != tc.clientKeys {
				t.Fatalf("%d client keys, want %d", len(cfg.Auth.APIKeys), tc.clientKeys)
			}

			if has(docs, "ServiceMonitor") != tc.monitor {
				t.Fatalf("ServiceMonitor rendered %v, want %v", has(docs, "ServiceMonitor"), tc.monitor)
			}
			if tc.monitor {
				key := get(t, one(t, docs, "ServiceMonitor"), "spec", "endpoints", 0, "authorization", "credentials", "key").(string)
				if env[key] == "" || cfg.Server.MetricsToken != env[key] {
					t.Fatalf("the ServiceMonitor scrapes with %s, which is not the gateway's metrics_token", key)
				}
			}
			hpa := has(docs, "HorizontalPodAutoscaler")
			if hpa == (dep["spec"].(doc)["replicas"] != nil) {
				t.Fatal("replicas must be set exactly when no HPA owns them")
			}
			if hpa {
				var pods []string
				for _, m := range get(t, one(t, docs, "HorizontalPodAutoscaler"), "spec", "metrics").([]any) {
					if m.(doc)["type"] == "Pods" {
						pods = append(pods, get(t, m, "pods", "metric", "name").(string))
					}
				}
				if tc.inFlight != (len(pods) == 1) {
					t.Fatalf("HPA pods metrics %v, in-flight wanted %v", pods, tc.inFlight)
				}
				for _, name := range pods {
					if !gatewayExports(t, name) {
						t.Fatalf("the HPA scales on %s, which the gateway does not export", name)
					}
				}
			}
		})
	}
}

func writableUnder(mounts map[string]doc, p string) bool {
	for mp, m := range mounts {
		if (p == mp || strings.HasPrefix(p, mp+"/")) && m["readOnly"] != true {
			return true
		}
	}
	return false
}

func mapsEqual(a, b doc) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func gatewayExports(t *testing.T, name string) bool {
	t.Helper()
	mfs, err := metrics.New().Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return true
		}
	}
	return false
}

// Plain manifests for users without Helm are the chart's current render.
func TestCommittedManifestsAreTheCurrentRender(t *testing.T) {
	helm := helmBinary(t)
	want, err := os.ReadFile("../manifests/switchyard.yaml")
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(helm, "template", "switchyard", "switchyard").Output()
	if err != nil {
		t.Fatal(err)
	}
	_, body, ok := bytes.Cut(want, []byte("\n---\n"))
	if !ok || !bytes.Equal(append([]byte("---\n"), body...), out) {
		t.Fatal("deploy/manifests/switchyard.yaml differs from helm template of the chart: run make manifests and commit it")
	}
}
