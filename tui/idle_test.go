package tui

import (
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/nodeconsole/nodeconsole/tui/ui"
	"github.com/nodeconsole/nodeconsole/tui/uitest"
)

// TestIdleLogout: after IdleLogout without a key the session ends (so the
// next person on the line meets a login prompt); a key restarts the
// count; never while a network change is on trial or a registration is
// waiting; 0 turns it off.
func TestIdleLogout(t *testing.T) {
	now := time.Unix(1000, 0)
	busy := false
	a := testConsole(t, uitest.TrueColor, nil)
	load(a, 80, 24)
	a.idle = idleState{after: 15 * time.Minute, busy: func() bool { return busy }, now: func() time.Time { return now }, last: now}
	check := func(step string, wantQuit bool) {
		t.Helper()
		_, cmd := a.Update(idleMsg{})
		if a.quitting != wantQuit {
			t.Fatalf("%s: quitting = %v", step, a.quitting)
		}
		if !wantQuit && cmd == nil {
			t.Fatalf("%s: the idle timer was not re-armed", step)
		}
	}
	now = now.Add(10 * time.Minute)
	check("10 min idle", false)
	a.Update(tea.KeyPressMsg{Code: tea.KeyDown})
	now = now.Add(14 * time.Minute)
	check("14 min after a key", false)
	now = now.Add(2 * time.Minute)
	busy = true
	check("registration waiting", false)
	busy = false
	undone := 0
	a.Update(ui.PushMsg{Screen: guarded{fakeGuard{warning: "A change is on trial; logging out reverts it.", undone: &undone}}})
	check("network trial open", false)
	a.Update(ui.BackMsg{})
	a.guards = map[string]ui.QuitGuard{}
	check("idle, nothing at stake", true)

	off := testConsole(t, uitest.TrueColor, nil)
	if off.idle.after != 0 || off.idle.arm(time.Minute) != nil {
		t.Error("without IdleLogout there is no timer")
	}
}
