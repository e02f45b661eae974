package store

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// MasterKeyEnv is the environment variable the caller reads the master key from.
const MasterKeyEnv = "SWITCHYARD_MASTER_KEY"

// ErrBadMasterKey is returned by NewSealer for a key that is not 32 bytes of base64 or hex.
var ErrBadMasterKey = errors.New("store: master key must be 32 bytes, base64- or hex-encoded")

// ErrDecrypt is returned (wrapped) when a sealed secret does not open: wrong master key, or the
// ciphertext was altered or moved to another row.
var ErrDecrypt = errors.New("store: cannot decrypt secret (wrong master key or tampered data)")

// Sealer encrypts secrets at rest with AES-256-GCM. Safe for concurrent use.
type Sealer struct {
	aead cipher.AEAD
}

// NewSealer parses a 32-byte master key given as standard/URL base64 (padded or not) or 64 hex
// digits. Generate one with `openssl rand -base64 32`.
func NewSealer(masterKey string) (*Sealer, error) {
	key, ok := decodeMasterKey(strings.TrimSpace(masterKey))
	if !ok {
		return nil, ErrBadMasterKey
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("store: master key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("store: master key: %w", err)
	}
	return &Sealer{aead: aead}, nil
}

func decodeMasterKey(s string) ([]byte, bool) {
	if len(s) == 64 {
		if b, err := hex.DecodeString(s); err == nil {
			return b, true
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) == 32 {
			return b, true
		}
	}
	return nil, false
}

// Seal encrypts plaintext with a fresh random nonce. aad (additional data) is authenticated but
// not stored: the store passes the row's identity so a ciphertext copied to another row fails.
func (s *Sealer) Seal(plaintext, aad []byte) (ciphertext, nonce []byte, err error) {
	nonce = make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, nil, fmt.Errorf("store: nonce: %w", err)
	}
	return s.aead.Seal(nil, nonce, plaintext, aad), nonce, nil
}

// Open decrypts what Seal produced with the same aad.
func (s *Sealer) Open(ciphertext, nonce, aad []byte) ([]byte, error) {
	if len(nonce) != s.aead.NonceSize() {
		return nil, ErrDecrypt
	}
	pt, err := s.aead.Open(nil, nonce, ciphertext, aad)
	if err != nil {
		return nil, ErrDecrypt
	}
	return pt, nil
}

// String keeps the key out of logs and %v.
func (s *Sealer) String() string { return "store.Sealer{AES-256-GCM}" }
