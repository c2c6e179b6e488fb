//go:build linux

package netconfig

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"slices"
	"strings"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// ipv6Sysctls are the per-interface IPv6 settings an apply changes, in the
// order a restore writes them back.
var ipv6Sysctls = []string{"disable_ipv6", "accept_ra", "autoconf"}

// sysctl6Path is the per-interface IPv6 setting key of ifname.
func sysctl6Path(ifname, key string) string {
	return "/proc/sys/net/ipv6/conf/" + ifname + "/" + key
}

// errNoIPv6 means the kernel has IPv6 turned off (ipv6.disable=1, or no
// IPv6 support): there is no /proc/sys/net/ipv6.
var errNoIPv6 = errors.New("this kernel has IPv6 turned off (no /proc/sys/net/ipv6)")

// errNetnsUnknown: a backend with a handle in another namespace was not
// told how to enter it (WithNetns), so its IPv6 settings are out of reach.
var errNetnsUnknown = errors.New("the IPv6 settings of the handle's network namespace are out of reach (NetlinkBackend.WithNetns)")

// inNetns runs f where the handle's namespace is current, so that the
// /proc/sys/net files f opens are that namespace's.
func (b *NetlinkBackend) inNetns(f func() error) error {
	if b.netns == nil {
		return errNetnsUnknown
	}
	return b.netns(f)
}

// noIPv6 explains a missing /proc/sys/net/ipv6/conf/IF: the kernel has no
// IPv6 (errNoIPv6), or the link has none now, as a link with an MTU below
// 1280 does not. Call it in the namespace.
func noIPv6(ifname string) error {
	if _, err := os.Stat("/proc/sys/net/ipv6"); errors.Is(err, fs.ErrNotExist) {
		return errNoIPv6
	}
	return fmt.Errorf("%s has no IPv6 now (an MTU below %d turns IPv6 off on a link)", ifname, MinMTU6)
}

// readSysctls6 reads ipv6Sysctls of ifname; nil (no error) when the link
// has no IPv6 (see noIPv6).
func (b *NetlinkBackend) readSysctls6(ifname string) ([]string, error) {
	var out []string
	err := b.inNetns(func() error {
		for _, k := range ipv6Sysctls {
			v, err := os.ReadFile(sysctl6Path(ifname, k))
			if errors.Is(err, fs.ErrNotExist) {
				out = nil
				return nil
			}
			if err != nil {
				return fmt.Errorf("netconfig: read IPv6 setting %s of %s: %w", k, ifname, err)
			}
			out = append(out, strings.TrimSpace(string(v)))
		}
		return nil
	})
	return out, err
}

// writeSysctls6 writes key=value pairs of ifname in order.
func (b *NetlinkBackend) writeSysctls6(ifname string, kv ...string) error {
	return b.inNetns(func() error {
		for i := 0; i+1 < len(kv); i += 2 {
			err := os.WriteFile(sysctl6Path(ifname, kv[i]), []byte(kv[i+1]), 0o644)
			if errors.Is(err, fs.ErrNotExist) {
				if kv[i] == "disable_ipv6" && kv[i+1] == "1" && !errors.Is(noIPv6(ifname), errNoIPv6) {
					continue // off already
				}
				err = noIPv6(ifname)
			}
			if err != nil {
				return fmt.Errorf("netconfig: set IPv6 %s=%s on %s: %w", kv[i], kv[i+1], ifname, err)
			}
			b.log.Info("set IPv6 setting", "interface", ifname, "key", kv[i], "value", kv[i+1])
		}
		return nil
	})
}

// snapshot6 captures the IPv6 state of l: its settings, global addresses,
// the IPv6 routes through it that are not the kernel's own, and every IPv6
// default route. Nil when the link has no IPv6 (see noIPv6).
func (b *NetlinkBackend) snapshot6(l netlink.Link) (*IPv6Snapshot, error) {
	ifname := l.Attrs().Name
	vals, err := b.readSysctls6(ifname)
	if errors.Is(err, errNetnsUnknown) {
		return nil, nil // SetIPv6 fails the same way, so nothing to restore
	}
	if err != nil || vals == nil {
		return nil, err
	}
	s := &IPv6Snapshot{DisableIPv6: vals[0], AcceptRA: vals[1], Autoconf: vals[2]}
	addrs, err := b.addrs6(l)
	if err != nil {
		return nil, err
	}
	for _, a := range addrs {
		p, _ := ipNetPrefix(a.IPNet)
		s.Addrs = append(s.Addrs, SnapshotAddr{Prefix: p, Flags: a.Flags, Scope: a.Scope, Label: a.Label,
			ValidLft: a.ValidLft, PreferredLft: a.PreferedLft})
	}
	routes, err := b.routes6(l.Attrs().Index)
	if err != nil {
		return nil, fmt.Errorf("netconfig: snapshot IPv6 routes of %s: %w", ifname, err)
	}
	for _, r := range routes {
		sr, err := b.snapshotRoute(r)
		if err != nil {
			return nil, err
		}
		sr.Dst = v6Dst(r)
		s.Routes = append(s.Routes, sr)
	}
	return s, nil
}

