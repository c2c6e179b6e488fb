package secrets

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nodeconsole/nodeconsole/api"
)

// TestUserCode: user codes are api.UserCodeLength letters of
// api.UserCodeAlphabet, and not all the same.
func TestUserCode(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		c := UserCode()
		if len(c) != api.UserCodeLength || strings.Trim(c, api.UserCodeAlphabet) != "" {
			t.Fatalf("user code %q is not %d letters of %q", c, api.UserCodeLength, api.UserCodeAlphabet)
		}
		seen[c] = true
	}
	if len(seen) < 190 {
		t.Fatalf("200 user codes, only %d different", len(seen))
	}
}

// TestDeviceCode: an enrollment's device code is the same again for the
// same secret (a repeated enrollment gets its code back) and differs for
// another enrollment or another secret; 256 bits.
func TestDeviceCode(t *testing.T) {
	a, b := []byte("secret-a"), []byte("secret-b")
	c := DeviceCode(a, "e1")
	if c != DeviceCode(a, "e1") {
		t.Fatal("the device code of one enrollment changed")
	}
	if c == DeviceCode(a, "e2") || c == DeviceCode(b, "e1") {
		t.Fatal("two enrollments or two secrets share a device code")
	}
	if len(c) != 43 { // 32 bytes, base64url without padding
		t.Fatalf("device code %q is not 256 bits", c)
	}
	if Hash(c) == c || len(Hash(c)) != 64 {
		t.Fatalf("Hash(%q) = %q", c, Hash(c))
	}
}

// TestLoadOrCreate: the first call writes a 0600 file, later calls read it
// back; an empty file is refused rather than replaced.
func TestLoadOrCreate(t *testing.T) {
	dir := t.TempDir()
	s, err := LoadOrCreate(dir, ServerSecretFile)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, ServerSecretFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("secret file: %v, mode %v", err, fi.Mode())
	}
	if again, err := LoadOrCreate(dir, ServerSecretFile); err != nil || again != s {
		t.Fatalf("read back %q, %v; want %q", again, err, s)
	}
	os.WriteFile(filepath.Join(dir, "empty"), []byte("\n"), 0o600)
	if _, err := LoadOrCreate(dir, "empty"); err == nil || !strings.Contains(err.Error(), "is empty") {
		t.Fatalf("an empty secret file: %v", err)
	}
}
