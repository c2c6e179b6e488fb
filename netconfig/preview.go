package netconfig

import (
	"fmt"
	"slices"
	"strings"
)

// Change is one line of a preview: a setting's current and new value.
type Change struct {
	Field   string
	Current string
	New     string
}

// Changed reports whether the value changes.
func (c Change) Changed() bool { return c.Current != c.New }

// String renders "Address       192.0.2.10/24 -> 198.51.100.10/24", or the
// value followed by "(unchanged)".
func (c Change) String() string {
	if !c.Changed() {
		return fmt.Sprintf("%-13s %s (unchanged)", c.Field, c.Current)
	}
	return fmt.Sprintf("%-13s %s -> %s", c.Field, c.Current, c.New)
}

// Preview is what applying a Config would change, for a "current -> new"
// screen or CLI output.
type Preview struct {
	Interface string
	Changes   []Change
	// Warning is a sentence shown before applying when the change can cut
	// the node off (it touches the interface with the default route, or
	// moves the default route); "" otherwise.
	Warning string
}

// Lines renders the preview: a header, one line per change, and the
// warning if any.
func (p Preview) Lines() []string {
	out := []string{"Interface " + p.Interface}
	for _, c := range p.Changes {
		out = append(out, c.String())
	}
	if p.Warning != "" {
		out = append(out, "Warning: "+p.Warning)
	}
	return out
}

// PreviewChanges compares the current status with cfg. It is pure.
func PreviewChanges(cur Status, cfg Config) Preview {
	var vlan []Change
	// A new VLAN link starts with its NIC's MTU.
	nic, _ := cur.Interface(cfg.Interface)
	if cfg.VLAN != 0 {
		link := fmt.Sprintf("%d, link %s", cfg.VLAN, cfg.Link())
		c := Change{"VLAN", "none", link + " will be created"}
		if _, ok := cur.Interface(cfg.Link()); ok {
			c.Current, c.New = link, link
		}
		vlan = append(vlan, c)
		cfg = cfg.forLink()
	}
	p := Preview{Interface: cfg.Interface}
	ifc, _ := cur.Interface(cfg.Interface)
	var v4 []string
	for _, a := range ifc.Addrs {
		if a.Addr().Is4() {
			v4 = append(v4, a.String())
		}
	}
	curAddr := orNone(strings.Join(v4, ", "))
	curRoute := "none"
	if cur.Gateway.IsValid() {
		curRoute = cur.Gateway.String() + " via " + cur.GatewayInterface
	}
	curDNS := orNone(joinAddrs(cur.DNS))
	if cfg.Mode == ModeDHCP {
		p.Changes = []Change{
			{"Mode", ifc.Mode(), "DHCP"},
			{"Address", curAddr, "from DHCP"},
			{"Default route", curRoute, "from DHCP"},
			{"DNS", curDNS, "from DHCP"},
		}
	} else {
		newDNS := curDNS
		if dns := append(slices.Clone(cfg.DNS), cfg.DNS6...); len(dns) > 0 {
			newDNS = joinAddrs(dns)
		}
		newRoute := curRoute
		switch {
		case cfg.DefaultRoute:
			newRoute = cfg.Gateway.String() + " via " + cfg.Interface
			if cfg.OnLink() {
				newRoute += " (on-link)"
			}
		case cur.GatewayInterface == cfg.Interface:
			newRoute = "none"
		}
		p.Changes = []Change{
			{"Mode", ifc.Mode(), "static"},
			{"Address", curAddr, cfg.Address.String()},
			{"Default route", curRoute, newRoute},
			{"DNS", curDNS, newDNS},
		}
		p.Changes = append(p.Changes, routeChanges(ifc.Routes, cfg.Routes, false)...)
	}
	p.Changes = append(p.Changes, previewIPv6(cur, ifc, cfg)...)
	if cfg.IPv6 != IPv6Unset {
		p.Changes = append(p.Changes, routeChanges(ifc.Routes, cfg.Routes, true)...)
	}
	if cfg.MTU != 0 {
		cur := "unknown"
		switch {
		case ifc.MTU != 0:
			cur = fmt.Sprint(ifc.MTU)
		case nic.MTU != 0:
			cur = fmt.Sprint(nic.MTU)
		}
		p.Changes = append(p.Changes, Change{"MTU", cur, fmt.Sprint(cfg.MTU)})
	}
	switch {
	case cfg.Mode == ModeStatic && !cfg.DefaultRoute && cur.GatewayInterface == cfg.Interface:
		p.Warning = "The default route via " + cfg.Interface + " is removed and none replaces it: this node reaches only its local subnets until another interface gets one."
	case ifc.Default:
		p.Warning = cfg.Interface + " carries the default route; a mistake can cut this node off, so the change reverts by itself unless you confirm it."
	case cfg.Mode == ModeStatic && cfg.DefaultRoute && cur.GatewayInterface != "" && cur.GatewayInterface != cfg.Interface:
		p.Warning = "The default route moves from " + cur.GatewayInterface + " to " + cfg.Interface + "."
	case cfg.Mode == ModeDHCP && cur.GatewayInterface != "" && cur.GatewayInterface != cfg.Interface:
		p.Warning = "A DHCP server on " + cfg.Interface + " may move the default route from " + cur.GatewayInterface + " to " + cfg.Interface + "."
	}
	p.Changes = append(vlan, p.Changes...)
	return p
}