// v6Dst is an IPv6 route's destination (::/0 for a default route).
func v6Dst(r netlink.Route) netip.Prefix {
	if p, ok := ipNetPrefix(r.Dst); ok {
		return p
	}
	return netip.MustParsePrefix("::/0")
}

// addrs6 lists the global IPv6 addresses of l.
func (b *NetlinkBackend) addrs6(l netlink.Link) ([]netlink.Addr, error) {
	all, err := b.h.AddrList(l, netlink.FAMILY_V6)
	if err != nil {
		return nil, fmt.Errorf("netconfig: list IPv6 addresses of %s: %w", l.Attrs().Name, err)
	}
	return slices.DeleteFunc(all, func(a netlink.Addr) bool {
		_, ok := ipNetPrefix(a.IPNet)
		return !ok || a.Scope != unix.RT_SCOPE_UNIVERSE
	}), nil
}

// routes6 lists the main-table IPv6 routes through link index idx that the
// kernel did not make for an address (proto kernel), plus every IPv6
// default route.
func (b *NetlinkBackend) routes6(idx int) ([]netlink.Route, error) {
	all, err := b.h.RouteListFiltered(netlink.FAMILY_V6, &netlink.Route{Table: unix.RT_TABLE_MAIN}, netlink.RT_FILTER_TABLE)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(all, func(r netlink.Route) bool {
		return len(r.MultiPath) > 0 || r.Protocol == unix.RTPROT_KERNEL || r.Type != unix.RTN_UNICAST ||
			(r.LinkIndex != idx && !isDefaultDst(r.Dst))
	}), nil
}

// SetIPv6 implements Backend.
func (b *NetlinkBackend) SetIPv6(ctx context.Context, ifname string, s IPv6Settings) error {
	l, err := b.link(ifname)
	if err != nil {
		return err
	}
	switch s.Mode {
	case IPv6Off:
		// The kernel drops the link's IPv6 addresses and routes with it.
		return b.writeSysctls6(ifname, "disable_ipv6", "1")
	case IPv6Auto, IPv6DHCP:
		if err := b.writeSysctls6(ifname, "disable_ipv6", "0", "accept_ra", "2", "autoconf", "1"); err != nil {
			return err
		}
		// Static addresses, default routes and routes give way to what
		// the router advertises (and the DHCPv6 server gives).
		return b.replace6(l, nil, netip.Addr{}, nil, true)
	case IPv6Static:
		// Router advertisements off first, so none adds to what is set.
		if err := b.writeSysctls6(ifname, "accept_ra", "0", "autoconf", "0", "disable_ipv6", "0"); err != nil {
			return err
		}
		return b.replace6(l, []netip.Prefix{s.Addr}, s.Gateway, s.Routes, false)
	}
	return fmt.Errorf("netconfig: set IPv6 on %s: unknown mode %q", ifname, s.Mode)
}

