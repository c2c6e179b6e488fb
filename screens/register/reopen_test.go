package register

import (
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/nodeconsole/nodeconsole/tui/ui"
	"github.com/nodeconsole/nodeconsole/tui/uitest"
)

// TestReopenedScreenIgnoresOldResults: the shell forwards every message to
// every screen, so the results of a closed Register Node screen reach the
// one opened after it; they must change nothing there.
func TestReopenedScreenIgnoresOldResults(t *testing.T) {
	f := newFake()
	old := New(Deps{Styles: uitest.Styles(uitest.TrueColor), Flow: f, Now: func() time.Time { return t0 }, Endpoint: "https://cp.example.com"})
	old.Update(tea.WindowSizeMsg{Width: 80, Height: 22})
	for _, msg := range runAll(old.Init()) { // the state: confirm
		old.Update(msg)
	}
	_, cmd := old.Update(uitest.Key("enter"))
	stale := runAll(cmd) // the connectivity result, not delivered yet
	old.Closed()         // the shell popped it

	d, m := newDriver(t, uitest.TrueColor, &parked{fakeFlow: f})
	d.Send(stale...)
	if m.ph != phConfirm || f.called() != "connectivity" {
		t.Fatalf("the new screen acted on the old one's result: phase %d, calls %s", m.ph, f.called())
	}
	// The same in the steps: the old result must not move the new
	// screen's steps on.
	d.Keys("enter")
	if got := f.called(); got != "connectivity,connectivity,key,update,start,next" {
		t.Fatalf("calls %s", got)
	}
	d.Send(stale...)
	if got := f.called(); got != "connectivity,connectivity,key,update,start,next" {
		t.Errorf("an old result ran a step again: %s", got)
	}
	d.Keys("esc", "y")
	d.Drain()
}

// runAll runs cmd (and the commands of batches) and returns the messages
// for the screen.
func runAll(cmd tea.Cmd) []tea.Msg {
	if cmd == nil {
		return nil
	}
	switch msg := cmd().(type) {
	case tea.BatchMsg:
		var out []tea.Msg
		for _, c := range msg {
			out = append(out, runAll(c)...)
		}
		return out
	case ui.AuditMsg, ui.StatusChangedMsg, nil:
		return nil
	default:
		return []tea.Msg{msg}
	}
}
