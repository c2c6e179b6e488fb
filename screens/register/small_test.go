package register

import (
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/nodeconsole/nodeconsole/regclient"
	"github.com/nodeconsole/nodeconsole/tui/ui"
	"github.com/nodeconsole/nodeconsole/tui/uitest"
)

// TestGolden40x12: the steps on a 40x12 terminal (a 40x10 body), colour
// and mono.
func TestGolden40x12(t *testing.T) {
	for _, p := range []struct {
		name string
		prof ui.Profile
	}{{"truecolor", uitest.TrueColor}, {"mono", uitest.MonoASCII}} {
		// 40x12 (a 40x10 body): nothing cut, prose wrapped, what the
		// operator must read or answer on screen.
		small := func(t *testing.T, d *uitest.Driver, want ...string) {
			t.Helper()
			v := d.Text()
			if strings.Contains(v, "...") || strings.Contains(v, "…") {
				t.Errorf("a line is cut at 40x10:\n%s", v)
			}
			flat := strings.Join(strings.Fields(v), " ")
			for _, w := range want {
				if !strings.Contains(flat, w) {
					t.Errorf("40x10 lacks %q:\n%s", w, v)
				}
			}
			golden.RequireEqual(t, uitest.Render(d.View(), p.prof.Color))
		}
		t.Run("confirm_"+p.name, func(t *testing.T) {
			d, _ := newDriver(t, p.prof, newFake())
			d.Send(tea.WindowSizeMsg{Width: 40, Height: 10})
			small(t, d, "Make Acme", "(1 of 2;", "to change)", "Endpoint https://cp.example.com", "(Activate Node).")
		})
		t.Run("cancel_question_"+p.name, func(t *testing.T) {
			f := newFake()
			f.outcomes = []Outcome{{Kind: Waiting, LastCheck: t0.Add(3 * time.Second)}}
			d, _ := newDriver(t, p.prof, &parked{fakeFlow: f})
			d.Send(tea.WindowSizeMsg{Width: 40, Height: 10})
			d.Keys("enter", "esc")
			small(t, d, "Code BCDF-GHJK", "Time left 15:00", "Cancel the registration? The code stops working.")
			d.Keys("y")
			d.Drain()
		})
		t.Run("activated_"+p.name, func(t *testing.T) {
			f := newFake()
			f.outcomes = []Outcome{{Kind: Registered, NodeName: "store-17", Project: "retail"}}
			d, _ := newDriver(t, p.prof, f)
			d.Send(tea.WindowSizeMsg{Width: 40, Height: 10})
			d.Keys("enter")
			small(t, d, "Registered as store-17 (retail)", "reboots in 10 s")
			d.Keys("esc")
			if v := strings.Join(strings.Fields(d.Text()), " "); !strings.Contains(v, "Reboot later to finish: the node uses its new certificate after a restart.") {
				t.Errorf("'later' cut at 40x10:\n%s", d.Text())
			}
		})
		t.Run("failed_"+p.name, func(t *testing.T) {
			f := newFake()
			f.startErr = &regclient.Error{Op: "enroll", Status: 503, Message: "the control plane is unavailable"}
			d, _ := newDriver(t, p.prof, f)
			d.Send(tea.WindowSizeMsg{Width: 40, Height: 10})
			d.Keys("enter")
			small(t, d, "FAIL Activation code", "The control plane is unavailable.", "Trying again will not help until this is fixed.")
		})
	}
}

// TestFailedHintsNotCut: at 40 columns with room for the steps, the keys
// after a failure are not shown cut ("esc: change the val…"): the line
// goes one key a line where it does not fit.
func TestFailedHintsNotCut(t *testing.T) {
	f := newFake()
	f.startErr = &regclient.Error{Op: "enroll", Status: 503, Message: "the control plane is unavailable"}
	d, _ := newDriver(t, uitest.MonoASCII, f)
	d.Send(tea.WindowSizeMsg{Width: 40, Height: 16})
	d.Keys("enter")
	if v := d.Text(); !strings.Contains(v, "FAIL Activation code") || strings.Contains(v, "...") || !strings.Contains(v, "esc: change the values") {
		t.Errorf("a line is cut at 40x16:\n%s", v)
	}
}
