//go:build linux

package netconfig

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// NetlinkBackend is the real Backend: netlink through one handle, and a
// resolv.conf file at a configured path.
type NetlinkBackend struct {
	h      *netlink.Handle
	resolv resolvFile
	log    *slog.Logger
	// netns runs a function in the handle's network namespace; see
	// WithNetns. Nil with a handle given to NewNetlinkBackend: the IPv6
	// settings are out of reach (never those of the wrong namespace).
	netns func(func() error) error
}

var _ Backend = (*NetlinkBackend)(nil)

// NewNetlinkBackend returns a Backend working through h (nil: the network
// namespace of the calling thread; netlink.NewHandleAt binds another one)
// and writing DNS servers to the resolv.conf at resolvConf. log may be nil.
func NewNetlinkBackend(h *netlink.Handle, resolvConf string, log *slog.Logger) *NetlinkBackend {
	var netns func(func() error) error
	if h == nil {
		h = &netlink.Handle{}
		netns = func(f func() error) error { return f() }
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &NetlinkBackend{h: h, resolv: resolvFile(resolvConf), log: log, netns: netns}
}

// WithNetns tells a backend whose handle works in another network
// namespace how to run a function there (for instance on a locked thread
// that entered it), for the per-interface IPv6 settings under
// /proc/sys/net, which are those of the namespace of the thread that opens
// them. It returns b.
func (b *NetlinkBackend) WithNetns(run func(f func() error) error) *NetlinkBackend {
	b.netns = run
	return b
}

func (b *NetlinkBackend) link(ifname string) (netlink.Link, error) {
	l, err := b.h.LinkByName(ifname)
	if err != nil {
		return nil, fmt.Errorf("netconfig: find interface %s: %w", ifname, err)
	}
	return l, nil
}

// Snapshot implements Backend.
func (b *NetlinkBackend) Snapshot(ctx context.Context, ifname string) (*Snapshot, error) {
	l, err := b.link(ifname)
	if err != nil {
		return nil, err
	}
	s := &Snapshot{Interface: ifname, Up: l.Attrs().Flags&net.FlagUp != 0, MTU: l.Attrs().MTU}
	addrs, err := b.h.AddrList(l, netlink.FAMILY_V4)
	if err != nil {
		return nil, fmt.Errorf("netconfig: snapshot addresses of %s: %w", ifname, err)
	}
	for _, a := range addrs {
		p, ok := ipNetPrefix(a.IPNet)
		if !ok {
			continue
		}
		brd, _ := netip.AddrFromSlice(a.Broadcast.To4())
		s.Addrs = append(s.Addrs, SnapshotAddr{Prefix: p, Flags: a.Flags, Scope: a.Scope, Label: a.Label,
			Broadcast: brd, ValidLft: a.ValidLft, PreferredLft: a.PreferedLft})
	}
	routes, err := b.routes(l.Attrs().Index)
	if err != nil {
		return nil, fmt.Errorf("netconfig: snapshot routes of %s: %w", ifname, err)
	}
	for _, r := range routes {
		sr, err := b.snapshotRoute(r)
		if err != nil {
			return nil, err
		}
		s.Routes = append(s.Routes, sr)
	}
	if s.ResolvConf, s.ResolvConfExists, err = b.resolv.read(); err != nil {
		return nil, err
	}
	if s.IPv6, err = b.snapshot6(l); err != nil {
		return nil, err
	}
	return s, nil
}

// linkRoutes is ifname's link index and its routes (see routes).
func (b *NetlinkBackend) linkRoutes(ifname string) (int, []netlink.Route, error) {
	l, err := b.link(ifname)
	if err != nil {
		return 0, nil, err
	}
	idx := l.Attrs().Index
	routes, err := b.routes(idx)
	if err != nil {
		return 0, nil, fmt.Errorf("netconfig: list routes: %w", err)
	}
	return idx, routes, nil
}

// routes lists the main-table IPv4 routes through link index idx plus every
// IPv4 default route.
func (b *NetlinkBackend) routes(idx int) ([]netlink.Route, error) {
	all, err := b.h.RouteListFiltered(netlink.FAMILY_V4, &netlink.Route{Table: unix.RT_TABLE_MAIN}, netlink.RT_FILTER_TABLE)
	if err != nil {
		return nil, err
	}
	var out []netlink.Route
	for _, r := range all {
		if len(r.MultiPath) == 0 && (r.LinkIndex == idx || isDefaultDst(r.Dst)) {
			out = append(out, r)
		}
	}
	return out, nil
}

func (b *NetlinkBackend) snapshotRoute(r netlink.Route) (SnapshotRoute, error) {
	l, err := b.h.LinkByIndex(r.LinkIndex)
	if err != nil {
		return SnapshotRoute{}, fmt.Errorf("netconfig: snapshot route %s: find link %d: %w", r, r.LinkIndex, err)
	}
	sr := SnapshotRoute{Dst: netip.MustParsePrefix("0.0.0.0/0"), Interface: l.Attrs().Name, Priority: r.Priority,
		Protocol: int(r.Protocol), Scope: int(r.Scope), Type: r.Type, Table: r.Table, OnLink: r.Flags&int(netlink.FLAG_ONLINK) != 0}
	if p, ok := ipNetPrefix(r.Dst); ok {
		sr.Dst = p
	}
	if a, ok := netip.AddrFromSlice(r.Gw); ok {
		sr.Gw = a.Unmap()
	}
	if a, ok := netip.AddrFromSlice(r.Src); ok {
		sr.Src = a.Unmap()
	}
	return sr, nil
}

func (b *NetlinkBackend) kernelRoute(r SnapshotRoute) (*netlink.Route, error) {
	l, err := b.link(r.Interface)
	if err != nil {
		return nil, err
	}
	kr := &netlink.Route{LinkIndex: l.Attrs().Index, Dst: prefixIPNet(r.Dst), Priority: r.Priority,
		Protocol: netlink.RouteProtocol(r.Protocol), Scope: netlink.Scope(r.Scope), Type: r.Type, Table: r.Table}
	if r.Gw.IsValid() {
		kr.Gw = r.Gw.AsSlice()
	}
	if r.Src.IsValid() {
		kr.Src = r.Src.AsSlice()
	}
	if r.OnLink {
		kr.Flags = int(netlink.FLAG_ONLINK)
	}
	return kr, nil
}

// ReplaceAddrs implements Backend.
func (b *NetlinkBackend) ReplaceAddrs(ctx context.Context, ifname string, want []netip.Prefix) error {
	l, err := b.link(ifname)
	if err != nil {
		return err
	}
	cur, err := b.h.AddrList(l, netlink.FAMILY_V4)
	if err != nil {
		return fmt.Errorf("netconfig: list addresses of %s: %w", ifname, err)
	}
	// Remove first: deleting a primary address also deletes the secondaries
	// of its subnet, so adding before deleting could lose the new address.
	for _, a := range cur {
		p, ok := ipNetPrefix(a.IPNet)
		if !ok || a.Scope != unix.RT_SCOPE_UNIVERSE || slices.Contains(want, p) {
			continue
		}
		if err := b.h.AddrDel(l, &a); err != nil {
			return fmt.Errorf("netconfig: remove address %s from %s: %w", p, ifname, err)
		}
		b.log.Info("removed address", "interface", ifname, "address", p.String())
	}
	for _, p := range want {
		// Replacing without lifetimes makes a former lease permanent.
		if err := b.h.AddrReplace(l, &netlink.Addr{IPNet: prefixIPNet(p)}); err != nil {
			return fmt.Errorf("netconfig: replace address %s on %s: %w", p, ifname, err)
		}
		b.log.Info("set address", "interface", ifname, "address", p.String())
	}
	return nil
}

// LinkUp implements Backend.
func (b *NetlinkBackend) LinkUp(ctx context.Context, ifname string) error {
	l, err := b.link(ifname)
	if err != nil {
		return err
	}
	if err := b.h.LinkSetUp(l); err != nil {
		return fmt.Errorf("netconfig: set %s up: %w", ifname, err)
	}
	return nil
}

// ReplaceDefaultRoute implements Backend.
func (b *NetlinkBackend) ReplaceDefaultRoute(ctx context.Context, ifname string, gw netip.Addr, onlink bool) error {
	idx, routes, err := b.linkRoutes(ifname)
	if err != nil {
		return err
	}
	for _, r := range routes {
		if !isDefaultDst(r.Dst) || (!gw.IsValid() && r.LinkIndex != idx) {
			continue
		}
		if err := b.h.RouteDel(&r); err != nil && !errors.Is(err, unix.ESRCH) {
			return fmt.Errorf("netconfig: remove default route %s: %w", r, err)
		}
	}
	if !gw.IsValid() {
		return nil
	}
	r := &netlink.Route{LinkIndex: idx, Dst: prefixIPNet(netip.MustParsePrefix("0.0.0.0/0")), Gw: gw.AsSlice(),
		Protocol: unix.RTPROT_STATIC, Table: unix.RT_TABLE_MAIN}
	if onlink {
		r.Flags = int(netlink.FLAG_ONLINK)
	}
	if err := b.h.RouteReplace(r); err != nil {
		return fmt.Errorf("netconfig: replace default route via %s on %s: %w", gw, ifname, err)
	}
	b.log.Info("set default route", "interface", ifname, "gateway", gw.String())
	return nil
}

// AddVLAN implements Backend.
func (b *NetlinkBackend) AddVLAN(ctx context.Context, parent string, id int, name string) error {
	p, err := b.link(parent)
	if err != nil {
		return err
	}
	if l, err := b.h.LinkByName(name); err == nil {
		if v, ok := l.(*netlink.Vlan); !ok || v.VlanId != id || v.ParentIndex != p.Attrs().Index {
			return fmt.Errorf("netconfig: add VLAN %d on %s: a link called %s exists and is not that VLAN", id, parent, name)
		}
		return nil
	}
	v := &netlink.Vlan{LinkAttrs: netlink.LinkAttrs{Name: name, ParentIndex: p.Attrs().Index}, VlanId: id,
		VlanProtocol: netlink.VLAN_PROTOCOL_8021Q}
	if err := b.h.LinkAdd(v); errors.Is(err, unix.EOPNOTSUPP) {
		return fmt.Errorf("netconfig: add VLAN link %s: this kernel has no 802.1Q VLAN support (module 8021q): %w", name, err)
	} else if err != nil {
		return fmt.Errorf("netconfig: add VLAN link %s: %w", name, err)
	}
	b.log.Info("added VLAN link", "interface", name, "parent", parent, "vlan", id)
	return nil
}

// DeleteLink implements Backend.
func (b *NetlinkBackend) DeleteLink(ctx context.Context, name string) error {
	l, err := b.h.LinkByName(name)
	var nf netlink.LinkNotFoundError
	if errors.As(err, &nf) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("netconfig: find interface %s: %w", name, err)
	}
	if err := b.h.LinkDel(l); err != nil {
		return fmt.Errorf("netconfig: remove link %s: %w", name, err)
	}
	b.log.Info("removed link", "interface", name)
	return nil
}

