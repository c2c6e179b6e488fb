package regclient

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nodeconsole/nodeconsole/api"
	"github.com/nodeconsole/nodeconsole/controlplane"
)

// testCA is a throwaway CA that signs client certificates.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newTestCA(t *testing.T) testCA {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return testCA{c, key}
}

// client issues a client certificate valid from notBefore to notAfter.
func (ca testCA) client(t *testing.T, notBefore, notAfter time.Time) *tls.Certificate {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: testNodeID},
		NotBefore: notBefore, NotAfter: notAfter, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// A current control plane answers a refused client certificate with JSON
// 401s: each maps to its typed error, worded for the screen, and counts as
// a stale certificate.
func TestRefusedCertificateJSON(t *testing.T) {
	for code, want := range map[api.ErrorCode]error{
		api.CodeCertificateExpired: ErrCertificateExpired,
		api.CodeCertificateRevoked: ErrRevoked,
		api.CodeUnknownCertificate: ErrUnknownCertificate,
	} {
		_, c := faultServer(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			w.WriteHeader(http.StatusUnauthorized)
			json.NewEncoder(w).Encode(api.Error{Code: code, Message: "refused"})
		})
		_, err := c.Self(context.Background())
		if !errors.Is(err, want) || !StaleCertificate(err) || Retryable(err) {
			t.Errorf("%s: %v; want %v, stale, not retryable", code, err, want)
		}
		if want != ErrRevoked && !strings.Contains(err.Error(), "register again") {
			t.Errorf("%s: %q does not tell what to do", code, err)
		}
	}
	_, c := faultServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
		json.NewEncoder(w).Encode(api.Error{Code: api.CodeUnauthorized})
	})
	if _, err := c.Self(context.Background()); StaleCertificate(err) {
		t.Errorf("a plain unauthorized counts as a stale certificate: %v", err)
	}
}

// An older control plane refuses the client certificate in the TLS
// handshake: expired and unknown certificates still map to the typed
// errors.
func TestRefusedCertificateHandshake(t *testing.T) {
	ca := newTestCA(t)
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	now := time.Now()
	certs := map[string]struct {
		cert *tls.Certificate
		want error
	}{
		"valid":   {ca.client(t, now.Add(-time.Hour), now.Add(time.Hour)), nil},
		"expired": {ca.client(t, now.Add(-2*time.Hour), now.Add(-time.Hour)), ErrCertificateExpired},
		"unknown": {newTestCA(t).client(t, now.Add(-time.Hour), now.Add(time.Hour)), ErrUnknownCertificate},
	}
	for _, version := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			json.NewEncoder(w).Encode(api.NodeSelf{NodeID: testNodeID, Status: "registered"})
		}))
		srv.TLS = &tls.Config{ClientAuth: tls.VerifyClientCertIfGiven, ClientCAs: pool, MinVersion: version, MaxVersion: version}
		srv.StartTLS()
		t.Cleanup(srv.Close)
		caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
		base, err := New(Options{Endpoint: srv.URL, CAPEMs: [][]byte{caPEM}, Timeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		// Without a client certificate nothing is mapped.
		if _, err := base.Self(context.Background()); err != nil {
			t.Fatalf("TLS %x without a certificate: %v", version, err)
		}
		for name, tt := range certs {
			c, err := base.WithCertificate(tt.cert, nil)
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Self(context.Background())
			switch {
			case tt.want == nil && err != nil:
				t.Errorf("%s (TLS %x): %v", name, version, err)
			case tt.want != nil && (!errors.Is(err, tt.want) || Retryable(err)):
				t.Errorf("%s (TLS %x): %v; want %v, not retryable", name, version, err, tt.want)
			}
			c.CloseIdleConnections()
		}
	}
}

// A node whose certificate the control plane no longer accepts (here: an
// admin deleted the node) learns it from CheckCertificate, re-enrolls with
// the same key, says why, and registers again with a new code.
func TestStaleCertificateEnrollsAgain(t *testing.T) {
	cp := fastCP(t, controlplane.Options{})
	r := newRegistrar(t, cp, t.TempDir())
	registerByCode(t, cp, r, "store-40")
	if self, err := r.CheckCertificate(context.Background()); err != nil || self.NodeID != r.NodeID {
		t.Fatalf("CheckCertificate on a good certificate: %+v, %v", self, err)
	}
	key, _ := os.ReadFile(r.Store.Path(KeyFile))
	if err := cp.DeleteNode(r.NodeID); err != nil {
		t.Fatal(err)
	}
	_, err := r.CheckCertificate(context.Background())
	if !StaleCertificate(err) {
		t.Fatalf("CheckCertificate after the node was deleted: %v; want a stale certificate", err)
	}
	if err := r.Reenroll(err); err != nil {
		t.Fatal(err)
	}
	st, _ := r.Store.Load()
	if st.State != Pending || !strings.Contains(st.Recovery, "revoked") {
		t.Fatalf("state after Reenroll: %+v", st)
	}
	if _, err := os.Stat(r.Store.Path(CertFile)); err == nil {
		t.Error("the refused certificate is still there")
	}
	p, err := r.Start(context.Background())
	if err != nil || p.Approved || p.UserCode == "" || !strings.Contains(p.Recovery, "revoked") {
		t.Fatalf("Start after Reenroll: %+v, %v", p, err)
	}
	if _, err := cp.License(p.UserCode, "store-41", ""); err != nil {
		t.Fatal(err)
	}
	if out := untilFinal(t, r); out.Kind != OutcomeRegistered {
		t.Fatalf("outcome %+v", out)
	}
	checkRegisteredOnDisk(t, cp, r.Store, "store-41")
	if now, _ := os.ReadFile(r.Store.Path(KeyFile)); !bytes.Equal(now, key) {
		t.Error("the key was replaced")
	}
	if err := r.Reenroll(errors.New("network down")); err == nil {
		t.Error("Reenroll accepted a reason that is not a refused certificate")
	}
}

