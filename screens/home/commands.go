package home

import (
	"context"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/nodeconsole/nodeconsole/nodestatus"
	"github.com/nodeconsole/nodeconsole/regclient"
)

// snapshotMsg carries a fresh status reading.
type snapshotMsg struct {
	gen  int
	snap nodestatus.Snapshot
}

// refreshMsg asks for the next reading.
type refreshMsg struct{ gen int }

// collectTimeout bounds one status reading.
const collectTimeout = 3 * time.Second

// changedMsg says the watcher saw a change (ok), or closed (!ok).
type changedMsg struct{ ok bool }

// collectCmd reads the status in the background. A change the watcher
// signalled before the reading starts is covered by it, so it is dropped:
// a burst of notifications makes one reading.
func (m *Model) collectCmd() tea.Cmd {
	collect, gen, w := m.d.Collect, m.gen, m.d.Watch
	return func() tea.Msg {
		if w != nil {
			w.Drain()
		}
		ctx, cancel := context.WithTimeout(context.Background(), collectTimeout)
		defer cancel()
		return snapshotMsg{gen: gen, snap: collect(ctx)}
	}
}

// waitCmd waits for the watcher's next change (or its end).
func (m *Model) waitCmd() tea.Cmd {
	w := m.d.Watch
	m.waiting = true
	return func() tea.Msg { return changedMsg{ok: w.Wait()} }
}

// nextTimeChange is how long until a line of s changes by the clock alone
// (an activation code expires, the certificate enters its renewal notice,
// or the notice's days left count down), 0 when none will.
func nextTimeChange(s nodestatus.Snapshot, now time.Time) time.Duration {
	var next time.Duration
	due := func(d time.Duration) {
		if d > 0 && (next == 0 || d < next) {
			next = d
		}
	}
	if r := s.Registration; r.State == regclient.Pending && r.ExpiresAt != nil {
		due(r.ExpiresAt.Sub(now) + time.Second)
	}
	if c := s.Certificate; c != nil && s.Registration.State == regclient.Registered {
		if left := c.NotAfter.Sub(now); left > regclient.RenewNotice {
			due(left - regclient.RenewNotice + time.Second)
		} else if left > 0 {
			due(min(time.Hour, left+time.Second))
		}
	}
	return next
}
