package network

import (
	"slices"
	"strings"
	"testing"
	"time"
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
