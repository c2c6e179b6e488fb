package totp

import (
	"encoding/base32"
	"testing"
	"time"
)

// TestRFC6238Vectors checks the SHA-1 test vectors of RFC 6238 appendix B
// (their last 6 digits) and that a step used once is refused.
func TestRFC6238Vectors(t *testing.T) {
	secret := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString([]byte("12345678901234567890"))
	for unix, want := range map[int64]string{59: "287082", 1111111109: "081804", 1234567890: "005924", 2000000000: "279037"} {
		if got, err := Code(secret, time.Unix(unix, 0)); err != nil || got != want {
			t.Errorf("Code at %d = %q, %v; want %q", unix, got, err, want)
		}
	}
	now := time.Unix(1111111109, 0)
	step, ok := Verify(secret, "081 804", now, 0)
	if !ok || step != stepOf(now) {
		t.Fatalf("Verify = %d, %v; want step %d", step, ok, stepOf(now))
	}
	if _, ok := Verify(secret, "081804", now, step); ok {
		t.Error("a code was accepted twice")
	}
	if _, ok := Verify(secret, "000000", now, 0); ok {
		t.Error("a wrong code was accepted")
	}
}
