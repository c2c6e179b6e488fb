package controlplane_test

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nodeconsole/nodeconsole/api"
	"github.com/nodeconsole/nodeconsole/controlplane"
	"github.com/nodeconsole/nodeconsole/controlplane/cptest"
	"github.com/nodeconsole/nodeconsole/controlplane/store"
	"github.com/nodeconsole/nodeconsole/controlplane/store/sqlite"
	"github.com/nodeconsole/nodeconsole/testenv"
)

// registerWithToken registers n at once with a fresh registration token.
func (n *testNode) registerWithToken(t testing.TB, cp *cptest.Server) api.Registration {
	t.Helper()
	tok, err := cp.CreateToken("t-"+n.id[5:13], "", "", false)
	if err != nil {
		t.Fatal(err)
	}
	var reg api.Registration
	req := api.RegisterRequest{NodeID: n.id, Make: "Acme", Model: "Edge 100", Version: "1.0.0", CSR: n.csr}
	if _, err := call(t, cp.Client(), "POST", cp.URL+api.PathRegister, req, &reg, "Authorization", "Bearer "+tok.Token); err != nil {
		t.Fatalf("register: %v", err)
	}
	return reg
}

// renew asks for a certificate for next's key over mTLS with c.
func renew(t testing.TB, cp *cptest.Server, c *http.Client, next *testNode) (api.Registration, error) {
	t.Helper()
	var reg api.Registration
	_, err := call(t, c, "POST", cp.URL+api.PathNodeRenew, api.RenewRequest{CSR: next.csr}, &reg)
	return reg, err
}

func nodeSelf(t testing.TB, cp *cptest.Server, c *http.Client) error {
	t.Helper()
	_, err := call(t, c, "GET", cp.URL+api.PathNodeSelf, nil, nil)
	return err
}

