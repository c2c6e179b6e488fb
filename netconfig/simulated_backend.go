package netconfig

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
)

var (
	_ Backend          = (*Simulated)(nil)
	_ Reader           = (*Simulated)(nil)
	_ NeighborResolver = (*Simulated)(nil)
)

// simPeers are the hosts that answer ARP in the simulated network.
var simPeers = map[netip.Addr]string{
	netip.MustParseAddr("192.0.2.1"):    "52:54:00:00:00:01",
	netip.MustParseAddr("198.51.100.1"): "52:54:00:00:00:02",
	netip.MustParseAddr("fe80::1"):      "52:54:00:00:00:01", // simRouter6
	// The router's global address in simPrefix6, the gateway a static
	// IPv6 setup in the demo gives (it did not answer: gateway6 FAIL).
	netip.MustParseAddr("2001:db8:5::1"): "52:54:00:00:00:01",
}

// FailNext makes the next call of the named Backend method (e.g.
// "ReplaceDefaultRoute") fail with err, to test error paths.
func (s *Simulated) FailNext(method string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail[method] = err
}

// SetCarrier plugs (true) or unplugs (false) the cable of ifname.
func (s *Simulated) SetCarrier(ifname string, carrier bool) {
	s.mu.Lock()
	defer s.unlockChanged()
	if l := s.linkLocked(ifname); l != nil {
		l.carrier = carrier
	}
}

// unlockChanged signals Changed, then unlocks s.mu: deferred by every
// method that changes the network.
func (s *Simulated) unlockChanged() {
	select {
	case s.changed <- struct{}{}:
	default: // one is pending: the reader's next reading covers both
	}
	s.mu.Unlock()
}

// Changed receives after each change of the simulated network (several
// changes before a receive make one): the console's status watcher
// listens to it in --demo, as it listens to netlink on a node.
func (s *Simulated) Changed() <-chan struct{} { return s.changed }

// failLocked returns and clears the injected failure for method.
// s.mu must be held.
func (s *Simulated) failLocked(method string) error {
	err := s.fail[method]
	delete(s.fail, method)
	return err
}

// linkLocked returns the link called name or nil. s.mu must be held.
func (s *Simulated) linkLocked(name string) *simLink {
	for i := range s.links {
		if s.links[i].name == name {
			return &s.links[i]
		}
	}
	return nil
}

// begin locks s, checks ctx and injected failures, and finds the link.
func (s *Simulated) begin(ctx context.Context, method, ifname string) (*simLink, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := s.failLocked(method); err != nil {
		return nil, fmt.Errorf("netconfig: %s %s: %w", method, ifname, err)
	}
	if ifname == "" {
		return nil, nil
	}
	l := s.linkLocked(ifname)
	if l == nil {
		return nil, fmt.Errorf("netconfig: find interface %s: link not found", ifname)
	}
	return l, nil
}

// Snapshot implements Backend.
func (s *Simulated) Snapshot(ctx context.Context, ifname string) (*Snapshot, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, err := s.begin(ctx, "Snapshot", ifname)
	if err != nil {
		return nil, err
	}
	snap := &Snapshot{Interface: ifname, Up: l.up, MTU: l.linkMTU(), ResolvConf: slices.Clone(s.resolv), ResolvConfExists: s.resolv != nil}
	for _, a := range l.addrs {
		lft := lifetimeForever
		if l.dynamic[a] {
			lft = 3600
		}
		snap.Addrs = append(snap.Addrs, SnapshotAddr{Prefix: a, ValidLft: lft, PreferredLft: lft})
	}
	for _, r := range s.routes {
		if r.dev == ifname || r.dst.Bits() == 0 {
			snap.Routes = append(snap.Routes, SnapshotRoute{Dst: r.dst, Gw: r.gw, Interface: r.dev, OnLink: r.onlink})
		}
	}
	return snap, nil
}

// ReplaceAddrs implements Backend. Like the kernel, it drops routes whose
// gateway is no longer reachable.
func (s *Simulated) ReplaceAddrs(ctx context.Context, ifname string, addrs []netip.Prefix) error {
	s.mu.Lock()
	defer s.unlockChanged()
	l, err := s.begin(ctx, "ReplaceAddrs", ifname)
	if err != nil {
		return err
	}
	// IPv4 only, like the kernel backend: IPv6 addresses stay.
	l.addrs = append(slices.DeleteFunc(l.addrs, func(p netip.Prefix) bool { return p.Addr().Is4() }), addrs...)
	for a := range l.dynamic {
		if a.Addr().Is4() {
			delete(l.dynamic, a)
		}
	}
	s.routes = slices.DeleteFunc(s.routes, func(r simRoute) bool {
		return r.dev == ifname && r.gw.Is4() && !r.onlink && !onSubnet(l.addrs, r.gw)
	})
	return nil
}

// onSubnet reports whether ip is inside one of addrs' subnets.
func onSubnet(addrs []netip.Prefix, ip netip.Addr) bool {
	return slices.ContainsFunc(addrs, func(p netip.Prefix) bool { return p.Masked().Contains(ip) })
}

