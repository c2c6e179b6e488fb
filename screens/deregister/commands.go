package deregister

import (
	"context"

	tea "charm.land/bubbletea/v2"

	"github.com/nodeconsole/nodeconsole/regclient"
	"github.com/nodeconsole/nodeconsole/tui/ui"
)

// The asynchronous results of this screen (the values of its
// ui.RunResults).
type stateRes struct {
	st  regclient.State
	err error
}
type sentRes struct{ err error }
type wipedRes struct {
	err      error
	sentence string // err as the operator reads it
	local    bool
}

func (m *Model) loadCmd() tea.Cmd {
	flow := m.d.Flow
	return m.run.Do(localTimeout, func(ctx context.Context) any {
		st, err := flow.Current(ctx)
		return stateRes{st, err}
	})
}

func (m *Model) sendCmd() tea.Cmd {
	flow := m.d.Flow
	return m.run.Do(m.d.SendTimeout, func(ctx context.Context) any { return sentRes{flow.SendEvent(ctx)} })
}

// wipeCmd closes the connections and removes the identity; local is true
// when the control plane was not told.
func (m *Model) wipeCmd(local bool) tea.Cmd {
	flow := m.d.Flow
	return m.run.Do(localTimeout, func(ctx context.Context) any {
		flow.CloseConnections(ctx)
		err := flow.Wipe(ctx)
		if err != nil {
			return wipedRes{err: err, sentence: ui.ErrorSentence(err), local: local}
		}
		return wipedRes{local: local}
	})
}
