package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// runBinary runs the gateway binary with args and env added and returns
// its combined output and exit code.
func runBinary(t *testing.T, env []string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(gatewayBinary(t), args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return string(out), ee.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	return string(out), 0
}

func TestCheckIsOfflineAndConnectDialsTheStores(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "never-created")
	// Nothing listens on a port just freed, so a dial there fails at once.
	dead := freeAddr(t)
	write := func(name, storage string) string {
		path := filepath.Join(dir, name)
		cfg := "providers:\n  - {name: sim, type: simulator, models: [m]}\nstorage:\n" + storage
		if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	sqlite := write("sqlite.yaml", "  data_dir: "+data+"\n")
	redis := write("redis.yaml", "  data_dir: "+data+"\n  redis_url: redis://"+dead+"/0\n")
	pg := write("pg.yaml", "  postgres_url: postgres://u:secretpw@"+dead+"/db?sslmode=disable\n")
	// The environment's override would win over the files: point it at the
	// same never-created directory.
	env := []string{"SWITCHYARD_DATA_DIR=" + data}
	for _, tc := range []struct {
		name    string
		args    []string
		code    int
		want    []string
		notWant []string
	}{
		{"offline sqlite", []string{"--check", "--config", sqlite}, 0,
			[]string{"config ok:", "does not exist yet"}, nil},
		{"offline redis is not dialled", []string{"--check", "--config", redis}, 0,
			[]string{"config ok:", "storage.redis_url redis://" + dead + "/0: not dialled"}, nil},
		{"offline postgres is not dialled", []string{"--check", "--config", pg}, 0,
			[]string{"storage.postgres_url", "not dialled"}, []string{"secretpw"}},
		{"connect to an unreachable redis fails", []string{"--check", "--connect", "--config", redis}, 1,
			[]string{"storage.redis_url redis://" + dead + "/0: unreachable:", "1 of 1 configured stores did not answer"}, nil},
		{"connect to an unreachable postgres fails", []string{"--check", "--connect", "--config", pg}, 1,
			[]string{"storage.postgres_url", "unreachable:"}, []string{"secretpw"}},
		{"connect without check is a usage error", []string{"--connect", "--config", sqlite}, 2,
			[]string{"--connect goes with --check"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, code := runBinary(t, env, tc.args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d:\n%s", code, tc.code, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(out, w) {
					t.Errorf("output shows %q:\n%s", w, out)
				}
			}
			if _, err := os.Stat(data); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("--check created the data directory %s (stat: %v)", data, err)
			}
		})
	}
}

func TestUnknownGatewayCommandListsTheCommandsAndExitsTwo(t *testing.T) {
	out, code := runBinary(t, nil, "frobnicate")
	if code != 2 {
		t.Fatalf("exit %d, want 2:\n%s", code, out)
	}
	for _, w := range []string{`unknown command "frobnicate"`, "Commands:", "keys", "providers", "--check"} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
}

func TestCheckConnectReportsAReachableRedis(t *testing.T) {
	addr := testRedisAddr(t)
	dir := t.TempDir()
	data := filepath.Join(dir, "never-created")
	path := filepath.Join(dir, "redis.yaml")
	cfg := "providers:\n  - {name: sim, type: simulator}\nstorage: {data_dir: " + data + ", redis_url: \"redis://" + addr + "/0\"}\ncache: {redis_url: \"" + addr + "\"}\n"
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	out, code := runBinary(t, []string{"SWITCHYARD_DATA_DIR=" + data}, "--check", "--connect", "--config", path)
	if code != 0 || strings.Count(out, ": ok") != 2 {
		t.Fatalf("exit %d, want 0 with both stores ok:\n%s", code, out)
	}
	if _, err := os.Stat(data); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("--check --connect created the data directory (stat: %v)", err)
	}
}
