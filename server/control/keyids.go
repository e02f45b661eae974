package control

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
)

// keyNamer names provider keys. Key ids appear in every answer
// (switchyard.target is provider/keyid/model), so an id computable from the
// secret alone would let anyone confirm a guessed key. Instead:
//   - a key added through the API gets a random id when it is created, and
//     the store keeps that id with the sealed secret;
//   - a key from the config file has no row to keep an id in, yet its id
//     must survive restarts (breaker states and ledger rows refer to it)
//     and agree between gateways sharing one database. It is
//     HMAC-SHA256(install salt, secret): the salt is random per install and
//     kept in the store (store.InstallSalt), so the id is stable where it
//     has to be and meaningless without the database.
//
// Without a store the salt is random per process: ids then last as long as
// everything else such a gateway remembers.
type keyNamer struct{ salt []byte }

// newKeyNamer keys config ids with salt, or with a fresh random one when
// salt is nil.
func newKeyNamer(salt []byte) (keyNamer, error) {
	if salt == nil {
		salt = make([]byte, 32)
		if _, err := rand.Read(salt); err != nil {
			return keyNamer{}, fmt.Errorf("key id salt: %w", err)
		}
	}
	return keyNamer{salt: salt}, nil
}

// configID names a config-file key.
func (n keyNamer) configID(secret string) string {
	m := hmac.New(sha256.New, n.salt)
	m.Write([]byte(secret))
	return "k" + hex.EncodeToString(m.Sum(nil)[:4])
}

// randomKeyID names a key added through the API.
func randomKeyID() (string, error) {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("key id: %w", err)
	}
	return "k" + hex.EncodeToString(b[:]), nil
}
