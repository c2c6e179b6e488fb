package register

import (
	"context"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/nodeconsole/nodeconsole/regclient"
	"github.com/nodeconsole/nodeconsole/tui/ui"
)

// Timeouts bound the screen's requests. Each runs under the context of the
// phase that started it, so leaving the phase cancels it sooner.
type Timeouts struct {
	State        time.Duration // reading the state on disk
	Connectivity time.Duration // DNS, TCP, TLS and clock checks
	Key          time.Duration // creating the key and CSR
	Update       time.Duration // update check and install
	Start        time.Duration // asking for an activation code
	Poll         time.Duration // one long-poll (the server holds ~25 s)
	Cancel       time.Duration // cancelling the enrollment
	Reboot       time.Duration // the reboot command
}

// DefaultTimeouts are the timeouts a zero Timeouts field takes.
var DefaultTimeouts = Timeouts{
	State:        10 * time.Second,
	Connectivity: 30 * time.Second,
	Key:          30 * time.Second,
	Update:       10 * time.Minute,
	Start:        60 * time.Second,
	Poll:         2 * time.Minute,
	Cancel:       10 * time.Second,
	Reboot:       30 * time.Second,
}

func (t Timeouts) orDefaults() Timeouts {
	or := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	d := DefaultTimeouts
	or(&t.State, d.State)
	or(&t.Connectivity, d.Connectivity)
	or(&t.Key, d.Key)
	or(&t.Update, d.Update)
	or(&t.Start, d.Start)
	or(&t.Poll, d.Poll)
	or(&t.Cancel, d.Cancel)
	or(&t.Reboot, d.Reboot)
	return t
}

// The asynchronous results of this screen (the values of its
// ui.RunResults).
type stateRes struct {
	st  Status
	err error
}
type checksRes struct{ checks []Check }
type keyRes struct {
	err  error
	fail failure
}
type updateRes struct {
	r   UpdateResult
	err error
}
type codeRes struct {
	code Code
	err  error
	fail failure
}

// failure is a failed step as the operator reads it, worked out in the
// command (naming a storage problem's directory looks at the disk).
type failure struct {
	text    string
	storage bool
}

func failureOf(err error) failure {
	if err == nil {
		return failure{}
	}
	_, storage := regclient.Storage(err)
	return failure{text: firstSentence(ui.ErrorSentence(err)), storage: storage}
}

type outcomeRes struct{ out Outcome }
type tickRes struct{}
type cancelRes struct{ err error }
type rebootRes struct {
	result string
	err    error
}

// do returns a command that runs fn under the current phase's context with
// timeout, and tags its result with the current run.
func (m *Model) do(timeout time.Duration, fn func(ctx context.Context) any) tea.Cmd {
	return m.run.Do(timeout, fn)
}

func (m *Model) loadCmd() tea.Cmd {
	flow := m.d.Flow
	return m.do(m.d.Timeouts.State, func(ctx context.Context) any {
		st, err := flow.Current(ctx)
		return stateRes{st, err}
	})
}

func (m *Model) checksCmd() tea.Cmd {
	flow, ep := m.d.Flow, m.request().Endpoint
	return m.do(m.d.Timeouts.Connectivity, func(ctx context.Context) any {
		return checksRes{flow.Connectivity(ctx, ep)}
	})
}

func (m *Model) keyCmd() tea.Cmd {
	flow := m.d.Flow
	return m.do(m.d.Timeouts.Key, func(ctx context.Context) any {
		err := flow.PrepareKey(ctx)
		return keyRes{err, failureOf(err)}
	})
}

func (m *Model) updateCmd() tea.Cmd {
	flow, ep := m.d.Flow, m.request().Endpoint
	return m.do(m.d.Timeouts.Update, func(ctx context.Context) any {
		r, err := flow.Update(ctx, ep)
		return updateRes{r, err}
	})
}

func (m *Model) startCmd() tea.Cmd {
	flow, req := m.d.Flow, m.request()
	return m.do(m.d.Timeouts.Start, func(ctx context.Context) any {
		c, err := flow.Start(ctx, req)
		return codeRes{c, err, failureOf(err)}
	})
}

func (m *Model) nextCmd() tea.Cmd {
	flow := m.d.Flow
	return m.do(m.d.Timeouts.Poll, func(ctx context.Context) any { return outcomeRes{flow.Next(ctx)} })
}

func (m *Model) cancelCmd() tea.Cmd {
	flow := m.d.Flow
	return m.do(m.d.Timeouts.Cancel, func(ctx context.Context) any { return cancelRes{flow.Cancel(ctx)} })
}

func (m *Model) rebootCmd() tea.Cmd {
	flow := m.d.Flow
	return m.do(m.d.Timeouts.Reboot, func(ctx context.Context) any {
		r, err := flow.Reboot(ctx)
		return rebootRes{r, err}
	})
}

// tick redraws the time left once a second while it is on screen.
func (m *Model) tick() tea.Cmd {
	tick := m.run.Tag(tickRes{})
	return m.d.Tick(time.Second, func(time.Time) tea.Msg { return tick })
}
