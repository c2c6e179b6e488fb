package network

import (
	"slices"
	"strings"
	"testing"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/nodeconsole/nodeconsole/lldp"
	"github.com/nodeconsole/nodeconsole/netconfig"
)

// previewAndTry goes from the form through the preview (whose text it
// returns) to the trial with every check run.
func previewAndTry(h *harness) string {
	h.t.Helper()
	h.m.form.setFocus(rowApply)
	h.key("enter")
	h.until("the preview", func() bool { return h.m.preview.Interface != "" || h.m.previewErr != "" })
	preview := h.text()
	h.key("enter")
	h.until("the checks", func() bool { return h.m.phase == phaseTrial && len(h.m.results) == len(h.m.checks) })
	return preview
}

// TestSettingsKeepAndRevert: VLAN, MTU and a static route, each set from
// the form on mgmt0 (a second NIC), previewed, applied and then kept (the
// simulated network and the saved settings hold it) or reverted (the
// network is exactly as before, nothing saved).
func TestSettingsKeepAndRevert(t *testing.T) {
	settings := []struct {
		name    string
		edit    func(h *harness)
		preview []string
		applied []string // lines of the simulated network after the apply
		saved   func(c netconfig.Config) bool
	}{
		{"vlan", func(h *harness) {
			h.setField(rowVLAN, "20")
			h.setField(rowAddress, "203.0.113.5/24")
		}, []string{"Preview: mgmt0.20", "VLAN          none → 20, link mgmt0.20 will be created", "Address       none → 203.0.113.5/24"},
			[]string{"link mgmt0.20 up", "addr 203.0.113.5/24 dev mgmt0.20"},
			func(c netconfig.Config) bool { return c.VLAN == 20 && c.Link() == "mgmt0.20" }},
		{"mtu", func(h *harness) { h.setField(rowMTU, "9000") },
			[]string{"MTU           1500 → 9000"},
			[]string{"link mgmt0 up mtu 9000"},
			func(c netconfig.Config) bool { return c.MTU == 9000 }},
		{"route", func(h *harness) {
			h.m.form.setFocus(rowAddRoute)
			h.key("enter") // Add route: a new field, focused
			h.typeText("203.0.113.0/24@198.51.100.1")
		}, []string{"Route         none → 203.0.113.0/24 via 198.51.100.1 added"},
			[]string{"route 203.0.113.0/24 via 198.51.100.1 dev mgmt0"},
			func(c netconfig.Config) bool {
				return len(c.Routes) == 1 && c.Routes[0].String() == "203.0.113.0/24@198.51.100.1"
			}},
		{"ipv6", func(h *harness) {
			h.m.form.setFocus(rowIPv6)
			h.key("left") // Off -> Static, backwards
			h.setField(rowAddress6, "2001:db8:7::20/64")
			h.setField(rowGateway6, "2001:db8:7::1")
			h.setField(rowDNS6, "2001:db8:7::53")
		}, []string{"IPv6          none → 2001:db8:7::20/64", "IPv6 default  none → 2001:db8:7::1 via mgmt0", "DNS           192.0.2.53 → 192.0.2.53, 2001:db8:7::53"},
			[]string{"addr 2001:db8:7::20/64 dev mgmt0", "route default via 2001:db8:7::1 dev mgmt0"},
			func(c netconfig.Config) bool {
				return c.IPv6 == netconfig.IPv6Static && c.Address6.String() == "2001:db8:7::20/64" &&
					c.Gateway6.String() == "2001:db8:7::1" && len(c.DNS6) == 1 && c.DNS6[0].String() == "2001:db8:7::53"
			}},
	}
	for _, s := range settings {
		for _, keep := range []bool{true, false} {
			name := s.name + "/revert"
			if keep {
				name = s.name + "/keep"
			}
			t.Run(name, func(t *testing.T) {
				h := newHarness(t, harnessOpts{tryTimeout: 60 * time.Second})
				h.openForm("mgmt0")
				s.edit(h)
				if !h.m.form.valid() {
					t.Fatalf("form invalid: %v\n%s", h.m.form.err, h.text())
				}
				preview := previewAndTry(h)
				for _, want := range s.preview {
					if !strings.Contains(preview, want) {
						t.Errorf("preview lacks %q:\n%s", want, preview)
					}
				}
				for _, want := range s.applied {
					if got := h.sim.Render(); !slices.Contains(got, want) {
						t.Errorf("applied network lacks %q:\n%s", want, strings.Join(got, "\n"))
					}
				}
				if keep {
					h.key("y")
				} else {
					h.key("n")
				}
				h.until("the outcome", func() bool { return h.m.phase == phaseDone })
				got := h.sim.Render()
				saved, err := h.mgr.Saved()
				if keep {
					for _, want := range s.applied {
						if !slices.Contains(got, want) {
							t.Errorf("kept network lacks %q:\n%s", want, strings.Join(got, "\n"))
						}
					}
					if err != nil || !s.saved(saved) {
						t.Errorf("saved %+v, %v", saved, err)
					}
				} else {
					if !slices.Equal(got, initialState) {
						t.Errorf("not reverted exactly:\n%s", strings.Join(got, "\n"))
					}
					if err == nil {
						t.Error("a reverted trial must not save")
					}
				}
			})
		}
	}
}