// LinkUp implements Backend.
func (s *Simulated) LinkUp(ctx context.Context, ifname string) error {
	s.mu.Lock()
	defer s.unlockChanged()
	l, err := s.begin(ctx, "LinkUp", ifname)
	if err != nil {
		return err
	}
	l.up = true
	return nil
}

// ReplaceDefaultRoute implements Backend. Like the kernel, it refuses a
// gateway that is not on a subnet of the interface unless onlink.
func (s *Simulated) ReplaceDefaultRoute(ctx context.Context, ifname string, gw netip.Addr, onlink bool) error {
	s.mu.Lock()
	defer s.unlockChanged()
	l, err := s.begin(ctx, "ReplaceDefaultRoute", ifname)
	if err != nil {
		return err
	}
	if gw.IsValid() && !onlink && !onSubnet(l.addrs, gw) {
		return fmt.Errorf("netconfig: replace default route via %s on %s: network is unreachable", gw, ifname)
	}
	s.replaceDefaultLocked(ifname, netip.MustParsePrefix("0.0.0.0/0"), gw, onlink)
	return nil
}

// replaceDefaultLocked makes the default route dst (0.0.0.0/0 or ::/0) go
// via gw on ifname only, or removes those through ifname for a zero gw.
func (s *Simulated) replaceDefaultLocked(ifname string, dst netip.Prefix, gw netip.Addr, onlink bool) {
	s.routes = slices.DeleteFunc(s.routes, func(r simRoute) bool {
		return r.dst == dst && (gw.IsValid() || r.dev == ifname)
	})
	if gw.IsValid() {
		s.routes = append(s.routes, simRoute{dst: dst, gw: gw, dev: ifname, onlink: onlink})
	}
}

// simRouter6 is the simulated IPv6 router: it advertises simPrefix6 and is
// the default gateway for IPv6 auto.
var (
	simRouter6 = netip.MustParseAddr("fe80::1")
	simPrefix6 = netip.MustParsePrefix("2001:db8:5::/64")
)

// SetIPv6 implements Backend. With auto (or dhcp) the simulated router
// gives the link an address in 2001:db8:5::/64 and the default route via
// fe80::1 at once, when the link is up with a carrier.
func (s *Simulated) SetIPv6(ctx context.Context, ifname string, set IPv6Settings) error {
	s.mu.Lock()
	defer s.unlockChanged()
	l, err := s.begin(ctx, "SetIPv6", ifname)
	if err != nil {
		return err
	}
	l.addrs = slices.DeleteFunc(l.addrs, func(p netip.Prefix) bool {
		return p.Addr().Is6() && (set.Mode != IPv6Auto && set.Mode != IPv6DHCP || !l.dynamic[p])
	})
	def6 := netip.MustParsePrefix("::/0")
	switch set.Mode {
	case IPv6Off:
		s.routes = slices.DeleteFunc(s.routes, func(r simRoute) bool { return r.dev == ifname && r.dst.Addr().Is6() })
	case IPv6Static:
		l.addrs = append(l.addrs, set.Addr)
		s.replaceDefaultLocked(ifname, def6, set.Gateway, false)
		for _, r := range set.Routes {
			if !r.Gateway.IsLinkLocalUnicast() && !set.Addr.Masked().Contains(r.Gateway) {
				return fmt.Errorf("netconfig: add route %s on %s: network is unreachable", r, ifname)
			}
		}
		s.replaceRoutesLocked(ifname, true, set.Routes, false)
	default:
		s.replaceRoutesLocked(ifname, true, nil, false) // static routes give way too
		if !l.up || !l.carrier {
			return nil
		}
		b := simPrefix6.Addr().As16()
		b[15] = byte(l.index)
		a := netip.PrefixFrom(netip.AddrFrom16(b), 64)
		if !slices.Contains(l.addrs, a) {
			l.addrs = append(l.addrs, a)
		}
		if l.dynamic == nil {
			l.dynamic = map[netip.Prefix]bool{}
		}
		l.dynamic[a] = true
		s.replaceDefaultLocked(ifname, def6, netip.Addr{}, false)
		s.routes = append(s.routes, simRoute{dst: def6, gw: simRouter6, dev: ifname})
	}
	return nil
}

// AddVLAN implements Backend.
func (s *Simulated) AddVLAN(ctx context.Context, parent string, id int, name string) error {
	s.mu.Lock()
	defer s.unlockChanged()
	p, err := s.begin(ctx, "AddVLAN", parent)
	if err != nil {
		return err
	}
	if l := s.linkLocked(name); l != nil {
		if l.vlanOf != parent || l.vlanID != id {
			return fmt.Errorf("netconfig: add VLAN %d on %s: a link called %s exists and is not that VLAN", id, parent, name)
		}
		return nil
	}
	idx := 0
	for _, l := range s.links {
		idx = max(idx, l.index)
	}
	s.links = append(s.links, simLink{name: name, index: idx + 1, mac: p.mac, carrier: p.carrier, ethernet: true,
		mtu: p.mtu, vlanOf: parent, vlanID: id})
	return nil
}

