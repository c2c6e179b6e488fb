package tui

import (
	"context"
	"log/slog"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/nodeconsole/nodeconsole/tui/ui"
)

// RenewFunc renews the node certificate when it is due (two thirds of its
// life) and reports whether it did; not due, or not registered, is
// (false, nil). cmd/nodeconsole runs regclient.Renewer.
type RenewFunc func(ctx context.Context) (renewed bool, err error)

const (
	// defaultRenewEvery spaces the background checks; a check does
	// nothing until the certificate is due.
	defaultRenewEvery = time.Hour
	// renewTimeout bounds one background renewal.
	renewTimeout = 2 * time.Minute
)

type renewTickMsg struct{}

type renewDoneMsg struct {
	renewed bool
	err     error
}

// renewer is the shell's background renewal: a check at start, then one
// every `every`, each a tea.Cmd; a renewal refreshes the screens.
type renewer struct {
	fn    RenewFunc
	every time.Duration
}

func newRenewer(fn RenewFunc, every time.Duration) renewer {
	if every <= 0 {
		every = defaultRenewEvery
	}
	return renewer{fn: fn, every: every}
}

// run is the command of one check (nil without a RenewFunc).
func (r renewer) run() tea.Cmd {
	if r.fn == nil {
		return nil
	}
	fn := r.fn
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), renewTimeout)
		defer cancel()
		renewed, err := fn(ctx)
		return renewDoneMsg{renewed: renewed, err: err}
	}
}

// done logs the result and schedules the next check.
func (r renewer) done(m renewDoneMsg, log *slog.Logger) tea.Cmd {
	next := tea.Tick(r.every, func(time.Time) tea.Msg { return renewTickMsg{} })
	if m.err != nil {
		log.Warn("background certificate renewal failed; the current certificate is kept", "err", m.err)
	}
	if !m.renewed {
		return next
	}
	log.Info("certificate renewed in the background")
	return tea.Batch(next, ui.StatusChanged)
}
