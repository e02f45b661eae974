package store

import (
	"context"
	"net"
	"testing"
)

func TestCheckPostgresURLParsesWithoutConnecting(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := l.Addr().String()
	l.Close()
	for _, tc := range []struct {
		url string
		ok  bool
	}{
		{"postgres://u:p@" + dead + "/db?sslmode=disable", true}, // nothing listens: parsing must not dial
		{"postgres://u:p@" + dead + "/db?sslmode=bogus", false},
		{"://nope", false},
	} {
		if err := CheckPostgresURL(tc.url); (err == nil) != tc.ok {
			t.Errorf("CheckPostgresURL(%q) = %v, want ok=%v", tc.url, err, tc.ok)
		}
	}
	if err := PingPostgres(context.Background(), "postgres://u:p@"+dead+"/db?sslmode=disable"); err == nil {
		t.Fatal("PingPostgres reached a port nothing listens on")
	}
}

// --check --connect must not migrate: a ping of an empty schema leaves it
// empty.
func TestPingPostgresDoesNotMigrate(t *testing.T) {
	u := freshPostgresSchema(t)
	ctx := context.Background()
	if err := PingPostgres(ctx, u); err != nil {
		t.Fatal(err)
	}
	db, err := openPostgres(u)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("the ping created %d tables", n)
	}
	// The same schema migrated by Open does have tables: the count above
	// would have seen them.
	st, err := Open(ctx, Options{PostgresURL: u})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()").Scan(&n); err != nil || n == 0 {
		t.Fatalf("after Open: %d tables, %v", n, err)
	}
}
