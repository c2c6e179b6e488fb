// Package totp is time-based one-time passwords (RFC 6238 over RFC 4226)
// for two-factor log-in: HMAC-SHA1, 30-second steps, 6 digits, the
// defaults every authenticator app uses.
package totp

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"net/url"
	"strings"
	"time"
)

const (
	period = 30 * time.Second
	digits = 6
	// skew is how many steps before and after now are accepted.
	skew = 1
)

var encoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// NewSecret returns a 160-bit secret, base32 without padding.
func NewSecret() string {
	b := make([]byte, 20)
	rand.Read(b)
	return encoding.EncodeToString(b)
}

// at is the code of secret for time step n.
func at(secret string, n int64) (string, error) {
	key, err := encoding.DecodeString(strings.ToUpper(strings.TrimRight(secret, "=")))
	if err != nil {
		return "", fmt.Errorf("TOTP secret is not base32: %w", err)
	}
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(n))
	m := hmac.New(sha1.New, key)
	m.Write(msg[:])
	sum := m.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	v := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	return fmt.Sprintf("%0*d", digits, v%1000000), nil
}

func stepOf(t time.Time) int64 { return t.Unix() / int64(period/time.Second) }

// Code is the two-factor code of a base32 secret at t (for tests and
// tools that act as an authenticator app).
func Code(secret string, t time.Time) (string, error) { return at(secret, stepOf(t)) }

// Verify checks code against the steps around now (±skew). A step
// at or before lastStep was used already and is refused, so a code works
// once. It returns the step that matched.
func Verify(secret, code string, now time.Time, lastStep int64) (int64, bool) {
	code = strings.ReplaceAll(strings.TrimSpace(code), " ", "")
	if len(code) != digits {
		return 0, false
	}
	cur := stepOf(now)
	ok, step := false, int64(0)
	for n := cur - skew; n <= cur+skew; n++ {
		want, err := at(secret, n)
		if err != nil {
			return 0, false
		}
		if hmac.Equal([]byte(want), []byte(code)) && n > lastStep && !ok {
			ok, step = true, n
		}
	}
	return step, ok
}

// URI is the otpauth:// URI authenticator apps read from a QR code.
func URI(issuer, account, secret string) string {
	v := url.Values{}
	v.Set("secret", secret)
	v.Set("issuer", issuer)
	v.Set("algorithm", "SHA1")
	v.Set("digits", fmt.Sprint(digits))
	v.Set("period", fmt.Sprint(int(period/time.Second)))
	label := url.PathEscape(issuer) + ":" + url.PathEscape(account)
	return "otpauth://totp/" + label + "?" + v.Encode()
}
