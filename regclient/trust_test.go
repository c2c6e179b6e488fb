package regclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nodeconsole/nodeconsole/api"
	"github.com/nodeconsole/nodeconsole/controlplane"
	"github.com/nodeconsole/nodeconsole/controlplane/cptest"
)

// fakeEnroll is a control plane that answers enroll with answer(req) and
// records the requests.
type fakeEnroll struct {
	mu     sync.Mutex
	reqs   []api.EnrollRequest
	answer func(req api.EnrollRequest) api.EnrollResponse
}

func (f *fakeEnroll) handler(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != api.PathEnroll {
		http.NotFound(w, r)
		return
	}
	var req api.EnrollRequest
	body, _ := io.ReadAll(r.Body)
	json.Unmarshal(body, &req)
	f.mu.Lock()
	f.reqs = append(f.reqs, req)
	f.mu.Unlock()
	json.NewEncoder(w).Encode(f.answer(req))
}

func pendingAnswer(api.EnrollRequest) api.EnrollResponse {
	return api.EnrollResponse{DeviceCode: "dc", UserCode: "BCDF-GHJK", VerificationURI: "https://cp/activate",
		VerificationURIComplete: "https://cp/activate?code=BCDF-GHJK", ExpiresIn: 900, Interval: 2, Status: "pending"}
}

