package network

import (
	"context"

	"github.com/nodeconsole/nodeconsole/netconfig"
	"github.com/nodeconsole/nodeconsole/tui/ui"
)

// QuitGuard implements ui.Guarded: the shell asks before logging out while
// a change is on trial, and reverts it first, even once this screen is
// closed.
func (m *Model) QuitGuard() (string, ui.QuitGuard) {
	return "network-trial", trialGuard{m.d.Manager}
}

// QuitWarning is what the log-out question says while a change is on
// trial.
const QuitWarning = "A network change is on trial; logging out reverts it."

// trialGuard is the shell's QuitGuard for a network change on trial: it
// warns while the Manager has one open, and reverts it on log-out.
type trialGuard struct{ m *netconfig.Manager }

// QuitWarning implements ui.QuitGuard; Manager.Pending does no I/O.
func (g trialGuard) QuitWarning() string {
	if g.m.Pending() == nil {
		return ""
	}
	return QuitWarning
}

// Undo implements ui.QuitGuard: it restores the previous settings exactly.
func (g trialGuard) Undo(ctx context.Context) error {
	_, err := g.m.RevertPending(ctx, "log out")
	return err
}