// replace6 makes want the global IPv6 addresses of l (keepDynamic: those
// with a finite lifetime, from SLAAC or DHCPv6, stay too), gw the only
// IPv6 default route (a zero gw removes the default routes through l;
// keepDynamic: only static ones) and static the exact set of static IPv6
// gateway routes through l.
func (b *NetlinkBackend) replace6(l netlink.Link, want []netip.Prefix, gw netip.Addr, static []Route, keepDynamic bool) error {
	ifname, idx := l.Attrs().Name, l.Attrs().Index
	cur, err := b.addrs6(l)
	if err != nil {
		return err
	}
	for _, a := range cur {
		p, _ := ipNetPrefix(a.IPNet)
		dynamic := a.ValidLft > 0 && a.ValidLft != lifetimeForever
		if slices.Contains(want, p) || (keepDynamic && dynamic) {
			continue
		}
		if err := b.h.AddrDel(l, &a); err != nil && !errors.Is(err, unix.EADDRNOTAVAIL) {
			return fmt.Errorf("netconfig: remove IPv6 address %s from %s: %w", p, ifname, err)
		}
		b.log.Info("removed IPv6 address", "interface", ifname, "address", p.String())
	}
	for _, p := range want {
		if err := b.h.AddrReplace(l, &netlink.Addr{IPNet: prefixIPNet(p)}); err != nil {
			return fmt.Errorf("netconfig: set IPv6 address %s on %s: %w", p, ifname, err)
		}
		b.log.Info("set IPv6 address", "interface", ifname, "address", p.String())
	}
	routes, err := b.routes6(idx)
	if err != nil {
		return fmt.Errorf("netconfig: list IPv6 routes: %w", err)
	}
	for _, r := range routes {
		if !isDefaultDst(r.Dst) || (!gw.IsValid() && r.LinkIndex != idx) || (keepDynamic && r.Protocol != unix.RTPROT_STATIC) {
			continue
		}
		if err := b.h.RouteDel(&r); err != nil && !errors.Is(err, unix.ESRCH) {
			return fmt.Errorf("netconfig: remove IPv6 default route %s: %w", r, err)
		}
	}
	if gw.IsValid() {
		r := &netlink.Route{LinkIndex: idx, Dst: prefixIPNet(netip.MustParsePrefix("::/0")), Gw: gw.AsSlice(),
			Protocol: unix.RTPROT_STATIC, Table: unix.RT_TABLE_MAIN}
		if err := b.h.RouteReplace(r); err != nil {
			return fmt.Errorf("netconfig: set IPv6 default route via %s on %s: %w", gw, ifname, err)
		}
		b.log.Info("set IPv6 default route", "interface", ifname, "gateway", gw.String())
	}
	// The gateways are reachable now: the address (its prefix route) and
	// the link-local one are in place.
	return b.syncStaticRoutes(ifname, idx, routes, static, false)
}

// restore6 puts back the IPv6 state s of l: settings first (turning IPv6
// back on brings back the link-local address), then the addresses, then
// the routes. Routes from router advertisements are not added back by
// hand: with the settings restored, the router's next advertisement brings
// them back with their lifetimes.
func (b *NetlinkBackend) restore6(l netlink.Link, s *IPv6Snapshot) []error {
	ifname := l.Attrs().Name
	var errs []error
	kv := []string{"disable_ipv6", s.DisableIPv6, "accept_ra", s.AcceptRA, "autoconf", s.Autoconf}
	if s.DisableIPv6 == "1" {
		kv = append(kv[2:], kv[:2]...) // turned off last: it drops everything anyway
	}
	if err := b.writeSysctls6(ifname, kv...); err != nil {
		errs = append(errs, fmt.Errorf("netconfig: restore: %w", err))
	}
	if s.DisableIPv6 == "1" {
		return errs
	}
	cur, err := b.addrs6(l)
	if err != nil {
		return append(errs, fmt.Errorf("netconfig: restore: %w", err))
	}
	have := map[netip.Prefix]bool{}
	for _, a := range cur {
		p, _ := ipNetPrefix(a.IPNet)
		if slices.ContainsFunc(s.Addrs, func(sa SnapshotAddr) bool { return sa.Prefix == p }) {
			have[p] = true
			continue
		}
		if err := b.h.AddrDel(l, &a); err != nil && !errors.Is(err, unix.EADDRNOTAVAIL) {
			errs = append(errs, fmt.Errorf("netconfig: restore: remove IPv6 address %s from %s: %w", p, ifname, err))
		}
	}
	for _, a := range s.Addrs {
		if have[a.Prefix] {
			continue
		}
		na := &netlink.Addr{IPNet: prefixIPNet(a.Prefix), Flags: a.Flags & (unix.IFA_F_NODAD | unix.IFA_F_NOPREFIXROUTE | unix.IFA_F_MANAGETEMPADDR),
			ValidLft: a.ValidLft, PreferedLft: a.PreferredLft}
		if err := b.h.AddrReplace(l, na); err != nil {
			errs = append(errs, fmt.Errorf("netconfig: restore IPv6 address %s on %s: %w", a.Prefix, ifname, err))
		}
	}
	errs = append(errs, b.dropKernelRoutes6(l, s)...)
	routes, err := b.routes6(l.Attrs().Index)
	if err != nil {
		return append(errs, fmt.Errorf("netconfig: restore: list IPv6 routes: %w", err))
	}
	haveRoute := map[SnapshotRoute]bool{}
	for _, r := range routes {
		sr, err := b.snapshotRoute(r)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		sr.Dst = v6Dst(r)
		if slices.Contains(s.Routes, sr) {
			haveRoute[sr] = true
			continue
		}
		if err := b.h.RouteDel(&r); err != nil && !errors.Is(err, unix.ESRCH) {
			errs = append(errs, fmt.Errorf("netconfig: restore: remove IPv6 route %s: %w", sr, err))
		}
	}
	for _, sr := range s.Routes {
		if haveRoute[sr] || sr.Protocol == unix.RTPROT_RA {
			continue
		}
		kr, err := b.kernelRoute(sr)
		if err == nil {
			err = b.h.RouteAdd(kr)
		}
		if err != nil && !errors.Is(err, unix.EEXIST) {
			errs = append(errs, fmt.Errorf("netconfig: restore IPv6 route %s: %w", sr, err))
		}
	}
	return errs
}

