package regclient

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/nodeconsole/nodeconsole/controlplane"
	"github.com/nodeconsole/nodeconsole/controlplane/cptest"
)

// registeredNode registers a node in dir with a token and returns its
// Registrar.
func registeredNode(t *testing.T, cp *cptest.Server, dir string) *Registrar {
	t.Helper()
	cp.DeleteNode(testNodeID) // free the ID from an earlier subtest
	tok, err := cp.CreateToken("renew", "", "", false)
	if err != nil {
		t.Fatal(err)
	}
	r := newRegistrar(t, cp, dir)
	if _, err := r.RegisterWithToken(context.Background(), tok.Token, "", nil); err != nil {
		t.Fatal(err)
	}
	return r
}

func renewerFor(r *Registrar) *Renewer {
	return &Renewer{Client: r.Client, Store: r.Store, NodeID: r.NodeID}
}

func serialOnDisk(t *testing.T, s Store) string {
	t.Helper()
	c, err := s.NodeCertificate()
	if err != nil {
		t.Fatal(err)
	}
	return c.SerialNumber.Text(16)
}

// checkWorking: the pair on disk works on the control plane and no
// renewal file is left.
func checkWorking(t *testing.T, r *Registrar) {
	t.Helper()
	if _, err := r.CheckCertificate(context.Background()); err != nil {
		t.Fatalf("the node's certificate does not work: %v", err)
	}
	for _, f := range []string{RenewKeyFile, RenewCertFile} {
		if _, err := os.Lstat(r.Store.Path(f)); err == nil {
			t.Errorf("%s left behind", f)
		}
	}
}

// TestRenew: nothing is done before two thirds of the life; then (or with
// force) a new key and certificate replace the old pair, which the control
// plane then refuses.
func TestRenew(t *testing.T) {
	cp := fastCP(t, controlplane.Options{CertTTL: 3 * time.Hour})
	r := registeredNode(t, cp, t.TempDir())
	oldKey, _ := os.ReadFile(r.Store.Path(KeyFile))
	oldSerial := serialOnDisk(t, r.Store)
	oldCert, oldCA, err := r.Store.LoadCertificate()
	if err != nil {
		t.Fatal(err)
	}
	rn := renewerFor(r)
	res, err := rn.Renew(context.Background(), false)
	if err != nil || res.Renewed {
		t.Fatalf("Renew before it is due = %+v, %v; want nothing done", res, err)
	}
	if want := res.Cert.NotBefore.Add(time.Hour + 2*time.Hour); !res.Cert.RenewAfter.Equal(want) {
		t.Errorf("RenewAfter = %v, want %v", res.Cert.RenewAfter, want)
	}
	rn.Now = func() time.Time { return res.Cert.RenewAfter.Add(time.Second) }
	res, err = rn.Renew(context.Background(), false)
	if err != nil || !res.Renewed {
		t.Fatalf("Renew when due = %+v, %v", res, err)
	}
	newKey, _ := os.ReadFile(r.Store.Path(KeyFile))
	if string(newKey) == string(oldKey) || serialOnDisk(t, r.Store) == oldSerial {
		t.Fatal("the key or certificate did not change")
	}
	checkWorking(t, r)
	mc, err := r.Client.WithCertificate(oldCert, oldCA)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mc.Self(context.Background()); !errors.Is(err, ErrRevoked) {
		t.Fatalf("the old certificate after the new one was used: %v, want revoked", err)
	}
	if res, err := renewerFor(r).Renew(context.Background(), true); err != nil || !res.Renewed {
		t.Fatalf("forced Renew = %+v, %v", res, err)
	}
	checkWorking(t, r)
}

