package regclient

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nodeconsole/nodeconsole/api"
	"github.com/nodeconsole/nodeconsole/controlplane"
	"github.com/nodeconsole/nodeconsole/controlplane/cptest"
)

const testNodeID = "edge-4c4c4544004235108052b4c04f4e4a32"

// newRegistrar is a node with its own state dir talking to cp.
func newRegistrar(t *testing.T, cp *cptest.Server, dir string) *Registrar {
	t.Helper()
	c, err := New(Options{Endpoint: cp.URL, CAPEMs: [][]byte{cp.CAPEM}, Version: "1.0.0", Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	store := Store{Dir: dir}
	id, _, err := store.EnsureNodeID(IDSources{ConfigName: testNodeID})
	if err != nil {
		t.Fatal(err)
	}
	return &Registrar{Client: c, Store: store, NodeID: id, Make: "Acme", Model: "EdgeBox", Version: "1.0.0",
		Jitter: func(d time.Duration) time.Duration { return 0 }}
}

// fastCP is a control plane with a short interval, so a test never waits
// for real on interval polling.
func fastCP(t *testing.T, opts controlplane.Options) *cptest.Server {
	if opts.PollInterval == 0 {
		opts.PollInterval = time.Millisecond
	}
	return cptest.NewWith(t, opts)
}

// nextAsync runs Next in a goroutine and returns its result channel.
func nextAsync(r *Registrar) <-chan Outcome {
	ch := make(chan Outcome, 1)
	go func() {
		out, err := r.Next(context.Background())
		if err != nil {
			out.Err = err
			out.Kind = -1
		}
		ch <- out
	}()
	return ch
}

// waitRegistered calls Next until a final outcome.
func untilFinal(t *testing.T, r *Registrar) Outcome {
	t.Helper()
	for range 50 {
		out, err := r.Next(context.Background())
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		if out.Kind != OutcomeWaiting && out.Kind != OutcomeRetrying {
			return out
		}
	}
	t.Fatal("no final outcome after 50 steps")
	return Outcome{}
}

func checkRegisteredOnDisk(t *testing.T, cp *cptest.Server, s Store, wantName string) {
	t.Helper()
	st, err := s.Load()
	if err != nil || st.State != Registered || st.NodeName != wantName || st.DeviceCode != "" || st.CertReceived {
		t.Fatalf("state = %+v, %v; want registered as %s", st, err, wantName)
	}
	c, err := s.NodeCertificate()
	if err != nil {
		t.Fatal(err)
	}
	if c.Subject.CommonName != st.NodeID {
		t.Errorf("certificate subject %q, want %s", c.Subject.CommonName, st.NodeID)
	}
	if _, err := c.Verify(x509.VerifyOptions{Roots: cp.CertPool(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("node.crt does not verify against the control plane's CA: %v", err)
	}
	ca, err := os.ReadFile(s.Path(CAFile))
	if err != nil || !bytes.Contains(ca, bytes.TrimSpace(cp.CAPEM)) {
		t.Errorf("ca.crt does not hold the control plane's CA (%v)", err)
	}
	for f, want := range map[string]os.FileMode{KeyFile: 0o600, IdentityDir: 0o700} {
		fi, err := os.Stat(s.Path(f))
		if err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s mode %v (%v), want %v", f, fi.Mode().Perm(), err, want)
		}
	}
	if err := s.matchingCertificate(st.NodeID); err != nil {
		t.Errorf("certificate and key do not match: %v", err)
	}
}

func TestCodePath(t *testing.T) {
	cp := fastCP(t, controlplane.Options{})
	r := newRegistrar(t, cp, t.TempDir())
	p, err := r.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := api.NormalizeUserCode(p.UserCode); !ok || p.Approved || p.Resumed || p.VerificationURIComplete == "" {
		t.Fatalf("pending = %+v", p)
	}
	st, _ := r.Store.Load()
	if st.State != Pending || st.UserCode != p.UserCode || st.DeviceCode == "" {
		t.Fatalf("pending state not saved before the code is shown: %+v", st)
	}
	act, err := cp.FindCode(p.UserCode)
	if err != nil || act.NodeID != r.NodeID || act.Make != "Acme" || act.Model != "EdgeBox" {
		t.Fatalf("Find = %+v, %v", act, err)
	}
	// The long-poll is held by the server and answered when the admin
	// licenses the code.
	done := nextAsync(r)
	if _, err := cp.License(p.UserCode, "store-17", "retail"); err != nil {
		t.Fatal(err)
	}
	out := <-done
	for out.Kind == OutcomeWaiting { // licensed between two polls
		out = <-nextAsync(r)
	}
	if out.Kind != OutcomeRegistered || out.Registration.Name != "store-17" || out.Registration.Project != "retail" {
		t.Fatalf("outcome = %+v", out)
	}
	checkRegisteredOnDisk(t, cp, r.Store, "store-17")
	// The certificate works for mutual TLS.
	cert, ca, err := r.Store.LoadCertificate()
	if err != nil {
		t.Fatal(err)
	}
	mc, err := r.Client.WithCertificate(cert, ca)
	if err != nil {
		t.Fatal(err)
	}
	self, err := mc.Self(context.Background())
	if err != nil || self.NodeID != r.NodeID || self.Name != "store-17" {
		t.Fatalf("self = %+v, %v", self, err)
	}
	// Registered already: Start says so.
	if _, err := r.Start(context.Background()); !errors.Is(err, ErrRegistered) {
		t.Fatalf("Start on a registered node: %v, want ErrRegistered", err)
	}
}

// A pre-added ID without a pairing key is not a credential (issue 12): the
// node gets a code like any other; licensing it keeps the admin's tags.
func TestManualID(t *testing.T) {
	cp := fastCP(t, controlplane.Options{})
	r := newRegistrar(t, cp, t.TempDir())
	if _, err := cp.AddNodes([]string{r.NodeID}, map[string]string{"rack": "4"}); err != nil {
		t.Fatal(err)
	}
	p, err := r.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if p.Approved {
		t.Fatalf("a pre-added node without its pairing key was approved at enroll: %+v", p)
	}
	done := nextAsync(r)
	if _, err := cp.License(p.UserCode, "store-4", ""); err != nil {
		t.Fatal(err)
	}
	out := <-done
	for out.Kind == OutcomeWaiting { // licensed between two polls
		out = <-nextAsync(r)
	}
	if out.Kind != OutcomeRegistered {
		t.Fatalf("outcome = %+v", out)
	}
	if out.Registration.Tags["rack"] != "4" {
		t.Errorf("tags = %v", out.Registration.Tags)
	}
	checkRegisteredOnDisk(t, cp, r.Store, out.Registration.Name)
}

func TestTokenPath(t *testing.T) {
	cp := fastCP(t, controlplane.Options{})
	tok, err := cp.CreateToken("line-1", "retail", "", true)
	if err != nil {
		t.Fatal(err)
	}
	r := newRegistrar(t, cp, t.TempDir())
	reg, err := r.RegisterWithToken(context.Background(), tok.Token, "", map[string]string{"site": "lab"})
	if err != nil {
		t.Fatal(err)
	}
	if reg.Project != "retail" || reg.Tags["site"] != "lab" {
		t.Errorf("registration = %+v", reg)
	}
	checkRegisteredOnDisk(t, cp, r.Store, reg.Name)

	// The single-use token is spent: another node gets a clear error.
	other := newRegistrar(t, cp, t.TempDir())
	other.NodeID = "edge-0123456789abcdef0123456789abcdef"
	_, err = other.RegisterWithToken(context.Background(), tok.Token, "", nil)
	if !errors.Is(err, ErrInvalidToken) || Retryable(err) {
		t.Fatalf("reused single-use token: %v, want ErrInvalidToken, not retryable", err)
	}
	if bytes.Contains([]byte(err.Error()), []byte(tok.Token)) {
		t.Fatal("the error shows the token")
	}
	if st, _ := other.Store.Load(); st.State != Unregistered {
		t.Errorf("a refused token left state %s", st.State)
	}
}

func TestExpiryThenNewCodeSameKey(t *testing.T) {
	cp := fastCP(t, controlplane.Options{CodeTTL: 2 * time.Second, LongPoll: 10 * time.Second})
	r := newRegistrar(t, cp, t.TempDir())
	p1, err := r.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	key1, _ := os.ReadFile(r.Store.Path(KeyFile))
	out := untilFinal(t, r)
	if out.Kind != OutcomeExpired || !errors.Is(out.Err, ErrExpired) {
		t.Fatalf("outcome = %+v, want expired", out)
	}
	if st, _ := r.Store.Load(); st.State != Unregistered || st.NodeID != r.NodeID {
		t.Fatalf("after expiry state = %+v", st)
	}
	p2, err := r.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	key2, _ := os.ReadFile(r.Store.Path(KeyFile))
	if p2.UserCode == p1.UserCode || !bytes.Equal(key1, key2) {
		t.Fatalf("new code %s (old %s), key kept %v", p2.UserCode, p1.UserCode, bytes.Equal(key1, key2))
	}
}

func TestDeny(t *testing.T) {
	cp := fastCP(t, controlplane.Options{})
	r := newRegistrar(t, cp, t.TempDir())
	p, err := r.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := cp.Deny(p.UserCode); err != nil {
		t.Fatal(err)
	}
	out := untilFinal(t, r)
	if out.Kind != OutcomeDenied || !errors.Is(out.Err, ErrDenied) {
		t.Fatalf("outcome = %+v", out)
	}
	if st, _ := r.Store.Load(); st.State != Unregistered {
		t.Errorf("state after deny: %s", st.State)
	}
}

func TestCancel(t *testing.T) {
	cp := fastCP(t, controlplane.Options{})
	r := newRegistrar(t, cp, t.TempDir())
	p, err := r.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Cancel(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st, _ := r.Store.Load(); st.State != Unregistered {
		t.Errorf("state after cancel: %s", st.State)
	}
	if ok, _ := cp.HasEvent(api.EventCancelled, r.NodeID); !ok {
		t.Error("the server did not record the cancellation")
	}
	if _, err := cp.FindCode(p.UserCode); cptest.ErrorCode(err) != api.CodeInvalidCode {
		t.Errorf("cancelled code still found: %v", err)
	}
}

func TestResumeSameCodeAfterRestart(t *testing.T) {
	cp := fastCP(t, controlplane.Options{})
	dir := t.TempDir()
	p1, err := newRegistrar(t, cp, dir).Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// The program restarts while the control plane is down: the same code
	// is shown at once, without the network.
	cp.Stop()
	r2 := newRegistrar(t, cp, dir)
	p2, err := r2.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !p2.Resumed || p2.UserCode != p1.UserCode || !p2.ExpiresAt.Equal(p1.ExpiresAt) {
		t.Fatalf("resumed %+v, want the same code as %+v", p2, p1)
	}
	// The poll fails while the server is down; the code stays.
	out, err := r2.Next(context.Background())
	if err != nil || out.Kind != OutcomeRetrying || !Retryable(out.Err) || out.Pending.UserCode != p1.UserCode || out.RetryIn <= 0 {
		t.Fatalf("poll with the server down = %+v, %v", out, err)
	}
	cp.Restart()
	if _, err := cp.License(p1.UserCode, "store-18", ""); err != nil {
		t.Fatal(err)
	}
	r2.Sleep = func(context.Context, time.Duration) error { return nil }
	if out := untilFinal(t, r2); out.Kind != OutcomeRegistered || out.Registration.Name != "store-18" {
		t.Fatalf("outcome = %+v", out)
	}
	checkRegisteredOnDisk(t, cp, r2.Store, "store-18")
}

// crashAt makes a Registrar's Hook fail at step, as a crash
// there would (the following writes do not happen).
func crashAt(t *testing.T, hook *func(string) error, step string) {
	errCrash := errors.New("simulated crash")
	*hook = func(s string) error {
		if s == step {
			return errCrash
		}
		return nil
	}
	t.Cleanup(func() { *hook = nil })
}

func TestCertReceivedButNotFinalized(t *testing.T) {
	for _, step := range []string{"received", "written"} {
		t.Run(step, func(t *testing.T) {
			cp := fastCP(t, controlplane.Options{})
			dir := t.TempDir()
			r := newRegistrar(t, cp, dir)
			p, err := r.Start(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if _, err := cp.License(p.UserCode, "store-19", "retail"); err != nil {
				t.Fatal(err)
			}
			crashAt(t, &r.Hook, step)
			if _, err := r.Next(context.Background()); err == nil {
				t.Fatal("want the simulated crash")
			}
			r.Hook = nil
			st, _ := r.Store.Load()
			if st.State == Registered {
				t.Fatal("registered before the certificate was written")
			}
			// Next start: recovered offline when the files are there,
			// otherwise the resumed enrollment delivers the certificate
			// again.
			r2 := newRegistrar(t, cp, dir)
			_, err = r2.Start(context.Background())
			switch step {
			case "written":
				if !errors.Is(err, ErrRegistered) {
					t.Fatalf("Start after a crash with the certificate written: %v, want ErrRegistered (finalized)", err)
				}
			case "received":
				if err != nil {
					t.Fatal(err)
				}
				if out := untilFinal(t, r2); out.Kind != OutcomeRegistered {
					t.Fatalf("outcome %+v", out)
				}
			}
			checkRegisteredOnDisk(t, cp, r2.Store, "store-19")
		})
	}
}

func TestDeregister(t *testing.T) {
	cp := fastCP(t, controlplane.Options{})
	r := newRegistrar(t, cp, t.TempDir())
	tok, _ := cp.CreateToken("t", "retail", "", false)
	if _, err := r.RegisterWithToken(context.Background(), tok.Token, "", nil); err != nil {
		t.Fatal(err)
	}
	oldKey, _ := os.ReadFile(r.Store.Path(KeyFile))
	oldCert, oldCA, err := r.Store.LoadCertificate()
	if err != nil {
		t.Fatal(err)
	}
	var steps []DeregisterStep
	if err := r.Deregister(context.Background(), "test", func(s DeregisterStep) { steps = append(steps, s) }); err != nil {
		t.Fatal(err)
	}
	if len(steps) != 3 || steps[0] != StepSendEvent || steps[2] != StepWipe {
		t.Errorf("steps = %v", steps)
	}
	checkUnregistered(t, r.Store, r.NodeID)
	if ok, _ := cp.HasEvent(api.EventDeregistered, r.NodeID); !ok {
		t.Error("no deregistered event")
	}
	if n, _ := cp.Node(r.NodeID); n.Status != api.StatusDeregistered {
		t.Errorf("node status %q", n.Status)
	}
	// The old certificate is refused.
	mc, err := r.Client.WithCertificate(oldCert, oldCA)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mc.Self(context.Background()); !errors.Is(err, ErrRevoked) {
		t.Errorf("old certificate: %v, want ErrRevoked", err)
	}
	// Registering again works, with a new key.
	p, err := r.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if newKey, _ := os.ReadFile(r.Store.Path(KeyFile)); bytes.Equal(newKey, oldKey) {
		t.Error("the key was reused after deregistration")
	}
	if _, err := cp.License(p.UserCode, "again", ""); err != nil {
		t.Fatal(err)
	}
	if out := untilFinal(t, r); out.Kind != OutcomeRegistered {
		t.Fatalf("register again: %+v", out)
	}
	checkRegisteredOnDisk(t, cp, r.Store, "again")
}

func checkUnregistered(t *testing.T, s Store, nodeID string) {
	t.Helper()
	st, err := s.Load()
	if err != nil || st.State != Unregistered || st.NodeID != nodeID || st.Wiping || st.NodeName != "" {
		t.Errorf("state = %+v, %v; want unregistered keeping the node ID", st, err)
	}
	for _, f := range []string{KeyFile, CertFile, CAFile} {
		if _, err := os.Stat(s.Path(f)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s still there (%v)", f, err)
		}
	}
}

func TestDeregisterUnreachable(t *testing.T) {
	cp := fastCP(t, controlplane.Options{})
	r := newRegistrar(t, cp, t.TempDir())
	tok, _ := cp.CreateToken("t", "", "", false)
	if _, err := r.RegisterWithToken(context.Background(), tok.Token, "", nil); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(r.Store.Path(StateFile))
	cp.Stop()
	err := r.Deregister(context.Background(), "", nil)
	if !errors.Is(err, ErrUnreachable) {
		t.Fatalf("deregister with the server down: %v, want ErrUnreachable", err)
	}
	after, _ := os.ReadFile(r.Store.Path(StateFile))
	if !bytes.Equal(before, after) {
		t.Errorf("state changed:\n%s\n%s", before, after)
	}
	if _, err := os.Stat(r.Store.Path(CertFile)); err != nil {
		t.Errorf("certificate gone: %v", err)
	}
	if err := r.DeregisterLocal("unreachable"); err != nil {
		t.Fatal(err)
	}
	checkUnregistered(t, r.Store, r.NodeID)
}

// A crash between the Deregister event and the wipe leaves the node
// registered (consistent); deregistering again finishes, since the server
// answers that the certificate is already revoked.
func TestCrashBetweenEventAndWipe(t *testing.T) {
	cp := fastCP(t, controlplane.Options{})
	r := newRegistrar(t, cp, t.TempDir())
	tok, _ := cp.CreateToken("t", "", "", false)
	if _, err := r.RegisterWithToken(context.Background(), tok.Token, "", nil); err != nil {
		t.Fatal(err)
	}
	crashAt(t, &r.Hook, "wipe")
	if err := r.Deregister(context.Background(), "", nil); err == nil {
		t.Fatal("want the simulated crash")
	}
	r.Hook = nil
	if ok, _ := cp.HasEvent(api.EventDeregistered, r.NodeID); !ok {
		t.Fatal("event not recorded")
	}
	r2 := newRegistrar(t, cp, r.Store.Dir)
	st, err := r2.Recover()
	if err != nil || st.State != Registered || st.DeregisterStartedAt.IsZero() {
		t.Fatalf("after the crash: %+v, %v; want registered (consistent) with the deregister mark", st, err)
	}
	if err := r2.Store.matchingCertificate(r2.NodeID); err != nil {
		t.Fatalf("registered without a matching certificate: %v", err)
	}
	if err := r2.Deregister(context.Background(), "", nil); err != nil {
		t.Fatalf("second deregister: %v", err)
	}
	checkUnregistered(t, r2.Store, r2.NodeID)
}

// Every prefix of Reset's writes is finished by Recover.
func TestRecoverInterruptedWipe(t *testing.T) {
	cp := fastCP(t, controlplane.Options{})
	tok, _ := cp.CreateToken("t", "", "", false)
	for _, keep := range [][]string{
		{KeyFile, CertFile, CAFile}, {KeyFile, CAFile}, {KeyFile}, {},
	} {
		r := newRegistrar(t, cp, t.TempDir())
		if _, err := r.RegisterWithToken(context.Background(), tok.Token, "", nil); err != nil {
			t.Fatal(err)
		}
		if err := cp.DeleteNode(r.NodeID); err != nil {
			t.Fatal(err)
		}
		// State says wiping; some files are already gone.
		if err := r.Store.Save(State{NodeID: r.NodeID, State: Unregistered, Wiping: true}); err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{CertFile, CAFile, KeyFile} {
			if !contains(keep, f) {
				os.Remove(r.Store.Path(f))
			}
		}
		st, action, err := r.Store.Recover()
		if err != nil || action != RecoverWiped || st.State != Unregistered {
			t.Fatalf("keep %v: Recover = %+v, %s, %v", keep, st, action, err)
		}
		checkUnregistered(t, r.Store, r.NodeID)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// A registered state whose certificate is missing is not left registered,
// and keeps its key (the control plane may still trust it); without a key
// it is reset.
func TestRecoverRegisteredWithoutCertificate(t *testing.T) {
	s := Store{Dir: t.TempDir()}
	if _, err := s.EnsureKey(); err != nil {
		t.Fatal(err)
	}
	key, _ := os.ReadFile(s.Path(KeyFile))
	if err := s.Save(State{NodeID: testNodeID, State: Registered, NodeName: "x"}); err != nil {
		t.Fatal(err)
	}
	st, action, err := s.Recover()
	if err != nil || action != RecoverKeptKey || st.State != Pending || st.NodeID != testNodeID || !strings.Contains(st.Recovery, "was missing") {
		t.Fatalf("Recover = %+v, %s, %v", st, action, err)
	}
	if now, _ := os.ReadFile(s.Path(KeyFile)); !bytes.Equal(now, key) {
		t.Fatal("the key was not kept")
	}
	os.Remove(s.Path(KeyFile))
	s.Save(State{NodeID: testNodeID, State: Registered, NodeName: "x"})
	st, action, err = s.Recover()
	if err != nil || action != RecoverReset || st.State != Unregistered || st.NodeID != testNodeID {
		t.Fatalf("without a key: Recover = %+v, %s, %v", st, action, err)
	}
}

func TestEnsureKey(t *testing.T) {
	s := Store{Dir: t.TempDir()}
	k1, err := s.EnsureKey()
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(s.Path(KeyFile), 0o644)
	k2, err := s.EnsureKey()
	if err != nil || !k1.Equal(k2) {
		t.Fatalf("key not reused: %v", err)
	}
	if fi, _ := os.Stat(s.Path(KeyFile)); fi.Mode().Perm() != 0o600 {
		t.Errorf("a 0644 key was not tightened: %v", fi.Mode())
	}
	// A zero-filled key with no certificate is replaced.
	os.WriteFile(s.Path(KeyFile), make([]byte, 64), 0o600)
	if _, err := s.EnsureKey(); err != nil {
		t.Fatalf("damaged key not replaced: %v", err)
	}
	csr, err := CreateCSR(k1, testNodeID)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode([]byte(csr))
	req, err := x509.ParseCertificateRequest(block.Bytes)
	if err != nil || req.CheckSignature() != nil || req.Subject.CommonName != testNodeID {
		t.Fatalf("CSR: %v", err)
	}
}

// TestStaleSessionLeavesNewerCodeAlone: one screen's long-poll on a code
// that another screen cancelled and replaced must not reset the newer
// pending code on disk when the server tells it the old code is gone.
func TestStaleSessionLeavesNewerCodeAlone(t *testing.T) {
	cp := fastCP(t, controlplane.Options{})
	dir := t.TempDir()
	a := newRegistrar(t, cp, dir)
	first, err := a.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	b := newRegistrar(t, cp, dir) // no session: cancels what is on disk
	if err := b.Cancel(context.Background()); err != nil {
		t.Fatal(err)
	}
	second, err := b.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if second.UserCode == first.UserCode {
		t.Fatalf("a new enrollment after cancel reused the code %s", first.UserCode)
	}
	out := untilFinal(t, a)
	if out.Kind == OutcomeRegistered {
		t.Fatalf("the cancelled code's poll ended %v", out.Kind)
	}
	st, err := a.Store.Load()
	if err != nil || st.State != Pending || st.UserCode != second.UserCode {
		t.Errorf("after the stale poll ended (%v): state %s with code %s, want pending with %s (%v)",
			out.Kind, st.State, st.UserCode, second.UserCode, err)
	}
}

// TestTokenCrashBeforeCertificateWritten: a crash after the server answered
// a single-use token but before the certificate was on disk does not strand
// the node: the next start asks again with the same key and the same token
// and is registered.
func TestTokenCrashBeforeCertificateWritten(t *testing.T) {
	cp := fastCP(t, controlplane.Options{})
	tok, err := cp.CreateToken("once", "retail", "1h", true)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	r := newRegistrar(t, cp, dir)
	crashAt(t, &r.Hook, "received")
	if _, err := r.RegisterWithToken(context.Background(), tok.Token, "", nil); err == nil {
		t.Fatal("want the simulated crash")
	}
	r.Hook = nil
	r2 := newRegistrar(t, cp, dir)
	if _, err := r2.Recover(); err != nil {
		t.Fatal(err)
	}
	reg, err := r2.RegisterWithToken(context.Background(), tok.Token, "", nil)
	if err != nil {
		t.Fatalf("the same token after a crash: %v", err)
	}
	if reg.Project != "retail" {
		t.Errorf("registration %+v", reg)
	}
	node, err := cp.Node(r2.NodeID)
	if err != nil {
		t.Fatal(err)
	}
	checkRegisteredOnDisk(t, cp, r2.Store, node.Name)
}