// dropKernelRoutes6 removes the kernel's IPv6 prefix routes through l
// that no address of l has any more, after restore6 removed the addresses
// the apply added: the kernel lets the route of a removed address with a
// finite lifetime (a DHCPv6 lease's /128) expire rather than removing it,
// and, when the snapshot ignored router advertisements, the on-link
// prefixes they brought (DHCPv6 and SLAAC) stay until they expire too.
// The link-local prefix and the prefixes of the addresses on l stay.
func (b *NetlinkBackend) dropKernelRoutes6(l netlink.Link, s *IPv6Snapshot) []error {
	all, err := b.h.RouteListFiltered(netlink.FAMILY_V6, &netlink.Route{LinkIndex: l.Attrs().Index, Table: unix.RT_TABLE_MAIN},
		netlink.RT_FILTER_OIF|netlink.RT_FILTER_TABLE)
	if err != nil {
		return []error{fmt.Errorf("netconfig: restore: list IPv6 routes of %s: %w", l.Attrs().Name, err)}
	}
	addrs, err := b.addrs6(l)
	if err != nil {
		return []error{fmt.Errorf("netconfig: restore: %w", err)}
	}
	var errs []error
	for _, r := range all {
		dst, ok := ipNetPrefix(r.Dst)
		if !ok || r.Protocol != unix.RTPROT_KERNEL || r.Type != unix.RTN_UNICAST || len(r.MultiPath) > 0 ||
			dst.Addr().IsLinkLocalUnicast() || (dst.Bits() != 128 && s.AcceptRA != "0") {
			continue
		}
		if slices.ContainsFunc(addrs, func(a netlink.Addr) bool { p, _ := ipNetPrefix(a.IPNet); return p.Masked() == dst }) {
			continue
		}
		if err := b.h.RouteDel(&r); err != nil && !errors.Is(err, unix.ESRCH) {
			errs = append(errs, fmt.Errorf("netconfig: restore: remove IPv6 route %s from %s: %w", dst, l.Attrs().Name, err))
			continue
		}
		b.log.Info("removed IPv6 prefix route", "interface", l.Attrs().Name, "prefix", dst.String())
	}
	return errs
}

// KernelIPv6Mode infers the IPv6 mode of ifname in the calling thread's
// network namespace from the kernel's settings: off when IPv6 is disabled
// on it (or it has none), auto when it takes addresses from router
// advertisements, static when it ignores them. DHCPv6 cannot be told from
// these (see the saved config); IPv6Unset when they cannot be read.
func KernelIPv6Mode(ifname string) IPv6Mode {
	read := func(key string) (string, error) {
		b, err := os.ReadFile(sysctl6Path(ifname, key))
		return strings.TrimSpace(string(b)), err
	}
	disabled, err := read("disable_ipv6")
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return IPv6Off
	case err != nil:
		return IPv6Unset
	case disabled == "1":
		return IPv6Off
	}
	ra, err1 := read("accept_ra")
	auto, err2 := read("autoconf")
	switch {
	case err1 != nil || err2 != nil:
		return IPv6Unset
	case ra != "0" && auto == "1":
		return IPv6Auto
	}
	return IPv6Static
}
