package controlplane

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/nodeconsole/nodeconsole/api"
)

// FuzzJSONBodies sends arbitrary bodies to every endpoint that decodes
// JSON, anonymous and as the admin: no panic, no 500, every error answer is
// an api.Error whose code travels with its status.
func FuzzJSONBodies(f *testing.F) {
	s, err := Open(Options{DataDir: f.TempDir()})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { s.Close() })
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{}, p256)
	if err != nil {
		f.Fatal(err)
	}
	csr := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})
	enroll, _ := json.Marshal(api.EnrollRequest{NodeID: "edge-0123456789abcdef0123456789abcdef", CSR: string(csr), PairingKey: "k"})
	paths := []string{api.PathEnroll, api.PathEnrollPoll, api.PathEnrollCancel, api.PathRegister,
		api.PathNodes, api.PathTokens, api.PathSites, api.PathActivations + "BCDF-GHJK", api.PathNodeDeregister}
	for i := range paths {
		for _, seed := range []string{string(enroll), `{"device_code":"x","wait":99999}`, `{"ids":["edge-0123456789abcdef0123456789abcdef"],"pairingKeys":{"edge-0123456789abcdef0123456789abcdef":"generate"},"tags":{"a":"b"}}`,
			`{"name":"n","project":"p","expiresIn":"1h","allowProjectOverride":true}`, `{"name":"\u0000"}`, `[]`, `null`, `{`, `{"tags":{"":""}}`} {
			f.Add(uint8(i), seed, i%2 == 0)
		}
	}
	h := s.Handler()
	f.Fuzz(func(t *testing.T, which uint8, body string, asAdmin bool) {
		path := paths[int(which)%len(paths)]
		r := httptest.NewRequest("POST", path, strings.NewReader(body))
		r.RemoteAddr = "192.0.2.1:1234"
		if asAdmin {
			r.Header.Set("Authorization", "Bearer "+s.AdminToken())
		} else if path == api.PathRegister {
			r.Header.Set("Authorization", "Bearer ncrt_fuzz")
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code >= 500 {
			t.Fatalf("POST %s %q: status %d: %s", path, body, w.Code, w.Body)
		}
		if w.Code >= 400 {
			var e api.Error
			if err := json.NewDecoder(bytes.NewReader(w.Body.Bytes())).Decode(&e); err != nil || e.Code == "" {
				t.Fatalf("POST %s %q: %d with a body that is not an api.Error: %q", path, body, w.Code, w.Body)
			}
			if e.Code.Status() != w.Code && w.Code != http.StatusMethodNotAllowed {
				t.Fatalf("POST %s: code %s with status %d", path, e.Code, w.Code)
			}
		}
	})
}
