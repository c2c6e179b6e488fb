package network

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nodeconsole/nodeconsole/netconfig"
	"github.com/nodeconsole/nodeconsole/tui/ui"
	"github.com/nodeconsole/nodeconsole/tui/uitest"
)

var initialState = []string{
	"link eth0 up",
	"link eth1 up",
	"link mgmt0 up",
	"link wg0 up",
	"addr 192.0.2.10/24 dev eth0",
	"addr 198.51.100.20/24 dev mgmt0",
	"route default via 192.0.2.1 dev eth0",
	"resolv nameserver 192.0.2.53",
}

// fillStatic opens eth0 and types a static config.
func fillStatic(h *harness, addr, gw, dns1, dns2 string) {
	h.t.Helper()
	h.openForm("eth0")
	h.setField(rowAddress, addr)
	h.setField(rowGateway, gw)
	h.setField(rowDNS1, dns1)
	h.setField(rowDNS2, dns2)
}

// applyAndCheck goes from a valid form through the preview to the trial and
// waits for every check.
func applyAndCheck(h *harness) {
	h.t.Helper()
	h.m.form.setFocus(rowApply)
	h.key("enter")
	h.until("the preview", func() bool { return h.m.preview.Interface != "" || h.m.previewErr != "" })
	h.key("enter")
	h.until("the checks", func() bool { return h.m.phase == phaseTrial && len(h.m.results) == len(h.m.checks) })
}

func auditActions(h *harness) []string {
	var out []string
	for _, a := range h.audits() {
		out = append(out, a.Action)
	}
	return out
}

