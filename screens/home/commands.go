package home

import (
	"context"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/nodeconsole/nodeconsole/nodestatus"
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

// collectCmd reads the status in the background.
func (m *Model) collectCmd() tea.Cmd {
	collect, gen := m.d.Collect, m.gen
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), collectTimeout)
		defer cancel()
		return snapshotMsg{gen: gen, snap: collect(ctx)}
	}
}