// SetMTU implements Backend.
func (b *NetlinkBackend) SetMTU(ctx context.Context, ifname string, mtu int) error {
	l, err := b.link(ifname)
	if err != nil {
		return err
	}
	if l.Attrs().MTU == mtu {
		return nil
	}
	if err := b.h.LinkSetMTU(l, mtu); err != nil {
		return fmt.Errorf("netconfig: set MTU %d on %s: %w", mtu, ifname, err)
	}
	b.log.Info("set MTU", "interface", ifname, "mtu", mtu)
	return nil
}

// ReplaceRoutes implements Backend.
func (b *NetlinkBackend) ReplaceRoutes(ctx context.Context, ifname string, want []Route, onlink bool) error {
	idx, routes, err := b.linkRoutes(ifname)
	if err != nil {
		return err
	}
	return b.syncStaticRoutes(ifname, idx, routes, want, onlink)
}

// syncStaticRoutes makes want the exact set of static gateway routes (not
// default routes) through link index idx among cur, the routes of one
// family: it removes the others and adds or replaces want's.
func (b *NetlinkBackend) syncStaticRoutes(ifname string, idx int, cur []netlink.Route, want []Route, onlink bool) error {
	for _, r := range cur {
		if r.LinkIndex != idx || isDefaultDst(r.Dst) || r.Gw == nil || r.Protocol != unix.RTPROT_STATIC {
			continue
		}
		dst, _ := ipNetPrefix(r.Dst)
		gw, _ := netip.AddrFromSlice(r.Gw)
		if slices.Contains(want, Route{Dst: dst, Gateway: gw.Unmap()}) {
			continue
		}
		if err := b.h.RouteDel(&r); err != nil && !errors.Is(err, unix.ESRCH) {
			return fmt.Errorf("netconfig: remove route %s: %w", r, err)
		}
		b.log.Info("removed route", "interface", ifname, "route", dst.String()+"@"+gw.Unmap().String())
	}
	for _, rt := range want {
		r := &netlink.Route{LinkIndex: idx, Dst: prefixIPNet(rt.Dst), Gw: rt.Gateway.AsSlice(),
			Protocol: unix.RTPROT_STATIC, Table: unix.RT_TABLE_MAIN}
		if onlink {
			r.Flags = int(netlink.FLAG_ONLINK)
		}
		if err := b.h.RouteReplace(r); err != nil {
			return fmt.Errorf("netconfig: add route %s on %s: %w", rt, ifname, err)
		}
		b.log.Info("set route", "interface", ifname, "route", rt.String())
	}
	return nil
}

