package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
)

// scratchDB is a database of the run's own on the given server, dropped
// at the end.
type scratchDB struct {
	admin string // URL of the server's maintenance database
	name  string
	url   string
}

func newScratchDB(ctx context.Context, raw string) (*scratchDB, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("--postgres does not parse")
	}
	d := &scratchDB{name: "fleet_" + randomHex(6)}
	conn, err := pgx.Connect(ctx, raw)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+d.name); err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	d.admin = raw
	u.Path = "/" + d.name
	d.url = u.String()
	return d, nil
}

func (d *scratchDB) drop() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, d.admin)
	if err != nil {
		return
	}
	defer conn.Close(ctx)
	_, _ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+d.name+" WITH (FORCE)")
}

func (d *scratchDB) query(ctx context.Context, q string, args ...any) (pgx.Row, func(), error) {
	conn, err := pgx.Connect(ctx, d.url)
	if err != nil {
		return nil, nil, err
	}
	return conn.QueryRow(ctx, q, args...), func() { conn.Close(context.Background()) }, nil
}

// ledger returns the usage rows and their cost for a client key.
func (d *scratchDB) ledger(ctx context.Context, keyID string) (rows int64, cost float64, maxCost float64, err error) {
	row, done, err := d.query(ctx, "SELECT count(*), (coalesce(sum(cost_nanos),0)/1e9)::float8, (coalesce(max(cost_nanos),0)/1e9)::float8 FROM usage WHERE key_id = $1", keyID)
	if err != nil {
		return 0, 0, 0, err
	}
	defer done()
	err = row.Scan(&rows, &cost, &maxCost)
	return
}

// ledgerPeak is the most usage rows written in one second, all rows, and
// the usage table's size on disk with its indexes.
func (d *scratchDB) ledgerPeak(ctx context.Context) (peak, total, bytes int64, err error) {
	row, done, err := d.query(ctx, "SELECT coalesce(max(n),0), coalesce(sum(n),0), pg_total_relation_size('usage') FROM (SELECT count(*) AS n FROM usage GROUP BY ts/1000) s")
	if err != nil {
		return 0, 0, 0, err
	}
	defer done()
	err = row.Scan(&peak, &total, &bytes)
	return
}

// pgCounters are pg_stat_database's counters for the scratch database.
type pgCounters struct {
	Commits, Inserted, Fetched, Updated int64
}

func (d *scratchDB) counters(ctx context.Context) (pgCounters, error) {
	// Backends report their statistics at most once a second.
	time.Sleep(1500 * time.Millisecond)
	var c pgCounters
	row, done, err := d.query(ctx, "SELECT xact_commit, tup_inserted, tup_fetched, tup_updated FROM pg_stat_database WHERE datname = current_database()")
	if err != nil {
		return c, err
	}
	defer done()
	err = row.Scan(&c.Commits, &c.Inserted, &c.Fetched, &c.Updated)
	return c, err
}

// redisCalls reads INFO commandstats: calls per command.
func redisCalls(ctx context.Context, addr string) (map[string]int64, error) {
	c := redis.NewClient(&redis.Options{Addr: addr})
	defer c.Close()
	s, err := c.Info(ctx, "commandstats").Result()
	if err != nil {
		return nil, err
	}
	out := map[string]int64{}
	for _, line := range strings.Split(s, "\n") {
		name, rest, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok || !strings.HasPrefix(name, "cmdstat_") {
			continue
		}
		var calls int64
		for _, kv := range strings.Split(rest, ",") {
			if v, ok := strings.CutPrefix(kv, "calls="); ok {
				fmt.Sscan(v, &calls)
			}
		}
		out[strings.TrimPrefix(name, "cmdstat_")] = calls
	}
	return out, nil
}

// redisCPU is the Redis server's CPU seconds so far (INFO cpu).
func redisCPU(ctx context.Context, addr string) (float64, error) {
	c := redis.NewClient(&redis.Options{Addr: addr})
	defer c.Close()
	s, err := c.Info(ctx, "cpu").Result()
	if err != nil {
		return 0, err
	}
	var total float64
	for _, line := range strings.Split(s, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if ok && (k == "used_cpu_sys" || k == "used_cpu_user") {
			var f float64
			fmt.Sscan(v, &f)
			total += f
		}
	}
	return total, nil
}

// postgresCPU is the CPU seconds of the Postgres server's processes (the
// postmaster and every child: backends, WAL writer, checkpointer) alive
// now. Pooled connections live through a phase, so a before/after
// difference counts the phase's work.
func (d *scratchDB) postgresCPU(ctx context.Context) (float64, error) {
	row, done, err := d.query(ctx, "SELECT pg_backend_pid()")
	if err != nil {
		return 0, err
	}
	defer done()
	var backend int
	if err := row.Scan(&backend); err != nil {
		return 0, err
	}
	master := ppid(backend)
	if master <= 1 {
		return 0, fmt.Errorf("no postmaster above backend %d", backend)
	}
	total := cpuSeconds(master)
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return 0, err
	}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err == nil && pid != backend && ppid(pid) == master {
			total += cpuSeconds(pid)
		}
	}
	return total, nil
}

func ppid(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(f) < 2 {
		return 0
	}
	n, _ := strconv.Atoi(f[1])
	return n
}