// TestRenewCrashHelper is the child of TestRenewKill9: it renews and kills
// itself with SIGKILL after the named persisted step.
func TestRenewCrashHelper(t *testing.T) {
	if os.Getenv("REGCLIENT_RENEW_CRASH") != "1" {
		t.Skip("helper process for TestRenewKill9")
	}
	c, err := New(Options{Endpoint: os.Getenv("CRASH_ENDPOINT"), CAFiles: []string{os.Getenv("CRASH_CA")}})
	if err != nil {
		t.Fatal(err)
	}
	rn := &Renewer{Client: c, Store: Store{Dir: os.Getenv("CRASH_DIR")}, NodeID: testNodeID, Hook: func(step string) error {
		if step == os.Getenv("CRASH_STEP") {
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {}
		}
		return nil
	}}
	_, err = rn.Renew(context.Background(), true)
	t.Fatalf("not killed at step %s (err %v)", os.Getenv("CRASH_STEP"), err)
}

// TestRenewKill9 kills a real renewal with SIGKILL after each persisted
// step: the next start (Recover, then Renew as the timer or the console
// would run it) ends with a working certificate every time, renewed from
// the step where the control plane issued it.
func TestRenewKill9(t *testing.T) {
	cp := fastCP(t, controlplane.Options{})
	for _, step := range []string{StepRenewKey, StepRenewCert, StepRenewUsed, StepSwitchKey, StepSwitchCert} {
		t.Run(step, func(t *testing.T) {
			dir := t.TempDir()
			r := registeredNode(t, cp, dir)
			before := serialOnDisk(t, r.Store)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestRenewCrashHelper$", "-test.count=1")
			cmd.Env = append(os.Environ(), "REGCLIENT_RENEW_CRASH=1", "CRASH_DIR="+dir, "CRASH_ENDPOINT="+cp.URL,
				"CRASH_CA="+cp.CAPath, "CRASH_STEP="+step)
			out, err := cmd.CombinedOutput()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
				t.Fatalf("child was not killed at %s: %v\n%s", step, err, out)
			}
			// The next start: the console or `nodeconsole renew`.
			if st, _, err := r.Store.Recover(); err != nil || st.State != Registered {
				t.Fatalf("Recover = %+v, %v", st, err)
			}
			res, err := renewerFor(r).Renew(context.Background(), false)
			if err != nil {
				t.Fatalf("Renew after the crash: %v", err)
			}
			checkWorking(t, r)
			if step != StepRenewKey && serialOnDisk(t, r.Store) == before {
				t.Errorf("still the old certificate after a crash past %s (renewed now: %v)", step, res.Renewed)
			}
		})
	}
}

// TestRenewAnswerLostPastGrace: the control plane issued the certificate
// for renew.key but the node never stored it (a crash), and the old
// certificate is no longer accepted (the new one was used, or the grace
// passed): the next renewal gets the new certificate through the
// enrollment path, delivered at once to the registered key.
func TestRenewAnswerLostPastGrace(t *testing.T) {
	cp := fastCP(t, controlplane.Options{})
	r := registeredNode(t, cp, t.TempDir())
	rn := renewerFor(r)
	key, err := rn.renewKey()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rn.newCertificate(context.Background(), key); err != nil {
		t.Fatal(err)
	}
	// The answer is lost; the new certificate is used once (so the server
	// supersedes the old one).
	newPair, ca, err := r.Store.loadPair(RenewKeyFile, RenewCertFile)
	if err != nil {
		t.Fatal(err)
	}
	mc, _ := r.Client.WithCertificate(newPair, ca)
	if _, err := mc.Self(context.Background()); err != nil {
		t.Fatal(err)
	}
	os.Remove(r.Store.Path(RenewCertFile))
	if _, err := r.CheckCertificate(context.Background()); !errors.Is(err, ErrRevoked) {
		t.Fatalf("the old certificate: %v, want revoked", err)
	}
	res, err := rn.Renew(context.Background(), false)
	if err != nil || !res.Renewed {
		t.Fatalf("Renew = %+v, %v", res, err)
	}
	checkWorking(t, r)
}
