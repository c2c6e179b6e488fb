package controlplane_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nodeconsole/nodeconsole/api"
	"github.com/nodeconsole/nodeconsole/controlplane"
	"github.com/nodeconsole/nodeconsole/controlplane/cptest"
)

// get answers status and body of a GET with optional bearer token.
func get(t *testing.T, c *http.Client, url, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestHealthReadyMetrics(t *testing.T) {
	cp := cptest.New(t)
	c := cp.Client()
	if code, body := get(t, c, cp.URL+"/healthz", ""); code != 200 || body != "ok\n" {
		t.Fatalf("/healthz = %d %q", code, body)
	}
	if code, body := get(t, c, cp.URL+"/readyz", ""); code != 200 || body != "ready\n" {
		t.Fatalf("/readyz = %d %q", code, body)
	}
	if code, _ := get(t, c, cp.URL+"/metrics", ""); code != http.StatusUnauthorized {
		t.Fatalf("/metrics without a token = %d, want 401", code)
	}
	n := newTestNode(t)
	er := n.enroll(t, cp)
	if _, err := cp.License(er.UserCode, "edge-1", ""); err != nil {
		t.Fatal(err)
	}
	code, body := get(t, c, cp.URL+"/metrics", cp.AdminToken)
	if code != 200 {
		t.Fatalf("/metrics with the admin token = %d", code)
	}
	for _, want := range []string{
		`controlplane_http_requests_total{code="200",route="GET /healthz"} 1`,
		`controlplane_http_requests_total{code="401",route="GET /metrics"} 1`,
		`controlplane_enrollments_total{outcome="started"} 1`,
		`controlplane_events_total{type="activated"} 1`,
		`controlplane_http_request_duration_seconds_count{route="POST ` + api.PathEnroll + `"} 1`,
		`controlplane_held_long_polls 0`,
		`controlplane_pending_enrollments 0`,
		`controlplane_store_operation_duration_seconds_count{op="update"}`,
		`go_build_info{`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(body, er.UserCode) || strings.Contains(body, n.id) {
		t.Error("/metrics shows a code or node ID")
	}

	// With a metrics listener of its own, the main one has no /metrics.
	sep := cptest.NewWith(t, controlplane.Options{MetricsElsewhere: true})
	if code, _ := get(t, sep.Client(), sep.URL+"/metrics", sep.AdminToken); code != http.StatusNotFound {
		t.Errorf("/metrics on the main listener with MetricsElsewhere = %d, want 404", code)
	}
}

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

func TestServerKeySurvivesRestart(t *testing.T) {
	cp := cptest.New(t)
	before := serverKey(t, cp)
	cp.Restart()
	if serverKey(t, cp) != before {
		t.Fatal("the server key changed on restart")
	}
	fi, err := os.Stat(filepath.Join(cp.DataDir, "server-key.pem"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("server-key.pem: %v, mode %v", err, fi.Mode())
	}
}

func TestTLSCertFiles(t *testing.T) {
	dir := t.TempDir()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "cp.example"},
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

// TestTrustedProxy: X-Forwarded-For sets sourceIp only from a trusted
// proxy; from anyone else a forged header is ignored.
func TestTrustedProxy(t *testing.T) {
	for _, tc := range []struct {
		name    string
		proxies string
		xff     string
		want    string
	}{
		{"no proxies: header ignored", "", "203.0.113.9", "127.0.0.1"},
		{"untrusted peer: spoof ignored", "10.0.0.0/8", "203.0.113.9", "127.0.0.1"},
		{"trusted peer", "127.0.0.1", "203.0.113.9", "203.0.113.9"},
		{"right-most untrusted hop wins", "127.0.0.0/8,10.0.0.0/8", "198.51.100.1, 203.0.113.9, 10.1.2.3", "203.0.113.9"},
		{"garbage: the proxy itself", "127.0.0.1", "not-an-ip", "127.0.0.1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			proxies, err := controlplane.ParseCIDRs(tc.proxies)
			if err != nil {
				t.Fatal(err)
			}
			cp := cptest.NewWith(t, controlplane.Options{TrustedProxies: proxies})
			n := newTestNode(t)
			var er api.EnrollResponse
			if _, err := call(t, cp.Client(), "POST", cp.URL+api.PathEnroll, n.enrollRequest(), &er, "X-Forwarded-For", tc.xff); err != nil {
				t.Fatal(err)
			}
			a, err := cp.FindCode(er.UserCode)
			if err != nil {
				t.Fatal(err)
			}
			if a.SourceIP != tc.want {
				t.Fatalf("sourceIp = %q, want %q", a.SourceIP, tc.want)
			}
		})
	}
	if _, err := controlplane.ParseCIDRs("10.0.0.0/8,nonsense"); err == nil {
		t.Fatal("ParseCIDRs accepted nonsense")
	}
}

// TestAPIHygiene: 405 with Allow for a wrong method, 201 with Location
// for creations, and a repeated DELETE answers 404 on every resource.
func TestAPIHygiene(t *testing.T) {
	cp := cptest.New(t)
	c := cp.Client()
	do := func(method, path string, body string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(method, cp.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+cp.AdminToken)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	for path, allow := range map[string]string{
		api.PathNodes: "GET, HEAD, POST", api.PathNodes + "/x": "GET, HEAD, DELETE", api.PathEnroll: "POST",
	} {
		resp := do("PUT", path, "{}")
		if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != allow {
			t.Errorf("PUT %s = %d Allow %q, want 405 Allow %q", path, resp.StatusCode, resp.Header.Get("Allow"), allow)
		}
	}
	if resp := do("PUT", "/api/v1/nothing", "{}"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("PUT on no route = %d, want 404", resp.StatusCode)
	}
	id := "edge-" + strings.Repeat("ab", 16)
	for _, tc := range []struct{ path, body, location string }{
		{api.PathNodes, `{"ids":["` + id + `"]}`, api.PathNodes + "/" + id},
		{api.PathTokens, `{"name":"t"}`, api.PathTokens + "/"},
		{api.PathSites, `{"name":"s"}`, api.PathSites + "/"},
	} {
		resp := do("POST", tc.path, tc.body)
		loc := resp.Header.Get("Location")
		if resp.StatusCode != http.StatusCreated || !strings.HasPrefix(loc, tc.location) {
			t.Fatalf("POST %s = %d Location %q, want 201 %s...", tc.path, resp.StatusCode, loc, tc.location)
		}
		for i, want := range []int{http.StatusNoContent, http.StatusNotFound, http.StatusNotFound} {
			if got := do("DELETE", loc, "").StatusCode; got != want {
				t.Errorf("DELETE %s #%d = %d, want %d", loc, i+1, got, want)
			}
		}
	}
}
