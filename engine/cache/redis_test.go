package cache

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"os"
	"os/exec"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// testRedis returns the address of the Redis the tests may use, or skips.
func testRedis(t *testing.T) string {
	t.Helper()
	addr := os.Getenv("SWITCHYARD_TEST_REDIS")
	if addr == "" {
		t.Skip("SWITCHYARD_TEST_REDIS is not set: start one with `scripts/redis.sh` and export the address it prints (make test does)")
	}
	return addr
}

// testPrefix isolates a test's keys and deletes them afterwards.
func testPrefix(t *testing.T, addr string) string {
	t.Helper()
	b := make([]byte, 6)
	rand.Read(b)
	prefix := "switchyard:test:" + hex.EncodeToString(b) + ":"
	t.Cleanup(func() {
		c := redis.NewClient(&redis.Options{Addr: addr})
		defer c.Close()
		ctx := context.Background()
		keys, _ := c.Keys(ctx, prefix+"*").Result()
		if len(keys) > 0 {
			c.Del(ctx, keys...)
		}
	})
	return prefix
}

func newTestRedis(t *testing.T, addr string, opts ...RedisOption) *Redis {
	t.Helper()
	r, err := NewRedis(addr, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func TestRedisStoreSetGet(t *testing.T) {
	addr := testRedis(t)
	prefix := testPrefix(t, addr)
	r := newTestRedis(t, addr, WithRedisPrefix(prefix))
	ctx := context.Background()
	if err := r.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	k := keyN(1)
	if v, ttl, err := r.Get(ctx, k); v != nil || ttl != 0 || err != nil {
		t.Fatalf("empty get: %q %v %v", v, ttl, err)
	}
	if err := r.Set(ctx, k, []byte("value"), 10*time.Second); err != nil {
		t.Fatal(err)
	}
	v, ttl, err := r.Get(ctx, k)
	if err != nil || string(v) != "value" || ttl <= 9*time.Second || ttl > 10*time.Second {
		t.Fatalf("get: %q ttl %v err %v", v, ttl, err)
	}
	raw := redis.NewClient(&redis.Options{Addr: addr})
	defer raw.Close()
	if got, err := raw.Get(ctx, prefix+k.String()).Result(); err != nil || got != "value" {
		t.Fatalf("stored under %s: %q %v", prefix+k.String(), got, err)
	}

	t.Run("values expire", func(t *testing.T) {
		if err := r.Set(ctx, keyN(2), []byte("short"), 50*time.Millisecond); err != nil {
			t.Fatal(err)
		}
		time.Sleep(120 * time.Millisecond)
		if v, _, err := r.Get(ctx, keyN(2)); v != nil || err != nil {
			t.Fatalf("expired value read: %q %v", v, err)
		}
	})
	t.Run("value without expiry reads with ttl 0", func(t *testing.T) {
		raw.Set(ctx, prefix+keyN(3).String(), "forever", 0)
		if v, ttl, err := r.Get(ctx, keyN(3)); string(v) != "forever" || ttl != 0 || err != nil {
			t.Fatalf("%q %v %v", v, ttl, err)
		}
	})
}

func TestRedisTieredInstancesShareAnswers(t *testing.T) {
	addr := testRedis(t)
	prefix := testPrefix(t, addr)
	ctx := context.Background()
	a, _ := NewTiered(NewL1(), newTestRedis(t, addr, WithRedisPrefix(prefix)))
	b, _ := NewTiered(NewL1(), newTestRedis(t, addr, WithRedisPrefix(prefix)))

	cases := []struct {
		name string
		k    Key
		e    *Entry
	}{
		{"unary", keyN(1), &Entry{Response: sampleResponse(), Provider: "openai", Target: "openai/k1", UpstreamModel: "gpt-4o-mini"}},
		{"stream", keyN(2), FromChunks(sampleChunks())},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a.Set(ctx, tc.k, tc.e, time.Minute)
			before := b.Stats()
			got, ok := b.Get(ctx, tc.k)
			if !ok {
				t.Fatal("B missed what A wrote")
			}
			if !reflect.DeepEqual(got.ChatResponse(), tc.e.ChatResponse()) || !reflect.DeepEqual(drain(t, got.Stream()), drain(t, tc.e.Stream())) {
				t.Fatal("B read a different answer")
			}
			if got.Provider != tc.e.Provider || got.StoredAt.IsZero() {
				t.Fatalf("metadata lost: %+v", got)
			}
			if _, ok := b.L1().Get(tc.k); !ok {
				t.Fatal("B's L1 was not filled from Redis")
			}
			b.Get(ctx, tc.k)
			after := b.Stats()
			if after.L2Hits-before.L2Hits != 1 || after.L1Hits-before.L1Hits != 1 {
				t.Fatalf("stats before %+v after %+v", before, after)
			}
		})
	}
}

