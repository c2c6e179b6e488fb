package passwords

import (
	"strings"
	"testing"
)

// TestHashVerify: a hash verifies its password only; a damaged hash
// verifies nothing; Check bounds the length.
func TestHashVerify(t *testing.T) {
	h := Hash("correct horse battery")
	if !strings.HasPrefix(h, "$argon2id$v=19$") || !Verify(h, "correct horse battery") {
		t.Fatalf("hash %q does not verify its password", h)
	}
	if Verify(h, "correct horse batterY") || Verify(Dummy(), "") {
		t.Error("a wrong password verified")
	}
	if Verify(strings.Replace(h, "t=2", "t=0", 1), "correct horse battery") || Verify("plain", "plain") {
		t.Error("a malformed hash verified")
	}
	if Check("short") == nil || Check(strings.Repeat("x", 1025)) == nil || Check("long enough!") != nil {
		t.Error("Check bounds are wrong")
	}
}
