package netconfig

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"
)

// Simulated is an in-memory network used by `nodeconsole --demo` and by
// tests. It implements Reader and Backend, so the console validates,
// previews, applies, checks and reverts against it exactly as against the
// kernel, without touching the host. Its zero value is not usable; call
// NewSimulated.
type Simulated struct {
	mu     sync.Mutex // guards all following fields
	links  []simLink
	routes []simRoute
	resolv []byte
	fail   map[string]error // op name -> error returned once
	// dhcp6 are the interfaces whose simulated DHCPv6 client runs; undo6,
	// per interface with a change open, whether it ran before (see
	// DHCPControl).
	dhcp6, undo6 map[string]bool
	// loopback, when set, are the only host:port on this host's loopback
	// that Dial reaches (OnlyLoopback).
	loopback []netip.AddrPort

	changed chan struct{} // capacity 1; see Changed
}

type simLink struct {
	name     string
	index    int
	mac      string
	up       bool
	carrier  bool
	ethernet bool
	addrs    []netip.Prefix
	dynamic  map[netip.Prefix]bool // addresses that are DHCP leases
	mtu      int                   // 0 means 1500
	vlanOf   string                // the parent of a VLAN link
	vlanID   int
}

// linkMTU returns the MTU of l.
func (l *simLink) linkMTU() int {
	if l.mtu == 0 {
		return 1500
	}
	return l.mtu
}

type simRoute struct {
	dst    netip.Prefix // 0.0.0.0/0 for the default route
	gw     netip.Addr
	dev    string
	onlink bool
}

// NewSimulated returns a simulated node: eth0 up with 192.0.2.10/24 and the
// default route via 192.0.2.1, eth1 without carrier, mgmt0 up with
// 198.51.100.20/24, and wlan0 down; nameserver 192.0.2.53.
func NewSimulated() *Simulated {
	return &Simulated{
		links: []simLink{
			{name: "eth0", index: 2, mac: "52:54:00:12:34:56", up: true, carrier: true, ethernet: true,
				addrs: []netip.Prefix{netip.MustParsePrefix("192.0.2.10/24")}},
			{name: "eth1", index: 3, mac: "52:54:00:12:34:57", up: true, ethernet: true},
			{name: "mgmt0", index: 4, mac: "52:54:00:ab:cd:01", up: true, carrier: true, ethernet: true,
				addrs: []netip.Prefix{netip.MustParsePrefix("198.51.100.20/24")}},
			{name: "wg0", index: 5, up: true, carrier: true},
		},
		routes: []simRoute{{
			dst: netip.MustParsePrefix("0.0.0.0/0"),
			gw:  netip.MustParseAddr("192.0.2.1"),
			dev: "eth0",
		}},
		resolv:  []byte("nameserver 192.0.2.53\n"),
		fail:    map[string]error{},
		dhcp6:   map[string]bool{},
		undo6:   map[string]bool{},
		changed: make(chan struct{}, 1),
	}
}

// Read implements Reader.
func (s *Simulated) Read(ctx context.Context) (Status, error) {
	if err := ctx.Err(); err != nil {
		return Status{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var st Status
	for _, l := range s.links {
		ifc := Interface{Name: l.name, Index: l.index, MAC: l.mac, Ethernet: l.ethernet, Addrs: slices.Clone(l.addrs), MTU: l.linkMTU(),
			VLANParent: l.vlanOf, VLANID: l.vlanID}
		switch {
		case !l.up:
			ifc.State = LinkDown
		case !l.carrier:
			ifc.State = LinkNoCarrier
		default:
			ifc.State = LinkUp
		}
		for _, r := range s.routes {
			if r.dev == l.name && r.dst.Bits() != 0 && r.gw.IsValid() {
				ifc.Routes = append(ifc.Routes, Route{Dst: r.dst, Gateway: r.gw})
			}
			if r.dev == l.name && r.dst.Bits() == 0 {
				ifc.Default = true
				ifc.Default4 = ifc.Default4 || r.dst.Addr().Is4()
				ifc.Default6 = ifc.Default6 || r.dst.Addr().Is6()
				if r.dst.Addr().Is4() && !st.Gateway.IsValid() {
					st.Gateway, st.GatewayInterface = r.gw, l.name
				}
				if r.dst.Addr().Is6() && !st.Gateway6.IsValid() {
					st.Gateway6, st.Gateway6Interface = r.gw, l.name
				}
			}
		}
		for a, dyn := range l.dynamic {
			if dyn && a.Addr().Is4() && slices.Contains(l.addrs, a) {
				ifc.DHCP = true
			}
		}
		sortAddrs(ifc.Addrs)
		st.Interfaces = append(st.Interfaces, ifc)
	}
	sortInterfaces(st.Interfaces)
	st.DNS = ParseNameservers(s.resolv)
	return st, nil
}

// Render returns the simulated state as text lines, one fact per line, in
// a stable order: links, addresses, routes, resolv.conf lines. Tests compare
// it the way tailscale's fakeOS is compared.
func (s *Simulated) Render() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	links := slices.Clone(s.links)
	slices.SortFunc(links, func(a, b simLink) int { return strings.Compare(a.name, b.name) })
	for _, l := range links {
		state := "down"
		if l.up {
			state = "up"
		}
		line := fmt.Sprintf("link %s %s", l.name, state)
		if l.linkMTU() != 1500 {
			line += fmt.Sprintf(" mtu %d", l.mtu)
		}
		out = append(out, line)
	}
	for _, l := range links {
		for _, a := range l.addrs {
			line := fmt.Sprintf("addr %s dev %s", a, l.name)
			if l.dynamic[a] {
				line += " dynamic"
			}
			out = append(out, line)
		}
	}
	for _, r := range s.routes {
		line := "route " + r.dst.String()
		if r.dst.Bits() == 0 {
			line = "route default"
		}
		if r.gw.IsValid() {
			line += " via " + r.gw.String()
		}
		line += " dev " + r.dev
		if r.onlink {
			line += " onlink"
		}
		out = append(out, line)
	}
	for _, l := range strings.Split(strings.TrimRight(string(s.resolv), "\n"), "\n") {
		if l != "" {
			out = append(out, "resolv "+l)
		}
	}
	return out
}
