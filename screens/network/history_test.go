package network

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nodeconsole/nodeconsole/netconfig"
	"github.com/nodeconsole/nodeconsole/tui/ui"
)

// keep applies and keeps a static address on eth0 from the form, and goes
// back to the list.
func keep(h *harness, addr string) {
	h.t.Helper()
	fillStatic(h, addr, "192.0.2.1", "192.0.2.53", "")
	previewAndTry(h)
	h.key("y")
	h.until("the outcome", func() bool { return h.m.phase == phaseDone })
	h.key("enter")
	h.until("the list", func() bool { return h.m.phase == phaseList })
}

// TestRestorePreviousSetup: the kept settings are listed with when and
// what changed; restoring one goes through the preview and the trial, and
// is kept (saved, and listed first) or reverted (the network as it was).
func TestRestorePreviousSetup(t *testing.T) {
	for _, keepIt := range []bool{true, false} {
		name := "revert"
		if keepIt {
			name = "keep"
		}
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, harnessOpts{tryTimeout: 60 * time.Second})
			h.key("h")
			h.until("the history", func() bool { return h.m.history != nil })
			if !strings.Contains(h.text(), "No network settings have been kept yet") {
				t.Errorf("empty history:\n%s", h.text())
			}
			h.key("esc")
			keep(h, "192.0.2.20/24")
			h.clock.Add(time.Hour)
			keep(h, "192.0.2.30/24")
			before := h.sim.Render()

			h.key("h")
			h.until("the history", func() bool { return h.m.history != nil })
			text := h.text()
			for _, want := range []string{"Restore a previous setup", "1 ▸ 2025-01-02 04:04  eth0 static 192.0.2.30/24", "2   2025-01-02 03:04  eth0 static 192.0.2.20/24",
				"Kept 2025-01-02 04:04 UTC (saved now)", "Changed: address 192.0.2.20/24 -> 192.0.2.30/24"} {
				if !strings.Contains(text, want) {
					t.Errorf("history lacks %q:\n%s", want, text)
				}
			}
			h.key("2")
			h.until("the preview", func() bool { return h.m.preview.Interface != "" })
			text = h.text()
			for _, want := range []string{"Preview: eth0", "Restoring entry 2, kept 2025-01-02 03:04 UTC", "Address       192.0.2.30/24 → 192.0.2.20/24"} {
				if !strings.Contains(text, want) {
					t.Errorf("preview lacks %q:\n%s", want, text)
				}
			}
			if back := h.m.ShortHelp()[1].Help(); back.Desc != "back" {
				t.Errorf("a restore's preview hints %q %q; Esc goes back to the history", back.Key, back.Desc)
			}
			h.key("esc")
			if h.m.phase != phaseHistory {
				t.Fatalf("Esc in a restore's preview goes back to the history, not %v", h.m.phase)
			}
			h.key("2")
			h.until("the preview", func() bool { return h.m.preview.Interface != "" })
			h.key("enter")
			h.until("the checks", func() bool { return h.m.phase == phaseTrial && len(h.m.results) == len(h.m.checks) })
			if !slices.Contains(h.sim.Render(), "addr 192.0.2.20/24 dev eth0") {
				t.Errorf("entry 2 not applied:\n%s", strings.Join(h.sim.Render(), "\n"))
			}
			if keepIt {
				h.key("y")
			} else {
				h.key("n")
			}
			h.until("the outcome", func() bool { return h.m.phase == phaseDone })
			saved, err := h.mgr.Saved()
			hist, _ := h.mgr.History()
			if keepIt {
				if err != nil || saved.Address.String() != "192.0.2.20/24" || len(hist) != 3 {
					t.Errorf("saved %v (%v), %d history entries; want entry 2 saved, 3 entries", saved.Describe(), err, len(hist))
				}
			} else {
				if got := h.sim.Render(); !slices.Equal(got, before) || saved.Address.String() != "192.0.2.30/24" || len(hist) != 2 {
					t.Errorf("revert: saved %v, %d entries, network:\n%s", saved.Describe(), len(hist), strings.Join(got, "\n"))
				}
			}
			if !slices.ContainsFunc(h.audits(), func(a ui.AuditMsg) bool { return a.Action == "network restore" }) {
				t.Error("the restore is not audited")
			}
		})
	}
}

// TestRestoreRefusesWhatNoLongerFits: an entry whose interface is gone
// says why, and nothing is applied.
func TestRestoreRefusesWhatNoLongerFits(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	keep(h, "192.0.2.20/24")
	h.key("h")
	h.until("the history", func() bool { return h.m.history != nil })
	h.m.status.Interfaces = slices.DeleteFunc(h.m.status.Interfaces, func(i netconfig.Interface) bool { return i.Name == "eth0" })
	h.key("1")
	if h.m.phase != phaseHistory || !strings.Contains(h.text(), "Entry 1 no longer fits this node: Interface eth0 does not exist.") {
		t.Errorf("phase %v:\n%s", h.m.phase, h.text())
	}
}
