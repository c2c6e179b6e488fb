package deregister

import (
	"context"
	"io/fs"
	"strings"
	"syscall"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/nodeconsole/nodeconsole/regclient"
	"github.com/nodeconsole/nodeconsole/tui/ui"
	"github.com/nodeconsole/nodeconsole/tui/uitest"
)

// TestReopenedScreenIgnoresOldResults: the shell forwards every message to
// every screen, so a closed Deregister Node screen's results reach the one
// opened after it; they must change nothing there, and above all must not
// start a wipe.
func TestReopenedScreenIgnoresOldResults(t *testing.T) {
	f := registered()
	old := New(Deps{Styles: uitest.Styles(uitest.TrueColor), Flow: f})
	staleState := old.Init()() // a registered node: the warning
	old.Update(staleState)
	old.Update(uitest.Key("y"))
	for _, m := range uitest.Typed(ConfirmWord) {
		old.Update(m)
	}
	_, cmd := old.Update(uitest.Key("enter"))
	var staleSent tea.Msg
	for _, c := range cmd().(tea.BatchMsg) {
		if msg, ok := c().(ui.RunResult); ok {
			staleSent = msg
		}
	}
	old.Closed()
	if staleSent == nil || f.Calls() != "send" {
		t.Fatalf("the old screen did not send: calls %q", f.Calls())
	}

	nf := &fakeFlow{} // not registered
	d := uitest.NewScreenDriver(t, New(Deps{Styles: uitest.Styles(uitest.TrueColor), Flow: nf}))
	d.Init(d.Screen().Init())
	d.Send(staleState, staleSent)
	if m := d.Screen().(*Model); m.ph != phNotRegistered || nf.Calls() != "" || f.Calls() != "send" {
		t.Errorf("the new screen acted on the old one's results: phase %d, calls %q / %q", m.ph, nf.Calls(), f.Calls())
	}
	// And a closed screen acts on nothing either.
	old.Update(staleSent)
	if f.Calls() != "send" {
		t.Errorf("the closed screen went on: %q", f.Calls())
	}
}

// TestWipeFailureIsASentence: a failed wipe says what to do, not the
// system call ("remove /var/lib/...: permission denied").
func TestWipeFailureIsASentence(t *testing.T) {
	f := registered()
	f.wipeErr = &fs.PathError{Op: "remove", Path: "/nonexistent/state/identity/node.key", Err: syscall.EACCES}
	s := run(newScreen(uitest.TrueColor, f), press("y"))
	s = typeWord(s, ConfirmWord)
	s = run(s, press("enter"))
	v := strings.Join(strings.Fields(ansi.Strip(s.View())), " ")
	if !strings.Contains(v, "The identity could not be removed. Cannot write to the state dir /nonexistent/state/identity: permission denied; fix its owner or set --state-dir. The node is still registered.") ||
		strings.Contains(v, "remove /nonexistent") {
		t.Errorf("failed wipe:\n%s", ansi.Strip(s.View()))
	}
}

// TestWipeAfterCloseDoesNothing: the real flow's wipe under an ended
// context (the screen closed) leaves the identity alone.
func TestWipeAfterCloseDoesNothing(t *testing.T) {
	store := regclient.Store{Dir: t.TempDir()}
	if _, err := store.EnsureKey(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := NewFlow(FlowDeps{Store: store, NodeID: "edge-1"}).Wipe(ctx); err == nil {
		t.Fatal("Wipe under an ended context succeeded")
	}
	if _, err := store.LoadKey(); err != nil {
		t.Errorf("the key is gone: %v", err)
	}
}