func TestStaticApplyKeepSaves(t *testing.T) {
	state := t.TempDir()
	h := newHarness(t, harnessOpts{stateDir: state, tryTimeout: 60 * time.Second})
	fillStatic(h, "192.0.2.20/24", "192.0.2.1", "192.0.2.53", "198.51.100.53")
	if !h.m.form.valid() {
		t.Fatalf("form invalid: %v", h.m.form.err)
	}
	h.m.form.setFocus(rowApply)
	h.key("enter")
	h.until("the preview", func() bool { return h.m.preview.Interface != "" })
	text := h.text()
	for _, want := range []string{"Mode          static (unchanged)", "Address       192.0.2.10/24 → 192.0.2.20/24", "Default route 192.0.2.1 via eth0 (unchanged)",
		"DNS           192.0.2.53 → 192.0.2.53, 198.51.100.53", "Warning: eth0 carries the default route", "after 60 s"} {
		if !strings.Contains(text, want) {
			t.Errorf("preview lacks %q:\n%s", want, text)
		}
	}
	if got := h.sim.Render(); !slices.Equal(got, initialState) {
		t.Fatalf("the preview changed the network:\n%s", strings.Join(got, "\n"))
	}
	h.key("enter")
	h.until("the checks", func() bool { return h.m.phase == phaseTrial && len(h.m.results) == len(h.m.checks) })
	want := []string{
		"link eth0 up", "link eth1 up", "link mgmt0 up", "link wg0 up",
		"addr 192.0.2.20/24 dev eth0",
		"addr 198.51.100.20/24 dev mgmt0",
		"route default via 192.0.2.1 dev eth0",
		"resolv # Written by nodeconsole; nameservers from the network settings.",
		"resolv nameserver 192.0.2.53",
		"resolv nameserver 198.51.100.53",
	}
	if got := h.sim.Render(); !slices.Equal(got, want) {
		t.Errorf("applied state:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	text = h.text()
	for _, want := range []string{"OK   carrier", "OK   address", "OK   gateway", "192.0.2.1 answers ARP", "Keep these settings?  Reverting in 60 s."} {
		if !strings.Contains(text, want) {
			t.Errorf("trial view lacks %q:\n%s", want, text)
		}
	}
	if !h.m.CapturesInput() == false {
		t.Error("the trial must not capture input")
	}
	h.key("y")
	h.until("the outcome", func() bool { return h.m.phase == phaseDone })
	if !strings.Contains(h.text(), "kept and saved") {
		t.Errorf("done view:\n%s", h.text())
	}
	if got := h.sim.Render(); !slices.Equal(got, want) {
		t.Errorf("state after keep:\n%s", strings.Join(got, "\n"))
	}
	saved, err := h.mgr.Saved()
	if err != nil || saved.Address.String() != "192.0.2.20/24" || len(saved.DNS) != 2 {
		t.Errorf("saved = %+v, %v", saved, err)
	}
	nd, err := os.ReadFile(filepath.Join(state, "network", netconfig.NetworkdFileName("eth0")))
	if err != nil || !strings.Contains(string(nd), "Address=192.0.2.20/24\nGateway=192.0.2.1\nDNS=192.0.2.53\nDNS=198.51.100.53\n") {
		t.Errorf("networkd file: %v\n%s", err, nd)
	}
	h.until("the audit lines", func() bool { return len(h.audits()) == 2 })
	// Both are audited; the apply's audit line is a command of its own
	// that may be delivered after the confirm's, so order is not asserted.
	got := auditActions(h)
	slices.Sort(got)
	if !slices.Equal(got, []string{"network apply", "network confirm"}) {
		t.Errorf("audits = %v", got)
	}
	// Enter returns to a fresh list.
	h.key("enter")
	h.until("the list", func() bool { return h.m.phase == phaseList })
	if !strings.Contains(h.text(), "192.0.2.20/24") {
		t.Errorf("list not refreshed:\n%s", h.text())
	}
}

// TestTrialEndings: every way a trial ends, and what the network and the
// screen say afterwards.
func TestTrialEndings(t *testing.T) {
	tests := []struct {
		name    string
		end     func(h *harness)
		say     string
		kept    bool
		audit   string
		outcome netconfig.Outcome
	}{
		{"countdown runs out", func(h *harness) {
			h.clock.Add(59 * time.Second)
			if h.d.Fire() != 1 || !strings.Contains(h.text(), "Reverting in 1 s.") {
				t.Errorf("countdown at 59 s:\n%s", h.text())
			}
			h.clock.Add(time.Second)
			h.d.Fire()
		}, "No answer within 60 s: the previous settings were restored.", false, "network revert", netconfig.OutcomeReverted},
		{"revert key", func(h *harness) { h.key("n") }, "Reverted: the previous settings were restored.", false, "network revert", netconfig.OutcomeReverted},
		{"esc reverts", func(h *harness) { h.key("esc") }, "Reverted: the previous settings were restored.", false, "network revert", netconfig.OutcomeReverted},
		{"tab to revert, enter", func(h *harness) { h.key("tab", "enter") }, "Reverted", false, "network revert", netconfig.OutcomeReverted},
		{"enter keeps", func(h *harness) { h.key("enter") }, "kept and saved", true, "network confirm", netconfig.OutcomeConfirmed},
		{"manager deadline", func(h *harness) { h.expire <- time.Now(); h.d.Drain() }, "No answer within 60 s", false, "", netconfig.OutcomeExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, harnessOpts{})
			fillStatic(h, "198.51.100.10/24", "198.51.100.1", "198.51.100.53", "")
			applyAndCheck(h)
			if !strings.Contains(h.text(), "Reverting in 60 s") {
				t.Errorf("countdown:\n%s", h.text())
			}
			// The gateway moved to another subnet; the checks say so live.
			tt.end(h)
			h.until("the outcome", func() bool { return h.m.phase == phaseDone })
			if !strings.Contains(h.text(), tt.say) {
				t.Errorf("done view lacks %q:\n%s", tt.say, h.text())
			}
			if o, _ := h.m.trial.Outcome(); o != tt.outcome {
				t.Errorf("outcome %q, want %q", o, tt.outcome)
			}
			got := h.sim.Render()
			if kept := !slices.Equal(got, initialState); kept != tt.kept {
				t.Errorf("kept = %v, want %v; state:\n%s", kept, tt.kept, strings.Join(got, "\n"))
			}
			if _, err := h.mgr.Saved(); (err == nil) != tt.kept {
				t.Errorf("saved: %v, want saved = %v", err, tt.kept)
			}
			if tt.audit != "" {
				h.until("the audit line "+tt.audit, func() bool { return slices.Contains(auditActions(h), tt.audit) })
			}
			// A tick after the end neither reverts again nor schedules more.
			s, cmd := h.m.Update(tickMsg{gen: h.m.gen})
			if cmd != nil || s.(*Model).phase != phaseDone {
				t.Error("a late tick must do nothing")
			}
		})
	}
}