// The pairing key goes with the enrollment and nowhere else (not the log,
// not state.json); the code comes with this node key's fingerprint, saved
// with the pending state and given back when the code is resumed.
func TestEnrollPairingKeyAndFingerprint(t *testing.T) {
	const pairingKey = "pk_7Hq2-secret-pairing-key"
	f := &fakeEnroll{answer: pendingAnswer}
	_, c := faultServer(t, f.handler)
	var logs bytes.Buffer
	dir := t.TempDir()
	r := &Registrar{Client: c, Store: Store{Dir: dir}, NodeID: testNodeID, PairingKey: pairingKey,
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	p, err := r.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(f.reqs) != 1 || f.reqs[0].PairingKey != pairingKey {
		t.Fatalf("enroll requests %+v: want the pairing key sent", f.reqs)
	}
	key, err := r.Store.LoadKey()
	if err != nil {
		t.Fatal(err)
	}
	want, _ := api.KeyFingerprint(&key.PublicKey)
	if p.KeyFingerprint != want || len(want) != 24 {
		t.Fatalf("PendingCode.KeyFingerprint = %q, want %q", p.KeyFingerprint, want)
	}
	st, _ := r.Store.Load()
	if st.KeyFingerprint != want {
		t.Errorf("state.json keyFingerprint = %q, want %q", st.KeyFingerprint, want)
	}
	raw, _ := os.ReadFile(r.Store.Path(StateFile))
	if strings.Contains(string(raw), pairingKey) || strings.Contains(logs.String(), pairingKey) {
		t.Errorf("the pairing key leaked into state.json or the log:\n%s\n%s", raw, logs.String())
	}
	// A restart resumes the code with its fingerprint, without the network.
	r2 := &Registrar{Client: c, Store: Store{Dir: dir}, NodeID: testNodeID}
	p2, err := r2.Start(context.Background())
	if err != nil || !p2.Resumed || p2.KeyFingerprint != want || len(f.reqs) != 1 {
		t.Fatalf("resumed %+v, %v (%d enrolls); want the same fingerprint", p2, err, len(f.reqs))
	}
	// Without a pairing key none is sent (omitempty on the wire).
	if err := r2.Cancel(context.Background()); err != nil && !errors.Is(err, ErrNotAPI) {
		t.Fatal(err)
	}
	if _, err := r2.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := f.reqs[len(f.reqs)-1].PairingKey; got != "" {
		t.Errorf("pairing key %q sent without one configured", got)
	}
}

// An answer naming another key than the node's means the CSR was replaced
// on the way: the node refuses the code (a man-in-the-middle sign) and
// saves nothing; a matching fingerprint is accepted.
func TestEnrollFingerprintMismatch(t *testing.T) {
	serverFP := ""
	f := &fakeEnroll{answer: func(req api.EnrollRequest) api.EnrollResponse {
		a := pendingAnswer(req)
		a.KeyFingerprint = serverFP
		return a
	}}
	_, c := faultServer(t, f.handler)
	r := &Registrar{Client: c, Store: Store{Dir: t.TempDir()}, NodeID: testNodeID}
	serverFP = "0000 1111 2222 3333 4444"
	_, err := r.Start(context.Background())
	if !errors.Is(err, ErrKeyMismatch) || Retryable(err) || !strings.Contains(err.Error(), "saw a different key") ||
		!strings.Contains(err.Error(), "man-in-the-middle") || !strings.Contains(err.Error(), serverFP) {
		t.Fatalf("Start with a foreign fingerprint: %v; want ErrKeyMismatch naming it", err)
	}
	if st, _ := r.Store.Load(); st.State == Pending || st.UserCode != "" {
		t.Fatalf("the suspicious code was saved: %+v", st)
	}
	if _, ok := r.Current(); ok {
		t.Fatal("a session was started for the suspicious code")
	}
	serverFP, _ = r.keyFingerprint()
	p, err := r.Start(context.Background())
	if err != nil || p.KeyFingerprint != serverFP {
		t.Fatalf("Start with the matching fingerprint: %+v, %v", p, err)
	}
}

// registerByCode enrolls r and has an admin license the code.
func registerByCode(t *testing.T, cp *cptest.Server, r *Registrar, name string) {
	t.Helper()
	p, err := r.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cp.License(p.UserCode, name, ""); err != nil {
		t.Fatal(err)
	}
	if out := untilFinal(t, r); out.Kind != OutcomeRegistered {
		t.Fatalf("outcome %+v", out)
	}
}

// A damaged, foreign or missing node.crt never costs the node its key: the
// next start keeps node.key, says what happened, and the resume path
// (enroll again with the same key) delivers the certificate again.
func TestDamagedCertificateKeepsKey(t *testing.T) {
	cp := fastCP(t, controlplane.Options{})
	other := newRegistrar(t, cp, t.TempDir())
	other.NodeID = "edge-0123456789abcdef0123456789abcdef"
	registerByCode(t, cp, other, "other")
	foreign, err := os.ReadFile(other.Store.Path(CertFile))
	if err != nil {
		t.Fatal(err)
	}
	for name, damage := range map[string]func(path string) error{
		"damaged": func(path string) error {
			return os.WriteFile(path, []byte("-----BEGIN CERTIFICATE-----\nAAAA\n"), 0o644)
		},
		"foreign": func(path string) error { return os.WriteFile(path, foreign, 0o644) },
		"missing": os.Remove,
	} {
		t.Run(name, func(t *testing.T) {
			cp.DeleteNode(testNodeID) // free the ID from an earlier subtest
			dir := t.TempDir()
			r := newRegistrar(t, cp, dir)
			registerByCode(t, cp, r, "store-"+name)
			key, _ := os.ReadFile(r.Store.Path(KeyFile))
			if err := damage(r.Store.Path(CertFile)); err != nil {
				t.Fatal(err)
			}
			r2 := newRegistrar(t, cp, dir)
			p, err := r2.Start(context.Background())
			if err != nil {
				t.Fatalf("Start with a %s certificate: %v", name, err)
			}
			if now, _ := os.ReadFile(r2.Store.Path(KeyFile)); !bytes.Equal(now, key) {
				t.Fatal("node.key was replaced or removed")
			}
			if !p.Approved || !p.Redelivered || !strings.Contains(p.Recovery, CertFile) || !strings.Contains(p.Recovery, "key was kept") {
				t.Fatalf("pending = %+v; want an approved redelivery saying what happened", p)
			}
			if out := untilFinal(t, r2); out.Kind != OutcomeRegistered {
				t.Fatalf("outcome %+v", out)
			}
			checkRegisteredOnDisk(t, cp, r2.Store, "store-"+name)
			if now, _ := os.ReadFile(r2.Store.Path(KeyFile)); !bytes.Equal(now, key) {
				t.Fatal("registered again with another key")
			}
		})
	}
}

// A token-registered node whose certificate is damaged keeps its key, and
// enrolling with it gets the certificate delivered again (the control
// plane records every certificate it issues); the same (single-use,
// spent) token also registers it again.
func TestDamagedCertificateTokenNode(t *testing.T) {
	cp := fastCP(t, controlplane.Options{})
	tok, err := cp.CreateToken("once", "retail", "", true)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	r := newRegistrar(t, cp, dir)
	if _, err := r.RegisterWithToken(context.Background(), tok.Token, "", nil); err != nil {
		t.Fatal(err)
	}
	key, _ := os.ReadFile(r.Store.Path(KeyFile))
	os.WriteFile(r.Store.Path(CertFile), []byte("garbage"), 0o644)
	r2 := newRegistrar(t, cp, dir)
	p, err := r2.Start(context.Background())
	if err != nil || !p.Approved {
		t.Fatalf("Start: %+v, %v; want the certificate delivered again for the registered key", p, err)
	}
	if out, err := r2.Next(context.Background()); err != nil || out.Kind != OutcomeRegistered {
		t.Fatalf("Next: %+v, %v", out, err)
	}
	if now, _ := os.ReadFile(r2.Store.Path(KeyFile)); !bytes.Equal(now, key) {
		t.Fatal("node.key was replaced or removed")
	}
	if _, err := r2.CheckCertificate(context.Background()); err != nil {
		t.Fatalf("the redelivered certificate: %v", err)
	}
	os.WriteFile(r2.Store.Path(CertFile), []byte("garbage"), 0o644)
	r2 = newRegistrar(t, cp, dir)
	if _, err := r2.RegisterWithToken(context.Background(), tok.Token, "", nil); err != nil {
		t.Fatalf("the same token again: %v", err)
	}
	node, _ := cp.Node(testNodeID)
	checkRegisteredOnDisk(t, cp, r2.Store, node.Name)
}

// After a crash between the approval and the certificate write, the node
// enrolls again and gets the certificate again: a redelivery, which the
// screen must not word as "pre-added by an admin".
func TestCrashAfterApprovalIsRedelivery(t *testing.T) {
	cp := fastCP(t, controlplane.Options{})
	dir := t.TempDir()
	r := newRegistrar(t, cp, dir)
	p, err := r.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cp.License(p.UserCode, "store-30", ""); err != nil {
		t.Fatal(err)
	}
	// What Finalize leaves when the power goes after "certificate
	// received": pending, certReceived, no device code, no node.crt.
	if err := r.Store.Save(State{NodeID: r.NodeID, State: Pending, Endpoint: r.Client.Endpoint(), NodeName: "store-30", CertReceived: true}); err != nil {
		t.Fatal(err)
	}
	r2 := newRegistrar(t, cp, dir)
	p2, err := r2.Start(context.Background())
	if err != nil || !p2.Approved || !p2.Redelivered {
		t.Fatalf("Start after the crash = %+v, %v; want an approved redelivery", p2, err)
	}
	if out := untilFinal(t, r2); out.Kind != OutcomeRegistered || out.Registration.Name != "store-30" {
		t.Fatalf("outcome %+v", out)
	}
}

// Leftover temporary files in identity/ (a crash mid-write; one may hold
// a private key) are removed at start and by deregister.
func TestLeftoverTempFilesRemoved(t *testing.T) {
	s := Store{Dir: t.TempDir()}
	if _, err := s.EnsureKey(); err != nil {
		t.Fatal(err)
	}
	leftovers := func() []string {
		m, _ := filepath.Glob(filepath.Join(s.Path(IdentityDir), "*.tmp-*"))
		return m
	}
	plant := func() {
		for _, f := range []string{".node.key.tmp-123456", ".node.crt.tmp-42"} {
			if err := os.WriteFile(filepath.Join(s.Path(IdentityDir), f), []byte("-----BEGIN PRIVATE KEY-----"), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	plant()
	if _, _, err := s.Recover(); err != nil || len(leftovers()) != 0 {
		t.Fatalf("after Recover (start): %v, leftovers %v", err, leftovers())
	}
	if _, err := s.LoadKey(); err != nil {
		t.Fatalf("the key went with the leftovers: %v", err)
	}
	plant()
	if err := s.Reset(); err != nil || len(leftovers()) != 0 {
		t.Fatalf("after Reset (deregister): %v, leftovers %v", err, leftovers())
	}
}

// addWithPairingKey pre-adds id with a generated pairing key and returns it.
func addWithPairingKey(t *testing.T, cp *cptest.Server, id string) string {
	t.Helper()
	var nl api.NodeList
	if err := cp.Admin(http.MethodPost, api.PathNodes, api.AddNodesRequest{IDs: []string{id}, Tags: map[string]string{"rack": "9"},
		PairingKeys: map[string]string{id: api.PairingKeyGenerate}}, &nl); err != nil {
		t.Fatal(err)
	}
	if nl.PairingKeys[id] == "" {
		t.Fatalf("no generated pairing key in %+v", nl)
	}
	return nl.PairingKeys[id]
}

// End to end against the real control plane: a pre-added node with the
// wrong pairing key gets a code (an admin must compare the fingerprint,
// which Find shows the same as the node); with the right key it is
// approved at once and registered with the admin's tags.
func TestPairingKeyEndToEnd(t *testing.T) {
	cp := fastCP(t, controlplane.Options{})
	dir := t.TempDir()
	r := newRegistrar(t, cp, dir)
	key := addWithPairingKey(t, cp, r.NodeID)

	r.PairingKey = "wrong-pairing-key-0123456789"
	p, err := r.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if p.Approved || p.UserCode == "" || p.KeyFingerprint == "" {
		t.Fatalf("a wrong pairing key: %+v; want a code to license", p)
	}
	act, err := cp.FindCode(p.UserCode)
	if err != nil || act.KeyFingerprint != p.KeyFingerprint {
		t.Fatalf("Find shows fingerprint %q (%v), the node %q", act.KeyFingerprint, err, p.KeyFingerprint)
	}
	if err := r.Cancel(context.Background()); err != nil {
		t.Fatal(err)
	}

	r.PairingKey = key
	p, err = r.Start(context.Background())
	if err != nil || !p.Approved || p.Redelivered {
		t.Fatalf("the right pairing key: %+v, %v; want approved at once", p, err)
	}
	out, err := r.Next(context.Background())
	if err != nil || out.Kind != OutcomeRegistered || out.Registration.Tags["rack"] != "9" {
		t.Fatalf("Next = %+v, %v", out, err)
	}
	checkRegisteredOnDisk(t, cp, r.Store, out.Registration.Name)
}

// A certificate lost long after the approval (its code expired weeks ago)
// is still delivered again: an approval does not expire.
func TestDamagedCertificateLongAfterApproval(t *testing.T) {
	var offset atomicDuration
	cp := fastCP(t, controlplane.Options{Now: func() time.Time { return time.Now().Add(offset.Load()) }})
	dir := t.TempDir()
	r := newRegistrar(t, cp, dir)
	registerByCode(t, cp, r, "store-60")
	offset.Store(30 * 24 * time.Hour)
	os.Remove(r.Store.Path(CertFile))
	r2 := newRegistrar(t, cp, dir)
	p, err := r2.Start(context.Background())
	if err != nil || !p.Redelivered {
		t.Fatalf("Start = %+v, %v; want a redelivery", p, err)
	}
	if out := untilFinal(t, r2); out.Kind != OutcomeRegistered {
		t.Fatalf("outcome %+v; want the certificate delivered again", out)
	}
	checkRegisteredOnDisk(t, cp, r2.Store, "store-60")
}
