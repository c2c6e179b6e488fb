//go:build linux

package netconfig

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/nodeconsole/nodeconsole/testenv"
)

// lines6 renders the IPv6 state of ifname in the namespace ns through h:
// its settings, global addresses, and the main-table IPv6 routes that are
// not the kernel's own for an address.
func lines6(t *testing.T, h *netlink.Handle, ns netns.NsHandle, ifname string) []string {
	t.Helper()
	var sys []string
	err := testenv.InNetns(ns, func() error {
		for _, k := range ipv6Sysctls {
			b, err := os.ReadFile(sysctl6Path(ifname, k))
			if os.IsNotExist(err) {
				sys = []string{"none"} // no IPv6 on the link (MTU < 1280)
				return nil
			}
			if err != nil {
				return err
			}
			sys = append(sys, k+"="+strings.TrimSpace(string(b)))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	out := []string{"ipv6 " + strings.Join(sys, " ")}
	l, err := h.LinkByName(ifname)
	if err != nil {
		t.Fatal(err)
	}
	addrs, err := h.AddrList(l, netlink.FAMILY_V6)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if a.Scope == unix.RT_SCOPE_UNIVERSE {
			line := "addr " + a.IPNet.String()
			if a.ValidLft != lifetimeForever {
				line += " dynamic"
			}
			out = append(out, line)
		}
	}
	routes, err := h.RouteList(nil, netlink.FAMILY_V6)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range routes {
		if r.Protocol == unix.RTPROT_KERNEL || r.Type != unix.RTN_UNICAST {
			continue
		}
		line := fmt.Sprintf("route %s", v6Dst(r))
		if r.Gw != nil {
			line += " via " + r.Gw.String()
		}
		out = append(out, line+fmt.Sprintf(" proto %d", r.Protocol))
	}
	return out
}

// writeSysctl6 sets an IPv6 setting of ifname ("all" too) in ns.
func writeSysctl6(t *testing.T, ns netns.NsHandle, ifname, key, value string) {
	t.Helper()
	if err := testenv.InNetns(ns, func() error { return os.WriteFile(sysctl6Path(ifname, key), []byte(value), 0o644) }); err != nil {
		t.Fatal(err)
	}
}

// addPeer6 gives the peer's gw0 IPv6 addresses, without duplicate address
// detection so that they answer at once.
func (g *gatewayNet) addPeer6(t *testing.T, cidrs ...string) {
	t.Helper()
	gw0, err := g.peerH.LinkByName("gw0")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cidrs {
		a := mustAddr(t, c)
		a.Flags = unix.IFA_F_NODAD
		if err := g.peerH.AddrAdd(gw0, a); err != nil {
			t.Fatalf("peer address %s: %v", c, err)
		}
	}
}

// pingFromPeer pings addr from the peer namespace with ping -6 until it
// answers (the node's address is tentative until its duplicate address
// detection ends), 20 tries at most.
func (g *gatewayNet) pingFromPeer(t *testing.T, addr string) error {
	t.Helper()
	return ping6(t, g.peer, "the peer", addr, 20)
}

// ping6 pings addr from the namespace ns (called from in errors) with
// ping -6 until it answers, tries times at most.
func ping6(t *testing.T, ns netns.NsHandle, from, addr string, tries int) error {
	t.Helper()
	ping := testenv.RequireCommand(t, "ping")
	var out []byte
	err := testenv.InNetns(ns, func() (err error) {
		for range tries {
			if out, err = exec.Command(ping, "-6", "-c", "1", "-W", "1", addr).CombinedOutput(); err == nil {
				return nil
			}
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("ping -6 %s from %s: %v\n%s", addr, from, err, out)
	}
	return nil
}

// TestNetlinkIPv6Static: static IPv6 with a gateway and an IPv6 DNS server
// is applied (router advertisements off), the address answers ping -6 from
// the peer namespace, the IPv6 checks pass, a revert restores the IPv4 and
// IPv6 state exactly, and the kept config is persisted (networkd keys,
// network.json) and re-applied by ApplySaved in a fresh namespace.
func TestNetlinkIPv6Static(t *testing.T) {
	ctx := context.Background()
	g := newGatewayNet(t)
	g.setLease(t)
	g.addPeer6(t, "2001:db8:1::1/64", "2001:db8:1::53/64")
	var pc net.PacketConn
	if err := testenv.InNetns(g.peer, func() (err error) { pc, err = net.ListenPacket("udp6", "[2001:db8:1::53]:53"); return err }); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go serveDNS(pc, netip.MustParseAddr("198.51.100.1"))

	stateDir, netdDir := t.TempDir(), t.TempDir()
	m, b := g.manager(t, stateDir, netdDir, nil)
	before4, before6 := kernelLines(t, g.nodeH, "eth0"), lines6(t, g.nodeH, g.node, "eth0")
	snapBefore, err := b.Snapshot(ctx, "eth0")
	if err != nil {
		t.Fatal(err)
	}
	resolvBefore, _ := os.ReadFile(g.resolv)
	cfg := staticConfig()
	cfg.IPv6, cfg.Address6, cfg.Gateway6 = IPv6Static, netip.MustParsePrefix("2001:db8:1::10/64"), netip.MustParseAddr("2001:db8:1::1")
	cfg.DNS6 = []netip.Addr{netip.MustParseAddr("2001:db8:1::53")}
	want6 := []string{"ipv6 disable_ipv6=0 accept_ra=0 autoconf=0", "addr 2001:db8:1::10/64", "route ::/0 via 2001:db8:1::1 proto 4"}

	tr, err := m.Apply(ctx, cfg)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	diffLines(t, "IPv6 after apply", lines6(t, g.nodeH, g.node, "eth0"), want6)
	diffLines(t, "IPv4 after apply", kernelLines(t, g.nodeH, "eth0"), staticLines)
	if b, _ := os.ReadFile(g.resolv); !strings.HasSuffix(string(b), "nameserver 192.0.2.53\nnameserver 2001:db8:1::53\n") {
		t.Errorf("resolv.conf = %q", b)
	}
	if err := g.pingFromPeer(t, "2001:db8:1::10"); err != nil {
		t.Error(err)
	}
	var got []string
	for _, r := range tr.RunChecks(ctx, nil) {
		if !r.OK {
			t.Errorf("check failed: %s", r)
		}
		got = append(got, r.Check)
	}
	diffLines(t, "checks run", got, []string{"carrier", "address", "gateway", "address6", "gateway6", "dns", "dns6", "tcp", "tls", "clock"})

	if err := tr.Revert(ctx); err != nil {
		t.Fatalf("Revert: %v", err)
	}
	diffLines(t, "IPv6 after revert", lines6(t, g.nodeH, g.node, "eth0"), before6)
	diffLines(t, "IPv4 after revert", kernelLines(t, g.nodeH, "eth0"), before4)
	snapAfter, err := b.Snapshot(ctx, "eth0")
	if err != nil {
		t.Fatal(err)
	}
	diffLines(t, "snapshot after revert", snapAfter.Lines(), snapBefore.Lines())
	if b, _ := os.ReadFile(g.resolv); string(b) != string(resolvBefore) {
		t.Errorf("resolv.conf after revert = %q", b)
	}

	tr, err = m.Apply(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Confirm(ctx); err != nil {
		t.Fatal(err)
	}
	netd, _ := os.ReadFile(filepath.Join(netdDir, NetworkdFileName("eth0")))
	if w := "[Network]\nIPv6AcceptRA=no\nAddress=2001:db8:1::10/64\nGateway=2001:db8:1::1\nAddress=198.51.100.10/24\n"; !strings.Contains(string(netd), w) {
		t.Errorf("networkd file lacks %q:\n%s", w, netd)
	}
	if saved, err := m.Saved(); err != nil || saved.IPv6 != IPv6Static || saved.Address6 != cfg.Address6 || saved.Gateway6 != cfg.Gateway6 {
		t.Errorf("saved config %+v, %v", saved, err)
	}
	fresh := newGatewayNet(t)
	m2, _ := fresh.manager(t, stateDir, "", nil)
	if _, err := m2.ApplySaved(ctx); err != nil {
		t.Fatalf("ApplySaved: %v", err)
	}
	diffLines(t, "IPv6 in a fresh namespace", lines6(t, fresh.nodeH, fresh.node, "eth0"), want6)
}

// TestNetlinkIPv6Off: IPv6 off disables IPv6 on the link (its static
// address goes with it, IPv4 stays); a revert turns it on again and puts
// the address and its route back.
func TestNetlinkIPv6Off(t *testing.T) {
	ctx := context.Background()
	g := newGatewayNet(t)
	g.setLease(t)
	eth0, err := g.nodeH.LinkByName("eth0")
	if err != nil {
		t.Fatal(err)
	}
	a := mustAddr(t, "2001:db8:1::10/64")
	a.Flags = unix.IFA_F_NODAD
	if err := g.nodeH.AddrAdd(eth0, a); err != nil {
		t.Fatal(err)
	}
	r := &netlink.Route{LinkIndex: eth0.Attrs().Index, Gw: net.ParseIP("2001:db8:1::1"), Protocol: unix.RTPROT_STATIC}
	if err := g.nodeH.RouteAdd(r); err != nil {
		t.Fatal(err)
	}
	m, _ := g.manager(t, t.TempDir(), t.TempDir(), nil)
	before := lines6(t, g.nodeH, g.node, "eth0")
	diffLines(t, "IPv6 before", before, []string{"ipv6 disable_ipv6=0 accept_ra=1 autoconf=1", "addr 2001:db8:1::10/64", "route ::/0 via 2001:db8:1::1 proto 4"})
	cfg := Config{Interface: "eth0", Mode: ModeStatic, Address: netip.MustParsePrefix("192.0.2.10/24"), IPv6: IPv6Off}
	for _, tt := range []struct {
		mtu  int
		want string
	}{{0, "ipv6 disable_ipv6=1 accept_ra=1 autoconf=1"}, {1000, "ipv6 none"}} {
		cfg.MTU = tt.mtu
		tr, err := m.Apply(ctx, cfg)
		if err != nil {
			t.Fatalf("MTU %d: %v", tt.mtu, err)
		}
		diffLines(t, fmt.Sprintf("IPv6 off, MTU %d", tt.mtu), lines6(t, g.nodeH, g.node, "eth0"), []string{tt.want})
		if err := tr.Revert(ctx); err != nil {
			t.Fatal(err)
		}
		diffLines(t, "IPv6 after revert", lines6(t, g.nodeH, g.node, "eth0"), before)
	}
}

// TestNetlinkIPv6SLAAC: with IPv6 auto, a real radvd in the peer
// namespace gives eth0 (which ignored router advertisements before) an
// address in 2001:db8:2::/64 and the default route; the address6 and
// gateway6 checks see them; a revert removes both and puts the settings
// back.
func TestNetlinkIPv6SLAAC(t *testing.T) {
	radvd := testenv.RequireCommand(t, "radvd")
	ctx := context.Background()
	g := newGatewayNet(t)
	writeSysctl6(t, g.node, "eth0", "accept_ra", "0")
	writeSysctl6(t, g.node, "eth0", "autoconf", "0")
	writeSysctl6(t, g.peer, "all", "forwarding", "1")
	dir := t.TempDir()
	conf := filepath.Join(dir, "radvd.conf")
	if err := os.WriteFile(conf, []byte(`interface gw0 {
	AdvSendAdvert on;
	MinRtrAdvInterval 3;
	MaxRtrAdvInterval 4;
	prefix 2001:db8:2::/64 { AdvOnLink on; AdvAutonomous on; };
};
`), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(radvd, "--nodaemon", "--config", conf, "--pidfile", filepath.Join(dir, "radvd.pid"), "--logmethod", "stderr")
	var logb strings.Builder
	cmd.Stdout, cmd.Stderr = &logb, &logb
	if err := testenv.InNetns(g.peer, cmd.Start); err != nil {
		t.Fatalf("start radvd in the peer namespace: %v", err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("radvd:\n%s", logb.String())
		}
	})

	m, _ := g.manager(t, t.TempDir(), t.TempDir(), nil)
	m.o.Prober.LeaseWait = 30e9
	eth0, err := g.nodeH.LinkByName("eth0")
	if err != nil {
		t.Fatal(err)
	}
	if err := g.nodeH.LinkSetUp(eth0); err != nil {
		t.Fatal(err)
	}
	before := lines6(t, g.nodeH, g.node, "eth0")
	cfg := Config{Interface: "eth0", Mode: ModeStatic, Address: netip.MustParsePrefix("192.0.2.10/24"), IPv6: IPv6Auto}
	tr, err := m.Apply(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	res := tr.RunChecks(ctx, nil)
	byName := map[string]Result{}
	for _, r := range res {
		byName[r.Check] = r
	}
	if r := byName["address6"]; !r.OK || !strings.Contains(r.Detail, "2001:db8:2:") || !strings.Contains(r.Detail, "/64 on eth0 (from router advertisements (SLAAC))") {
		t.Errorf("address6 check: %s", r)
	}
	if r := byName["gateway6"]; !r.OK || !strings.Contains(r.Detail, "fe80::") {
		t.Errorf("gateway6 check: %s", r)
	}
	st, err := m.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ifc, _ := st.Interface("eth0")
	var slaac bool
	for _, a := range ifc.Addrs {
		slaac = slaac || a.Bits() == 64 && netip.MustParsePrefix("2001:db8:2::/64").Contains(a.Addr())
	}
	if !slaac || st.Gateway6Interface != "eth0" || !st.Gateway6.IsLinkLocalUnicast() {
		t.Errorf("status after SLAAC: eth0 %v, IPv6 gateway %s via %s", ifc.Addrs, st.Gateway6, st.Gateway6Interface)
	}
	if err := tr.Revert(ctx); err != nil {
		t.Fatal(err)
	}
	diffLines(t, "IPv6 after revert", lines6(t, g.nodeH, g.node, "eth0"), before)
}
