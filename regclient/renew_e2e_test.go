package regclient

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nodeconsole/nodeconsole/api"
	"github.com/nodeconsole/nodeconsole/controlplane"
	"github.com/nodeconsole/nodeconsole/testenv"
)

// stepClock is a clock that tests move forward.
type stepClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *stepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *stepClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// TestTwoMinuteCertificateStaysRegistered is "a node with a 2-minute
// certificate stays registered for 10 minutes without anyone touching it"
// without 10 wall-clock minutes: the control plane (--cert-ttl 2m,
// --renew-grace 30s) and the node share an injected clock that moves 10
// minutes in 5-second steps; at each step the node runs the renewal check
// the console and the daily timer run (Renewer.Renew, not forced) and must
// still be accepted. The certificate is renewed at 2/3 of its life, every
// 80 s: 7 renewals. After the first, the old certificate is refused, the
// CRL lists it, and openssl verify -crl_check refuses it.
func TestTwoMinuteCertificateStaysRegistered(t *testing.T) {
	// Behind the real clock, so the CRL's thisUpdate is not in openssl's
	// future; certificates are backdated an hour, so the TLS handshake
	// (which uses the real clock) accepts them.
	clock := &stepClock{t: time.Now().Add(-15 * time.Minute)}
	cp := fastCP(t, controlplane.Options{Now: clock.Now, CertTTL: 2 * time.Minute, RenewGrace: 30 * time.Second})
	r := registeredNode(t, cp, t.TempDir())
	rn := renewerFor(r)
	rn.Now = clock.Now
	ctx := context.Background()
	firstPEM, err := os.ReadFile(r.Store.Path(CertFile))
	if err != nil {
		t.Fatal(err)
	}
	firstCert, firstCA, err := r.Store.LoadCertificate()
	if err != nil {
		t.Fatal(err)
	}
	renewals := 0
	for elapsed := time.Duration(0); elapsed < 10*time.Minute; elapsed += 5 * time.Second {
		clock.Advance(5 * time.Second)
		res, err := rn.Renew(ctx, false)
		if err != nil {
			t.Fatalf("after %v: renew: %v", elapsed, err)
		}
		if res.Renewed {
			renewals++
		}
		if self, err := r.CheckCertificate(ctx); err != nil || self.Status != api.StatusRegistered {
			t.Fatalf("after %v (%d renewals): node/self = %+v, %v", elapsed, renewals, self, err)
		}
		if renewals == 1 && res.Renewed {
			oldRefused(t, r, firstCert, firstCA, firstPEM, cp.URL, cp.CAPath)
		}
	}
	if renewals != 7 {
		t.Errorf("%d renewals in 10 minutes of a 2-minute certificate, want 7 (every 80 s)", renewals)
	}
	if n, err := cp.Node(testNodeID); err != nil || n.Status != api.StatusRegistered {
		t.Errorf("control plane: %+v, %v", n, err)
	}
}

// oldRefused: the first certificate, replaced by a renewal that was used,
// is refused, in the CRL, and refused by openssl verify -crl_check.
func oldRefused(t *testing.T, r *Registrar, cert *tls.Certificate, ca, certPEM []byte, url, caPath string) {
	t.Helper()
	mc, err := r.Client.WithCertificate(cert, ca)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mc.Self(context.Background()); !errors.Is(err, ErrRevoked) {
		t.Fatalf("the replaced certificate: %v, want revoked", err)
	}
	openssl := testenv.RequireCommand(t, "openssl")
	req, _ := http.NewRequest("GET", url+api.PathCACRL, nil)
	req.Header.Set("Accept", "application/x-pem-file")
	resp, err := r.Client.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	crl, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	dir := t.TempDir()
	crlFile, leaf := filepath.Join(dir, "crl.pem"), filepath.Join(dir, "old.pem")
	os.WriteFile(crlFile, crl, 0o600)
	os.WriteFile(leaf, certPEM, 0o600)
	out, err := exec.Command(openssl, "verify", "-CAfile", caPath, "-CRLfile", crlFile, "-crl_check", leaf).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "revoked") {
		t.Fatalf("openssl verify -crl_check accepts the replaced certificate: %v\n%s", err, out)
	}
}
