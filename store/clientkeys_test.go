package store

import (
	"context"
	"testing"
	"time"
)

// BenchmarkClientKeyByHash is the authentication lookup a request pays when
// the auth cache misses: the current-secret match and the rotated-out secret
// still in its grace period (the OR branch on previous_hash).
func BenchmarkClientKeyByHash(b *testing.B) {
	ctx := context.Background()
	s, err := Open(ctx, Options{DataDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	// Enough keys that a missing index would show as a scan.
	var old, id string
	for i := range 1000 {
		secret, prefix, hash, err := NewClientKeySecret()
		if err != nil {
			b.Fatal(err)
		}
		k := ClientKey{ID: "bench-" + prefix, Prefix: prefix, Hash: hash}
		if err := s.CreateClientKey(ctx, k); err != nil {
			b.Fatal(err)
		}
		if i == 500 {
			old, id = secret, k.ID
		}
	}
	fresh, _, err := s.RotateClientKey(ctx, id, time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct{ name, secret string }{{"current", fresh}, {"previous", old}} {
		b.Run(c.name, func(b *testing.B) {
			hash := HashClientKey(c.secret)
			b.ReportAllocs()
			for b.Loop() {
				if k, err := s.ClientKeyByHash(ctx, hash); err != nil || k.ID != id {
					b.Fatalf("lookup: %q %v", k.ID, err)
				}
			}
		})
	}
}
