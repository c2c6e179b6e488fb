package network

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nodeconsole/nodeconsole/netconfig"
)

// TestReopenShowsOpenTrial: the screen closed while a change was on trial
// (the trial goes on: its deadline still reverts it). Opening the screen
// again shows that trial with its own countdown, so it can be kept or
// reverted; its QuitGuard warns while it is open and reverts it.
func TestReopenShowsOpenTrial(t *testing.T) {
	h := newHarness(t, harnessOpts{tryTimeout: 60 * time.Second})
	fillStatic(h, "192.0.2.20/24", "192.0.2.1", "192.0.2.53", "")
	applyAndCheck(h)
	trial := h.mgr.Pending()
	if trial == nil {
		t.Fatal("no open trial")
	}
	key, guard := h.m.QuitGuard()
	if key == "" || guard.QuitWarning() != "A network change is on trial; logging out reverts it." {
		t.Fatalf("guard %q warns %q", key, guard.QuitWarning())
	}

	h.clock.Add(20 * time.Second) // time passes on the home screen
	h.open()
	h.until("the open trial", func() bool { return h.m.phase == phaseTrial && len(h.m.results) == len(h.m.checks) })
	text := h.text()
	for _, want := range []string{"Applied to eth0. Checks:", "OK   address  192.0.2.20/24 is on eth0", "Keep these settings?  Reverting in 40 s."} {
		if !strings.Contains(text, want) {
			t.Errorf("reopened screen lacks %q:\n%s", want, text)
		}
	}
	// The other way to leave: log-out's Undo reverts it exactly.
	if err := guard.Undo(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := h.sim.Render(); !slices.Equal(got, initialState) {
		t.Errorf("after Undo:\n%s", strings.Join(got, "\n"))
	}
	if o, _ := trial.Outcome(); o != netconfig.OutcomeCancelled || guard.QuitWarning() != "" {
		t.Errorf("outcome %q, warning %q", o, guard.QuitWarning())
	}
	h.d.Drain() // the trial's Wait returns: it was reverted
	if h.m.phase != phaseDone || !strings.Contains(h.text(), "Stopped: the previous settings were restored.") {
		t.Errorf("screen after the revert:\n%s", h.text())
	}
}
