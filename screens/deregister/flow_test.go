package deregister

import (
	"bytes"
	"context"
	"os"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/nodeconsole/nodeconsole/controlplane/cptest"
	"github.com/nodeconsole/nodeconsole/regclient"
	"github.com/nodeconsole/nodeconsole/tui/uitest"
)

// registerWithToken registers a node against cp the unattended way.
func registerWithToken(t *testing.T, cp *cptest.Server, store regclient.Store, id string) *regclient.Client {
	t.Helper()
	c, err := regclient.New(regclient.Options{Endpoint: cp.URL, CAFiles: []string{cp.CAPath}})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := cp.CreateToken("t", "retail", "1h", false)
	if err != nil {
		t.Fatal(err)
	}
	r := &regclient.Registrar{Client: c, Store: store, NodeID: id, Make: "Acme", Model: "EdgeBox", Version: "test"}
	if _, err := r.RegisterWithToken(context.Background(), tok.Token, "", nil); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestFlowDeregisterAgainstControlPlane: on a registered node, a wrong word
// is refused and nothing changes; DEREGISTER sends the event (recorded by
// the control plane), the old certificate is refused afterwards, the
// identity is gone, and the node registers again with a new key.
func TestFlowDeregisterAgainstControlPlane(t *testing.T) {
	cp := cptest.New(t)
	store := regclient.Store{Dir: t.TempDir()}
	id, _, err := store.EnsureNodeID(regclient.IDSources{ConfigName: "dereg-flow"})
	if err != nil {
		t.Fatal(err)
	}
	registerWithToken(t, cp, store, id)
	oldCert, oldCA, err := store.LoadCertificate()
	if err != nil {
		t.Fatal(err)
	}
	oldKey, _ := os.ReadFile(store.Path(regclient.KeyFile))

	flow := NewFlow(FlowDeps{Store: store, NodeID: id, Client: regclient.Options{Endpoint: cp.URL, CAFiles: []string{cp.CAPath}}})
	m := New(Deps{Styles: uitest.Styles(uitest.TrueColor), Flow: flow})
	tm := teatest.NewTestModel(t, uitest.Host{Screen: m}, teatest.WithInitialTermSize(80, 22),
		teatest.WithProgramOptions(tea.WithColorProfile(colorprofile.TrueColor)))
	wait := func(want string) {
		t.Helper()
		teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return bytes.Contains(b, []byte(want)) },
			teatest.WithDuration(30*time.Second), teatest.WithCheckInterval(5*time.Millisecond))
	}
	wait("one-way")
	tm.Send(tea.KeyPressMsg{Code: 'y', Text: "y"})
	wait("to confirm")
	tm.Type("deregister")
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEnter})
	wait("exactly")
	if _, err := os.Stat(store.Path(regclient.KeyFile)); err != nil {
		t.Fatalf("a refused word removed the key: %v", err)
	}
	for range 10 {
		tm.Send(tea.KeyPressMsg{Code: tea.KeyBackspace})
	}
	tm.Type(ConfirmWord)
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEnter})
	wait("can be registered again")

	if ok, err := cp.HasEvent("deregistered", id); err != nil || !ok {
		t.Errorf("no deregistered event for %s (%v)", id, err)
	}
	// The event reads as one sentence, not "...from the console: Device
	// was deregistered from the console".
	evs, _ := cp.Events()
	for _, e := range evs {
		if e.Type == "deregistered" && e.NodeID == id && e.Message != "Device was deregistered: the operator confirmed it at the node's console" {
			t.Errorf("event message %q", e.Message)
		}
	}
	n, err := cp.Node(id)
	if err != nil || n.Status != "deregistered" {
		t.Errorf("portal status %q (%v), want deregistered", n.Status, err)
	}
	st, err := store.Load()
	if err != nil || st.State != regclient.Unregistered || st.NodeID != id {
		t.Errorf("state after deregister: %+v (%v)", st, err)
	}
	for _, f := range []string{regclient.KeyFile, regclient.CertFile, regclient.CAFile} {
		if _, err := os.Stat(store.Path(f)); !os.IsNotExist(err) {
			t.Errorf("%s still exists (%v)", f, err)
		}
	}
	// The old certificate is refused from now on.
	c, _ := regclient.New(regclient.Options{Endpoint: cp.URL, CAFiles: []string{cp.CAPath}})
	mc, err := c.WithCertificate(oldCert, oldCA)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mc.Self(context.Background()); err == nil {
		t.Error("the old certificate is still accepted after deregister")
	}
	// Registering again works, with a new key.
	registerWithToken(t, cp, store, id)
	newKey, _ := os.ReadFile(store.Path(regclient.KeyFile))
	if bytes.Equal(oldKey, newKey) {
		t.Error("registering again reused the old key")
	}
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEscape})
	tm.WaitFinished(t, teatest.WithFinalTimeout(20*time.Second))
}
