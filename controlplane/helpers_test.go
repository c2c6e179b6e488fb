package controlplane_test

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/nodeconsole/nodeconsole/api"
	"github.com/nodeconsole/nodeconsole/controlplane/cptest"
)

// fakeClock is a settable clock for Options.Now.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Now()} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// testNode is a node as the client would be: an ID, a key and a CSR.
type testNode struct {
	id  string
	key crypto.Signer
	csr string
}

func newTestNode(t testing.TB) *testNode {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 16)
	rand.Read(b)
	n := &testNode{id: "edge-" + hex.EncodeToString(b), key: key}
	n.csr = makeCSR(t, key, nil)
	return n
}

// withNewKey is the same node ID with another key.
func (n *testNode) withNewKey(t testing.TB) *testNode {
	m := newTestNode(t)
	m.id = n.id
	return m
}

func makeCSR(t testing.TB, key crypto.Signer, exts []pkix.Extension) string {
	t.Helper()
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject: pkix.Name{CommonName: "ignored"}, ExtraExtensions: exts,
	}, key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))
}

func (n *testNode) enrollRequest() api.EnrollRequest {
	return api.EnrollRequest{NodeID: n.id, Make: "Acme", Model: "Edge 100", Version: "1.0.0", CSR: n.csr}
}

// call does one JSON request and decodes a 2xx answer into out; an error
// answer is returned as *api.Error. hdr adds headers.
func call(t testing.TB, c *http.Client, method, url string, body, out any, hdr ...string) (*http.Response, error) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp, err
	}
	if resp.StatusCode >= 300 {
		var e api.Error
		if err := json.Unmarshal(data, &e); err != nil || e.Code == "" {
			return resp, fmt.Errorf("%s %s: %s: %q", method, url, resp.Status, data)
		}
		if e.Code.Status() != resp.StatusCode {
			t.Errorf("%s %s: error %s came with status %d, want %d", method, url, e.Code, resp.StatusCode, e.Code.Status())
		}
		return resp, &e
	}
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return resp, fmt.Errorf("decode %s: %w", data, err)
		}
	}
	return resp, nil
}

func (n *testNode) enroll(t testing.TB, cp *cptest.Server) api.EnrollResponse {
	t.Helper()
	var r api.EnrollResponse
	if _, err := call(t, cp.Client(), "POST", cp.URL+api.PathEnroll, n.enrollRequest(), &r); err != nil {
		t.Fatalf("enroll: %v", err)
	}
	return r
}

func poll(t testing.TB, cp *cptest.Server, deviceCode string, wait int) (api.Registration, error) {
	t.Helper()
	var reg api.Registration
	_, err := call(t, cp.Client(), "POST", cp.URL+api.PathEnrollPoll, api.PollRequest{DeviceCode: deviceCode, Wait: wait}, &reg)
	return reg, err
}

// mtlsClient is a client presenting the certificate of reg with n's key.
func (n *testNode) mtlsClient(t testing.TB, cp *cptest.Server, reg api.Registration) *http.Client {
	t.Helper()
	block, _ := pem.Decode([]byte(reg.Certificate))
	if block == nil {
		t.Fatal("registration certificate is not PEM")
		return nil
	}
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{
		RootCAs:      cp.CertPool(),
		Certificates: []tls.Certificate{{Certificate: [][]byte{block.Bytes}, PrivateKey: n.key}},
	}}}
}

func wantCode(t testing.TB, err error, code api.ErrorCode) {
	t.Helper()
	if got := cptest.ErrorCode(err); got != code {
		t.Fatalf("error = %v, want code %s", err, code)
	}
}
