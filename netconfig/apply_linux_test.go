//go:build linux

package netconfig

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/nodeconsole/nodeconsole/testenv"
)

// kernelLines renders the IPv4 state of ifname and every IPv4 route of the
// main table, straight from netlink, in a namespace-independent form.
func kernelLines(t *testing.T, h *netlink.Handle, ifname string) []string {
	t.Helper()
	l, err := h.LinkByName(ifname)
	if err != nil {
		t.Fatal(err)
	}
	state := "down"
	if l.Attrs().Flags&net.FlagUp != 0 {
		state = "up"
	}
	out := []string{"link " + ifname + " " + state}
	addrs, err := h.AddrList(l, netlink.FAMILY_V4)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		line := fmt.Sprintf("addr %s dev %s", a.IPNet, ifname)
		if a.Broadcast != nil {
			line += " brd " + a.Broadcast.String()
		}
		if a.ValidLft != lifetimeForever {
			line += " dynamic"
		}
		out = append(out, line)
	}
	routes, err := h.RouteList(nil, netlink.FAMILY_V4)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range routes {
		dev, err := h.LinkByIndex(r.LinkIndex)
		if err != nil {
			t.Fatal(err)
		}
		line := "route " + r.Dst.String()
		if r.Gw != nil {
			line += " via " + r.Gw.String()
		}
		line += fmt.Sprintf(" dev %s proto %d scope %d", dev.Attrs().Name, r.Protocol, r.Scope)
		if r.Src != nil {
			line += " src " + r.Src.String()
		}
		if r.Priority != 0 {
			line += fmt.Sprintf(" metric %d", r.Priority)
		}
		if r.Flags&int(netlink.FLAG_ONLINK) != 0 {
			line += " onlink"
		}
		out = append(out, line)
	}
	return out
}

// dialIn returns a DialFunc whose sockets live in ns.
func dialIn(ns netns.NsHandle) DialFunc {
	return func(ctx context.Context, network, address string) (net.Conn, error) {
		var c net.Conn
		err := testenv.InNetns(ns, func() (err error) {
			var d net.Dialer
			c, err = d.DialContext(ctx, network, address)
			return err
		})
		return c, err
	}
}

// gatewayNet is a node namespace with eth0, and a peer namespace acting as
// the gateway (192.0.2.1 and 198.51.100.1), a DNS server (192.0.2.53,
// answering every A question with 198.51.100.1) and an HTTPS server at
// 198.51.100.1:8443.
type gatewayNet struct {
	*testNet
	resolv string
	https  *httptest.Server
}

func newGatewayNet(t *testing.T) *gatewayNet {
	t.Helper()
	tn := newTestNet(t)
	tn.addVeth(t, "eth0", "02:00:00:00:00:10", "gw0", true)
	gw0, err := tn.peerH.LinkByName("gw0")
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []string{"192.0.2.1/24", "198.51.100.1/24", "192.0.2.53/24"} {
		if err := tn.peerH.AddrAdd(gw0, mustAddr(t, a)); err != nil {
			t.Fatalf("peer address %s: %v", a, err)
		}
	}
	g := &gatewayNet{testNet: tn, resolv: filepath.Join(t.TempDir(), "resolv.conf")}
	if err := os.WriteFile(g.resolv, []byte("search example.com\nnameserver 192.0.2.53\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var pc net.PacketConn
	var ln net.Listener
	err = testenv.InNetns(tn.peer, func() (err error) {
		// The peer address may still be tentative for a moment; IP_FREEBIND
		// is not needed for IPv4, which has no DAD.
		if pc, err = net.ListenPacket("udp4", "192.0.2.53:53"); err != nil {
			return err
		}
		ln, err = net.Listen("tcp4", "198.51.100.1:8443")
		return err
	})
	if err != nil {
		t.Fatalf("listen in peer netns: %v", err)
	}
	t.Cleanup(func() { pc.Close() })
	go serveDNS(pc, netip.MustParseAddr("198.51.100.1"))
	g.https = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	g.https.Listener = ln
	g.https.Config.ErrorLog = log.New(io.Discard, "", 0)
	g.https.StartTLS()
	t.Cleanup(g.https.Close)
	return g
}

// serveDNS answers every A question with answer, and anything else with
// no records, until pc is closed.
func serveDNS(pc net.PacketConn, answer netip.Addr) {
	buf := make([]byte, 512)
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			return
		}
		q := buf[:n]
		if n < 12 {
			continue
		}
		// Find the end of the question (name, type, class).
		i := 12
		for i < n && q[i] != 0 {
			i += int(q[i]) + 1
		}
		if i+5 > n {
			continue
		}
		qtype := binary.BigEndian.Uint16(q[i+1:])
		end := i + 5
		resp := append([]byte{}, q[:end]...)
		resp[2], resp[3] = 0x81, 0x80            // response, RD, RA, no error
		binary.BigEndian.PutUint16(resp[6:], 0)  // answers
		binary.BigEndian.PutUint16(resp[8:], 0)  // authority
		binary.BigEndian.PutUint16(resp[10:], 0) // additional
		if qtype == 1 {
			binary.BigEndian.PutUint16(resp[6:], 1)
			a := answer.As4()
			resp = append(resp, 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4)
			resp = append(resp, a[:]...)
		}
		pc.WriteTo(resp, from)
	}
}

