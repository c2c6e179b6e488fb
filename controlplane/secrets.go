package controlplane

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

const (
	adminTokenFile = "admin-token"
	secretFile     = "secret"
	// tokenPrefix marks registration tokens so they are recognisable in
	// config files and secret scanners.
	tokenPrefix = "ncrt_"
	// pairingKeyPrefix marks generated pairing keys likewise.
	pairingKeyPrefix = "ncpk_"
)

// randomString returns n random bytes, base64url-encoded without padding.
func randomString(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// newID returns a short random identifier for records.
func newID() string { return randomString(12) }

// sha256Hex is how device codes, tokens and session IDs are stored.
func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// newUserCode draws UserCodeLength letters of api.UserCodeAlphabet.
func newUserCode() string {
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

// deviceCode derives an enrollment's device code from the server secret, so
// that a repeated enrollment can hand back the same code while the database
// keeps only its hash. 256 bits.
func deviceCode(secret []byte, enrollmentID string) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("device-code\x00" + enrollmentID))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// loadOrCreateSecret reads DATA/name, or creates it with 32 random bytes
// (base64url) and mode 0600.
func loadOrCreateSecret(dir, name string) (string, error) {
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
	s := randomString(32)
	if err := atomicfile.WriteFile(path, []byte(s+"\n"), 0o600); err != nil {
		return "", err
	}
	return s, nil
}

// oneTimePassword is a random password for user add and reset-password
// (128 bits, base64url): it must be changed at first login.
func oneTimePassword() string { return randomString(16) }
