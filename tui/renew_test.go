package tui

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/nodeconsole/nodeconsole/tui/ui"
)

// TestBackgroundRenewal: the console checks at start and again after each
// interval (a failure does not stop the checks); a renewal makes the
// screens read the status again.
func TestBackgroundRenewal(t *testing.T) {
	calls := 0
	results := []error{errors.New("unreachable"), nil, nil}
	a := testConsole(t, ui.Profile{}, nil)
	a.renew = newRenewer(func(context.Context) (bool, error) {
		err := results[calls]
		calls++
		return calls == 3, err
	}, time.Millisecond)
	a.log = slog.New(slog.DiscardHandler)

	msg := a.renew.run()() // the check Init runs
	for i := 0; i < 3; i++ {
		done, ok := msg.(renewDoneMsg)
		if !ok {
			t.Fatalf("check %d answered %T", i+1, msg)
		}
		_, cmd := a.Update(done)
		var tick, status bool
		for _, m := range runAll(cmd) {
			switch m.(type) {
			case renewTickMsg:
				tick = true
			case ui.StatusChangedMsg:
				status = true
			}
		}
		if !tick || status != done.renewed {
			t.Fatalf("after check %d (renewed %v, err %v): next check %v, status refresh %v", i+1, done.renewed, done.err, tick, status)
		}
		_, cmd = a.Update(renewTickMsg{})
		if i < 2 {
			msg = cmd()
		}
	}
	if calls != 3 {
		t.Errorf("%d checks, want 3", calls)
	}
}

// runAll runs cmd and the commands of any batch, returning their messages.
func runAll(cmd tea.Cmd) []tea.Msg {
	if cmd == nil {
		return nil
	}
	msg := cmd()
	batch, ok := msg.(tea.BatchMsg)
	if !ok {
		return []tea.Msg{msg}
	}
	var out []tea.Msg
	for _, c := range batch {
		out = append(out, runAll(c)...)
	}
	return out
}