// WriteDNS implements Backend.
func (b *NetlinkBackend) WriteDNS(ctx context.Context, servers []netip.Addr) error {
	return b.resolv.writeDNS(servers)
}

// Restore implements Backend. It keeps going after an error so that as
// much as possible is restored, and reports every error.
func (b *NetlinkBackend) Restore(ctx context.Context, s *Snapshot) error {
	l, err := b.link(s.Interface)
	if err != nil {
		return err
	}
	var errs []error
	if s.MTU != 0 && l.Attrs().MTU != s.MTU {
		if err := b.h.LinkSetMTU(l, s.MTU); err != nil {
			errs = append(errs, fmt.Errorf("netconfig: restore MTU %d on %s: %w", s.MTU, s.Interface, err))
		}
	}
	// Addresses: remove what the snapshot lacks, then put back its own.
	cur, err := b.h.AddrList(l, netlink.FAMILY_V4)
	if err != nil {
		return fmt.Errorf("netconfig: restore: list addresses of %s: %w", s.Interface, err)
	}
	for _, a := range cur {
		p, ok := ipNetPrefix(a.IPNet)
		if ok && !slices.ContainsFunc(s.Addrs, func(sa SnapshotAddr) bool { return sa.Prefix == p }) {
			if err := b.h.AddrDel(l, &a); err != nil {
				errs = append(errs, fmt.Errorf("netconfig: restore: remove address %s from %s: %w", p, s.Interface, err))
			}
		}
	}
	for _, a := range s.Addrs {
		na := &netlink.Addr{IPNet: prefixIPNet(a.Prefix), Flags: a.Flags, Scope: a.Scope, Label: a.Label,
			Broadcast: net.IPv4zero, ValidLft: a.ValidLft, PreferedLft: a.PreferredLft}
		if a.Broadcast.IsValid() {
			// netlink computes one when Broadcast is nil and sends none
			// for 0.0.0.0: the address comes back as it was.
			na.Broadcast = a.Broadcast.AsSlice()
		}
		if err := b.h.AddrReplace(l, na); err != nil {
			errs = append(errs, fmt.Errorf("netconfig: restore address %s on %s: %w", a.Prefix, s.Interface, err))
		}
	}
	if s.Up {
		err = b.h.LinkSetUp(l)
	} else {
		err = b.h.LinkSetDown(l)
	}
	if err != nil {
		errs = append(errs, fmt.Errorf("netconfig: restore link state of %s: %w", s.Interface, err))
	}
	// Routes: remove what the snapshot lacks, then add what is missing,
	// link-scope routes first so that gateways are reachable.
	routes, err := b.routes(l.Attrs().Index)
	if err != nil {
		return errors.Join(append(errs, fmt.Errorf("netconfig: restore: list routes: %w", err))...)
	}
	have := map[SnapshotRoute]bool{}
	for _, r := range routes {
		sr, err := b.snapshotRoute(r)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if slices.Contains(s.Routes, sr) {
			have[sr] = true
			continue
		}
		if err := b.h.RouteDel(&r); err != nil && !errors.Is(err, unix.ESRCH) {
			errs = append(errs, fmt.Errorf("netconfig: restore: remove route %s: %w", sr, err))
		}
	}
	want := slices.Clone(s.Routes)
	slices.SortStableFunc(want, func(a, b SnapshotRoute) int { return b.Scope - a.Scope })
	for _, sr := range want {
		if have[sr] {
			continue
		}
		kr, err := b.kernelRoute(sr)
		if err == nil {
			err = b.h.RouteAdd(kr)
		}
		if err != nil && !errors.Is(err, unix.EEXIST) {
			errs = append(errs, fmt.Errorf("netconfig: restore route %s: %w", sr, err))
		}
	}
	if s.IPv6 != nil {
		errs = append(errs, b.restore6(l, s.IPv6)...)
	}
	if err := b.resolv.restore(s.ResolvConf, s.ResolvConfExists); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// prefixIPNet converts a prefix (host bits kept) to a *net.IPNet.
func prefixIPNet(p netip.Prefix) *net.IPNet {
	bitsLen := p.Addr().BitLen()
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), bitsLen)}
}