// Against the real control plane past the certificate's notAfter: the
// certificate is refused as expired (JSON); the node keeps its key and
// enrolls again, and since the certificate expired less than
// --reenroll-grace ago the control plane registers it again at once with a
// new certificate (never the expired one delivered again).
func TestExpiredCertificateReregistersWithinGrace(t *testing.T) {
	var offset atomicDuration
	cp := fastCP(t, controlplane.Options{Now: func() time.Time { return time.Now().Add(offset.Load()) }})
	r := newRegistrar(t, cp, t.TempDir())
	registerByCode(t, cp, r, "store-50")
	c, err := r.Store.NodeCertificate()
	if err != nil {
		t.Fatal(err)
	}
	key, _ := os.ReadFile(r.Store.Path(KeyFile))
	offset.Store(time.Until(c.NotAfter) + 24*time.Hour)
	// The control plane answers the expired certificate with JSON (the
	// handshake succeeds), typed for the screen.
	_, err = r.CheckCertificate(context.Background())
	if !errors.Is(err, ErrCertificateExpired) || !strings.Contains(err.Error(), "register again") {
		t.Fatalf("CheckCertificate with an expired certificate: %v", err)
	}
	if err := r.Reenroll(err); err != nil {
		t.Fatal(err)
	}
	p, err := r.Start(context.Background())
	if err != nil || !p.Approved {
		t.Fatalf("Start a day after the expiry: %+v, %v; want approved at once (within --reenroll-grace)", p, err)
	}
	out, err := r.Next(context.Background())
	if err != nil || out.Kind != OutcomeRegistered || out.Registration.Name != "store-50" {
		t.Fatalf("Next: %+v, %v; want registered again as store-50", out, err)
	}
	c2, err := r.Store.NodeCertificate()
	if err != nil || c2.SerialNumber.Cmp(c.SerialNumber) == 0 || !c2.NotAfter.After(time.Now().Add(offset.Load())) {
		t.Fatalf("stored certificate %v (expires %v), %v; want a new, valid one", c2.SerialNumber, c2.NotAfter, err)
	}
	if now, _ := os.ReadFile(r.Store.Path(KeyFile)); !bytes.Equal(now, key) {
		t.Error("the key was replaced")
	}
}

// atomicDuration is a time offset shared with the control plane's clock.
type atomicDuration struct{ v atomic.Int64 }

func (a *atomicDuration) Load() time.Duration   { return time.Duration(a.v.Load()) }
func (a *atomicDuration) Store(d time.Duration) { a.v.Store(int64(d)) }

// A node moved to another control plane (another CA) gets
// unknown_certificate as JSON, and enrolls there again with the same key.
func TestUnknownCertificateEnrollsAgain(t *testing.T) {
	first := fastCP(t, controlplane.Options{})
	dir := t.TempDir()
	r := newRegistrar(t, first, dir)
	registerByCode(t, first, r, "store-70")
	key, _ := os.ReadFile(r.Store.Path(KeyFile))
	second := fastCP(t, controlplane.Options{})
	r = newRegistrar(t, second, dir)
	_, err := r.CheckCertificate(context.Background())
	if !errors.Is(err, ErrUnknownCertificate) || Code(err) != api.CodeUnknownCertificate {
		t.Fatalf("CheckCertificate against another control plane: %v (code %q)", err, Code(err))
	}
	if err := r.Reenroll(err); err != nil {
		t.Fatal(err)
	}
	registerByCode(t, second, r, "store-71")
	checkRegisteredOnDisk(t, second, r.Store, "store-71")
	if now, _ := os.ReadFile(r.Store.Path(KeyFile)); !bytes.Equal(now, key) {
		t.Error("the key was replaced")
	}
}

// Before it has a certificate a node speaks HTTP/1.1 (its enrollment
// long-poll is then parked on the control plane without a goroutine);
// with one, HTTP/2.
func TestProtocolByCertificate(t *testing.T) {
	ca := newTestCA(t)
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	var mu sync.Mutex
	var proto string
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		proto = r.Proto
		mu.Unlock()
		json.NewEncoder(w).Encode(api.NodeSelf{NodeID: testNodeID, Status: "registered"})
	}))
	srv.EnableHTTP2 = true
	srv.TLS = &tls.Config{ClientAuth: tls.VerifyClientCertIfGiven, ClientCAs: pool}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	base, err := New(Options{Endpoint: srv.URL, CAPEMs: [][]byte{caPEM}, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	mtls, err := base.WithCertificate(ca.client(t, now.Add(-time.Hour), now.Add(time.Hour)), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		c    *Client
		want string
	}{{"without a certificate", base, "HTTP/1.1"}, {"with a certificate", mtls, "HTTP/2.0"}} {
		if _, err := tt.c.Self(context.Background()); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		mu.Lock()
		if proto != tt.want {
			t.Errorf("%s: the client spoke %s, want %s", tt.name, proto, tt.want)
		}
		mu.Unlock()
		tt.c.CloseIdleConnections()
	}
}
