package controlplane_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nodeconsole/nodeconsole/api"
	"github.com/nodeconsole/nodeconsole/controlplane"
	"github.com/nodeconsole/nodeconsole/controlplane/cptest"
	"github.com/nodeconsole/nodeconsole/controlplane/ratelimit"
)

// verifyNodeCert checks that pemCert verifies against DATA/ca.pem as read
// from disk, for client auth, with the node ID as subject.
func verifyNodeCert(t *testing.T, cp *cptest.Server, pemCert, nodeID string) *x509.Certificate {
	t.Helper()
	caPEM, err := os.ReadFile(cp.CAPath)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPEM) {
		t.Fatal("ca.pem holds no certificate")
	}
	block, _ := pem.Decode([]byte(pemCert))
	if block == nil {
		t.Fatal("certificate is not PEM")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Fatalf("certificate does not verify against ca.pem: %v", err)
	}
	if cert.Subject.CommonName != nodeID {
		t.Fatalf("certificate subject CN = %q, want %q", cert.Subject.CommonName, nodeID)
	}
	if cert.IsCA {
		t.Fatal("node certificate is a CA")
	}
	if !cert.NotBefore.Before(time.Now().Add(-30 * time.Minute)) {
		t.Errorf("notBefore %v is not backdated", cert.NotBefore)
	}
	return cert
}

// spyNotifier is an in-process Notifier that reports each subscription, so
// a test knows a long-poll is being held.
type spyNotifier struct {
	mu         sync.Mutex
	subs       map[string][]func()
	subscribed chan string
}

func (n *spyNotifier) Subscribe(key string) (<-chan struct{}, func()) {
	ch := make(chan struct{})
	return ch, n.SubscribeFunc(key, func() { close(ch) })
}

func (n *spyNotifier) SubscribeFunc(key string, fn func()) func() {
	n.mu.Lock()
	n.subs[key] = append(n.subs[key], fn)
	n.mu.Unlock()
	select {
	case n.subscribed <- key:
	default:
	}
	return func() {}
}

func (n *spyNotifier) Publish(key string) {
	n.mu.Lock()
	fns := n.subs[key]
	delete(n.subs, key)
	n.mu.Unlock()
	for _, fn := range fns {
		fn()
	}
}

func TestEnrollFindLicensePoll(t *testing.T) {
	spy := &spyNotifier{subs: map[string][]func(){}, subscribed: make(chan string, 1)}
	cp := cptest.NewWith(t, controlplane.Options{Notifier: spy})
	n := newTestNode(t)
	er := n.enroll(t, cp)
	if len(er.DeviceCode) < 22 || er.Interval != 5 || er.ExpiresIn < 890 || er.ExpiresIn > 900 || er.Status != "pending" {
		t.Fatalf("enroll response = %+v", er)
	}
	if !strings.HasPrefix(er.VerificationURI, cp.URL) || !strings.HasSuffix(er.VerificationURIComplete, "?code="+er.UserCode) {
		t.Errorf("verification URIs %q, %q", er.VerificationURI, er.VerificationURIComplete)
	}
	if _, ok := api.NormalizeUserCode(er.UserCode); !ok || er.UserCode[4] != '-' {
		t.Errorf("user code %q is not XXXX-XXXX", er.UserCode)
	}

	// Find, with the code typed sloppily.
	a, err := cp.FindCode(strings.ToLower(strings.ReplaceAll(er.UserCode, "-", " ")))
	if err != nil {
		t.Fatal(err)
	}
	if a.NodeID != n.id || a.Make != "Acme" || a.Model != "Edge 100" || a.SourceIP != "127.0.0.1" || a.RequestedAt.IsZero() || !a.ExpiresAt.After(a.RequestedAt) {
		t.Fatalf("Find = %+v", a)
	}
	if nodes, _ := cp.Nodes(); len(nodes) != 1 || nodes[0].Status != api.StatusPending {
		t.Fatalf("nodes before license = %+v", nodes)
	}

	// The poll is held until License Node, then answers with the certificate.
	type result struct {
		reg api.Registration
		err error
	}
	done := make(chan result, 1)
	go func() {
		reg, err := poll(t, cp, er.DeviceCode, 0)
		done <- result{reg, err}
	}()
	// Wait until the poll is being held, so that the notification, not a
	// fresh poll, delivers the answer (without it the poll would answer
	// authorization_pending after 25 s).
	<-spy.subscribed
	lr, err := cp.License(er.UserCode, "store-42", "retail")
	if err != nil {
		t.Fatal(err)
	}
	if lr.NodeID != n.id || lr.Name != "store-42" {
		t.Fatalf("License = %+v", lr)
	}
	res := <-done
	if res.err != nil {
		t.Fatalf("poll: %v", res.err)
	}
	if res.reg.NodeID != n.id || res.reg.NodeName != "store-42" || res.reg.Project != "retail" || res.reg.CABundle != string(cp.CAPEM) {
		t.Fatalf("registration = %+v", res.reg)
	}
	verifyNodeCert(t, cp, res.reg.Certificate, n.id)

	// Codes are single use.
	_, err = cp.FindCode(er.UserCode)
	wantCode(t, err, api.CodeInvalidCode)
	_, err = cp.License(er.UserCode, "again", "")
	wantCode(t, err, api.CodeInvalidCode)

	// Polling again returns the same certificate (a lost answer is not fatal).
	again, err := poll(t, cp, er.DeviceCode, 0)
	if err != nil || again.Certificate != res.reg.Certificate {
		t.Fatalf("second poll = %v, same cert %v", err, again.Certificate == res.reg.Certificate)
	}

	node, err := cp.Node(n.id)
	if err != nil || node.Status != api.StatusRegistered || node.Name != "store-42" || node.RegisteredAt.IsZero() || node.LastSeen.IsZero() {
		t.Fatalf("node = %+v, %v", node, err)
	}
	for _, typ := range []string{api.EventEnrollmentStarted, api.EventActivated, api.EventRegistered} {
		if ok, err := cp.HasEvent(typ, n.id); !ok || err != nil {
			t.Errorf("no %s event (%v)", typ, err)
		}
	}
}

