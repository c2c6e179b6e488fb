// Package testenv decides what a test does when the machine lacks something
// it needs (root, network namespaces, Chromium, a Debian tool).
//
// On a laptop such a test skips. When NODECONSOLE_REQUIRE_ALL=1 (set by
// .ci/run) the same condition fails the test, so CI cannot silently skip the
// tests that exercise the real kernel, browser or packaging.
package testenv

import (
	"os"
	"os/exec"
	"testing"
)

// RequireAllVar is the environment variable that turns skips into failures.
const RequireAllVar = "NODECONSOLE_REQUIRE_ALL"

// Strict reports whether missing prerequisites must fail tests.
func Strict() bool { return os.Getenv(RequireAllVar) == "1" }

// SkipOrFail skips the test with reason, or fails it when Strict.
func SkipOrFail(t testing.TB, reason string) {
	t.Helper()
	if Strict() {
		t.Fatalf("required test cannot run (%s=1): %s", RequireAllVar, reason)
	}
	t.Skip(reason)
}

// RequireRoot skips or fails unless the test runs as root.
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		SkipOrFail(t, "needs root")
	}
}

// RequireCommand skips or fails unless name is on PATH, and returns its path.
func RequireCommand(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		SkipOrFail(t, name+" is not installed")
	}
	return p
}
