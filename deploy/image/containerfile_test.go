package main

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// The Containerfile cannot be built here (no container daemon), so its
// runtime stage is held to the image the tests do build: the same user,
// entrypoint, command, environment, working dir, volume and port.
func TestContainerfileDescribesTheSameImage(t *testing.T) {
	b, err := os.ReadFile("Containerfile")
	if err != nil {
		t.Fatal(err)
	}
	// The runtime stage: from the last FROM on, continuation lines joined.
	text := strings.ReplaceAll(string(b), "\\\n", " ")
	lines := strings.Split(text, "\n")
	last := 0
	for i, l := range lines {
		if strings.HasPrefix(l, "FROM ") {
			last = i
		}
	}
	if got := strings.TrimSpace(lines[last]); got != "FROM scratch" {
		t.Fatalf("runtime stage %q, want FROM scratch", got)
	}
	inst := map[string][]string{}
	for _, l := range lines[last:] {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		op, arg, _ := strings.Cut(l, " ")
		inst[op] = append(inst[op], strings.TrimSpace(arg))
	}
	want := configFor(Options{Tag: "t", Arch: "amd64", Created: time.Unix(0, 0)}, "sha256:x").Config
	exec := func(op string) []string {
		t.Helper()
		if len(inst[op]) != 1 {
			t.Fatalf("%s appears %d times in the runtime stage", op, len(inst[op]))
		}
		var v []string
		if err := json.Unmarshal([]byte(inst[op][0]), &v); err != nil {
			t.Fatalf("%s %s: not the exec (JSON) form: %v", op, inst[op][0], err)
		}
		return v
	}
	if got := exec("ENTRYPOINT"); !slices.Equal(got, want.Entrypoint) {
		t.Errorf("ENTRYPOINT %q, image %q", got, want.Entrypoint)
	}
	if got := exec("CMD"); !slices.Equal(got, want.Cmd) {
		t.Errorf("CMD %q, image %q", got, want.Cmd)
	}
	if got := inst["USER"]; !slices.Equal(got, []string{want.User}) {
		t.Errorf("USER %q, image %q", got, want.User)
	}
	if got := inst["WORKDIR"]; !slices.Equal(got, []string{want.WorkingDir}) {
		t.Errorf("WORKDIR %q, image %q", got, want.WorkingDir)
	}
	for v := range want.Volumes {
		if !slices.Contains(inst["VOLUME"], v) {
			t.Errorf("VOLUME %q lacks %s", inst["VOLUME"], v)
		}
	}
	for p := range want.ExposedPorts {
		if !slices.Contains(inst["EXPOSE"], strings.TrimSuffix(p, "/tcp")) {
			t.Errorf("EXPOSE %q lacks %s", inst["EXPOSE"], p)
		}
	}
	env := strings.Fields(strings.Join(inst["ENV"], " "))
	slices.Sort(env)
	wantEnv := slices.Clone(want.Env)
	slices.Sort(wantEnv)
	if !slices.Equal(env, wantEnv) {
		t.Errorf("ENV %q, image %q", env, wantEnv)
	}
	// The build stage makes the binary the way scripts/image.sh does.
	if !strings.Contains(text, "CGO_ENABLED=0 go build -trimpath") || !strings.Contains(text, "/rootfs/"+binaryPath) {
		t.Error("the build stage does not build a static, trimmed binary at " + binaryPath)
	}
	if !strings.Contains(text, "--chown=65532:65532 /rootfs"+dataVolume) {
		t.Errorf("the data volume %s is not given to 65532", dataVolume)
	}
}