func TestEnrollResumesWithSameKey(t *testing.T) {
	cp := cptest.New(t)
	n := newTestNode(t)
	first := n.enroll(t, cp)
	second := n.enroll(t, cp)
	if first.DeviceCode != second.DeviceCode || first.UserCode != second.UserCode {
		t.Fatalf("same key gave a new enrollment: %+v vs %+v", first, second)
	}
	// A new key for an unregistered node competes; the first enrollment
	// stays valid (TestCompetingEnrollments goes further).
	m := n.withNewKey(t)
	third := m.enroll(t, cp)
	if third.DeviceCode == first.DeviceCode || third.UserCode == first.UserCode {
		t.Fatal("new key resumed the old enrollment")
	}
	_, err := poll(t, cp, first.DeviceCode, 1)
	wantCode(t, err, api.CodeAuthorizationPending)
	if _, err = cp.FindCode(first.UserCode); err != nil {
		t.Fatal(err)
	}
}

func TestPollSlowDownPendingExpired(t *testing.T) {
	clock := newFakeClock()
	cp := cptest.NewWith(t, controlplane.Options{Now: clock.Now, LongPoll: time.Millisecond, CodeTTL: time.Minute})
	n := newTestNode(t)
	er := n.enroll(t, cp)

	_, err := poll(t, cp, er.DeviceCode, 0)
	wantCode(t, err, api.CodeAuthorizationPending)
	_, err = poll(t, cp, er.DeviceCode, 0)
	wantCode(t, err, api.CodeSlowDown)
	clock.Advance(5 * time.Second)
	_, err = poll(t, cp, er.DeviceCode, 0)
	wantCode(t, err, api.CodeAuthorizationPending)

	clock.Advance(time.Minute)
	_, err = poll(t, cp, er.DeviceCode, 0)
	wantCode(t, err, api.CodeExpiredToken)

	// An expired code and a wrong code get the same answer.
	_, errExpired := cp.FindCode(er.UserCode)
	_, errWrong := cp.FindCode("BBBB-BBBB")
	wantCode(t, errExpired, api.CodeInvalidCode)
	if errExpired.Error() != errWrong.Error() {
		t.Errorf("expired %q and wrong %q codes answered differently", errExpired, errWrong)
	}

	// The same key may start again after expiry, with a new code.
	er2 := n.enroll(t, cp)
	if er2.UserCode == er.UserCode || er2.DeviceCode == er.DeviceCode {
		t.Fatal("expired enrollment was resumed")
	}
}

