package controlplane_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nodeconsole/nodeconsole/api"
	"github.com/nodeconsole/nodeconsole/controlplane"
	"github.com/nodeconsole/nodeconsole/controlplane/cptest"
)

// Client certificates never fail the TLS handshake: an expired one, one
// from another CA and a revoked one each get a JSON 401 with its code and a
// WWW-Authenticate challenge, and the same connection can enroll again.
func TestClientCertificateErrorsAreJSON(t *testing.T) {
	clock := newFakeClock()
	cp := cptest.NewWith(t, controlplane.Options{Now: clock.Now})
	n := newTestNode(t)
	er := n.enroll(t, cp)
	if _, err := cp.License(er.UserCode, "n", ""); err != nil {
		t.Fatal(err)
	}
	reg, err := poll(t, cp, er.DeviceCode, 0)
	if err != nil {
		t.Fatal(err)
	}
	check := func(c *http.Client, want api.ErrorCode) {
		t.Helper()
		resp, err := call(t, c, "GET", cp.URL+api.PathNodeSelf, nil, nil)
		wantCode(t, err, want)
		if h := resp.Header.Get("WWW-Authenticate"); !strings.Contains(h, string(want)) {
			t.Errorf("%s: WWW-Authenticate %q", want, h)
		}
	}

	// Another CA's certificate (the handshake used to fail).
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: n.id},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	foreign := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: cp.CertPool(),
		Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}}}
	check(foreign, api.CodeUnknownCertificate)
	if _, err := newTestNode(t).enrollWith(t, cp, foreign, ""); err != nil {
		t.Fatalf("enroll with a foreign client certificate: %v", err)
	}

	// Expired (the server's clock is past notAfter).
	mtls := n.mtlsClient(t, cp, reg)
	clock.Advance(6 * 365 * 24 * time.Hour)
	check(mtls, api.CodeCertificateExpired)
	clock.Advance(-6 * 365 * 24 * time.Hour)

	// Revoked.
	if err := cp.DeleteNode(n.id); err != nil {
		t.Fatal(err)
	}
	check(mtls, api.CodeCertificateRevoked)
	if _, err := n.enrollWith(t, cp, mtls, ""); err != nil {
		t.Fatalf("enroll again with the revoked certificate on the connection: %v", err)
	}
}

// TLS 1.2 or newer with AEAD suites only.
func TestTLSVersionsAndSuites(t *testing.T) {
	cp := cptest.New(t)
	addr := strings.TrimPrefix(cp.URL, "https://")
	dial := func(c *tls.Config) error {
		c.RootCAs = cp.CertPool()
		conn, err := tls.Dial("tcp", addr, c)
		if err == nil {
			conn.Close()
		}
		return err
	}
	if err := dial(&tls.Config{MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11}); err == nil {
		t.Error("TLS 1.1 was accepted")
	}
	for _, cbc := range []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,
		tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256} {
		if err := dial(&tls.Config{MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{cbc}}); err == nil {
			t.Errorf("TLS 1.2 with %s was accepted", tls.CipherSuiteName(cbc))
		}
	}
	if err := dial(&tls.Config{MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}}); err != nil {
		t.Errorf("TLS 1.2 with AES-GCM: %v", err)
	}
	if err := dial(&tls.Config{MinVersion: tls.VersionTLS13}); err != nil {
		t.Errorf("TLS 1.3: %v", err)
	}
}

// Portal pages carry HSTS; every 401 carries WWW-Authenticate.
func TestHSTSAndWWWAuthenticate(t *testing.T) {
	cp := cptest.New(t)
	b := newBrowser(t, cp)
	resp, err := b.c.Get(cp.URL + "/login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if h := resp.Header.Get("Strict-Transport-Security"); !strings.HasPrefix(h, "max-age=") {
		t.Errorf("portal page Strict-Transport-Security = %q", h)
	}
	// 401s: a bad registration token, no client certificate, a failed
	// portal login, an expired portal session.
	n := newTestNode(t)
	r1, err := call(t, cp.Client(), "POST", cp.URL+api.PathRegister, api.RegisterRequest{NodeID: n.id, CSR: n.csr}, nil, "Authorization", "Bearer ncrt_nope")
	wantCode(t, err, api.CodeInvalidToken)
	r2, err := call(t, cp.Client(), "GET", cp.URL+api.PathNodeSelf, nil, nil)
	wantCode(t, err, api.CodeUnauthorized)
	_, page := b.get("/login")
	r3, err := b.c.PostForm(cp.URL+"/login", map[string][]string{"csrf": {csrfOf(t, page)}, "token": {"wrong"}})
	if err != nil {
		t.Fatal(err)
	}
	r3.Body.Close()
	r4, err := b.c.PostForm(cp.URL+"/activate", map[string][]string{"code": {"BBBB-BBBB"}})
	if err != nil {
		t.Fatal(err)
	}
	r4.Body.Close()
	for i, r := range []*http.Response{r1, r2, r3, r4} {
		if r.StatusCode != http.StatusUnauthorized || r.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("answer %d: status %d, WWW-Authenticate %q", i+1, r.StatusCode, r.Header.Get("WWW-Authenticate"))
		}
	}
	if ok, _ := cp.HasEvent(api.EventLoginFailed, ""); !ok {
		t.Error("the failed portal login is not an event")
	}
}

// The database files are 0600 even in a world-readable data directory
// under a permissive umask.
func TestDatabaseFilesPrivate(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	cp := cptest.NewWith(t, controlplane.Options{DataDir: dir})
	newTestNode(t).enroll(t, cp) // a write: the WAL exists
	for _, name := range []string{"controlplane.db", "controlplane.db-wal", "controlplane.db-shm"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v, want 0600", name, fi.Mode().Perm())
		}
	}
}
