package store

import (
	"bytes"
	"context"
	"testing"
)

func TestInstallSaltIsStablePerInstallAndDiffersAcrossInstalls(t *testing.T) {
	ctx := context.Background()
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			s := b.open(t)
			first, err := s.InstallSalt(ctx)
			if err != nil {
				t.Fatal(err)
			}
			again, err := s.InstallSalt(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(first, again) {
				t.Fatal("the salt changed between two calls on one install")
			}
			if len(first) != 32 {
				t.Fatalf("salt is %d bytes, want 32", len(first))
			}
			other, err := b.open(t).InstallSalt(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Equal(first, other) {
				t.Fatal("two installs share a salt")
			}
		})
	}
}

func TestInstallSaltSurvivesReopen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	salt := func() []byte {
		s, err := Open(ctx, Options{DataDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		v, err := s.InstallSalt(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if a, b := salt(), salt(); !bytes.Equal(a, b) {
		t.Fatal("the salt changed across a restart")
	}
}