func TestDHCPApply(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.openForm("eth0")
	h.m.form.setFocus(rowMode)
	h.key("space")
	applyAndCheck(h)
	got := h.sim.Render()
	if !slices.Contains(got, "addr 192.0.2.100/24 dev eth0 dynamic") || slices.Contains(got, "addr 192.0.2.10/24 dev eth0") {
		t.Errorf("DHCP apply:\n%s", strings.Join(got, "\n"))
	}
	h.key("y")
	h.until("done", func() bool { return h.m.phase == phaseDone })
	if c, err := h.mgr.Saved(); err != nil || c.Mode != netconfig.ModeDHCP {
		t.Errorf("saved %+v %v", c, err)
	}
}

func TestApplyFailureChangesNothing(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	fillStatic(h, "192.0.2.20/24", "192.0.2.1", "", "")
	h.sim.FailNext("ReplaceDefaultRoute", errors.New("boom"))
	h.m.form.setFocus(rowApply)
	h.key("enter")
	h.until("the preview", func() bool { return h.m.preview.Interface != "" })
	h.key("enter")
	h.until("the error", func() bool { return h.m.phase == phaseForm && h.m.applyErr != "" })
	if got := h.sim.Render(); !slices.Equal(got, initialState) {
		t.Errorf("a failed apply must restore:\n%s", strings.Join(got, "\n"))
	}
	if text := strings.Join(strings.Fields(h.text()), " "); !strings.Contains(text, "Not applied") || !strings.Contains(text, "previous settings restored") {
		t.Errorf("error not shown:\n%s", h.text())
	}
	h.until("the banner", func() bool { return uitest.Sent[ui.ErrorMsg](h.d) })
}

func TestListAndNavigation(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	text := h.text()
	for _, want := range []string{"eth0", "52:54:00:12:34:56", "192.0.2.10/24", "* default", "no-carrier", "wg0", "(not Ethernet)",
		"Default route 192.0.2.1 via eth0"} {
		if !strings.Contains(text, want) {
			t.Errorf("list lacks %q:\n%s", want, text)
		}
	}
	h.openForm("eth0")
	h.key("esc") // not dirty: straight back
	if h.m.phase != phaseList {
		t.Fatal("esc on a clean form goes back to the list")
	}
	h.typeText("4") // wg0
	if h.m.phase != phaseList || !strings.Contains(h.text(), "wg0 is not an Ethernet interface") {
		t.Errorf("wg0 must be refused:\n%s", h.text())
	}
	h.openForm("eth0")
	h.typeText("5")
	h.key("esc")
	if !h.m.askDiscard || !strings.Contains(h.text(), "Discard your changes?") {
		t.Fatalf("a dirty form must ask:\n%s", h.text())
	}
	h.key("n")
	if h.m.phase != phaseForm || h.m.askDiscard {
		t.Fatal("n keeps editing")
	}
	h.key("esc", "y")
	if h.m.phase != phaseList {
		t.Fatal("y discards")
	}
	h.key("esc")
	h.until("esc on the list to leave the screen", func() bool { return uitest.Sent[ui.BackMsg](h.d) })
}

// TestDefaultRouteChoiceFollowsTheInterface: the choice starts on for the
// interface that carries the default route and off for another, whose own
// live settings (an address, no gateway) are valid as they stand.
// TestFailedCheckSelectsRevert: when a check after apply fails, Enter
// reverts; Keep needs a deliberate move.
func TestFailedCheckSelectsRevert(t *testing.T) {
	h := newHarness(t, harnessOpts{tryTimeout: 60 * time.Second})
	h.openForm("eth1") // no carrier in the simulated network: the carrier check fails
	h.setField(rowAddress, "198.51.100.40/24")
	applyAndCheck(h)
	if h.m.keepSel {
		t.Fatalf("Keep is selected after a failed check:\n%s", h.text())
	}
	h.key("enter")
	h.until("the outcome", func() bool { return h.m.phase == phaseDone })
	if h.m.outcome != netconfig.OutcomeReverted {
		t.Errorf("Enter after a failed check: outcome %q, want reverted", h.m.outcome)
	}
}