func parseCert(t testing.TB, certPEM string) *x509.Certificate {
	t.Helper()
	b, _ := pem.Decode([]byte(certPEM))
	if b == nil {
		t.Fatal("certificate is not PEM")
		return nil
	}
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// fetchCRL gets the CRL (PEM when pemForm) and checks its headers.
func fetchCRL(t testing.TB, cp *cptest.Server, pemForm bool) []byte {
	t.Helper()
	req, _ := http.NewRequest("GET", cp.URL+api.PathCACRL, nil)
	want := "application/pkix-crl"
	if pemForm {
		req.Header.Set("Accept", "application/x-pem-file")
		want = "application/x-pem-file"
	}
	resp, err := cp.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != want {
		t.Fatalf("GET %s: %s %s: %q", api.PathCACRL, resp.Status, resp.Header.Get("Content-Type"), body)
	}
	return body
}

func crlSerials(t testing.TB, cp *cptest.Server) (map[string]int, *x509.RevocationList) {
	t.Helper()
	crl, err := x509.ParseRevocationList(fetchCRL(t, cp, false))
	if err != nil {
		t.Fatal(err)
	}
	caBlock, _ := pem.Decode(cp.CAPEM)
	ca, _ := x509.ParseCertificate(caBlock.Bytes)
	if err := crl.CheckSignatureFrom(ca); err != nil {
		t.Fatalf("CRL signature: %v", err)
	}
	out := map[string]int{}
	for _, e := range crl.RevokedCertificateEntries {
		out[e.SerialNumber.Text(16)] = e.ReasonCode
	}
	return out, crl
}

func openssl(t testing.TB, args ...string) (string, error) {
	t.Helper()
	bin := testenv.RequireCommand(t, "openssl")
	out, err := exec.Command(bin, args...).CombinedOutput()
	return string(out), err
}

func writeFile(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestNodeCertificateProfile: the TTL, SPIFFE URI SAN, SKI and AKI as
// openssl shows them, and GET /api/v1/ca.
func TestNodeCertificateProfile(t *testing.T) {
	cp := cptest.NewWith(t, controlplane.Options{CertTTL: 72 * time.Hour, TrustDomain: "Edge.Example.org"})
	n := newTestNode(t)
	reg := n.registerWithToken(t, cp)
	cert := parseCert(t, reg.Certificate)
	if life := cert.NotAfter.Sub(cert.NotBefore); life != 73*time.Hour {
		t.Errorf("certificate lives %v, want 72h + 1h backdate", life)
	}
	dir := t.TempDir()
	out, err := openssl(t, "x509", "-noout", "-text", "-in", writeFile(t, dir, "node.pem", []byte(reg.Certificate)))
	if err != nil {
		t.Fatalf("openssl x509: %v\n%s", err, out)
	}
	for _, want := range []string{"URI:spiffe://edge.example.org/node/" + n.id, "X509v3 Subject Key Identifier", "X509v3 Authority Key Identifier"} {
		if !strings.Contains(out, want) {
			t.Errorf("openssl x509 -text lacks %q:\n%s", want, out)
		}
	}
	resp, err := http.Get(cp.URL + api.PathCA)
	if err == nil {
		resp.Body.Close()
		t.Fatal("GET /api/v1/ca worked without trusting the CA")
	}
	resp, err = cp.Client().Get(cp.URL + api.PathCA)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != string(cp.CAPEM) {
		t.Errorf("GET %s = %q, want the CA", api.PathCA, body)
	}
}

// TestRenewalGraceAndCRL: a renewal needs a new key; the old certificate
// works until the new one is used (then it is in the CRL and openssl
// verify -crl_check refuses it) or the grace passes; a lost answer is
// answered again.
func TestRenewalGraceAndCRL(t *testing.T) {
	clock := &fakeClock{t: time.Now().Add(-10 * time.Minute)} // openssl checks thisUpdate against its own clock
	cp := cptest.NewWith(t, controlplane.Options{Now: clock.Now, RenewGrace: time.Minute})
	a := newTestNode(t)
	regA := a.registerWithToken(t, cp)
	ca := a.mtlsClient(t, cp, regA)
	_, err := renew(t, cp, ca, a)
	wantCode(t, err, api.CodeInvalidCSR)

	b := a.withNewKey(t)
	regB, err := renew(t, cp, ca, b)
	if err != nil {
		t.Fatalf("renew: %v", err)
	}
	certA, certB := parseCert(t, regA.Certificate), parseCert(t, regB.Certificate)
	if certB.Subject.CommonName != a.id || certB.SerialNumber.Cmp(certA.SerialNumber) == 0 {
		t.Fatalf("renewed certificate: %v serial %v", certB.Subject, certB.SerialNumber)
	}
	if err := nodeSelf(t, cp, ca); err != nil {
		t.Fatalf("the old certificate during its grace: %v", err)
	}
	if got, _ := crlSerials(t, cp); len(got) != 0 {
		t.Fatalf("CRL lists %v before the new certificate was used", got)
	}
	cb := b.mtlsClient(t, cp, regB)
	if err := nodeSelf(t, cp, cb); err != nil {
		t.Fatalf("the new certificate: %v", err)
	}
	wantCode(t, nodeSelf(t, cp, ca), api.CodeCertificateRevoked)
	got, crl := crlSerials(t, cp)
	if reason, ok := got[certA.SerialNumber.Text(16)]; !ok || reason != 4 || len(got) != 1 {
		t.Fatalf("CRL = %v, want only %x (superseded)", got, certA.SerialNumber)
	}
	if crl.NextUpdate.Sub(crl.ThisUpdate) < 24*time.Hour {
		t.Errorf("CRL nextUpdate %v is less than a day after thisUpdate %v", crl.NextUpdate, crl.ThisUpdate)
	}

	dir := t.TempDir()
	caFile := writeFile(t, dir, "ca.pem", cp.CAPEM)
	crlFile := writeFile(t, dir, "crl.pem", fetchCRL(t, cp, true))
	if out, err := openssl(t, "crl", "-in", crlFile, "-CAfile", caFile, "-noout", "-verify"); err != nil || !strings.Contains(out, "verify OK") {
		t.Fatalf("openssl crl -verify: %v\n%s", err, out)
	}
	verify := func(certPEM string) (string, error) {
		return openssl(t, "verify", "-CAfile", caFile, "-CRLfile", crlFile, "-crl_check", writeFile(t, dir, "leaf.pem", []byte(certPEM)))
	}
	if out, err := verify(regB.Certificate); err != nil {
		t.Errorf("openssl verify -crl_check refuses the new certificate: %v\n%s", err, out)
	}
	if out, err := verify(regA.Certificate); err == nil || !strings.Contains(out, "revoked") {
		t.Errorf("openssl verify -crl_check accepts the superseded certificate: %v\n%s", err, out)
	}

	// Renew again and never use the result: the lost answer comes again,
	// and the old certificate stops at the end of the grace.
	c := a.withNewKey(t)
	regC, err := renew(t, cp, cb, c)
	if err != nil {
		t.Fatal(err)
	}
	again, err := renew(t, cp, cb, c)
	if err != nil || again.Certificate != regC.Certificate {
		t.Fatalf("renewal repeated with the same new key: err %v, same certificate %v", err, again.Certificate == regC.Certificate)
	}
	clock.Advance(59 * time.Second)
	if err := nodeSelf(t, cp, cb); err != nil {
		t.Fatalf("before the end of the grace: %v", err)
	}
	clock.Advance(2 * time.Second)
	wantCode(t, nodeSelf(t, cp, cb), api.CodeCertificateRevoked)
	if got, _ := crlSerials(t, cp); got[certB.SerialNumber.Text(16)] != 4 || len(got) != 2 {
		t.Fatalf("CRL after the grace = %v, want %x and %x", got, certA.SerialNumber, certB.SerialNumber)
	}
	if err := nodeSelf(t, cp, c.mtlsClient(t, cp, regC)); err != nil {
		t.Fatalf("the latest certificate: %v", err)
	}
	if ok, _ := cp.HasEvent(api.EventRenewed, a.id); !ok {
		t.Error("no certificate_renewed event")
	}
}

// TestCRLListsDeregistered: a deregistered node's certificate is revoked.
func TestCRLListsDeregistered(t *testing.T) {
	cp := cptest.New(t)
	n := newTestNode(t)
	reg := n.registerWithToken(t, cp)
	if _, err := call(t, n.mtlsClient(t, cp, reg), "POST", cp.URL+api.PathNodeDeregister, nil, nil); err != nil {
		t.Fatal(err)
	}
	serial := parseCert(t, reg.Certificate).SerialNumber.Text(16)
	if got, _ := crlSerials(t, cp); got[serial] != 5 {
		t.Fatalf("CRL = %v, want %s (cessationOfOperation)", got, serial)
	}
}

// TestReenrollWithRegisteredKey: the registered key enrolling again gets
// its current certificate while it is valid (also the key of a renewal),
// a new one at once within --reenroll-grace of its expiry (old name kept,
// no admin), and a code for an admin after the grace; another key is
// refused while the certificate is valid.
func TestReenrollWithRegisteredKey(t *testing.T) {
	clock := newFakeClock()
	cp := cptest.NewWith(t, controlplane.Options{Now: clock.Now, CertTTL: time.Hour, ReenrollGrace: 24 * time.Hour, PollInterval: time.Millisecond})
	a := newTestNode(t)
	regA := a.registerWithToken(t, cp)
	b := a.withNewKey(t)
	regB, err := renew(t, cp, a.mtlsClient(t, cp, regA), b)
	if err != nil {
		t.Fatal(err)
	}
	var conflict api.EnrollResponse
	_, err = call(t, cp.Client(), "POST", cp.URL+api.PathEnroll, a.enrollRequest(), &conflict)
	wantCode(t, err, api.CodeConflict) // the key a renewal replaced

	again := b.enroll(t, cp)
	if again.Status != "approved" {
		t.Fatalf("the renewed key enrolling again: status %q, want approved", again.Status)
	}
	reg, err := poll(t, cp, again.DeviceCode, 0)
	if err != nil || reg.Certificate != regB.Certificate {
		t.Fatalf("redelivery: %v, same certificate %v", err, reg.Certificate == regB.Certificate)
	}
	// A CSR is no fresh proof of the key (anyone who saw it can send it
	// again): what it fetches carries no bearer token.
	if reg.AccessToken != "" {
		t.Error("a redelivery to the registered key carried an access token")
	}

	clock.Advance(3 * time.Hour) // expired 2h ago
	late := b.enroll(t, cp)
	if late.Status != "approved" {
		t.Fatalf("within --reenroll-grace: status %q, want approved", late.Status)
	}
	reg, err = poll(t, cp, late.DeviceCode, 0)
	if err != nil || reg.Certificate == regB.Certificate || reg.NodeName != regA.NodeName {
		t.Fatalf("re-registration: %+v, %v", reg, err)
	}
	if reg.AccessToken != "" {
		t.Error("a re-registration without an admin carried an access token")
	}
	if cert := parseCert(t, reg.Certificate); !cert.NotAfter.After(clock.Now()) {
		t.Fatalf("re-issued certificate expires %v", cert.NotAfter)
	}
	if ok, _ := cp.HasEvent(api.EventReregistered, a.id); !ok {
		t.Error("no reregistered event")
	}

	clock.Advance(26 * time.Hour) // expired a day and more ago
	tooLate := b.enroll(t, cp)
	if tooLate.Status != api.StatusPending {
		t.Fatalf("past --reenroll-grace: status %q, want pending (an admin decides)", tooLate.Status)
	}
}

// TestExpiredCertificateRecordsPruned: the retention pass deletes the
// record of a node certificate a day after it expired, not before.
func TestExpiredCertificateRecordsPruned(t *testing.T) {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "cp.db"))
	if err != nil {
		t.Fatal(err)
	}
	clock := newFakeClock()
	cp := cptest.NewWith(t, controlplane.Options{Store: st, Now: clock.Now, CertTTL: time.Hour})
	n := newTestNode(t)
	n.registerWithToken(t, cp)
	count := func() int {
		var certs []store.NodeCert
		if err := st.View(context.Background(), func(tx store.Tx) error {
			var err error
			certs, err = tx.NodeCertsForNode(n.id)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return len(certs)
	}
	clock.Advance(24 * time.Hour) // expired 23 h ago
	if err := cp.Control().Prune(context.Background()); err != nil || count() != 1 {
		t.Fatalf("after 23 h: prune %v, %d records, want 1", err, count())
	}
	clock.Advance(2 * time.Hour)
	if err := cp.Control().Prune(context.Background()); err != nil || count() != 0 {
		t.Fatalf("after 25 h: prune %v, %d records, want 0", err, count())
	}
}
