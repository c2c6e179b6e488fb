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
)

// TestCrashHelper is the child of TestKill9: it runs one operation and
// kills itself with SIGKILL at the named step, as a power cut would.
func TestCrashHelper(t *testing.T) {
	if os.Getenv("REGCLIENT_CRASH_HELPER") != "1" {
		t.Skip("helper process for TestKill9")
	}
	die := func(step string) error {
		if step == os.Getenv("CRASH_STEP") {
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {}
		}
		return nil
	}
	c, err := New(Options{Endpoint: os.Getenv("CRASH_ENDPOINT"), CAFiles: []string{os.Getenv("CRASH_CA")}})
	if err != nil {
		t.Fatal(err)
	}
	r := &Registrar{Client: c, Store: Store{Dir: os.Getenv("CRASH_DIR")}, NodeID: testNodeID, Hook: die}
	switch os.Getenv("CRASH_ACTION") {
	case "token":
		_, err = r.RegisterWithToken(context.Background(), os.Getenv("CRASH_TOKEN"), "", nil)
	case "deregister":
		err = r.Deregister(context.Background(), "crash test", nil)
	}
	t.Fatalf("not killed at step %s (err %v)", os.Getenv("CRASH_STEP"), err)
}

// TestKill9 kills a real process with SIGKILL between persisted steps and
// checks that the next start finds a consistent state and can finish.
func TestKill9(t *testing.T) {
	cp := fastCP(t, controlplane.Options{})
	tok, err := cp.CreateToken("crash", "", "", false)
	if err != nil {
		t.Fatal(err)
	}
	child := func(t *testing.T, dir, action, step string) {
		t.Helper()
		if action == "token" {
			cp.DeleteNode(testNodeID) // free the ID from an earlier subtest
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestCrashHelper$", "-test.count=1")
		cmd.Env = append(os.Environ(), "REGCLIENT_CRASH_HELPER=1", "CRASH_DIR="+dir, "CRASH_ENDPOINT="+cp.URL,
			"CRASH_CA="+cp.CAPath, "CRASH_TOKEN="+tok.Token, "CRASH_ACTION="+action, "CRASH_STEP="+step)
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			t.Fatalf("child was not killed at %s: %v\n%s", step, err, out)
		}
	}

	t.Run("token registration, after the certificate is written", func(t *testing.T) {
		dir := t.TempDir()
		child(t, dir, "token", "written")
		r := newRegistrar(t, cp, dir)
		st, action, err := r.Store.Recover()
		if err != nil || action != RecoverFinalized || st.State != Registered {
			t.Fatalf("Recover = %+v, %q, %v; want finalized", st, action, err)
		}
		checkRegisteredOnDisk(t, cp, r.Store, testNodeID)
	})

	t.Run("token registration, before the certificate is written", func(t *testing.T) {
		dir := t.TempDir()
		child(t, dir, "token", "received")
		r := newRegistrar(t, cp, dir)
		st, err := r.Recover()
		if err != nil || st.State == Registered {
			t.Fatalf("after the crash: %+v, %v; must not be registered without the certificate", st, err)
		}
		// Trying again (same key) finishes it.
		if _, err := r.RegisterWithToken(context.Background(), tok.Token, "", nil); err != nil {
			t.Fatal(err)
		}
		checkRegisteredOnDisk(t, cp, r.Store, testNodeID)
	})

	t.Run("deregister, between the event and the wipe", func(t *testing.T) {
		dir := t.TempDir()
		r := newRegistrar(t, cp, dir)
		if err := cp.DeleteNode(r.NodeID); err != nil {
			t.Fatal(err)
		}
		if _, err := r.RegisterWithToken(context.Background(), tok.Token, "", nil); err != nil {
			t.Fatal(err)
		}
		child(t, dir, "deregister", "wipe")
		r2 := newRegistrar(t, cp, dir)
		st, err := r2.Recover()
		if err != nil || st.State != Registered {
			t.Fatalf("after the crash: %+v, %v; want registered, consistent", st, err)
		}
		if err := r2.Store.matchingCertificate(r2.NodeID); err != nil {
			t.Fatalf("registered without its certificate and key: %v", err)
		}
		if err := r2.Deregister(context.Background(), "", nil); err != nil {
			t.Fatalf("deregister again: %v", err)
		}
		checkUnregistered(t, r2.Store, r2.NodeID)
	})
}
