package servercert_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nodeconsole/nodeconsole/controlplane"
	"github.com/nodeconsole/nodeconsole/controlplane/cptest"
	"github.com/nodeconsole/nodeconsole/controlplane/servercert"
)

// serverKey is the public key the server presents.
func serverKey(t *testing.T, cp *cptest.Server) string {
	t.Helper()
	resp, err := cp.Client().Get(cp.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	der, err := x509.MarshalPKIXPublicKey(resp.TLS.PeerCertificates[0].PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return string(der)
}

// TestServerKeySurvivesRestart: without --tls-cert the server keeps the
// key of its own certificate (mode 0600) across restarts.
func TestServerKeySurvivesRestart(t *testing.T) {
	cp := cptest.New(t)
	before := serverKey(t, cp)
	cp.Restart()
	if serverKey(t, cp) != before {
		t.Fatal("the server key changed on restart")
	}
	fi, err := os.Stat(filepath.Join(cp.DataDir, servercert.KeyFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("server-key.pem: %v, mode %v", err, fi.Mode())
	}
}

func TestTLSCertFiles(t *testing.T) {
	dir := t.TempDir()
	certPath, keyPath, der := writePair(t, dir, 7, time.Now())
	cp := cptest.NewWith(t, controlplane.Options{TLSCertFile: certPath, TLSKeyFile: keyPath})
	conn, err := tls.Dial("tcp", strings.TrimPrefix(cp.URL, "https://"), &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if got := conn.ConnectionState().PeerCertificates[0].Raw; string(got) != string(der) {
		t.Fatal("the server does not present the --tls-cert certificate")
	}
	if _, err := controlplane.Open(controlplane.Options{DataDir: t.TempDir(), TLSCertFile: certPath, TLSKeyFile: certPath}); err == nil {
		t.Fatal("Open accepted a certificate file as the key")
	}
}

// TestFilesReload: a renewed pair is served without a restart; a broken
// one keeps the last good pair; a broken server key file is refused.
func TestFilesReload(t *testing.T) {
	dir := t.TempDir()
	t0 := time.Now()
	certPath, keyPath, first := writePair(t, dir, 1, t0.Add(-time.Hour))
	f, err := servercert.OpenFiles(certPath, keyPath)
	if err != nil {
		t.Fatal(err)
	}
	served := func() []byte {
		t.Helper()
		c, err := f.GetCertificate(nil)
		if err != nil {
			t.Fatal(err)
		}
		return c.Certificate[0]
	}
	if string(served()) != string(first) {
		t.Fatal("OpenFiles serves another certificate")
	}
	_, _, second := writePair(t, dir, 2, t0)
	if string(served()) != string(second) {
		t.Fatal("the renewed pair is not served")
	}
	os.WriteFile(certPath, []byte("broken"), 0o600)
	if string(served()) != string(second) {
		t.Fatal("a broken certificate file replaced the last good pair")
	}
	os.WriteFile(filepath.Join(dir, servercert.KeyFile), []byte("not PEM"), 0o600)
	if _, err := servercert.LoadOrCreateKey(dir); err == nil || !strings.Contains(err.Error(), "not PEM") {
		t.Fatalf("LoadOrCreateKey of a broken key file: %v", err)
	}
}

// writePair writes a self-signed certificate for cp.example (serial) and
// its key to dir/tls.crt and dir/tls.key, both files stamped mod, and
// returns their paths and the certificate.
func writePair(t *testing.T, dir string, serial int64, mod time.Time) (string, string, []byte) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "cp.example"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		DNSNames: []string{"cp.example"}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	certPath, keyPath := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
	for _, p := range []string{certPath, keyPath} {
		if err := os.Chtimes(p, mod, mod); err != nil {
			t.Fatal(err)
		}
	}
	return certPath, keyPath, der
}