func TestDenyAndCancel(t *testing.T) {
	cp := cptest.NewWith(t, controlplane.Options{LongPoll: time.Millisecond})
	n := newTestNode(t)
	er := n.enroll(t, cp)
	if err := cp.Deny(er.UserCode); err != nil {
		t.Fatal(err)
	}
	_, err := poll(t, cp, er.DeviceCode, 0)
	wantCode(t, err, api.CodeAccessDenied)
	wantCode(t, cp.Deny(er.UserCode), api.CodeInvalidCode)

	m := newTestNode(t)
	er = m.enroll(t, cp)
	if _, err := call(t, cp.Client(), "POST", cp.URL+api.PathEnrollCancel, api.CancelRequest{DeviceCode: er.DeviceCode}, nil); err != nil {
		t.Fatal(err)
	}
	_, err = poll(t, cp, er.DeviceCode, 0)
	wantCode(t, err, api.CodeInvalidGrant)
	_, err = cp.FindCode(er.UserCode)
	wantCode(t, err, api.CodeInvalidCode)
	if ok, _ := cp.HasEvent(api.EventCancelled, m.id); !ok {
		t.Error("no cancel event")
	}
}

// TestLicenseDenyRace: of a License and a Deny racing on one code, exactly
// one wins and the node's poll agrees with it.
func TestLicenseDenyRace(t *testing.T) {
	cp := cptest.NewWith(t, controlplane.Options{LongPoll: time.Millisecond})
	for range 5 {
		n := newTestNode(t)
		er := n.enroll(t, cp)
		var wg sync.WaitGroup
		var licErr, denyErr error
		wg.Add(2)
		go func() { defer wg.Done(); _, licErr = cp.License(er.UserCode, "x", "") }()
		go func() { defer wg.Done(); denyErr = cp.Deny(er.UserCode) }()
		wg.Wait()
		if (licErr == nil) == (denyErr == nil) {
			t.Fatalf("license err %v, deny err %v: want exactly one success", licErr, denyErr)
		}
		_, err := poll(t, cp, er.DeviceCode, 0)
		if licErr == nil && err != nil {
			t.Fatalf("licensed but poll = %v", err)
		}
		if denyErr == nil {
			wantCode(t, err, api.CodeAccessDenied)
		}
	}
}

func TestBruteForceGets429(t *testing.T) {
	cp := cptest.New(t)
	var last error
	for i := range 30 {
		_, last = cp.FindCode("BBBB-BBB" + string(api.UserCodeAlphabet[i%20]))
		if cptest.ErrorCode(last) == api.CodeRateLimited {
			break
		}
		wantCode(t, last, api.CodeInvalidCode)
	}
	wantCode(t, last, api.CodeRateLimited)

	// The answer carries Retry-After, and a right code is refused too while
	// the limit holds.
	n := newTestNode(t)
	er := n.enroll(t, cp)
	req, _ := http.NewRequest("GET", cp.URL+api.PathActivations+er.UserCode, nil)
	req.Header.Set("Authorization", "Bearer "+cp.AdminToken)
	resp, err := cp.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("status %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if ok, _ := cp.HasEvent(api.EventCodeLookupFailed, ""); !ok {
		t.Error("failed lookups are not in the events log")
	}
}

func TestCSRChecks(t *testing.T) {
	cp := cptest.New(t)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	caExt, _ := asn1.Marshal(struct{ IsCA bool }{true})
	good := makeCSR(t, p256, nil)
	bad := []byte(good)
	bad[len(bad)/2] ^= 1
	tests := []struct {
		name string
		csr  string
		want api.ErrorCode
	}{
		{"p256", good, ""},
		{"ed25519", makeCSR(t, edKey, nil), ""},
		{"p384", makeCSR(t, p384, nil), api.CodeInvalidCSR},
		{"rsa", makeCSR(t, rsaKey, nil), api.CodeInvalidCSR},
		{"ca", makeCSR(t, p256, []pkix.Extension{{Id: asn1.ObjectIdentifier{2, 5, 29, 19}, Critical: true, Value: caExt}}), api.CodeInvalidCSR},
		{"garbage", "hello", api.CodeInvalidCSR},
		{"corrupt", string(bad), api.CodeInvalidCSR},
		{"huge", good + strings.Repeat(" ", 9000), api.CodeInvalidCSR},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := newTestNode(t)
			req := n.enrollRequest()
			req.CSR = tt.csr
			_, err := call(t, cp.Client(), "POST", cp.URL+api.PathEnroll, req, nil)
			if tt.want == "" && err != nil {
				t.Fatalf("enroll: %v", err)
			}
			if tt.want != "" {
				wantCode(t, err, tt.want)
			}
		})
	}
	// Bad node IDs and oversized bodies.
	n := newTestNode(t)
	for _, id := range []string{"", "edge-../../etc/passwd", "EDGE-" + strings.Repeat("a", 32), strings.Repeat("a", 200)} {
		req := n.enrollRequest()
		req.NodeID = id
		_, err := call(t, cp.Client(), "POST", cp.URL+api.PathEnroll, req, nil)
		wantCode(t, err, api.CodeInvalidRequest)
	}
	req := n.enrollRequest()
	req.Make = strings.Repeat("x", 100<<10)
	_, err := call(t, cp.Client(), "POST", cp.URL+api.PathEnroll, req, nil)
	wantCode(t, err, api.CodeTooLarge)
}