// redisServer runs a private redis-server the test can kill.
type redisServer struct {
	bin, port string
	cmd       *exec.Cmd
}

func startRedisServer(t *testing.T, port string) *redisServer {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server not on PATH: scripts/redis.sh installs it")
	}
	if port == "" {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port = strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
		ln.Close()
	}
	s := &redisServer{bin: bin, port: port}
	s.start(t)
	t.Cleanup(s.kill)
	return s
}

func (s *redisServer) addr() string { return "127.0.0.1:" + s.port }

func (s *redisServer) start(t *testing.T) {
	t.Helper()
	s.cmd = exec.Command(s.bin, "--port", s.port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--daemonize", "no", "--loglevel", "warning")
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(&redis.Options{Addr: s.addr(), MaxRetries: -1})
	defer c.Close()
	waitFor(t, "redis-server to answer", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		return c.Ping(ctx).Err() == nil
	})
}

func (s *redisServer) kill() {
	if s.cmd != nil && s.cmd.Process != nil {
		s.cmd.Process.Kill()
		s.cmd.Wait()
		s.cmd = nil
	}
}

func TestRedisOutageDegradesToL1AndRecovers(t *testing.T) {
	testRedis(t)
	srv := startRedisServer(t, "")
	var log stateLog
	ctx := context.Background()
	r := newTestRedis(t, srv.addr(), WithRedisTimeout(50*time.Millisecond))
	c, _ := NewTiered(NewL1(), r, WithRetryInterval(200*time.Millisecond), WithStateFunc(log.f))

	c.Set(ctx, keyN(1), textEntry("before"), time.Minute)
	if st := c.Stats(); st.L2Errors != 0 || st.L2Down {
		t.Fatalf("healthy redis: %+v", st)
	}

	srv.kill()
	bounded := func(what string, f func()) {
		t.Helper()
		start := time.Now()
		f()
		if d := time.Since(start); d > 500*time.Millisecond {
			t.Fatalf("%s took %v with redis down", what, d)
		}
	}
	bounded("read of a cached key", func() {
		if e, ok := c.Get(ctx, keyN(1)); !ok || e.ChatResponse().Choices[0].Message.Content != "before" {
			t.Fatal("L1 entry not served during the outage")
		}
	})
	bounded("read of a new key", func() {
		if _, ok := c.Get(ctx, keyN(2)); ok {
			t.Fatal("hit for a key never written")
		}
	})
	bounded("write", func() { c.Set(ctx, keyN(3), textEntry("during"), time.Minute) })
	bounded("many calls", func() {
		for range 100 {
			c.Get(ctx, keyN(4))
			c.Set(ctx, keyN(5), textEntry("x"), time.Minute)
		}
	})
	if _, ok := c.Get(ctx, keyN(3)); !ok {
		t.Fatal("write during the outage not kept in L1")
	}
	st := c.Stats()
	if st.L2Errors == 0 || !st.L2Down || st.L2Skipped == 0 {
		t.Fatalf("outage not counted: %+v", st)
	}
	if got := log.get(); !reflect.DeepEqual(got, []bool{false}) {
		t.Fatalf("state events %v, want one down", got)
	}

	srv.start(t) // same port, empty (no persistence)
	waitFor(t, "writes to reach redis again", func() bool {
		c.Set(ctx, keyN(6), textEntry("after"), time.Minute)
		return !c.Stats().L2Down
	})
	fresh, _ := NewTiered(NewL1(), newTestRedis(t, srv.addr()))
	if e, ok := fresh.Get(ctx, keyN(6)); !ok || e.ChatResponse().Choices[0].Message.Content != "after" {
		t.Fatal("write after recovery did not reach redis")
	}
	if got := log.get(); !reflect.DeepEqual(got, []bool{false, true}) {
		t.Fatalf("state events %v, want down then up", got)
	}
}

// BenchmarkTieredRedisGet is an L2 hit: one pipelined GET+PTTL round trip
// and a decode (the L1 copy is removed after each read).
func BenchmarkTieredRedisGet(b *testing.B) {
	addr := os.Getenv("SWITCHYARD_TEST_REDIS")
	if addr == "" {
		b.Skip("SWITCHYARD_TEST_REDIS is not set")
	}
	r, err := NewRedis(addr, WithRedisPrefix("switchyard:bench:"))
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	ctx := context.Background()
	e := FromResponse(sampleResponse())
	val, _ := e.MarshalBinary()
	if err := r.Set(ctx, keyN(1), val, time.Minute); err != nil {
		b.Fatal(err)
	}
	c, _ := NewTiered(NewL1(), r)
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := c.Get(ctx, keyN(1)); !ok {
			b.Fatal("miss")
		}
		c.L1().Remove(keyN(1))
	}
}
