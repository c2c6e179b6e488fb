//go:build linux

package netconfig

import (
	"context"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// TestNetlinkIPv6Routes: with static IPv6, two IPv6 routes in 2001:db8::/32
// (one via a gateway in the address's prefix, one via the router's
// link-local address) are applied, the peer's addresses behind them answer
// ping -6 from the node, and a revert puts back exactly the IPv6 routes
// there were, including an earlier static route the new config dropped.
// The kept config's networkd file has a [Route] per route, and ApplySaved
// sets the same routes in a fresh namespace.
func TestNetlinkIPv6Routes(t *testing.T) {
	ctx := context.Background()
	g := newGatewayNet(t)
	g.setLease(t)
	writeSysctl6(t, g.node, "eth0", "accept_dad", "0") // the address answers at once
	g.addPeer6(t, "2001:db8:1::1/64", "fe80::1/64")
	lo, err := g.peerH.LinkByName("lo")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"2001:db8:100::1/128", "2001:db8:200::1/128"} {
		a := mustAddr(t, c)
		a.Flags = unix.IFA_F_NODAD
		if err := g.peerH.AddrAdd(lo, a); err != nil {
			t.Fatal(err)
		}
	}
	// An operator's earlier IPv6 route, which the new config drops.
	g.addStaticRoute(t, "2001:db8:99::/48", "fe80::1")
	stateDir, netdDir := t.TempDir(), t.TempDir()
	m, _ := g.manager(t, stateDir, netdDir, nil)
	before6, before4 := lines6(t, g.nodeH, g.node, "eth0"), kernelLines(t, g.nodeH, "eth0")
	if !slices.Contains(before6, "route 2001:db8:99::/48 via fe80::1 proto 4") {
		t.Fatalf("the earlier route is not there: %q", before6)
	}

	form := Form{Interface: "eth0", Address: "198.51.100.10/24", IPv6: IPv6Static, Address6: "2001:db8:1::10/64",
		Routes: []string{"2001:db8:100::/48@2001:db8:1::1", "2001:db8:200::/48@fe80::1"}}
	st, err := m.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := ParseForm(form, st)
	if err != nil {
		t.Fatal(err)
	}
	want6 := []string{"ipv6 disable_ipv6=0 accept_ra=0 autoconf=0", "addr 2001:db8:1::10/64",
		"route 2001:db8:100::/48 via 2001:db8:1::1 proto 4", "route 2001:db8:200::/48 via fe80::1 proto 4"}
	sorted := func(l []string) []string { slices.Sort(l[2:]); return l }

	tr, err := m.Apply(ctx, cfg)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	diffLines(t, "IPv6 after apply", sorted(lines6(t, g.nodeH, g.node, "eth0")), want6)
	for _, a := range []string{"2001:db8:100::1", "2001:db8:200::1"} {
		if err := ping6(t, g.node, "the node", a, 5); err != nil {
			t.Error(err)
		}
	}
	if st, _ := m.Status(ctx); !slices.Contains(mustIfc(t, st, "eth0").Routes, cfg.Routes[1]) {
		t.Errorf("status routes %v lack %s", mustIfc(t, st, "eth0").Routes, cfg.Routes[1])
	}
	if err := tr.Revert(ctx); err != nil {
		t.Fatalf("Revert: %v", err)
	}
	diffLines(t, "IPv6 after revert", lines6(t, g.nodeH, g.node, "eth0"), before6)
	diffLines(t, "IPv4 after revert", kernelLines(t, g.nodeH, "eth0"), before4)

	if tr, err = m.Apply(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	if err := tr.Confirm(ctx); err != nil {
		t.Fatal(err)
	}
	netd, _ := os.ReadFile(filepath.Join(netdDir, NetworkdFileName("eth0")))
	if w := "\n[Route]\nDestination=2001:db8:100::/48\nGateway=2001:db8:1::1\n\n[Route]\nDestination=2001:db8:200::/48\nGateway=fe80::1\n"; !strings.HasSuffix(string(netd), w) {
		t.Errorf("networkd file lacks %q:\n%s", w, netd)
	}
	fresh := newGatewayNet(t)
	m2, _ := fresh.manager(t, stateDir, "", nil)
	if _, err := m2.ApplySaved(ctx); err != nil {
		t.Fatalf("ApplySaved: %v", err)
	}
	diffLines(t, "IPv6 in a fresh namespace", sorted(lines6(t, fresh.nodeH, fresh.node, "eth0")), want6)
}

// addStaticRoute adds a static route to dst via gw on the node's eth0, as
// an operator would have.
func (g *gatewayNet) addStaticRoute(t *testing.T, dst, gw string) {
	t.Helper()
	eth0, err := g.nodeH.LinkByName("eth0")
	if err != nil {
		t.Fatal(err)
	}
	r := &netlink.Route{LinkIndex: eth0.Attrs().Index, Dst: prefixIPNet(netip.MustParsePrefix(dst)), Gw: net.ParseIP(gw), Protocol: unix.RTPROT_STATIC}
	if err := g.nodeH.RouteAdd(r); err != nil {
		t.Fatal(err)
	}
}

func mustIfc(t *testing.T, st Status, name string) Interface {
	t.Helper()
	ifc, ok := st.Interface(name)
	if !ok {
		t.Fatalf("no interface %s", name)
	}
	return ifc
}