func TestRegisteredNodeRefusesNewKey(t *testing.T) {
	cp := cptest.New(t)
	n := newTestNode(t)
	er := n.enroll(t, cp)
	if _, err := cp.License(er.UserCode, "n1", ""); err != nil {
		t.Fatal(err)
	}
	// Same key: the approved enrollment is handed back (a node that lost
	// the answer can finish).
	again := n.enroll(t, cp)
	if again.DeviceCode != er.DeviceCode || again.Status != "approved" {
		t.Fatalf("re-enroll with same key = %+v", again)
	}
	m := n.withNewKey(t)
	_, err := call(t, cp.Client(), "POST", cp.URL+api.PathEnroll, m.enrollRequest(), nil)
	wantCode(t, err, api.CodeConflict)

	tok, err := cp.CreateToken("t", "p", "", false)
	if err != nil {
		t.Fatal(err)
	}
	_, err = call(t, cp.Client(), "POST", cp.URL+api.PathRegister, api.RegisterRequest{NodeID: m.id, CSR: m.csr}, nil,
		"Authorization", "Bearer "+tok.Token)
	wantCode(t, err, api.CodeConflict)

	// After delete the new key may enroll; the old certificate is refused.
	reg, err := poll(t, cp, er.DeviceCode, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := cp.DeleteNode(n.id); err != nil {
		t.Fatal(err)
	}
	_, err = call(t, n.mtlsClient(t, cp, reg), "GET", cp.URL+api.PathNodeSelf, nil, nil)
	wantCode(t, err, api.CodeCertificateRevoked)
	m.enroll(t, cp)
	wantCode(t, cp.DeleteNode("edge-00000000000000000000000000000000"), api.CodeNotFound)
}

func TestSelfAndDeregister(t *testing.T) {
	cp := cptest.New(t)
	n := newTestNode(t)
	er := n.enroll(t, cp)
	if _, err := cp.License(er.UserCode, "n1", "proj"); err != nil {
		t.Fatal(err)
	}
	reg, err := poll(t, cp, er.DeviceCode, 0)
	if err != nil {
		t.Fatal(err)
	}
	mtls := n.mtlsClient(t, cp, reg)
	var self api.NodeSelf
	if _, err := call(t, mtls, "GET", cp.URL+api.PathNodeSelf, nil, &self); err != nil {
		t.Fatal(err)
	}
	if self.NodeID != n.id || self.Name != "n1" || self.Project != "proj" || self.Status != api.StatusRegistered || self.ServerTime.IsZero() {
		t.Fatalf("self = %+v", self)
	}
	// Without a client certificate.
	_, err = call(t, cp.Client(), "GET", cp.URL+api.PathNodeSelf, nil, nil)
	wantCode(t, err, api.CodeUnauthorized)

	var dr api.DeregisterResponse
	if _, err := call(t, mtls, "POST", cp.URL+api.PathNodeDeregister, api.DeregisterRequest{Reason: "moved"}, &dr); err != nil {
		t.Fatal(err)
	}
	if dr.NodeID != n.id || dr.Status != api.StatusDeregistered {
		t.Fatalf("deregister = %+v", dr)
	}
	// The certificate is refused from now on, a replay too; the old device
	// code no longer hands it out.
	_, err = call(t, mtls, "GET", cp.URL+api.PathNodeSelf, nil, nil)
	wantCode(t, err, api.CodeCertificateRevoked)
	_, err = call(t, mtls, "POST", cp.URL+api.PathNodeDeregister, nil, nil)
	wantCode(t, err, api.CodeCertificateRevoked)
	_, err = poll(t, cp, er.DeviceCode, 1)
	wantCode(t, err, api.CodeInvalidGrant)
	node, _ := cp.Node(n.id)
	if node.Status != api.StatusDeregistered {
		t.Fatalf("node status = %q", node.Status)
	}
	if ok, _ := cp.HasEvent(api.EventDeregistered, n.id); !ok {
		t.Error("no deregistered event")
	}
	// A deregistered node may register again, with a new key.
	n.withNewKey(t).enroll(t, cp)
}

func TestAdminNeedsToken(t *testing.T) {
	// 42 failures from one address: past the per-source limit they would
	// get 429 (TestFailedAdminTokensLimitedPerSource).
	limits := ratelimit.Defaults()
	limits.FailPerIP = ratelimit.Limit{Burst: 1000, Every: time.Millisecond}
	cp := cptest.NewWith(t, controlplane.Options{RateLimits: &limits})
	paths := []struct{ method, path string }{
		{"GET", api.PathActivations + "BBBB-BBBB"}, {"POST", api.PathActivations + "BBBB-BBBB"},
		{"POST", api.PathActivations + "BBBB-BBBB/deny"}, {"GET", api.PathTokens}, {"POST", api.PathTokens},
		{"DELETE", api.PathTokens + "/x"}, {"GET", api.PathNodes}, {"POST", api.PathNodes},
		{"GET", api.PathNodes + "/x"}, {"DELETE", api.PathNodes + "/x"}, {"GET", api.PathEvents},
		{"GET", api.PathSites}, {"POST", api.PathSites}, {"DELETE", api.PathSites + "/x"},
	}
	for _, p := range paths {
		for _, hdr := range [][]string{nil, {"Authorization", "Bearer wrong"}, {"Authorization", cp.AdminToken}} {
			resp, err := call(t, cp.Client(), p.method, cp.URL+p.path, nil, nil, hdr...)
			wantCode(t, err, api.CodeUnauthorized)
			if resp.Header.Get("WWW-Authenticate") == "" {
				t.Errorf("%s %s: no WWW-Authenticate", p.method, p.path)
			}
		}
	}
	// The admin token file is private.
	fi, err := os.Stat(cp.Control().AdminTokenPath())
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("admin-token mode = %v, %v", fi.Mode(), err)
	}
}