func (g *gatewayNet) manager(t *testing.T, stateDir, networkdDir string, after func(time.Duration) <-chan time.Time) (*Manager, *NetlinkBackend) {
	t.Helper()
	b := NewNetlinkBackend(g.nodeH, g.resolv, slog.New(slog.DiscardHandler)).WithNetns(g.inNode)
	roots := g.https.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	m, err := NewManager(Options{
		Backend: b, Reader: NewReaderAt(g.nodeH, g.resolv),
		StateDir: stateDir, NetworkdDir: networkdDir,
		Prober:   &Prober{Reader: NewReaderAt(g.nodeH, g.resolv), Neighbors: b, Dial: dialIn(g.node), RootCAs: roots},
		Endpoint: "https://example.com:8443",
		After:    after,
	})
	if err != nil {
		t.Fatal(err)
	}
	return m, b
}

// inNode runs f on a thread in the node namespace.
func (g *gatewayNet) inNode(f func() error) error { return testenv.InNetns(g.node, f) }

// setLease gives eth0 what a DHCP client would: a lease with a finite
// lifetime and a default route with proto dhcp.
func (g *gatewayNet) setLease(t *testing.T) {
	t.Helper()
	g.addLease(t, true)
}

// addLease is setLease; without brd the address has no broadcast
// address, as `ip addr add` leaves it (netlink computes one otherwise).
func (g *gatewayNet) addLease(t *testing.T, brd bool) {
	t.Helper()
	eth0, err := g.nodeH.LinkByName("eth0")
	if err != nil {
		t.Fatal(err)
	}
	if err := g.nodeH.LinkSetUp(eth0); err != nil {
		t.Fatal(err)
	}
	lease := mustAddr(t, "192.0.2.10/24")
	lease.ValidLft, lease.PreferedLft = 3600, 3600
	if !brd {
		lease.Broadcast = net.IPv4zero // netlink sends none for 0.0.0.0
	}
	if err := g.nodeH.AddrAdd(eth0, lease); err != nil {
		t.Fatal(err)
	}
	r := &netlink.Route{LinkIndex: eth0.Attrs().Index, Gw: net.ParseIP("192.0.2.1"), Protocol: unix.RTPROT_DHCP,
		Src: net.ParseIP("192.0.2.10"), Priority: 1024}
	if err := g.nodeH.RouteAdd(r); err != nil {
		t.Fatal(err)
	}
}

var staticLines = []string{
	"link eth0 up",
	"addr 198.51.100.10/24 dev eth0 brd 198.51.100.255",
	"route 0.0.0.0/0 via 198.51.100.1 dev eth0 proto 4 scope 0",
	"route 198.51.100.0/24 dev eth0 proto 2 scope 253 src 198.51.100.10",
}

const staticResolv = "# Written by nodeconsole; nameservers from the network settings.\nsearch example.com\nnameserver 192.0.2.53\n"

func staticConfig() Config {
	return cfgStatic("eth0", "198.51.100.10/24", "198.51.100.1", "192.0.2.53")
}

