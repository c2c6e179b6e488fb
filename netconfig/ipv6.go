package netconfig

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// IPv6Mode says how an interface gets its IPv6 configuration.
type IPv6Mode string

// IPv6 modes.
const (
	// IPv6Unset leaves IPv6 on the interface as it is (a config saved
	// before IPv6 settings existed, or a form that does not set it).
	IPv6Unset IPv6Mode = ""
	// IPv6Off disables IPv6 on the interface (disable_ipv6).
	IPv6Off IPv6Mode = "off"
	// IPv6Auto takes addresses and the default route from router
	// advertisements (SLAAC).
	IPv6Auto IPv6Mode = "auto"
	// IPv6DHCP takes addresses from DHCPv6 (through the DHCP client) and
	// the default route from router advertisements.
	IPv6DHCP IPv6Mode = "dhcp"
	// IPv6Static sets Address6, Gateway6 and DNS6, and ignores router
	// advertisements.
	IPv6Static IPv6Mode = "static"
)

// IPv6Modes are the modes an operator chooses from, in menu order.
var IPv6Modes = []IPv6Mode{IPv6Off, IPv6Auto, IPv6DHCP, IPv6Static}

// On reports whether the mode turns IPv6 on (auto, dhcp or static).
func (m IPv6Mode) On() bool { return m == IPv6Auto || m == IPv6DHCP || m == IPv6Static }

// Describe renders the mode for an operator: "off", "automatic (SLAAC)",
// "DHCPv6", "static", or "unchanged".
func (m IPv6Mode) Describe() string {
	switch m {
	case IPv6Unset:
		return "unchanged"
	case IPv6Auto:
		return "automatic (SLAAC)"
	case IPv6DHCP:
		return "DHCPv6"
	}
	return string(m)
}

// MinMTU6 is the smallest MTU IPv6 works with (RFC 8200).
const MinMTU6 = 1280

// parseIPv6Form parses the IPv6 fields of f into cfg. Address6 and
// Gateway6 are read only for static IPv6 and DNS6 only with IPv6 auto or
// static (the fields are ignored otherwise, as DHCP ignores the IPv4
// address fields).
func parseIPv6Form(f Form, cfg *Config, errs *fieldErrors, reported map[Field]bool) (dns6Pos []int) {
	cfg.IPv6 = IPv6Mode(strings.ToLower(strings.TrimSpace(string(f.IPv6))))
	if cfg.IPv6 == IPv6Static {
		switch s := strings.TrimSpace(f.Address6); {
		case s == "":
			// validate says it is required.
		case !strings.Contains(s, "/"):
			if a, err := netip.ParseAddr(s); err == nil && a.Zone() == "" {
				errs.add(FieldAddress6, -1, "IPv6 address %s needs a prefix length, like %s/64.", a, a)
			} else {
				errs.add(FieldAddress6, -1, "IPv6 address %q is not an address with a prefix length, like 2001:db8::10/64.", s)
			}
			reported[FieldAddress6] = true
		default:
			p, err := netip.ParsePrefix(s)
			if err != nil || p.Addr().Zone() != "" {
				errs.add(FieldAddress6, -1, "IPv6 address %q is not an address with a prefix length, like 2001:db8::10/64.", s)
				reported[FieldAddress6] = true
			} else {
				cfg.Address6 = p
			}
		}
		if s := strings.TrimSpace(f.Gateway6); s != "" {
			gw, err := netip.ParseAddr(s)
			switch {
			case err == nil && gw.Zone() != "":
				errs.add(FieldGateway6, -1, "IPv6 gateway %s has a zone; leave out %%%s (it is the interface being set).", s, gw.Zone())
			case err != nil:
				errs.add(FieldGateway6, -1, "IPv6 gateway %q is not an IP address.", s)
			default:
				cfg.Gateway6 = gw
			}
		}
	}
	if cfg.IPv6 == IPv6Auto || cfg.IPv6 == IPv6Static {
		for i, s := range f.DNS6 {
			s = strings.TrimSpace(s)
			if s == "" {
				continue
			}
			a, err := netip.ParseAddr(s)
			if err != nil || a.Zone() != "" {
				errs.add(FieldDNS6, i, "IPv6 DNS server %d %q is not an IP address.", i+1, s)
				continue
			}
			cfg.DNS6 = append(cfg.DNS6, a)
			dns6Pos = append(dns6Pos, i)
		}
	}
	return dns6Pos
}