// TestVLANLinkListedAndEdited: a kept VLAN link is listed with its NIC and
// VLAN ID; choosing it opens its NIC's form with the VLAN ID filled in.
//
// The checks after the apply are about the VLAN link, also against an
// endpoint of the screen's own (Deps.Endpoint): they once checked the NIC.
func TestVLANLinkListedAndEdited(t *testing.T) {
	h := newHarness(t, harnessOpts{endpoint: "https://127.0.0.1:1"})
	h.openForm("mgmt0")
	h.setField(rowVLAN, "20")
	h.setField(rowAddress, "203.0.113.5/24")
	previewAndTry(h)
	for i, c := range h.m.checks {
		if c.Name == "address" && (!h.m.results[i].OK || !strings.Contains(h.m.results[i].Detail, "mgmt0.20")) {
			t.Errorf("address check: %+v", h.m.results[i])
		}
	}
	h.key("y")
	h.until("the outcome", func() bool { return h.m.phase == phaseDone })
	h.key("enter")
	h.until("the list", func() bool { return h.m.phase == phaseList })
	if text := h.text(); !strings.Contains(text, "mgmt0.20") || !strings.Contains(text, "203.0.113.5/24     VLAN 20") {
		t.Fatalf("list lacks the VLAN link:\n%s", text)
	}
	h.openForm("mgmt0.20")
	f := h.m.form
	if f.nic != "mgmt0" || f.input(rowVLAN).Value() != "20" || f.input(rowAddress).Value() != "203.0.113.5/24" || !f.valid() {
		t.Errorf("form of mgmt0.20: nic %q, VLAN %q, address %q, err %v", f.nic, f.input(rowVLAN).Value(), f.input(rowAddress).Value(), f.err)
	}
	if !strings.Contains(h.text(), "Interface mgmt0.20 (VLAN 20 on mgmt0)") {
		t.Errorf("form header:\n%s", h.text())
	}
}

// TestRoutesEditor: routes are added with the Add route button, edited as
// text, validated one by one with every error under its own row, and
// removed with their key; Enter walking the fields never adds one.
func TestRoutesEditor(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.openForm("mgmt0")
	h.m.form.setFocus(rowIPv6)
	h.key("enter")
	if h.m.form.focus != rowApply || len(h.m.form.routes) != 0 {
		t.Fatalf("Enter on IPv6: focus %d, %d routes; want Apply, none added", h.m.form.focus, len(h.m.form.routes))
	}
	h.m.form.setFocus(rowAddRoute)
	h.key("enter")
	h.typeText("10.0.0.1/8@198.51.100.1")
	h.m.form.setFocus(rowAddRoute)
	h.key("enter")
	h.typeText("203.0.113.0/24@192.0.2.1")
	text := h.text()
	for _, want := range []string{"Route 1", "Route 2", "has host bits set", "outside the subnet 198.51.100.0/24", "fix the 2 problems"} {
		if !strings.Contains(text, want) {
			t.Errorf("form lacks %q:\n%s", want, text)
		}
	}
	if got := h.m.form.errorsFor(rowRoute + 1); len(got) != 1 || !strings.Contains(got[0], "Route 2 gateway") {
		t.Errorf("errors under route 2: %q", got)
	}
	h.m.form.setFocus(rowRoute)
	if !slices.ContainsFunc(h.m.ShortHelp(), func(b key.Binding) bool { return b.Help() == h.m.keys.RemoveRoute.Help() }) {
		t.Error("the hints on a route row lack its remove key")
	}
	h.key("ctrl+d")
	if n := len(h.m.form.routes); n != 1 || h.m.form.routes[0].Value() != "203.0.113.0/24@192.0.2.1" || h.m.form.focus != rowRoute {
		t.Fatalf("after removing route 1: %d routes, focus %d", n, h.m.form.focus)
	}
	h.key("ctrl+u")
	h.typeText("203.0.113.0/24@198.51.100.1")
	if !h.m.form.valid() {
		t.Errorf("form invalid: %v", h.m.form.err)
	}
	if got := h.m.form.cfg.Routes; len(got) != 1 || got[0].String() != "203.0.113.0/24@198.51.100.1" {
		t.Errorf("routes %v", got)
	}
}

