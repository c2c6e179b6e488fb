package tui

import (
	"time"

	tea "charm.land/bubbletea/v2"
)

// DefaultIdleLogout is console.idleLogout's default.
const DefaultIdleLogout = 15 * time.Minute

// idleState is the idle log-out: after IdleLogout without a key the
// console ends the session (the login shell exits, getty shows the login
// prompt again, so the next person on a serial line or at the keyboard
// does not find the previous operator's session), unless a network change
// is on trial or a registration is waiting for activation. One timer at a
// time: a key only records its time, and the timer re-arms for the rest.
type idleState struct {
	after time.Duration
	busy  func() bool
	now   func() time.Time
	last  time.Time
}

func newIdle(o Options) idleState {
	now := o.Now
	if now == nil {
		now = time.Now
	}
	return idleState{after: o.IdleLogout, busy: o.Busy, now: now, last: now()}
}

// idleMsg is the idle timer firing.
type idleMsg struct{}

// arm starts the timer for d, nil when idle log-out is off.
func (s idleState) arm(d time.Duration) tea.Cmd {
	if s.after <= 0 {
		return nil
	}
	return tea.Tick(d, func(time.Time) tea.Msg { return idleMsg{} })
}

// idleCheck logs out when the console has been idle long enough and
// nothing is at stake, and otherwise waits again.
func (a *App) idleCheck() (tea.Model, tea.Cmd) {
	if a.quitting || a.undoing > 0 {
		return a, nil
	}
	left := a.idle.after - a.idle.now().Sub(a.idle.last)
	if left > 0 {
		return a, a.idle.arm(left)
	}
	if a.busyForIdle() {
		return a, a.idle.arm(a.idle.after)
	}
	a.log.Info("idle log out", "audit", true, "idle", a.idle.after.String())
	return a.quit()
}

// busyForIdle reports work an idle log-out must not cut short.
func (a *App) busyForIdle() bool {
	for _, g := range a.guards {
		if g.QuitWarning() != "" {
			return true // a network change on trial
		}
	}
	return a.idle.busy != nil && a.idle.busy()
}