// validateIPv6 checks the IPv6 settings (the MTU bound with IPv6 is
// checked with the MTU). reported marks fields ParseForm already
// rejected; dns6Pos maps c.DNS6 entries to form positions (nil: identity).
func (c Config) validateIPv6(errs *fieldErrors, reported map[Field]bool, dns6Pos []int) {
	switch c.IPv6 {
	case IPv6Unset, IPv6Off, IPv6Auto, IPv6DHCP, IPv6Static:
	default:
		errs.add(FieldIPv6, -1, "IPv6 mode %q is not off, auto, dhcp or static.", c.IPv6)
		return
	}
	if c.IPv6 != IPv6Static {
		if c.Address6.IsValid() {
			errs.add(FieldAddress6, -1, "IPv6 address %s needs static IPv6; leave it empty with IPv6 %s.", c.Address6, c.IPv6.Describe())
		}
		if c.Gateway6.IsValid() {
			errs.add(FieldGateway6, -1, "IPv6 gateway %s needs static IPv6; leave it empty with IPv6 %s.", c.Gateway6, c.IPv6.Describe())
		}
	}
	switch {
	case len(c.DNS6) == 0:
	case c.IPv6 != IPv6Auto && c.IPv6 != IPv6Static:
		errs.add(FieldDNS6, -1, "IPv6 DNS servers need IPv6 auto or static; with IPv6 %s leave them empty.", c.IPv6.Describe())
	case c.Mode == ModeDHCP:
		errs.add(FieldDNS6, -1, "IPv6 DNS servers need a static IPv4 configuration; with DHCP the server's DNS servers are used.")
	case len(c.DNS)+len(c.DNS6) > MaxDNS:
		errs.add(FieldDNS6, -1, "IPv6 DNS servers and DNS servers together take at most %d; %d were given.", MaxDNS, len(c.DNS)+len(c.DNS6))
	}
	pos := func(i int) int {
		if dns6Pos != nil {
			return dns6Pos[i]
		}
		return i
	}
	for i, a := range c.DNS6 {
		name := fmt.Sprintf("IPv6 DNS server %d", pos(i)+1)
		if !checkHost6(errs, FieldDNS6, pos(i), name, a, "DNS") {
			continue
		}
		if a.IsLinkLocalUnicast() {
			errs.add(FieldDNS6, pos(i), "%s %s is a link-local address, which resolv.conf cannot name; give a global one.", name, a)
			continue
		}
		if j := slices.Index(c.DNS6[:i], a); j >= 0 {
			errs.add(FieldDNS6, pos(i), "%s %s duplicates IPv6 DNS server %d.", name, a, pos(j)+1)
		}
	}
	if c.IPv6 != IPv6Static {
		return
	}
	p := c.Address6
	switch {
	case !p.IsValid():
		if !reported[FieldAddress6] {
			errs.add(FieldAddress6, -1, "IPv6 address is required for static IPv6.")
		}
	case !checkHost6(errs, FieldAddress6, -1, "IPv6 address", p.Addr(), "Address"):
		p = netip.Prefix{}
	case p.Addr().IsLinkLocalUnicast():
		errs.add(FieldAddress6, -1, "IPv6 address %s is link-local; the kernel makes one by itself, so give a global or unique local address.", p.Addr())
		p = netip.Prefix{}
	case p.Bits() == 0:
		errs.add(FieldAddress6, -1, "IPv6 address %s has prefix /0; use a prefix length from /1 to /128 (usually /64).", p)
		p = netip.Prefix{}
	case p.Bits() < 127 && p.Addr() == p.Masked().Addr():
		errs.add(FieldAddress6, -1, "IPv6 address %s is the subnet-router anycast address of %s; choose a host address.", p.Addr(), p.Masked())
		p = netip.Prefix{}
	}
	gw := c.Gateway6
	if !gw.IsValid() || !checkHost6(errs, FieldGateway6, -1, "IPv6 gateway", gw, "Gateway") || gw.IsLinkLocalUnicast() || !p.IsValid() {
		return
	}
	switch {
	case gw == p.Addr():
		errs.add(FieldGateway6, -1, "IPv6 gateway %s is the address itself; it must be another host.", gw)
	case p.Bits() == 128:
		errs.add(FieldGateway6, -1, "IPv6 gateway %s is not on-link with a /128 address; give the router's link-local address (fe80::...).", gw)
	case !p.Masked().Contains(gw):
		errs.add(FieldGateway6, -1, "IPv6 gateway %s is outside the prefix %s; give one inside it, or the router's link-local address (fe80::...).", gw, p.Masked())
	}
}

