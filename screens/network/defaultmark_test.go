package network

import (
	"context"
	"net/netip"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/nodeconsole/nodeconsole/netconfig"
	"github.com/nodeconsole/nodeconsole/tui/uitest"
)

// TestDefaultRouteFamilies: the interface list says which default route an
// interface carries, IPv4, IPv6 or both, at 80 and at 40 columns: an
// IPv6-only default route is not shown as the IPv4 one.
func TestDefaultRouteFamilies(t *testing.T) {
	h := newHarness(t, harnessOpts{profile: uitest.MonoASCII})
	set6 := func(ifname, addr string) {
		t.Helper()
		err := h.sim.SetIPv6(context.Background(), ifname, netconfig.IPv6Settings{Mode: netconfig.IPv6Static,
			Addr: netip.MustParsePrefix(addr), Gateway: netip.MustParseAddr("fe80::1")})
		if err != nil {
			t.Fatal(err)
		}
		h.key("r")
		h.until("the list", func() bool { return h.m.phase == phaseList })
	}
	row := func(name string) string {
		t.Helper()
		for _, l := range strings.Split(h.text(), "\n") {
			if f := strings.Fields(l); len(f) > 2 && f[1] == name || len(f) > 3 && f[2] == name {
				return l
			}
		}
		t.Fatalf("no row for %s:\n%s", name, h.text())
		return ""
	}
	set6("mgmt0", "2001:db8:7::20/64") // an IPv6-only default route
	tests := []struct {
		w, h            int
		eth0, mgmt0, gw string
	}{
		{80, 22, "192.0.2.10/24      * default v4", "198.51.100.20/24 200... * default v6", "IPv6 default  fe80::1 via mgmt0"},
		{40, 12, "up *v4     192.0.2.10/24", "up *v6     198.51.100.20...", ""},
	}
	for _, tt := range tests {
		h.handle(tea.WindowSizeMsg{Width: tt.w, Height: tt.h})
		if r := row("eth0"); !strings.HasSuffix(r, tt.eth0) {
			t.Errorf("%dx%d: eth0 row %q, want it to end with %q", tt.w, tt.h, r, tt.eth0)
		}
		if r := row("mgmt0"); !strings.HasSuffix(r, tt.mgmt0) || strings.Contains(r, "v4") {
			t.Errorf("%dx%d: mgmt0 row %q, want it to end with %q", tt.w, tt.h, r, tt.mgmt0)
		}
		if !strings.Contains(h.text(), tt.gw) {
			t.Errorf("%dx%d: the list lacks %q:\n%s", tt.w, tt.h, tt.gw, h.text())
		}
	}
	set6("eth0", "2001:db8:8::20/64") // the IPv6 default moves to eth0: both there
	for _, tt := range []struct {
		w, h int
		want string
	}{{80, 22, "192.0.2.10/24 200... * default v4+v6"}, {40, 12, "up *v4+v6  192.0.2.10/24..."}} {
		h.handle(tea.WindowSizeMsg{Width: tt.w, Height: tt.h})
		if r := row("eth0"); !strings.HasSuffix(r, tt.want) {
			t.Errorf("%dx%d: eth0 row %q, want it to end with %q", tt.w, tt.h, r, tt.want)
		}
		if r := row("mgmt0"); strings.Contains(r, "default") || strings.Contains(r, "*v") {
			t.Errorf("%dx%d: mgmt0 row %q still marked", tt.w, tt.h, r)
		}
	}
}
