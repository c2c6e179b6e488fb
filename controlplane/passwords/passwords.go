// Package passwords hashes and checks user passwords (argon2id, PHC
// strings), for the control plane's accounts and its portal log-in.
package passwords

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"
	"sync"

	"golang.org/x/crypto/argon2"
)

// argonParams are the argon2id parameters; they are written into every
// hash, so changing them later only affects new hashes.
type argonParams struct {
	time, memoryKiB uint32
	threads         uint8
	keyLen          uint32
}

// passwordParams follow the OWASP minimum for argon2id (19 MiB, 2 passes,
// 1 lane): ~20-40 ms per hash on one core.
var passwordParams = argonParams{time: 2, memoryKiB: 19 * 1024, threads: 1, keyLen: 32}

// minPasswordLen is the shortest password a user may choose.
const minPasswordLen = 10

// Hash returns the PHC string
// $argon2id$v=19$m=MEM,t=TIME,p=THREADS$SALT$HASH with a fresh 16-byte salt.
func Hash(pw string) string {
	salt := make([]byte, 16)
	rand.Read(salt)
	p := passwordParams
	key := argon2.IDKey([]byte(pw), salt, p.time, p.memoryKiB, p.threads, p.keyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.memoryKiB, p.time, p.threads,
		b64.EncodeToString(salt), b64.EncodeToString(key))
}

// Verify reports whether pw matches the PHC string encoded. A
// malformed hash matches nothing.
func Verify(encoded, pw string) bool {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" || parts[2] != fmt.Sprintf("v=%d", argon2.Version) {
		return false
	}
	var p argonParams
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.memoryKiB, &p.time, &p.threads); err != nil ||
		p.time == 0 || p.threads == 0 || p.memoryKiB == 0 || p.memoryKiB > 1<<21 || p.time > 64 {
		return false
	}
	b64 := base64.RawStdEncoding
	salt, err1 := b64.DecodeString(parts[4])
	want, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 || len(want) > 128 {
		return false
	}
	got := argon2.IDKey([]byte(pw), salt, p.time, p.memoryKiB, p.threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

var (
	dummyOnce sync.Once
	dummy     string
)

// Dummy is a hash of a random password with the current parameters:
// an unknown user's login verifies against it, so it costs the same time as
// a known user's.
func Dummy() string {
	dummyOnce.Do(func() { dummy = Hash(rand.Text()) })
	return dummy
}

// Check refuses passwords that are too short or too long.
func Check(pw string) error {
	if len(pw) < minPasswordLen {
		return fmt.Errorf("the password must have at least %d characters", minPasswordLen)
	}
	if len(pw) > 1024 {
		return fmt.Errorf("the password must have at most 1024 characters")
	}
	return nil
}