func TestRestartKeepsPendingEnrollment(t *testing.T) {
	cp := cptest.NewWith(t, controlplane.Options{LongPoll: time.Millisecond})
	n := newTestNode(t)
	er := n.enroll(t, cp)
	tok, err := cp.CreateToken("keep", "p", "", false)
	if err != nil {
		t.Fatal(err)
	}
	cp.Restart()
	if again := n.enroll(t, cp); again.DeviceCode != er.DeviceCode || again.UserCode != er.UserCode {
		t.Fatal("enrollment not resumed after restart")
	}
	if _, err := cp.License(er.UserCode, "after-restart", ""); err != nil {
		t.Fatal(err)
	}
	reg, err := poll(t, cp, er.DeviceCode, 0)
	if err != nil {
		t.Fatal(err)
	}
	verifyNodeCert(t, cp, reg.Certificate, n.id)
	m := newTestNode(t)
	if _, err := call(t, cp.Client(), "POST", cp.URL+api.PathRegister, api.RegisterRequest{NodeID: m.id, CSR: m.csr}, nil,
		"Authorization", "Bearer "+tok.Token); err != nil {
		t.Fatalf("token after restart: %v", err)
	}
}

func TestTimeAndUnknownEndpoint(t *testing.T) {
	cp := cptest.New(t)
	var tr api.TimeResponse
	resp, err := call(t, cp.Client(), "GET", cp.URL+api.PathTime, nil, &tr)
	if err != nil || tr.ServerTime.IsZero() || resp.Header.Get("Date") == "" {
		t.Fatalf("time = %+v, %v", tr, err)
	}
	_, err = call(t, cp.Client(), "GET", cp.URL+"/api/v1/nope", nil, nil)
	wantCode(t, err, api.CodeNotFound)
	var e *api.Error
	if !errors.As(err, &e) || e.Message == "" {
		t.Fatalf("error body %v", err)
	}
}