// TestSmallScreenKeepsTitleWarningAndButtons (#17): at 40x12 (the screen
// gets 40x10) the preview shows its title and warning, scrolls to the rest
// with the keys it names, and the trial keeps its title, question and
// buttons on screen.
func TestSmallScreenKeepsTitleWarningAndButtons(t *testing.T) {
	h := newHarness(t, harnessOpts{tryTimeout: 60 * time.Second})
	h.handle(tea.WindowSizeMsg{Width: 40, Height: 10})
	fillStatic(h, "198.51.100.10/24", "198.51.100.1", "198.51.100.53", "")
	h.m.form.setFocus(rowApply)
	h.key("enter")
	h.until("the preview", func() bool { return h.m.preview.Interface != "" })
	text := h.text()
	for _, want := range []string{"Preview: eth0", "! Warning: eth0 carries the default", "more below"} {
		if !strings.Contains(text, want) {
			t.Errorf("preview at 40x10 lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "by themselves") {
		t.Fatalf("the preview at 40x10 should need scrolling:\n%s", text)
	}
	for range h.m.maxScroll() + 2 { // past the end does nothing more
		h.key("down")
	}
	text = h.text()
	for _, want := range []string{"Preview: eth0", "by themselves", "back up"} {
		if !strings.Contains(text, want) {
			t.Errorf("scrolled preview lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "more below") {
		t.Errorf("at the end, no more below:\n%s", text)
	}
	h.key("enter")
	h.until("the checks", func() bool { return h.m.phase == phaseTrial && len(h.m.results) == len(h.m.checks) })
	text = h.text()
	for _, want := range []string{"Applied to eth0. Checks:", "Keep these settings? Reverting in 60 s.", "[ Keep ]"} {
		if !strings.Contains(text, want) {
			t.Errorf("trial at 40x10 lacks %q:\n%s", want, text)
		}
	}
	if h.m.scroll != 0 {
		t.Errorf("the trial starts unscrolled, at %d", h.m.scroll)
	}
}

// TestLLDPBesideEachNIC: the switch port heard on a NIC is shown under it
// in the interface list ("nothing heard" too), and what the listener
// hears later shows on refresh.
func TestLLDPBesideEachNIC(t *testing.T) {
	table := &netconfig.LLDPTable{}
	table.Set("eth0", []lldp.Neighbor{{ChassisID: "52:54:00:aa:bb:cc", PortID: "Gi1/0/12", SystemName: "sw-core-1", VLAN: 20}})
	table.Set("eth1", nil)
	h := newHarness(t, harnessOpts{lldp: table})
	lines := strings.Split(h.text(), "\n")
	under := func(name string) string {
		for i, l := range lines {
			if strings.Contains(l, " "+name+" ") && i+1 < len(lines) {
				return strings.TrimSpace(lines[i+1])
			}
		}
		return ""
	}
	if got := under("eth0"); got != "switch sw-core-1 port Gi1/0/12 VLAN 20" {
		t.Errorf("under eth0: %q\n%s", got, h.text())
	}
	if got := under("eth1"); got != "LLDP: no switch heard" {
		t.Errorf("under eth1: %q", got)
	}
	if got := under("mgmt0"); !strings.HasPrefix(got, "4 ") {
		t.Errorf("mgmt0 (not listened on) has a line under it: %q", got)
	}
	table.Set("mgmt0", []lldp.Neighbor{{ChassisID: "52:54:00:dd:ee:ff", PortID: "ge-0/0/3"}})
	h.key("r")
	h.until("the list", func() bool { return h.m.phase == phaseList })
	if !strings.Contains(h.text(), "switch 52:54:00:dd:ee:ff port ge-0/0/3") {
		t.Errorf("after refresh:\n%s", h.text())
	}
	// The cursor marks eth0's row, not its switch line: 2 selects eth1.
	h.key("2")
	if h.m.phase != phaseForm || h.m.form.ifc.Name != "eth1" {
		t.Errorf("2 opened %v %q", h.m.phase, h.m.form.ifc.Name)
	}
}
