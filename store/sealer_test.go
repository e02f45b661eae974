package store

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func newTestSealer(t testing.TB) *Sealer {
	t.Helper()
	var k [32]byte
	rand.Read(k[:])
	s, err := NewSealer(base64.StdEncoding.EncodeToString(k[:]))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestNewSealer_KeyFormats(t *testing.T) {
	key := bytes.Repeat([]byte{0xAB}, 32)
	tests := []struct {
		name string
		in   string
		ok   bool
	}{
		{"base64 std", base64.StdEncoding.EncodeToString(key), true},
		{"base64 raw url", base64.RawURLEncoding.EncodeToString(key), true},
		{"hex", hex.EncodeToString(key), true},
		{"hex with newline", hex.EncodeToString(key) + "\n", true},
		{"16 bytes", base64.StdEncoding.EncodeToString(key[:16]), false},
		{"empty", "", false},
		{"passphrase", "correct horse battery staple", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewSealer(tt.in)
			if tt.ok && err != nil {
				t.Fatalf("rejected: %v", err)
			}
			if !tt.ok && !errors.Is(err, ErrBadMasterKey) {
				t.Fatalf("err = %v, want ErrBadMasterKey", err)
			}
		})
	}
}

func TestSealer_RoundTrip(t *testing.T) {
	s := newTestSealer(t)
	for _, pt := range []string{"", "sk-abc", strings.Repeat("x", 10000)} {
		ct, nonce, err := s.Seal([]byte(pt), []byte("aad"))
		if err != nil {
			t.Fatal(err)
		}
		if len(pt) > 0 && bytes.Contains(ct, []byte(pt)) {
			t.Fatal("ciphertext contains plaintext")
		}
		got, err := s.Open(ct, nonce, []byte("aad"))
		if err != nil || string(got) != pt {
			t.Fatalf("open = %q, %v", got, err)
		}
	}
}

func TestSealer_RejectsWrongKeyTamperingAndWrongAAD(t *testing.T) {
	s := newTestSealer(t)
	ct, nonce, err := s.Seal([]byte("secret"), []byte("row-1"))
	if err != nil {
		t.Fatal(err)
	}
	flipped := bytes.Clone(ct)
	flipped[0] ^= 1
	tests := []struct {
		name      string
		s         *Sealer
		ct, nonce []byte
		aad       string
	}{
		{"wrong master key", newTestSealer(t), ct, nonce, "row-1"},
		{"tampered ciphertext", s, flipped, nonce, "row-1"},
		{"other row's aad", s, ct, nonce, "row-2"},
		{"short nonce", s, ct, nonce[:4], "row-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := tt.s.Open(tt.ct, tt.nonce, []byte(tt.aad)); !errors.Is(err, ErrDecrypt) {
				t.Fatalf("err = %v, want ErrDecrypt", err)
			}
		})
	}
}

func TestSealer_NoncesAreUnique(t *testing.T) {
	s := newTestSealer(t)
	seen := map[string]bool{}
	for range 10000 {
		_, nonce, err := s.Seal([]byte("same"), nil)
		if err != nil {
			t.Fatal(err)
		}
		if seen[string(nonce)] {
			t.Fatal("nonce reused")
		}
		seen[string(nonce)] = true
	}
}

func TestSealer_StringHidesKey(t *testing.T) {
	key := hex.EncodeToString(bytes.Repeat([]byte{0x5A}, 32))
	s, _ := NewSealer(key)
	if out := fmt.Sprintf("%v %+v %s", s, s, s); strings.Contains(out, "5a5a") {
		t.Fatalf("formatted sealer leaks key: %s", out)
	}
}