// routeChanges are one line per static route of one family (IPv6 or
// IPv4): kept, added or removed; "Route" or "IPv6 route" (the IPv6
// default route is "IPv6 default", as "Default route" is IPv4's).
func routeChanges(cur, want []Route, v6 bool) []Change {
	var out []Change
	label := "Route"
	if v6 {
		label = "IPv6 route"
	}
	is := func(r Route) bool { return r.Is6() != v6 }
	cur, want = slices.DeleteFunc(slices.Clone(cur), is), slices.DeleteFunc(slices.Clone(want), is)
	for _, r := range want {
		if slices.Contains(cur, r) {
			out = append(out, Change{label, r.Text(), r.Text()})
		} else {
			out = append(out, Change{label, "none", r.Text() + " added"})
		}
	}
	for _, r := range cur {
		if !slices.Contains(want, r) {
			out = append(out, Change{label, r.Text(), "removed"})
		}
	}
	return out
}

// previewIPv6 is the IPv6 part of a preview (none when cfg leaves IPv6
// alone).
func previewIPv6(cur Status, ifc Interface, cfg Config) []Change {
	if cfg.IPv6 == IPv6Unset {
		return nil
	}
	var v6 []string
	for _, a := range ifc.Addrs {
		if a.Addr().Is6() {
			v6 = append(v6, a.String())
		}
	}
	curAddr := orNone(strings.Join(v6, ", "))
	curRoute := "none"
	if cur.Gateway6.IsValid() {
		curRoute = cur.Gateway6.String() + " via " + cur.Gateway6Interface
	}
	switch cfg.IPv6 {
	case IPv6Off:
		return []Change{{"IPv6", curAddr, "off"}}
	case IPv6Auto:
		return []Change{{"IPv6", curAddr, "automatic (SLAAC)"}, {"IPv6 default", curRoute, "from router advertisements"}}
	case IPv6DHCP:
		return []Change{{"IPv6", curAddr, "from DHCPv6"}, {"IPv6 default", curRoute, "from router advertisements"}}
	}
	newRoute := "none"
	switch {
	case cfg.Gateway6.IsValid():
		newRoute = cfg.Gateway6.String() + " via " + cfg.Interface
	case cur.Gateway6Interface != cfg.Interface:
		newRoute = curRoute
	}
	return []Change{{"IPv6", curAddr, cfg.Address6.String()}, {"IPv6 default", curRoute, newRoute}}
}

// joinRoutes renders routes as "DST@GW, ..." or "none".
func joinRoutes(rs []Route) string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.String()
	}
	return orNone(strings.Join(out, ", "))
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
