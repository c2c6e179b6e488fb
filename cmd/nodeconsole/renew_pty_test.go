package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nodeconsole/nodeconsole/controlplane"
	"github.com/nodeconsole/nodeconsole/controlplane/cptest"
	"github.com/nodeconsole/nodeconsole/regclient"
)

// TestConsoleRenewsByItself: the real console (on a pty) of a node whose
// certificates live 10 s renews in the background without anyone touching
// it (due 6.7 s after each issue; $NODECONSOLE_RENEW_EVERY=1s), twice,
// and stays registered: its certificate still works after it exits, and
// the first certificate is refused (superseded).
func TestConsoleRenewsByItself(t *testing.T) {
	cp := cptest.NewWith(t, controlplane.Options{CertTTL: 10 * time.Second, RenewGrace: 5 * time.Second})
	n := registeredCLINode(t, cp)
	crt := filepath.Join(n.state, "identity", "node.crt")
	first, err := os.ReadFile(crt)
	if err != nil {
		t.Fatal(err)
	}
	firstKey, err := os.ReadFile(filepath.Join(n.state, "identity", "node.key"))
	if err != nil {
		t.Fatal(err)
	}
	r := startConsole(t, 100, 30, []string{"TERM=xterm-256color", "LANG=C.UTF-8", renewEveryEnv + "=1s"},
		"--config", n.config, "--state-dir", n.state, "--log", filepath.Join(t.TempDir(), "console.log"))
	r.waitFor("expires ") // the Certificate row: "expires 2026-... (less than a day left)"
	seen := map[string]bool{string(first): true}
	deadline := time.Now().Add(time.Minute) // a bound for a stuck console, not a timing assertion
	for len(seen) < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("the console renewed %d times, want 2; output:\n%q", len(seen)-1, r.output())
		}
		if cur, err := os.ReadFile(crt); err == nil && bytes.HasPrefix(cur, []byte("-----BEGIN CERTIFICATE-----")) {
			seen[string(cur)] = true
		}
		select {
		case <-r.done:
			t.Fatalf("console exited; output:\n%q", r.output())
		case <-time.After(100 * time.Millisecond):
		}
	}
	r.exit("q")

	c, err := regclient.New(regclient.Options{Endpoint: cp.URL, CAPEMs: [][]byte{cp.CAPEM}})
	if err != nil {
		t.Fatal(err)
	}
	rg := &regclient.Registrar{Client: c, Store: regclient.Store{Dir: n.state}, NodeID: cliNodeID}
	if _, err := rg.CheckCertificate(context.Background()); err != nil {
		t.Fatalf("the console's last certificate: %v", err)
	}
	old, err := tls.X509KeyPair(first, firstKey)
	if err != nil {
		t.Fatal(err)
	}
	mc, err := c.WithCertificate(&old, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mc.Self(context.Background()); !errors.Is(err, regclient.ErrRevoked) && !errors.Is(err, regclient.ErrCertificateExpired) {
		t.Errorf("the first certificate after the renewals: %v, want refused", err)
	}
}