// DeleteLink implements Backend.
func (s *Simulated) DeleteLink(ctx context.Context, name string) error {
	s.mu.Lock()
	defer s.unlockChanged()
	if _, err := s.begin(ctx, "DeleteLink", ""); err != nil {
		return err
	}
	s.links = slices.DeleteFunc(s.links, func(l simLink) bool { return l.name == name })
	s.routes = slices.DeleteFunc(s.routes, func(r simRoute) bool { return r.dev == name })
	return nil
}

// SetMTU implements Backend.
func (s *Simulated) SetMTU(ctx context.Context, ifname string, mtu int) error {
	s.mu.Lock()
	defer s.unlockChanged()
	l, err := s.begin(ctx, "SetMTU", ifname)
	if err != nil {
		return err
	}
	if p := s.linkLocked(l.vlanOf); p != nil && mtu > p.linkMTU() {
		// Like the kernel: a VLAN's MTU never exceeds its NIC's.
		return fmt.Errorf("netconfig: set MTU %d on %s: numerical result out of range", mtu, ifname)
	}
	l.mtu = mtu
	return nil
}

// ReplaceRoutes implements Backend. Like the kernel, it refuses a gateway
// that is not on a subnet of the interface unless onlink.
func (s *Simulated) ReplaceRoutes(ctx context.Context, ifname string, routes []Route, onlink bool) error {
	s.mu.Lock()
	defer s.unlockChanged()
	l, err := s.begin(ctx, "ReplaceRoutes", ifname)
	if err != nil {
		return err
	}
	for _, r := range routes {
		if !onlink && !onSubnet(l.addrs, r.Gateway) {
			return fmt.Errorf("netconfig: add route %s on %s: network is unreachable", r, ifname)
		}
	}
	s.replaceRoutesLocked(ifname, false, routes, onlink)
	return nil
}

// replaceRoutesLocked makes routes the gateway routes (not default ones)
// of one family (v6) through ifname. s.mu must be held.
func (s *Simulated) replaceRoutesLocked(ifname string, v6 bool, routes []Route, onlink bool) {
	s.routes = slices.DeleteFunc(s.routes, func(r simRoute) bool {
		return r.dev == ifname && r.dst.Bits() != 0 && r.gw.IsValid() && r.dst.Addr().Is6() == v6
	})
	for _, r := range routes {
		s.routes = append(s.routes, simRoute{dst: r.Dst, gw: r.Gateway, dev: ifname, onlink: onlink})
	}
}

// WriteDNS implements Backend.
func (s *Simulated) WriteDNS(ctx context.Context, servers []netip.Addr) error {
	s.mu.Lock()
	defer s.unlockChanged()
	if _, err := s.begin(ctx, "WriteDNS", ""); err != nil {
		return err
	}
	s.resolv = RewriteNameservers(s.resolv, servers)
	return nil
}

// Restore implements Backend.
func (s *Simulated) Restore(ctx context.Context, snap *Snapshot) error {
	s.mu.Lock()
	defer s.unlockChanged()
	l, err := s.begin(ctx, "Restore", snap.Interface)
	if err != nil {
		return err
	}
	l.up = snap.Up
	if snap.MTU != 0 {
		l.mtu = snap.MTU
	}
	l.addrs, l.dynamic = nil, nil
	for _, a := range snap.Addrs {
		l.addrs = append(l.addrs, a.Prefix)
		if a.Dynamic() {
			if l.dynamic == nil {
				l.dynamic = map[netip.Prefix]bool{}
			}
			l.dynamic[a.Prefix] = true
		}
	}
	s.routes = slices.DeleteFunc(s.routes, func(r simRoute) bool { return r.dev == snap.Interface || r.dst.Bits() == 0 })
	for _, r := range snap.Routes {
		s.routes = append(s.routes, simRoute{dst: r.Dst, gw: r.Gw, dev: r.Interface, onlink: r.OnLink})
	}
	s.resolv = slices.Clone(snap.ResolvConf)
	if !snap.ResolvConfExists {
		s.resolv = nil
	}
	return nil
}

// ResolveNeighbor implements NeighborResolver: the simulated gateways
// answer when the link is up with carrier and they are on one of its
// subnets (or an on-link route points at them).
func (s *Simulated) ResolveNeighbor(ctx context.Context, ifname string, ip netip.Addr) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, err := s.begin(ctx, "ResolveNeighbor", ifname)
	if err != nil {
		return "", err
	}
	onlink := slices.ContainsFunc(s.routes, func(r simRoute) bool { return r.dev == ifname && r.onlink && r.gw == ip })
	mac, ok := simPeers[ip]
	if !l.up || !l.carrier || !(onSubnet(l.addrs, ip) || onlink || ip.IsLinkLocalUnicast()) || !ok {
		return "", fmt.Errorf("netconfig: resolve %s on %s: no ARP answer", ip, ifname)
	}
	return mac, nil
}
