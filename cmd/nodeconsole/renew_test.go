package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nodeconsole/nodeconsole/controlplane"
	"github.com/nodeconsole/nodeconsole/controlplane/cptest"
)

// certTimes reads certificate.notAfter and renewAfter from status --json.
func (n cliNode) certTimes(t *testing.T) (notAfter, renewAfter time.Time) {
	t.Helper()
	code, out, errs := n.run(t, "status", "--json")
	if code != 0 {
		t.Fatalf("status --json: exit %d: %s", code, errs)
	}
	var s struct {
		Certificate *struct{ NotAfter, RenewAfter time.Time }
	}
	if err := json.Unmarshal([]byte(out), &s); err != nil || s.Certificate == nil {
		t.Fatalf("status --json has no certificate (%v):\n%s", err, out)
	}
	return s.Certificate.NotAfter, s.Certificate.RenewAfter
}

// TestRenewCommand: renew says nothing is due on a fresh certificate, a
// forced renewal changes notAfter in status --json, an unreachable control
// plane exits 1 with one line and keeps the certificate, and bad usage
// exits 2.
func TestRenewCommand(t *testing.T) {
	cp := cptest.NewWith(t, controlplane.Options{CertTTL: 48 * time.Hour})
	n := registeredCLINode(t, cp)
	notAfter, renewAfter := n.certTimes(t)
	if got := notAfter.Sub(renewAfter); got < 16*time.Hour || got > 17*time.Hour {
		t.Errorf("renewAfter %v is %v before notAfter %v, want a third of the 48h since its issue", renewAfter, got, notAfter)
	}
	if code, out, _ := n.run(t, "status"); code != 0 || !strings.Contains(out, "Certificate:  expires ") {
		t.Errorf("status does not show the certificate's expiry (48 h: a notice):\n%s", out)
	}
	code, out, errs := n.run(t, "renew")
	if code != 0 || !strings.Contains(out, "renewal due from") {
		t.Fatalf("renew, nothing due: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	crt, key := filepath.Join(n.state, "identity", "node.crt"), filepath.Join(n.state, "identity", "node.key")
	first := snapshot(t, n.state)
	code, out, errs = n.run(t, "renew", "--force")
	if code != 0 || !strings.Contains(out, "Certificate renewed") {
		t.Fatalf("renew --force: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	if renewed := snapshot(t, n.state); renewed[crt] == first[crt] || renewed[key] == first[key] {
		t.Error("renew --force kept the key or the certificate")
	}
	if again, _ := n.certTimes(t); again.Before(notAfter) {
		t.Errorf("notAfter after renewal %v, before %v", again, notAfter)
	}
	if code, _, errs := n.run(t, "renew", "extra"); code != 2 || strings.Count(errs, "\n") != 1 {
		t.Errorf("renew extra: exit %d, stderr %q", code, errs)
	}
	before := snapshot(t, n.state)
	cp.Stop()
	code, _, errs = n.run(t, "renew", "--force")
	if code != 1 || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, "current certificate is kept") {
		t.Fatalf("renew, unreachable: exit %d, stderr %q", code, errs)
	}
	after := snapshot(t, n.state)
	for _, f := range []string{key, crt} {
		if before[f] != after[f] {
			t.Errorf("%s changed by a failed renewal", f)
		}
	}
}
