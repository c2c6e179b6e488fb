// Package secrets makes the control plane's random values and keeps its
// secrets: tokens and codes (Random, UserCode, DeviceCode,
// OneTimePassword), record IDs (NewID), the hash a store keeps instead of
// a secret (Hash), and secret files in the data directory (LoadOrCreate,
// ServerSecretFile).
package secrets

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/nodeconsole/nodeconsole/api"
	"github.com/nodeconsole/nodeconsole/atomicfile"
)

// ServerSecretFile is the data directory file holding the server secret,
// which keys device codes (DeviceCode) and the portal's device cookies.
const ServerSecretFile = "secret"

// Random returns n random bytes, base64url-encoded without padding.
func Random(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// NewID returns a short random identifier for records.
func NewID() string { return Random(12) }

// Hash is how device codes, tokens and session IDs are stored: their
// SHA-256, hex-encoded.
func Hash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// UserCode draws api.UserCodeLength letters of api.UserCodeAlphabet.
func UserCode() string {
	const alphabet = api.UserCodeAlphabet
	b := make([]byte, api.UserCodeLength)
	for i := range b {
		// Rejection sampling keeps the letters uniform.
		var r [1]byte
		for {
			rand.Read(r[:])
			if int(r[0]) < 256-256%len(alphabet) {
				break
			}
		}
		b[i] = alphabet[int(r[0])%len(alphabet)]
	}
	return string(b)
}

// DeviceCode derives an enrollment's device code from the server secret, so
// that a repeated enrollment can hand back the same code while the database
// keeps only its hash. 256 bits.
func DeviceCode(secret []byte, enrollmentID string) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("device-code\x00" + enrollmentID))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// LoadOrCreate reads the secret in dir/name, or creates it with 32 random
// bytes (base64url) and mode 0600.
func LoadOrCreate(dir, name string) (string, error) {
	path := filepath.Join(dir, name)
	b, err := os.ReadFile(path)
	if err == nil {
		s := strings.TrimSpace(string(b))
		if s == "" {
			return "", fmt.Errorf("controlplane: %s is empty", path)
		}
		return s, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("controlplane: read %s: %w", path, err)
	}
	s := Random(32)
	if err := atomicfile.WriteFile(path, []byte(s+"\n"), 0o600); err != nil {
		return "", err
	}
	return s, nil
}

// OneTimePassword is a random password for user add and reset-password
// (128 bits, base64url): it must be changed at first login.
func OneTimePassword() string { return Random(16) }
