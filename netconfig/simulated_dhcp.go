package netconfig

import (
	"context"
	"net/netip"
	"slices"
)

// DHCP is a DHCPHook for the simulated network. Starting the client on
// eth0 leases 192.0.2.100/24 with the default route via 192.0.2.1 and
// nameserver 192.0.2.53; on other interfaces 198.51.100.100/24 via
// 198.51.100.1. Stopping it leaves the lease in place, as stopping a real
// client does; ReplaceAddrs removes it.
func (s *Simulated) DHCP(ctx context.Context, ifname string, run bool) error {
	s.mu.Lock()
	defer s.unlockChanged()
	l, err := s.begin(ctx, "DHCP", ifname)
	if err != nil || !run {
		return err
	}
	lease, gw, dns := netip.MustParsePrefix("198.51.100.100/24"), netip.MustParseAddr("198.51.100.1"), netip.MustParseAddr("198.51.100.53")
	if ifname == "eth0" {
		lease, gw, dns = netip.MustParsePrefix("192.0.2.100/24"), netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.53")
	}
	if !l.up || !l.carrier {
		return nil // no lease without a link; a real client keeps trying
	}
	if !slices.Contains(l.addrs, lease) {
		l.addrs = append(l.addrs, lease)
	}
	if l.dynamic == nil {
		l.dynamic = map[netip.Prefix]bool{}
	}
	l.dynamic[lease] = true
	s.replaceDefaultLocked(ifname, netip.MustParsePrefix("0.0.0.0/0"), gw, false)
	s.resolv = RewriteNameservers(s.resolv, []netip.Addr{dns})
	return nil
}

// DHCPControl returns the simulated network's DHCP clients as the
// DHCPControl of a Manager (--demo's): DHCPv4 is DHCP (as
// DHCPHook(s.DHCP) does it), and for IPv6 dhcp a simulated DHCPv6 client
// runs (DHCPv6Support, DHCPv6Control), as SystemDHCP runs dhclient -6.
// Started on a link that is up with a carrier, it leases
// 2001:db8:5::1XX/128 (XX the link's index) from the simulated router's
// network, whose router advertisements give the default route (SetIPv6);
// stopping it releases the lease. A revert runs it again where it ran
// before the change, a confirmation forgets what ran before.
func (s *Simulated) DHCPControl() DHCPControl { return simDHCP{s} }

// simDHCP is Simulated.DHCPControl's DHCPControl.
type simDHCP struct{ s *Simulated }

var (
	_ DHCPControl   = simDHCP{}
	_ DHCPv6Support = simDHCP{}
	_ DHCPv6Control = simDHCP{}
)

// Apply implements DHCPControl: the DHCPv4 client, as DHCPHook does.
func (d simDHCP) Apply(ctx context.Context, cfg Config, trial bool) error {
	return DHCPHook(d.s.DHCP).Apply(ctx, cfg, trial)
}

// Restore implements DHCPControl: the DHCPv4 client as DHCPHook does,
// then the DHCPv6 client runs again if it ran before the change.
func (d simDHCP) Restore(ctx context.Context, snap *Snapshot) error {
	err := DHCPHook(d.s.DHCP).Restore(ctx, snap)
	s := d.s
	s.mu.Lock()
	defer s.unlockChanged()
	ifname := snap.Interface
	ran, open := s.undo6[ifname]
	delete(s.undo6, ifname)
	if l := s.linkLocked(ifname); open && l != nil {
		s.runDHCP6Locked(l, ran)
	}
	return err
}

// Commit implements DHCPControl: the change is final, so what ran before
// it is forgotten.
func (d simDHCP) Commit(_ context.Context, cfg Config) error {
	d.s.mu.Lock()
	defer d.s.mu.Unlock()
	delete(d.s.undo6, cfg.Link())
	return nil
}

// DHCPv6 implements DHCPv6Support: the simulated network always has a
// DHCPv6 client.
func (simDHCP) DHCPv6() error { return nil }

// Apply6 implements DHCPv6Control: the DHCPv6 client runs for IPv6 dhcp
// and stops for the other modes.
func (d simDHCP) Apply6(ctx context.Context, cfg Config, _ bool) error {
	if cfg.IPv6 == IPv6Unset {
		return nil
	}
	s := d.s
	s.mu.Lock()
	defer s.unlockChanged()
	l, err := s.begin(ctx, "DHCP6", cfg.Interface)
	if err != nil {
		return err
	}
	if _, open := s.undo6[l.name]; !open {
		s.undo6[l.name] = s.dhcp6[l.name]
	}
	s.runDHCP6Locked(l, cfg.IPv6 == IPv6DHCP)
	return nil
}

// Stop6 implements DHCPv6Control (a link that is gone has no client).
func (d simDHCP) Stop6(ctx context.Context, ifname string) error {
	s := d.s
	s.mu.Lock()
	defer s.unlockChanged()
	if l := s.linkLocked(ifname); l != nil {
		s.runDHCP6Locked(l, false)
	}
	return ctx.Err()
}

// runDHCP6Locked starts (run) or stops the DHCPv6 client of l: a running
// client holds its lease while l is up with a carrier (a real one keeps
// trying otherwise), a stopped one has released it. s.mu must be held.
func (s *Simulated) runDHCP6Locked(l *simLink, run bool) {
	b := simPrefix6.Addr().As16()
	b[14], b[15] = 0x01, byte(l.index)
	lease := netip.PrefixFrom(netip.AddrFrom16(b), 128)
	s.dhcp6[l.name] = run
	if !run || !l.up || !l.carrier {
		l.addrs = slices.DeleteFunc(l.addrs, func(p netip.Prefix) bool { return p == lease && l.dynamic[p] })
		delete(l.dynamic, lease)
		return
	}
	if !slices.Contains(l.addrs, lease) {
		l.addrs = append(l.addrs, lease)
	}
	if l.dynamic == nil {
		l.dynamic = map[netip.Prefix]bool{}
	}
	l.dynamic[lease] = true
}
