package control

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver, for the schema

	"github.com/switchyard/switchyard/config"
	"github.com/switchyard/switchyard/server/keydir"
	"github.com/switchyard/switchyard/server/rpc"
	"github.com/switchyard/switchyard/store"
)

// replica is one gateway of a fleet test: its own Control, store handle
// and key directory over the shared database.
type replica struct {
	ctl *Control
	dir *keydir.Directory
}

// startReplica wires a gateway as main does (store, sealer, key directory,
// restore) over opts, then starts following changes with sopts.
func startReplica(t *testing.T, opts store.Options, sopts ...SyncOption) replica {
	t.Helper()
	ctx := context.Background()
	cfg, err := config.Parse([]byte(keyIDConfig), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	ctl, err := New(testLogger(t), "", cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	sealer, err := store.NewSealer(strings.Repeat("ab", 32))
	if err != nil {
		t.Fatal(err)
	}
	ctl.SetStore(st, nil, sealer)
	// An hour's TTL: only the change message can make a revocation show
	// within the test's 2 s.
	dir, err := keydir.New(ctx, st, hclog.NewNullLogger(), keydir.WithTTL(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	ctl.SetKeyDirectory(dir)
	t.Cleanup(func() { ctl.Close(); _ = dir.Close(); _ = st.Close() })
	if err := ctl.Restore(ctx); err != nil {
		t.Fatal(err)
	}
	if err := ctl.StartSync(ctx, sopts...); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ctl.sync.caughtUp:
	case <-time.After(5 * time.Second):
		t.Fatal("the replica never started listening")
	}
	return replica{ctl: ctl, dir: dir}
}

// within polls cond until it holds or d passes.
func within(t *testing.T, d time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > d {
			t.Fatalf("%s: not within %v", what, d)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return time.Since(start)
}

// exercisePropagation makes each kind of change on a and checks b follows
// within 2 s: a routing change, a provider key added and removed, a
// client key revoked.
func exercisePropagation(t *testing.T, a, b replica, st *store.Store) {
	ctx := context.Background()
	const limit = 2 * time.Second

	cur := a.ctl.Routing()
	routes := slices.Clone(cur.Routes)
	routes = append(routes, config.Route{Model: "extra", Targets: []config.Target{{Provider: "up", Model: "up-model"}}})
	next, err := a.ctl.UpdateRouting(ctx, rpc.RoutingChange{Routing: cur.Routing, Routes: routes, By: "test", At: time.Now(), IfVersion: cur.Version})
	if err != nil {
		t.Fatal(err)
	}
	took := within(t, limit, "routing change on the other replica", func() bool {
		r := b.ctl.Routing()
		return r.Version == next.Version && len(r.Routes) == 2 && strings.Contains(b.ctl.Router().Table().String(), "extra")
	})
	t.Logf("routing change followed in %v", took)

	ks, err := a.ctl.AddKey(ctx, "up", "sk-added-on-a-0123456789", "from-a", 2)
	if err != nil {
		t.Fatal(err)
	}
	hasKey := func(r replica, id string) bool {
		for _, p := range r.ctl.Status() {
			for _, k := range p.Keys {
				if k.ID == id {
					return true
				}
			}
		}
		return false
	}
	within(t, limit, "provider key added on the other replica", func() bool { return hasKey(b, ks.ID) })
	if err := a.ctl.RemoveKey(ctx, "up", ks.ID); err != nil {
		t.Fatal(err)
	}
	within(t, limit, "provider key removed on the other replica", func() bool { return !hasKey(b, ks.ID) })

	secret, prefix, hash, err := store.NewClientKeySecret()
	if err != nil {
		t.Fatal(err)
	}
	ck := store.ClientKey{ID: "ck-" + prefix, Name: "fleet", Prefix: prefix, Hash: hash}
	if err := st.CreateClientKey(ctx, ck); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(secret))
	if k, err := b.dir.Lookup(ctx, sum); err != nil || k == nil {
		t.Fatalf("the new key does not resolve on b: %v %v", k, err)
	}
	if err := st.RevokeClientKey(ctx, ck.ID, time.Now().Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	a.ctl.keysChanged(ck.ID) // what KeyService calls after the revocation
	within(t, limit, "client key revocation on the other replica", func() bool {
		k, err := b.dir.Lookup(ctx, sum)
		return err == nil && k == nil
	})
}

func TestChangesReachOtherReplicasOverPostgresNotify(t *testing.T) {
	u := freshSchema(t)
	never := WithResyncTick(make(chan time.Time)) // only the messages carry changes
	a := startReplica(t, store.Options{PostgresURL: u}, never)
	b := startReplica(t, store.Options{PostgresURL: u}, never)
	if a.ctl.sync.kind != "postgres LISTEN/NOTIFY" {
		t.Fatalf("notifier %q", a.ctl.sync.kind)
	}
	st, err := store.Open(context.Background(), store.Options{PostgresURL: u})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	exercisePropagation(t, a, b, st)
}

func TestChangesReachOtherReplicasOverRedisPubSub(t *testing.T) {
	addr := os.Getenv("SWITCHYARD_TEST_REDIS")
	if addr == "" {
		t.Skip("SWITCHYARD_TEST_REDIS is not set: start one with `scripts/redis.sh` and export the address it prints (make test does)")
	}
	// Two gateways on one SQLite file stand for any store without
	// LISTEN/NOTIFY: Redis carries the messages.
	dir := t.TempDir()
	notifier := func() SyncOption {
		n, err := newRedisNotifier(addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = n.Close() })
		return WithSyncNotifier(n)
	}
	never := WithResyncTick(make(chan time.Time))
	a := startReplica(t, store.Options{DataDir: dir}, notifier(), never)
	b := startReplica(t, store.Options{DataDir: dir}, notifier(), never)
	st, err := store.Open(context.Background(), store.Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	exercisePropagation(t, a, b, st)
}

// A message lost (no notifier at all here) is made good by the periodic
// resync.
func TestResyncCarriesChangesWithoutAMessage(t *testing.T) {
	dir := t.TempDir()
	tickA, tickB := make(chan time.Time), make(chan time.Time)
	a := startReplica(t, store.Options{DataDir: dir}, WithSyncNotifier(nopNotifier{}), WithResyncTick(tickA))
	b := startReplica(t, store.Options{DataDir: dir}, WithSyncNotifier(nopNotifier{}), WithResyncTick(tickB))
	ctx := context.Background()
	cur := a.ctl.Routing()
	routes := append(slices.Clone(cur.Routes), config.Route{Model: "extra", Targets: []config.Target{{Provider: "up", Model: "up-model"}}})
	next, err := a.ctl.UpdateRouting(ctx, rpc.RoutingChange{Routing: cur.Routing, Routes: routes, By: "test", At: time.Now(), IfVersion: cur.Version})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	if v := b.ctl.Routing().Version; v == next.Version {
		t.Fatalf("b follows v%d without a message or a resync: the test proves nothing", v)
	}
	tickB <- time.Now()
	within(t, 2*time.Second, "routing after the resync", func() bool { return b.ctl.Routing().Version == next.Version })
}

// A routing version made over another config file (a rollout of a new
// file in progress) is not followed.
func TestSyncSkipsVersionsOfAnotherConfigFile(t *testing.T) {
	dir := t.TempDir()
	tick := make(chan time.Time)
	b := startReplica(t, store.Options{DataDir: dir}, WithSyncNotifier(nopNotifier{}), WithResyncTick(tick))
	st, err := store.Open(context.Background(), store.Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	doc := []byte(`{"base":"another-file","routing":{},"routes":[{"model":"other","targets":[{"provider":"up","model":"up-model"}]}]}`)
	rc, err := st.PutRoutingConfig(context.Background(), doc, "elsewhere", time.Now(), store.AnyVersion)
	if err != nil {
		t.Fatal(err)
	}
	before := b.ctl.Routing().Version
	if err := b.ctl.syncRouting(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := b.ctl.Routing().Version; got != before || got == rc.Version {
		t.Fatalf("followed v%d of another config file (was v%d)", got, before)
	}
}

// freshSchema is an empty Postgres schema for one test (dropped after),
// as a URL whose search_path selects it.
func freshSchema(t *testing.T) string {
	t.Helper()
	raw := os.Getenv("SWITCHYARD_TEST_POSTGRES")
	if raw == "" {
		t.Skip("SWITCHYARD_TEST_POSTGRES is not set: start one with `scripts/postgres.sh` (make test-go does)")
	}
	db, err := sql.Open("pgx", raw)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "sy_sync_" + hex.EncodeToString(b[:])
	if _, err := db.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = db.Exec("DROP SCHEMA " + schema + " CASCADE") })
	pu, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	q := pu.Query()
	q.Set("search_path", schema)
	pu.RawQuery = q.Encode()
	return pu.String()
}

// testLogger writes to the test's log when SWITCHYARD_TEST_LOG is set.
func testLogger(t *testing.T) hclog.Logger {
	if os.Getenv("SWITCHYARD_TEST_LOG") == "" {
		return hclog.NewNullLogger()
	}
	return hclog.New(&hclog.LoggerOptions{Output: os.Stderr, Level: hclog.Debug, Name: t.Name()})
}

// A change made over a version another replica has already replaced (and
// this one has not followed yet) is a conflict, not a silent overwrite.
func TestRoutingChangeOverAnotherReplicasNewerVersionConflicts(t *testing.T) {
	dir := t.TempDir()
	quiet := []SyncOption{WithSyncNotifier(nopNotifier{}), WithResyncTick(make(chan time.Time))}
	a := startReplica(t, store.Options{DataDir: dir}, quiet...)
	b := startReplica(t, store.Options{DataDir: dir}, quiet...)
	ctx := context.Background()
	change := func(r replica, model string) (rpc.RoutingState, error) {
		cur := r.ctl.Routing()
		routes := append(slices.Clone(cur.Routes), config.Route{Model: model, Targets: []config.Target{{Provider: "up", Model: "up-model"}}})
		return r.ctl.UpdateRouting(ctx, rpc.RoutingChange{Routing: cur.Routing, Routes: routes, By: "test", At: time.Now(), IfVersion: cur.Version})
	}
	if _, err := change(b, "from-b"); err != nil {
		t.Fatal(err)
	}
	if _, err := change(a, "from-a"); !errors.Is(err, rpc.ErrRoutingConflict) {
		t.Fatalf("a's change over a stale version: %v, want ErrRoutingConflict", err)
	}
	if err := a.ctl.syncRouting(ctx); err != nil {
		t.Fatal(err)
	}
	st, err := change(a, "from-a")
	if err != nil {
		t.Fatalf("after following b's version: %v", err)
	}
	var models []string
	for _, r := range st.Routes {
		models = append(models, r.Model)
	}
	if !slices.Equal(models, []string{"pool", "from-b", "from-a"}) {
		t.Fatalf("routes %v: b's change was lost", models)
	}
}

// flakyNotifier loses its first connection right after listening: what a
// Redis or Postgres restart does to a subscription.
type flakyNotifier struct {
	listens atomic.Int32
	dropped chan struct{} // closed when the first listen has failed
	release chan struct{} // the first listen fails when this closes
}

func (n *flakyNotifier) Publish(context.Context, string) error { return nil }
func (n *flakyNotifier) Listen(ctx context.Context, ready func(), _ func(string)) error {
	first := n.listens.Add(1) == 1
	ready()
	if first {
		<-n.release
		close(n.dropped)
		return errors.New("connection reset")
	}
	<-ctx.Done()
	return nil
}

// Messages sent while a listener was down are lost; the reconnect catches
// up at once instead of waiting for the periodic resync.
func TestReconnectCatchesUpOnWhatWasMissed(t *testing.T) {
	dir := t.TempDir()
	n := &flakyNotifier{dropped: make(chan struct{}), release: make(chan struct{})}
	a := startReplica(t, store.Options{DataDir: dir}, WithSyncNotifier(nopNotifier{}), WithResyncTick(make(chan time.Time)))
	b := startReplica(t, store.Options{DataDir: dir}, WithSyncNotifier(n), WithResyncTick(make(chan time.Time)))
	ctx := context.Background()
	cur := a.ctl.Routing()
	routes := append(slices.Clone(cur.Routes), config.Route{Model: "extra", Targets: []config.Target{{Provider: "up", Model: "up-model"}}})
	next, err := a.ctl.UpdateRouting(ctx, rpc.RoutingChange{Routing: cur.Routing, Routes: routes, By: "test", At: time.Now(), IfVersion: cur.Version})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	if b.ctl.Routing().Version == next.Version {
		t.Fatal("b followed before its listener reconnected: the test proves nothing")
	}
	close(n.release)
	<-n.dropped
	within(t, 2*time.Second, "routing after the reconnect", func() bool { return b.ctl.Routing().Version == next.Version })
	if got := n.listens.Load(); got != 2 {
		t.Fatalf("%d listens, want a reconnect", got)
	}
}