var _ NeighborResolver = (*NetlinkBackend)(nil)

// ResolveNeighbor implements NeighborResolver: it asks the kernel to
// resolve ip on ifname (a neighbour entry with NTF_USE starts ARP, or
// neighbour discovery for IPv6, no
// socket needed, so it works through a handle in another namespace) and
// polls the neighbour table until the entry resolves, fails or ctx ends.
func (b *NetlinkBackend) ResolveNeighbor(ctx context.Context, ifname string, ip netip.Addr) (string, error) {
	l, err := b.link(ifname)
	if err != nil {
		return "", err
	}
	idx := l.Attrs().Index
	fam, noAnswer := netlink.FAMILY_V4, "no ARP answer"
	if ip.Is6() {
		fam, noAnswer = netlink.FAMILY_V6, "no neighbour discovery answer"
	}
	n := &netlink.Neigh{LinkIndex: idx, Family: fam, IP: ip.AsSlice(), Flags: netlink.NTF_USE}
	if err := b.h.NeighSet(n); err != nil {
		return "", fmt.Errorf("netconfig: resolve %s on %s: %w", ip, ifname, err)
	}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		neighs, err := b.h.NeighList(idx, fam)
		if err != nil {
			return "", fmt.Errorf("netconfig: resolve %s on %s: list neighbours: %w", ip, ifname, err)
		}
		for _, nb := range neighs {
			if a, ok := netip.AddrFromSlice(nb.IP); !ok || a.Unmap() != ip {
				continue
			}
			if nb.State&(netlink.NUD_REACHABLE|netlink.NUD_STALE|netlink.NUD_DELAY|netlink.NUD_PROBE|netlink.NUD_PERMANENT|netlink.NUD_NOARP) != 0 && len(nb.HardwareAddr) > 0 {
				return nb.HardwareAddr.String(), nil
			}
			if nb.State&netlink.NUD_FAILED != 0 {
				return "", fmt.Errorf("netconfig: resolve %s on %s: %s", ip, ifname, noAnswer)
			}
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("netconfig: resolve %s on %s: %w", ip, ifname, ctx.Err())
		case <-tick.C:
		}
	}
}