func TestNetlinkApplyConfirmPersist(t *testing.T) {
	ctx := context.Background()
	g := newGatewayNet(t)
	g.setLease(t)
	stateDir, netdDir := t.TempDir(), t.TempDir()
	m, _ := g.manager(t, stateDir, netdDir, nil)

	tr, err := m.Apply(ctx, staticConfig())
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	// DHCP -> static: the lease and its route are gone, exactly the static
	// setup is left.
	diffLines(t, "kernel after apply", kernelLines(t, g.nodeH, "eth0"), staticLines)
	if b, _ := os.ReadFile(g.resolv); string(b) != staticResolv {
		t.Errorf("resolv.conf = %q, want %q", b, staticResolv)
	}

	var got []string
	for _, r := range tr.RunChecks(ctx, nil) {
		if !r.OK {
			t.Errorf("check failed: %s", r)
		}
		got = append(got, r.Check)
	}
	diffLines(t, "checks run", got, []string{"carrier", "address", "gateway", "dns", "tcp", "tls", "clock"})

	if err := tr.Confirm(ctx); err != nil {
		t.Fatal(err)
	}
	if o, err := tr.Wait(ctx); o != OutcomeConfirmed || err != nil {
		t.Fatalf("Wait = %q, %v", o, err)
	}
	netd, err := os.ReadFile(filepath.Join(netdDir, "10-nodeconsole-eth0.network"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Name=eth0", "Address=198.51.100.10/24", "Gateway=198.51.100.1", "DNS=192.0.2.53"} {
		if !strings.Contains(string(netd), want+"\n") {
			t.Errorf("networkd file lacks %q:\n%s", want, netd)
		}
	}

	// The persisted config applied into a fresh namespace reproduces it.
	fresh := newGatewayNet(t)
	m2, _ := fresh.manager(t, stateDir, "", nil)
	if _, err := m2.ApplySaved(ctx); err != nil {
		t.Fatalf("ApplySaved: %v", err)
	}
	diffLines(t, "fresh namespace", kernelLines(t, fresh.nodeH, "eth0"), staticLines)
	if b, _ := os.ReadFile(fresh.resolv); string(b) != staticResolv {
		t.Errorf("fresh resolv.conf = %q", b)
	}
}

func TestNetlinkRevertRestoresExactly(t *testing.T) {
	ctx := context.Background()
	// "no broadcast": a lease added without a broadcast address (as
	// `ip addr add` does) comes back without one, not with a computed one.
	for _, how := range []string{"revert", "deadline", "no broadcast"} {
		t.Run(how, func(t *testing.T) {
			g := newGatewayNet(t)
			g.addLease(t, how != "no broadcast")
			expire := make(chan time.Time, 1)
			m, b := g.manager(t, t.TempDir(), t.TempDir(), func(time.Duration) <-chan time.Time { return expire })
			before := kernelLines(t, g.nodeH, "eth0")
			snapBefore, err := b.Snapshot(ctx, "eth0")
			if err != nil {
				t.Fatal(err)
			}
			resolvBefore, _ := os.ReadFile(g.resolv)

			tr, err := m.Apply(ctx, staticConfig())
			if err != nil {
				t.Fatal(err)
			}
			diffLines(t, "kernel after apply", kernelLines(t, g.nodeH, "eth0"), staticLines)
			want := OutcomeReverted
			if how != "deadline" {
				if err := tr.Revert(ctx); err != nil {
					t.Fatalf("Revert: %v", err)
				}
			} else {
				want = OutcomeExpired
				expire <- time.Time{}
			}
			if o, err := tr.Wait(ctx); o != want || err != nil {
				t.Fatalf("Wait = %q, %v", o, err)
			}
			diffLines(t, "kernel after revert", kernelLines(t, g.nodeH, "eth0"), before)
			snapAfter, err := b.Snapshot(ctx, "eth0")
			if err != nil {
				t.Fatal(err)
			}
			diffLines(t, "snapshot after revert", snapAfter.Lines(), snapBefore.Lines())
			if b, _ := os.ReadFile(g.resolv); string(b) != string(resolvBefore) {
				t.Errorf("resolv.conf after revert = %q, want %q", b, resolvBefore)
			}
		})
	}
}

func TestNetlinkApplyFailureRestores(t *testing.T) {
	ctx := context.Background()
	g := newGatewayNet(t)
	g.setLease(t)
	m, _ := g.manager(t, t.TempDir(), t.TempDir(), nil)
	before := kernelLines(t, g.nodeH, "eth0")
	// The last step (writing DNS into a directory that does not exist)
	// fails after the addresses and routes were changed.
	m.o.Backend = NewNetlinkBackend(g.nodeH, filepath.Join(t.TempDir(), "missing", "resolv.conf"), nil)
	_, err := m.Apply(ctx, staticConfig())
	if err == nil || !strings.Contains(err.Error(), "previous settings restored") {
		t.Fatalf("Apply error = %v", err)
	}
	diffLines(t, "kernel after failed apply", kernelLines(t, g.nodeH, "eth0"), before)
}

func TestNetlinkGatewayProbeFails(t *testing.T) {
	ctx := context.Background()
	g := newGatewayNet(t)
	g.setLease(t)
	b := NewNetlinkBackend(g.nodeH, g.resolv, nil)
	p := &Prober{Neighbors: b, Timeout: 10 * time.Second}
	if r := p.Gateway(ctx, "eth0", netip.MustParseAddr("192.0.2.1")); !r.OK {
		t.Errorf("gateway 192.0.2.1: %s", r)
	}
	if r := p.Gateway(ctx, "eth0", netip.MustParseAddr("192.0.2.99")); r.OK {
		t.Errorf("absent gateway 192.0.2.99 answered: %s", r)
	}
}

// TestNetlinkSecondNICKeepsDefaultRoute: in a namespace with the default
// route on eth0, a static address on eth1 without the default-route choice
// leaves the default route on eth0; with the choice on, eth1 takes it.
func TestNetlinkSecondNICKeepsDefaultRoute(t *testing.T) {
	ctx := context.Background()
	g := newGatewayNet(t)
	g.setLease(t)
	g.addVeth(t, "eth1", "02:00:00:00:00:11", "gw1", true)
	m, _ := g.manager(t, t.TempDir(), t.TempDir(), nil)
	defaults := func() []string {
		var out []string
		for _, l := range kernelLines(t, g.nodeH, "eth1") {
			if strings.HasPrefix(l, "route 0.0.0.0/0 ") {
				out = append(out, strings.Join(strings.Fields(l)[:6], " "))
			}
		}
		return out
	}
	cfg := Config{Interface: "eth1", Mode: ModeStatic, Address: netip.MustParsePrefix("203.0.113.10/24")}
	tr, err := m.Apply(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	diffLines(t, "default routes, choice off", defaults(), []string{"route 0.0.0.0/0 via 192.0.2.1 dev eth0"})
	if err := tr.Revert(ctx); err != nil {
		t.Fatal(err)
	}
	cfg.Gateway, cfg.DefaultRoute = netip.MustParseAddr("203.0.113.1"), true
	tr, err = m.Apply(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	diffLines(t, "default routes, choice on", defaults(), []string{"route 0.0.0.0/0 via 203.0.113.1 dev eth1"})
	if err := tr.Revert(ctx); err != nil {
		t.Fatal(err)
	}
	diffLines(t, "default routes, reverted", defaults(), []string{"route 0.0.0.0/0 via 192.0.2.1 dev eth0"})
}

// TestNetlinkMTUAndRoutes: an MTU and static routes are applied, reverted
// exactly (including a static route that was there before and is not in
// the new config), and reproduced from the saved config in a fresh
// namespace; the networkd file carries them.
func TestNetlinkMTUAndRoutes(t *testing.T) {
	ctx := context.Background()
	g := newGatewayNet(t)
	g.setLease(t)
	// An operator's earlier static route, which the new config drops.
	g.addStaticRoute(t, "10.99.0.0/16", "192.0.2.1")
	stateDir, netdDir := t.TempDir(), t.TempDir()
	m, _ := g.manager(t, stateDir, netdDir, nil)
	mtu := func(h *netlink.Handle) int {
		l, err := h.LinkByName("eth0")
		if err != nil {
			t.Fatal(err)
		}
		return l.Attrs().MTU
	}
	before := kernelLines(t, g.nodeH, "eth0")
	cfg := staticConfig()
	cfg.MTU = 1400
	cfg.Routes = []Route{
		{netip.MustParsePrefix("10.20.0.0/16"), netip.MustParseAddr("198.51.100.254")},
		{netip.MustParsePrefix("203.0.113.0/24"), netip.MustParseAddr("198.51.100.1")},
	}
	want := append(slices.Clone(staticLines),
		"route 10.20.0.0/16 via 198.51.100.254 dev eth0 proto 4 scope 0",
		"route 203.0.113.0/24 via 198.51.100.1 dev eth0 proto 4 scope 0")
	slices.Sort(want[1:])

	tr, err := m.Apply(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	got := kernelLines(t, g.nodeH, "eth0")
	slices.Sort(got[1:])
	diffLines(t, "kernel after apply", got, want)
	if n := mtu(g.nodeH); n != 1400 {
		t.Errorf("MTU after apply = %d, want 1400", n)
	}
	if err := tr.Revert(ctx); err != nil {
		t.Fatal(err)
	}
	diffLines(t, "kernel after revert", kernelLines(t, g.nodeH, "eth0"), before)
	if n := mtu(g.nodeH); n != 1500 {
		t.Errorf("MTU after revert = %d, want 1500", n)
	}

	tr, err = m.Apply(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Confirm(ctx); err != nil {
		t.Fatal(err)
	}
	netd, err := os.ReadFile(filepath.Join(netdDir, "10-nodeconsole-eth0.network"))
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"[Link]\nMTUBytes=1400\n", "[Route]\nDestination=10.20.0.0/16\nGateway=198.51.100.254\n", "[Route]\nDestination=203.0.113.0/24\nGateway=198.51.100.1\n"} {
		if !strings.Contains(string(netd), w) {
			t.Errorf("networkd file lacks %q:\n%s", w, netd)
		}
	}
	fresh := newGatewayNet(t)
	m2, _ := fresh.manager(t, stateDir, "", nil)
	if _, err := m2.ApplySaved(ctx); err != nil {
		t.Fatalf("ApplySaved: %v", err)
	}
	got = kernelLines(t, fresh.nodeH, "eth0")
	slices.Sort(got[1:])
	diffLines(t, "fresh namespace", got, want)
	if n := mtu(fresh.nodeH); n != 1400 {
		t.Errorf("fresh MTU = %d, want 1400", n)
	}
	st, err := NewReaderAt(fresh.nodeH, fresh.resolv).Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ifc, _ := st.Interface("eth0"); ifc.MTU != 1400 || !slices.Equal(ifc.Routes, cfg.Routes) {
		t.Errorf("status eth0 MTU %d routes %v, want 1400 %v", ifc.MTU, ifc.Routes, cfg.Routes)
	}
}

// TestNetlinkVLAN: settings with a VLAN create the 802.1Q link eth0.100,
// whose address the peer's VLAN link reaches; the NIC keeps its own
// settings; a revert removes the link and leaves eth0 exactly as it was;
// the kept config is persisted as .netdev + .network files and network
// apply recreates it in a fresh namespace.
func TestNetlinkVLAN(t *testing.T) {
	ctx := context.Background()
	g := newGatewayNet(t)
	g.setLease(t)
	gw0, err := g.peerH.LinkByName("gw0")
	if err != nil {
		t.Fatal(err)
	}
	stateDir, netdDir := t.TempDir(), t.TempDir()
	m, _ := g.manager(t, stateDir, netdDir, nil)
	before := kernelLines(t, g.nodeH, "eth0")
	cfg := Config{Interface: "eth0", VLAN: 100, Mode: ModeStatic, Address: netip.MustParsePrefix("203.0.113.10/24")}
	peerVLAN := &netlink.Vlan{LinkAttrs: netlink.LinkAttrs{Name: "gw0.100", ParentIndex: gw0.Attrs().Index}, VlanId: 100}
	if err := g.peerH.LinkAdd(peerVLAN); errors.Is(err, unix.EOPNOTSUPP) {
		// This kernel cannot make VLAN links (CONFIG_VLAN_8021Q unset, as
		// on the project's Firecracker VMs and its CI): the apply must
		// fail with a clear reason and change nothing. The rest is a
		// plain skip, not testenv's skip-or-fail: NODECONSOLE_REQUIRE_ALL
		// asks for tools and privileges CI can install, not for another
		// kernel. deploy/vmtest's TestVM runs this test in a Debian guest
		// (whose kernel has 8021q) and fails unless it passes there; it
		// also drives VLANs through the installed package's CLI.
		_, err := m.Apply(ctx, cfg)
		if err == nil || !strings.Contains(err.Error(), "no 802.1Q VLAN support") || !strings.Contains(err.Error(), "previous settings restored") {
			t.Errorf("Apply on a kernel without 802.1Q = %v", err)
		}
		diffLines(t, "eth0 after the failed apply", kernelLines(t, g.nodeH, "eth0"), before)
		t.Skip("this kernel has no 802.1Q VLAN support (CONFIG_VLAN_8021Q); checked only that the apply fails cleanly; " +
			"the VLAN itself is proven on a Debian kernel by deploy/vmtest's TestVM, which runs this test in its guest")
	} else if err != nil {
		t.Fatal(err)
	}
	if err := g.peerH.AddrAdd(peerVLAN, mustAddr(t, "203.0.113.1/24")); err != nil {
		t.Fatal(err)
	}
	if err := g.peerH.LinkSetUp(peerVLAN); err != nil {
		t.Fatal(err)
	}

	tr, err := m.Apply(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	vlanLines := func(h *netlink.Handle) []string {
		var out []string
		for _, l := range kernelLines(t, h, "eth0.100") {
			if !strings.HasPrefix(l, "route ") || strings.Contains(l, " dev eth0.100 ") {
				out = append(out, l)
			}
		}
		return out
	}
	wantVLAN := []string{"link eth0.100 up", "addr 203.0.113.10/24 dev eth0.100 brd 203.0.113.255",
		"route 203.0.113.0/24 dev eth0.100 proto 2 scope 253 src 203.0.113.10"}
	diffLines(t, "VLAN link after apply", vlanLines(g.nodeH), wantVLAN)
	// eth0 keeps its own settings; the table (kernelLines lists all of
	// it) gains only the VLAN link's subnet route, after eth0's.
	diffLines(t, "eth0 and the routes after apply", kernelLines(t, g.nodeH, "eth0"), append(slices.Clone(before), wantVLAN[2]))
	peer := NewNetlinkBackend(g.peerH, g.resolv, nil)
	rctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	mac, err := peer.ResolveNeighbor(rctx, "gw0.100", netip.MustParseAddr("203.0.113.10"))
	cancel()
	if err != nil || mac != "02:00:00:00:00:10" {
		t.Errorf("peer resolving 203.0.113.10 on gw0.100 = %q, %v; want the node's eth0 MAC", mac, err)
	}
	if err := tr.Revert(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := g.nodeH.LinkByName("eth0.100"); err == nil {
		t.Error("eth0.100 still exists after revert")
	}
	diffLines(t, "eth0 after revert", kernelLines(t, g.nodeH, "eth0"), before)

	tr, err = m.Apply(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Confirm(ctx); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"10-nodeconsole-eth0.100.netdev":  "[NetDev]\nName=eth0.100\nKind=vlan\n\n[VLAN]\nId=100\n",
		"10-nodeconsole-eth0.network":     "[Match]\nName=eth0\n\n[Network]\nVLAN=eth0.100\n",
		"10-nodeconsole-eth0.100.network": "[Match]\nName=eth0.100\n\n[Network]\nAddress=203.0.113.10/24\n",
	} {
		b, err := os.ReadFile(filepath.Join(netdDir, name))
		if err != nil || !strings.Contains(string(b), want) {
			t.Errorf("%s = %q, %v; want it to contain %q", name, b, err, want)
		}
	}
	fresh := newGatewayNet(t)
	m2, _ := fresh.manager(t, stateDir, "", nil)
	if _, err := m2.ApplySaved(ctx); err != nil {
		t.Fatalf("ApplySaved: %v", err)
	}
	diffLines(t, "fresh namespace", vlanLines(fresh.nodeH), wantVLAN)
	st, err := NewReaderAt(fresh.nodeH, fresh.resolv).Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ifc, ok := st.Interface("eth0.100"); !ok || ifc.VLANParent != "eth0" || ifc.VLANID != 100 || !ifc.Ethernet {
		t.Errorf("status of eth0.100 = %+v, %v", ifc, ok)
	}
}