// checkHost6 reports whether a is a usable IPv6 unicast address (link-local
// included; the caller decides), adding an error naming field otherwise.
// v4Field names where an IPv4 address belongs.
func checkHost6(errs *fieldErrors, f Field, idx int, name string, a netip.Addr, v4Field string) bool {
	switch {
	case a.Is4():
		errs.add(f, idx, "%s %s is IPv4; put it in %s.", name, a, v4Field)
	case a.Is4In6():
		errs.add(f, idx, "%s %s is an IPv4-mapped address; put %s in %s.", name, a, a.Unmap(), v4Field)
	case a.IsUnspecified():
		errs.add(f, idx, "%s %s is the unspecified address.", name, a)
	case a.IsLoopback():
		errs.add(f, idx, "%s %s is the loopback address.", name, a)
	case a.IsMulticast():
		errs.add(f, idx, "%s %s is a multicast address.", name, a)
	default:
		return true
	}
	return false
}

// checks6 are the IPv6 layers of Checks for cfg: the address and the
// gateway (static: those configured; auto and dhcp: waiting for what the
// router and the DHCPv6 server give, LeaseWait at most). None with IPv6
// off or unset.
func (p *Prober) checks6(cfg Config) []Check {
	ifname := cfg.Interface
	switch cfg.IPv6 {
	case IPv6Static:
		checks := []Check{{Name: "address6", Run: func(ctx context.Context) Result {
			r := p.Address(ctx, ifname, cfg.Address6)
			r.Check = "address6"
			return r
		}}}
		if cfg.Gateway6.IsValid() {
			checks = append(checks, Check{Name: "gateway6", Run: func(ctx context.Context) Result { return p.Gateway(ctx, ifname, cfg.Gateway6) }})
		}
		return checks
	case IPv6Auto, IPv6DHCP:
		return []Check{
			{Name: "address6", Run: func(ctx context.Context) Result { return p.waitIPv6(ctx, ifname, cfg.IPv6, false) }},
			{Name: "gateway6", Run: func(ctx context.Context) Result { return p.waitIPv6(ctx, ifname, cfg.IPv6, true) }},
		}
	}
	return nil
}

// waitIPv6 waits (LeaseWait at most) until ifname has a global IPv6
// address or, with gateway, an IPv6 default route, which it then checks
// by neighbour discovery.
func (p *Prober) waitIPv6(ctx context.Context, ifname string, mode IPv6Mode, gateway bool) Result {
	name, from := "address6", "router advertisements (SLAAC)"
	if gateway {
		name = "gateway6"
	}
	if mode == IPv6DHCP && !gateway {
		from = "DHCPv6 or router advertisements"
	}
	if p.Reader == nil {
		return fail(name, "no status reader", "")
	}
	within := " within " + p.leaseWait().String()
	return p.poll(ctx, func(ctx context.Context) (Result, bool) {
		st, err := p.Reader.Read(ctx)
		switch {
		case err != nil:
			return fail(name, err.Error(), ""), false
		case gateway && st.Gateway6.IsValid() && st.Gateway6Interface == ifname:
			return p.Gateway(ctx, ifname, st.Gateway6), true
		case gateway:
			return fail(name, "no IPv6 default route through "+ifname+within,
				"No router advertises a default route on this network; ask for one, or set IPv6 to static with a gateway."), false
		}
		ifc, _ := st.Interface(ifname)
		var v6 []string
		for _, a := range ifc.Addrs {
			if a.Addr().Is6() {
				v6 = append(v6, a.String())
			}
		}
		if len(v6) > 0 {
			return ok(name, strings.Join(v6, ", ")+" on "+ifname+" (from "+from+")"), true
		}
		return fail(name, "no IPv6 address on "+ifname+within+" from "+from,
			"Check that a router advertises a prefix on this network (or the DHCPv6 server), or set IPv6 to static."), false
	})
}
