package ui

import (
	"context"
	"time"

	tea "charm.land/bubbletea/v2"
)

// Run ties a screen's asynchronous work to the phase that started it. The
// screen calls Next on every phase exit (Esc and closing included): the
// context of the work in flight is cancelled, and its results are no longer
// Current, so neither an older phase nor another screen (the shell forwards
// every message to every screen) can act on this one. The zero Run is
// ready; it must not be copied once used.
type Run struct {
	n      int
	ctx    context.Context
	cancel context.CancelFunc
}

// RunResult is an asynchronous result tagged with the run that asked for it.
type RunResult struct {
	tag   runTag
	Value any
}

type runTag struct {
	run *Run
	n   int
}

func (r *Run) init() {
	if r.ctx == nil {
		r.ctx, r.cancel = context.WithCancel(context.Background())
	}
}

// Next ends the current run: its work is cancelled and its results dropped.
func (r *Run) Next() {
	r.init()
	r.cancel()
	r.ctx, r.cancel = context.WithCancel(context.Background())
	r.n++
}

// Do returns a command that runs fn under the current run's context, bounded
// by timeout, and tags its result with the current run.
func (r *Run) Do(timeout time.Duration, fn func(ctx context.Context) any) tea.Cmd {
	r.init()
	parent, tag := r.ctx, runTag{r, r.n}
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(parent, timeout)
		defer cancel()
		return RunResult{tag, fn(ctx)}
	}
}

// Tag returns v as a result of the current run (for a timer's message).
func (r *Run) Tag(v any) RunResult { return RunResult{runTag{r, r.n}, v} }

// Current returns the value of msg when it belongs to the current run.
func (r *Run) Current(msg RunResult) (any, bool) {
	if msg.tag != (runTag{r, r.n}) {
		return nil, false
	}
	return msg.Value, true
}
