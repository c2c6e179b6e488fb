package network

import (
	"context"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nodeconsole/nodeconsole/netconfig"
)

// TestIPv6RoutesEditor: the route editor takes IPv6 routes with static
// IPv6, says in one sentence under the row when a route mixes families,
// keeps the route rows with DHCP for IPv4 while IPv6 is static, and the
// route is previewed, applied and kept.
func TestIPv6RoutesEditor(t *testing.T) {
	h := newHarness(t, harnessOpts{tryTimeout: 60 * time.Second})
	h.openForm("mgmt0")
	f := &h.m.form
	f.setFocus(rowIPv6)
	h.key("space", "space", "space") // Off -> Automatic -> DHCPv6 -> Static
	h.setField(rowAddress6, "2001:db8:7::20/64")
	f.setFocus(rowAddRoute)
	h.key("enter")
	h.typeText("2001:db8:100::/48@198.51.100.1")
	if got := f.errorsFor(rowRoute); len(got) != 1 || got[0] != "Route 1 destination 2001:db8:100::/48 is IPv6 but its gateway 198.51.100.1 is IPv4; give a gateway of the same family." {
		t.Errorf("errors under the route: %q", got)
	}
	h.key("ctrl+u")
	h.typeText("2001:db8:100::/48@fe80::1")
	if !f.valid() {
		t.Fatalf("IPv6 route refused: %v", f.err)
	}
	f.setFocus(rowMode)
	f.toggleMode() // DHCP for IPv4: the IPv6 route stays, and valid
	if !slices.Contains(f.rows(), rowRoute) || !f.valid() {
		t.Fatalf("DHCP with static IPv6: rows %v, err %v; want the route row kept", f.rows(), f.err)
	}
	f.toggleMode()
	f.setFocus(rowApply)
	h.key("enter")
	h.until("the preview", func() bool { return h.m.preview.Interface != "" || h.m.previewErr != "" })
	if text := h.text(); !strings.Contains(text, "2001:db8:100::/48 via fe80::1 added") {
		t.Errorf("the preview lacks the IPv6 route:\n%s", text)
	}
	h.key("enter")
	h.until("the trial", func() bool { return h.m.phase == phaseTrial })
	h.key("y")
	h.until("the outcome", func() bool { return h.m.phase == phaseDone })
	if r := h.sim.Render(); !slices.Contains(r, "route 2001:db8:100::/48 via fe80::1 dev mgmt0") {
		t.Errorf("the route was not applied:\n%s", strings.Join(r, "\n"))
	}
}

// TestIPv6RoutesPrefill: an IPv6 route on the interface is in the form
// only when the kept settings say static IPv6 (the form then sends it
// back); else the form leaves IPv6 alone and does not show it, so an IPv4
// edit is not refused for a route the operator did not type.
func TestIPv6RoutesPrefill(t *testing.T) {
	h := newHarness(t, harnessOpts{mode6: func(string) netconfig.IPv6Mode { return netconfig.IPv6Static }})
	cfg := netconfig.Config{Interface: "mgmt0", Mode: netconfig.ModeStatic, Address: netip.MustParsePrefix("198.51.100.20/24"),
		IPv6: netconfig.IPv6Static, Address6: netip.MustParsePrefix("2001:db8:7::20/64"),
		Routes: []netconfig.Route{{Dst: netip.MustParsePrefix("2001:db8:100::/48"), Gateway: netip.MustParseAddr("fe80::1")}}}
	tr, err := h.mgr.Apply(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Revert(context.Background()); err != nil { // not kept: the kernel's mode only
		t.Fatal(err)
	}
	if err := h.sim.SetIPv6(context.Background(), "mgmt0", netconfig.IPv6Settings{Mode: netconfig.IPv6Static, Addr: cfg.Address6, Routes: cfg.Routes}); err != nil {
		t.Fatal(err)
	}
	h.key("r")
	h.until("the list", func() bool { return h.m.phase == phaseList })
	h.openForm("mgmt0")
	h.setField(rowMTU, "9000")
	if f := &h.m.form; len(f.routes) != 0 || !f.valid() || f.values().IPv6 != netconfig.IPv6Unset {
		t.Errorf("kernel static: %d route rows, err %v, IPv6 %q; want none, valid, IPv6 left alone", len(f.routes), f.err, f.values().IPv6)
	}
	h.key("esc", "y") // discard
	if err := h.mgr.Save(cfg); err != nil {
		t.Fatal(err)
	}
	h.key("r")
	h.until("the list", func() bool { return h.m.phase == phaseList })
	h.openForm("mgmt0")
	if f := &h.m.form; len(f.routes) != 1 || f.routes[0].Value() != "2001:db8:100::/48@fe80::1" || !f.valid() {
		t.Errorf("kept static: routes %d, err %v; want the IPv6 route in the form", len(f.routes), f.err)
	}
}
