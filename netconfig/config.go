package netconfig

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math/bits"
	"net/netip"
	"strconv"
	"strings"
)

// Mode says how an interface gets its address.
type Mode string

// Modes.
const (
	// ModeDHCP leaves addressing, the default route and DNS to a DHCP client.
	ModeDHCP Mode = "dhcp"
	// ModeStatic sets the address, default gateway and DNS servers given.
	ModeStatic Mode = "static"
)

// MaxDNS is the most nameservers resolv.conf honours.
const MaxDNS = 3

// Config is the typed WAN configuration of one interface: IPv4 (DHCP or
// static), and IPv6 when IPv6 is set.
type Config struct {
	Interface string `json:"interface"`
	// VLAN, when not 0, makes the settings apply to the 802.1Q link
	// "Interface.VLAN" (MinVLAN to MaxVLAN) on the NIC Interface, which an
	// apply creates and a revert removes.
	VLAN int  `json:"vlan,omitempty"`
	Mode Mode `json:"mode"`
	// Address is the host address with its prefix length (static only).
	Address netip.Prefix `json:"address,omitzero"`
	// Gateway is the IPv4 default gateway (static only); required with
	// DefaultRoute, refused without it.
	Gateway netip.Addr `json:"gateway,omitzero"`
	// DefaultRoute (static only) makes this interface carry the IPv4
	// default route, via Gateway, replacing any other. Off, the default
	// route stays where it is (or, when it was on this interface, is
	// removed): a static address on a second NIC leaves it alone.
	DefaultRoute bool `json:"defaultRoute,omitempty"`
	// DNS are the nameservers, in order (static only).
	DNS []netip.Addr `json:"dns,omitempty"`
	// MTU is the interface MTU in bytes (MinMTU to MaxMTU); 0 leaves it
	// as it is.
	MTU int `json:"mtu,omitempty"`
	// Routes are static routes through the interface: IPv4 ones with a
	// static address, IPv6 ones with static IPv6 (via a gateway inside
	// Address6's prefix or link-local). Applying makes them the exact set
	// of static gateway routes of their family on it.
	Routes []Route `json:"routes,omitempty"`
	// IPv6 is how the interface gets IPv6 (IPv6Unset leaves it alone).
	IPv6 IPv6Mode `json:"ipv6,omitempty"`
	// Address6 is the static IPv6 address with its prefix length (IPv6
	// static only; required there).
	Address6 netip.Prefix `json:"address6,omitzero"`
	// Gateway6 is the IPv6 default gateway (IPv6 static only): inside
	// Address6's prefix, or link-local. Set, it carries the only IPv6
	// default route; unset, no IPv6 default route goes through the
	// interface.
	Gateway6 netip.Addr `json:"gateway6,omitzero"`
	// DNS6 are IPv6 nameservers (IPv6 auto or static, with static IPv4),
	// written after DNS; DNS and DNS6 together take at most MaxDNS.
	DNS6 []netip.Addr `json:"dns6,omitempty"`
}

// Describe renders the config on one line, for people and logs:
// "eth0 static 192.0.2.20/24 gateway 192.0.2.1 dns 192.0.2.53 mtu 9000".
func (c Config) Describe() string {
	mtu := ""
	if c.MTU != 0 {
		mtu = fmt.Sprintf(" mtu %d", c.MTU)
	}
	name := c.Interface
	if c.VLAN != 0 {
		name = fmt.Sprintf("%s (VLAN %d on %s)", c.Link(), c.VLAN, c.Interface)
	}
	if c.Mode == ModeDHCP {
		return name + " DHCP" + c.describeRoutes() + c.describeIPv6() + mtu
	}
	dns := make([]string, len(c.DNS))
	for i, d := range c.DNS {
		dns[i] = d.String()
	}
	s := fmt.Sprintf("%s static %s", name, c.Address)
	if c.DefaultRoute {
		s += fmt.Sprintf(" gateway %s", c.Gateway)
	} else {
		s += " (no default route)"
	}
	if len(dns) > 0 {
		s += " dns " + strings.Join(dns, ",")
	}
	return s + c.describeRoutes() + c.describeIPv6() + mtu
}

// describeRoutes renders the static routes: " route DST@GW" each.
func (c Config) describeRoutes() string {
	s := ""
	for _, r := range c.Routes {
		s += " route " + r.String()
	}
	return s
}

// describeIPv6 renders the IPv6 part of Describe: "" when IPv6 is left
// alone, else " ipv6 MODE" with a static address, gateway and DNS.
func (c Config) describeIPv6() string {
	if c.IPv6 == IPv6Unset {
		return ""
	}
	s := " ipv6 " + string(c.IPv6)
	if c.Address6.IsValid() {
		s += " " + c.Address6.String()
	}
	if c.Gateway6.IsValid() {
		s += " gateway6 " + c.Gateway6.String()
	}
	for i, d := range c.DNS6 {
		if i == 0 {
			s += " dns6 "
		} else {
			s += ","
		}
		s += d.String()
	}
	return s
}

// VLAN ID bounds (802.1Q; 0 and 4095 are reserved).
const (
	MinVLAN = 1
	MaxVLAN = 4094
)

// maxIfName is the longest interface name Linux takes (IFNAMSIZ - 1).
const maxIfName = 15

// Link returns the name of the link the settings apply to: Interface, or
// "Interface.VLAN" with a VLAN.
func (c Config) Link() string {
	if c.VLAN == 0 {
		return c.Interface
	}
	return fmt.Sprintf("%s.%d", c.Interface, c.VLAN)
}

// forLink returns c as applied to its link: Interface is Link(), no VLAN.
func (c Config) forLink() Config {
	c.Interface, c.VLAN = c.Link(), 0
	return c
}

// MTU bounds: 68 is the IPv4 minimum (RFC 791), 9000 a jumbo frame; with
// IPv6 on the minimum is MinMTU6.
const (
	MinMTU = 68
	MaxMTU = 9000
)

// Route is a static route: Dst reached via Gateway on the interface.
type Route struct {
	Dst     netip.Prefix `json:"destination"`
	Gateway netip.Addr   `json:"gateway"`
}

// Is6 reports whether the route is an IPv6 one.
func (r Route) Is6() bool { return r.Dst.Addr().Is6() && !r.Dst.Addr().Is4In6() }

// routes returns the IPv6 (v6) or the IPv4 static routes of c.
func (c Config) routes(v6 bool) []Route {
	var out []Route
	for _, r := range c.Routes {
		if r.Is6() == v6 {
			out = append(out, r)
		}
	}
	return out
}

// String renders the route as the CLI takes it: "10.20.0.0/16@192.0.2.254".
func (r Route) String() string { return r.Dst.String() + "@" + r.Gateway.String() }

// Text renders the route for people: "10.20.0.0/16 via 192.0.2.254".
func (r Route) Text() string { return r.Dst.String() + " via " + r.Gateway.String() }

// UnmarshalJSON reads a Config. Without "defaultRoute" (false, or a file
// saved before the choice existed), a static gateway means the default
// route: a gateway is only ever there for it.
func (c *Config) UnmarshalJSON(data []byte) error {
	type plain Config
	var v struct {
		plain
		DefaultRoute *bool `json:"defaultRoute"`
	}
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	*c = Config(v.plain)
	switch {
	case v.DefaultRoute != nil:
		c.DefaultRoute = *v.DefaultRoute
	default:
		c.DefaultRoute = c.Mode == ModeStatic && c.Gateway.IsValid()
	}
	return nil
}

// OnLink reports whether the gateway lies outside the address's subnet and
// must be reached on-link; that is the case only for a /32 address.
func (c Config) OnLink() bool {
	return c.Mode == ModeStatic && c.Address.IsValid() && c.Address.Bits() == 32
}

// Form is a network configuration as typed by an operator: the TUI form
// fields or the CLI flags, unparsed.
type Form struct {
	Interface string
	// DHCP selects DHCP; the address, netmask, gateway and DNS fields are
	// then ignored.
	DHCP bool
	// Address is "192.0.2.10/24", or "192.0.2.10" with Netmask set.
	Address string
	// Netmask is an optional alternative to the prefix length:
	// "255.255.255.0", "24" or "/24".
	Netmask string
	Gateway string
	// DefaultRoute is the "Default route via this interface" choice
	// (static only; see Config.DefaultRoute).
	DefaultRoute bool
	// DNS are the nameserver fields in order; blank entries are skipped.
	DNS []string
	// VLAN is the 802.1Q VLAN ID; blank for none.
	VLAN string
	// MTU is the MTU in bytes; blank leaves it as it is.
	MTU string
	// Routes are static routes, each "DESTINATION@GATEWAY" like
	// "10.20.0.0/16@192.0.2.254"; blank entries are skipped.
	Routes []string
	// IPv6 is the IPv6 mode ("off", "auto", "dhcp" or "static"); blank
	// leaves IPv6 as it is.
	IPv6 IPv6Mode
	// Address6 is the static IPv6 address, "2001:db8::10/64" (IPv6 static
	// only; ignored otherwise).
	Address6 string
	// Gateway6 is the IPv6 default gateway, in Address6's prefix or
	// link-local like "fe80::1"; blank for none (IPv6 static only).
	Gateway6 string
	// DNS6 are the IPv6 nameserver fields in order (IPv6 auto or static;
	// ignored otherwise); blank entries are skipped.
	DNS6 []string
}

// Field names a form field that an error is about.
type Field string

// Form fields.
const (
	FieldInterface Field = "interface"
	FieldAddress   Field = "address"
	FieldNetmask   Field = "netmask"
	FieldGateway   Field = "gateway"
	FieldDNS       Field = "dns"
	FieldVLAN      Field = "vlan"
	FieldMTU       Field = "mtu"
	FieldRoute     Field = "route"
	FieldHostname  Field = "hostname"
	FieldNTP       Field = "ntp"
	FieldIPv6      Field = "ipv6"
	FieldAddress6  Field = "address6"
	FieldGateway6  Field = "gateway6"
	FieldDNS6      Field = "dns6"
)

// FieldError is one validation problem with one field, described by a
// sentence that names the field. ParseForm and Config.Validate return them
// joined with errors.Join; FieldErrors splits them again.
type FieldError struct {
	Field Field
	// Index is the position of the DNS, IPv6 DNS or route entry
	// concerned, -1 otherwise.
	Index int
	// Message is a sentence naming the field, e.g. "Gateway 198.51.100.1
	// is outside the subnet 192.0.2.0/24."
	Message string
}

// Error implements error.
func (e *FieldError) Error() string { return e.Message }

// FieldErrors returns the FieldErrors contained in err (as joined by
// ParseForm or Config.Validate), in order.
func FieldErrors(err error) []*FieldError {
	var out []*FieldError
	var walk func(error)
	walk = func(err error) {
		if err == nil {
			return
		}
		if fe, ok := err.(*FieldError); ok {
			out = append(out, fe)
			return
		}
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				walk(e)
			}
			return
		}
		var fe *FieldError
		if errors.As(err, &fe) {
			out = append(out, fe)
		}
	}
	walk(err)
	return out
}

// FieldMessages joins the sentences of the FieldErrors in err, in order,
// for one line of output.
func FieldMessages(err error) string {
	var msgs []string
	for _, fe := range FieldErrors(err) {
		msgs = append(msgs, fe.Message)
	}
	return strings.Join(msgs, " ")
}

// fieldErrors collects FieldErrors.
type fieldErrors []error

func (fe *fieldErrors) add(f Field, index int, format string, args ...any) {
	*fe = append(*fe, &FieldError{Field: f, Index: index, Message: fmt.Sprintf(format, args...)})
}

// ParseForm turns form strings into a Config and validates it against the
// interfaces in st. It reports every problem at once, joined with
// errors.Join (see FieldErrors); the Config holds whatever parsed. It does
// no I/O, so a screen can call it on every keystroke.
func ParseForm(f Form, st Status) (Config, error) {
	var errs fieldErrors
	reported := map[Field]bool{}
	cfg := Config{Interface: strings.TrimSpace(f.Interface), Mode: ModeStatic}
	if f.DHCP {
		cfg.Mode = ModeDHCP
	}
	var dnsPos []int
	if s := strings.TrimSpace(f.VLAN); s != "" {
		if n, err := strconv.Atoi(s); err != nil {
			errs.add(FieldVLAN, -1, "VLAN %q is not a VLAN ID like 100.", s)
		} else if n == 0 {
			// 0 is "no VLAN" in a Config, but typed it is a mistake.
			errs.add(FieldVLAN, -1, "VLAN 0 is out of range; use %d to %d.", MinVLAN, MaxVLAN)
		} else {
			cfg.VLAN = n
		}
	}
	if s := strings.TrimSpace(f.MTU); s != "" {
		if n, err := strconv.Atoi(s); err != nil {
			errs.add(FieldMTU, -1, "MTU %q is not a whole number of bytes.", s)
		} else {
			cfg.MTU = n
		}
	}
	var routePos []int
	for i, s := range f.Routes {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		r, ok := parseRoute(s)
		if !ok {
			if _, gw, _ := strings.Cut(s, "@"); strings.Contains(gw, "%") {
				errs.add(FieldRoute, i, "Route %d gateway %s has a zone; leave out %%%s (it is the interface being set).", i+1, strings.TrimSpace(gw), gw[strings.Index(gw, "%")+1:])
				continue
			}
			errs.add(FieldRoute, i, "Route %d %q is not DESTINATION@GATEWAY, like 10.20.0.0/16@192.0.2.254.", i+1, s)
			continue
		}
		cfg.Routes = append(cfg.Routes, r)
		routePos = append(routePos, i)
	}
	if cfg.Mode == ModeStatic {
		n := len(errs)
		cfg.Address = parseAddress(f.Address, f.Netmask, &errs)
		reported[FieldAddress] = len(errs) > n
		cfg.DefaultRoute = f.DefaultRoute
		if s := strings.TrimSpace(f.Gateway); s == "" {
			// validate says whether one is needed.
		} else if gw, err := netip.ParseAddr(s); err != nil || gw.Zone() != "" {
			errs.add(FieldGateway, -1, "Gateway %q is not an IP address.", s)
			reported[FieldGateway] = true
		} else {
			cfg.Gateway = gw
		}
		for i, s := range f.DNS {
			s = strings.TrimSpace(s)
			if s == "" {
				continue
			}
			a, err := netip.ParseAddr(s)
			if err != nil || a.Zone() != "" {
				errs.add(FieldDNS, i, "DNS server %d %q is not an IP address.", i+1, s)
				continue
			}
			cfg.DNS = append(cfg.DNS, a)
			dnsPos = append(dnsPos, i)
		}
	}
	dns6Pos := parseIPv6Form(f, &cfg, &errs, reported)
	errs = append(errs, cfg.validate(st, reported, dnsPos, routePos, dns6Pos)...)
	return cfg, errors.Join(errs...)
}

// parseRoute parses "DESTINATION@GATEWAY".
func parseRoute(s string) (Route, bool) {
	dst, gw, ok := strings.Cut(s, "@")
	if !ok {
		return Route{}, false
	}
	p, err := netip.ParsePrefix(strings.TrimSpace(dst))
	if err != nil || p.Addr().Zone() != "" {
		return Route{}, false
	}
	a, err := netip.ParseAddr(strings.TrimSpace(gw))
	if err != nil || a.Zone() != "" {
		return Route{}, false
	}
	return Route{Dst: p, Gateway: a}, true
}

// Validate checks a typed Config against the interfaces in st and reports
// every problem at once, joined with errors.Join (see FieldErrors).
func (c Config) Validate(st Status) error {
	return errors.Join(c.validate(st, nil, nil, nil, nil)...)
}

// validate does the semantic checks. reported marks fields whose input
// ParseForm already rejected; dnsPos maps c.DNS entries to form positions
// routePos c.Routes entries and dns6Pos c.DNS6 entries (nil: identity).
func (c Config) validate(st Status, reported map[Field]bool, dnsPos, routePos, dns6Pos []int) fieldErrors {
	var errs fieldErrors
	nic, _ := st.Interface(c.Interface)
	switch ifc, ok := st.Interface(c.Interface); {
	case c.Interface == "":
		errs.add(FieldInterface, -1, "Interface is required.")
	case !ok:
		errs.add(FieldInterface, -1, "Interface %s does not exist.", c.Interface)
	case !ifc.Ethernet:
		errs.add(FieldInterface, -1, "Interface %s is not Ethernet-like; choose a wired interface.", c.Interface)
	}
	switch {
	case c.VLAN == 0:
	case c.VLAN < MinVLAN || c.VLAN > MaxVLAN:
		errs.add(FieldVLAN, -1, "VLAN %d is out of range; use %d to %d.", c.VLAN, MinVLAN, MaxVLAN)
	case len(c.Link()) > maxIfName:
		errs.add(FieldVLAN, -1, "VLAN link name %s is longer than %d characters, which Linux does not allow.", c.Link(), maxIfName)
	}
	switch {
	case c.MTU == 0:
	case c.MTU < MinMTU || c.MTU > MaxMTU:
		errs.add(FieldMTU, -1, "MTU %d is out of range; use %d to %d.", c.MTU, MinMTU, MaxMTU)
	case c.MTU < MinMTU6 && c.IPv6.On():
		errs.add(FieldMTU, -1, "MTU %d is too small for IPv6; use %d to %d, or turn IPv6 off.", c.MTU, MinMTU6, MaxMTU)
	case c.VLAN != 0 && nic.MTU != 0 && c.MTU > nic.MTU:
		// Linux refuses it (ERANGE): a VLAN's frames go out through its NIC.
		errs.add(FieldMTU, -1, "MTU %d is more than the MTU of %s (%d), which a VLAN on it cannot exceed; use %d or less, or raise %s's MTU first.",
			c.MTU, c.Interface, nic.MTU, nic.MTU, c.Interface)
	}
	c.validateIPv6(&errs, reported, dns6Pos)
	switch c.Mode {
	case ModeDHCP:
		c.validateRoutes(&errs, netip.Prefix{}, routePos)
		return errs
	case ModeStatic:
	default:
		errs.add(FieldInterface, -1, "Mode %q is neither dhcp nor static.", c.Mode)
		return errs
	}
	p := c.Address
	switch {
	case p.IsValid():
		if !checkHost(&errs, FieldAddress, -1, "Address", p.Addr(), p) {
			p = netip.Prefix{} // no subnet checks against a bad address
		}
	case !reported[FieldAddress]:
		errs.add(FieldAddress, -1, "Address is required for a static configuration.")
	}
	switch gw := c.Gateway; {
	case !gw.IsValid():
		if c.DefaultRoute && !reported[FieldGateway] {
			errs.add(FieldGateway, -1, "Gateway is required for the default route; give one, or turn off the default route via this interface.")
		}
	case !c.DefaultRoute:
		errs.add(FieldGateway, -1, "Gateway %s is used only for the default route; turn on the default route via this interface, or leave Gateway empty.", gw)
	case checkHost(&errs, FieldGateway, -1, "Gateway", gw, p) && p.IsValid():
		switch {
		case gw == p.Addr():
			errs.add(FieldGateway, -1, "Gateway %s is the same as the address; it must be another host.", gw)
		case p.Bits() < 32 && !p.Masked().Contains(gw):
			errs.add(FieldGateway, -1, "Gateway %s is outside the subnet %s.", gw, p.Masked())
		}
	}
	if len(c.DNS) > MaxDNS {
		errs.add(FieldDNS, -1, "DNS takes at most %d servers; %d were given.", MaxDNS, len(c.DNS))
	}
	pos := func(i int) int {
		if dnsPos != nil {
			return dnsPos[i]
		}
		return i
	}
	for i, a := range c.DNS {
		name := fmt.Sprintf("DNS server %d", pos(i)+1)
		switch {
		case a.Is4In6():
			errs.add(FieldDNS, pos(i), "%s %s is an IPv4-mapped IPv6 address; write it as %s.", name, a, a.Unmap())
		case a.Is6():
			errs.add(FieldDNS, pos(i), "%s %s is IPv6; only IPv4 is supported here: put it in the IPv6 DNS servers.", name, a)
		case !a.IsValid():
			errs.add(FieldDNS, pos(i), "%s is missing.", name)
		case a.IsUnspecified() || a.IsMulticast() || (a.Is4() && a.As4()[0] >= 240): // 240/4 is reserved, 255.255.255.255 broadcast
			errs.add(FieldDNS, pos(i), "%s %s is not a unicast address.", name, a)
		default:
			for j := range i {
				if c.DNS[j] == a {
					errs.add(FieldDNS, pos(i), "%s %s duplicates DNS server %d.", name, a, pos(j)+1)
					break
				}
			}
		}
	}
	c.validateRoutes(&errs, p, routePos)
	return errs
}

// validateRoutes checks the static routes: IPv4 ones against the
// address's subnet p (invalid: the address was refused, so no subnet
// checks; with DHCP they are refused as a whole), IPv6 ones against the
// static IPv6 address, whose gateway rules they follow.
func (c Config) validateRoutes(errs *fieldErrors, p netip.Prefix, routePos []int) {
	posOf := func(i int) int {
		if routePos != nil {
			return routePos[i]
		}
		return i
	}
	if c.Mode == ModeDHCP && len(c.routes(false)) > 0 {
		errs.add(FieldRoute, -1, "Routes for IPv4 need a static address; with DHCP the server's routes are used.")
	}
	for i, r := range c.Routes {
		pos := posOf(i)
		name := fmt.Sprintf("Route %d", pos+1)
		v6 := r.Is6()
		if c.Mode == ModeDHCP && !v6 {
			continue // refused above
		}
		switch d := r.Dst; {
		case !d.IsValid():
			errs.add(FieldRoute, pos, "%s has no destination.", name)
		case d.Addr().Is4In6():
			errs.add(FieldRoute, pos, "%s destination %s is an IPv4-mapped IPv6 address; write it as %s.", name, d, netip.PrefixFrom(d.Addr().Unmap(), max(d.Bits()-96, 0)))
		case d.Bits() == 0 && v6:
			errs.add(FieldRoute, pos, "%s destination %s is the IPv6 default route; give it as the IPv6 gateway instead.", name, d)
		case d.Bits() == 0:
			errs.add(FieldRoute, pos, "%s destination %s is the default route; use the default route via this interface instead.", name, d)
		case d != d.Masked():
			errs.add(FieldRoute, pos, "%s destination %s has host bits set; write %s.", name, d, d.Masked())
		case v6 && d.Addr().IsLinkLocalUnicast():
			errs.add(FieldRoute, pos, "%s destination %s is link-local, which is never routed.", name, d)
		case d.Addr().IsLoopback() || d.Addr().IsMulticast() || (!v6 && d.Addr().As4()[0] >= 240):
			errs.add(FieldRoute, pos, "%s destination %s is not a unicast network.", name, d)
		default:
			for j := range i {
				if c.Routes[j].Dst == d {
					errs.add(FieldRoute, pos, "%s destination %s duplicates route %d.", name, d, posOf(j)+1)
					break
				}
			}
		}
		gw := r.Gateway
		switch {
		case !gw.IsValid():
			errs.add(FieldRoute, pos, "%s has no gateway.", name)
			continue
		case gw.Is4In6():
			errs.add(FieldRoute, pos, "%s gateway %s is an IPv4-mapped IPv6 address; write it as %s.", name, gw, gw.Unmap())
			continue
		case r.Dst.IsValid() && !r.Dst.Addr().Is4In6() && gw.Is6() != v6:
			errs.add(FieldRoute, pos, "%s destination %s is %s but its gateway %s is %s; give a gateway of the same family.", name, r.Dst, family(v6), gw, family(gw.Is6()))
			continue
		case gw.Is6():
			c.validateRouteGateway6(errs, pos, name, gw)
			continue
		}
		if !checkHost(errs, FieldRoute, pos, name+" gateway", gw, p) || !p.IsValid() {
			continue
		}
		switch {
		case gw == p.Addr():
			errs.add(FieldRoute, pos, "%s gateway %s is the address itself; it must be another host.", name, gw)
		case p.Bits() < 32 && !p.Masked().Contains(gw):
			errs.add(FieldRoute, pos, "%s gateway %s is outside the subnet %s.", name, gw, p.Masked())
		}
	}
}

// family names an address family for a sentence.
func family(v6 bool) string {
	if v6 {
		return "IPv6"
	}
	return "IPv4"
}

// validateRouteGateway6 checks the IPv6 gateway of a route as the IPv6
// default gateway is checked: static IPv6, and link-local or inside the
// static address's prefix.
func (c Config) validateRouteGateway6(errs *fieldErrors, pos int, name string, gw netip.Addr) {
	if c.IPv6 != IPv6Static {
		errs.add(FieldRoute, pos, "%s is IPv6, which needs static IPv6; set IPv6 to static, or remove the route.", name)
		return
	}
	if !checkHost6(errs, FieldRoute, pos, name+" gateway", gw, "an IPv4 route") || gw.IsLinkLocalUnicast() {
		return
	}
	p := c.Address6
	if !p.IsValid() || !p.Addr().Is6() || p.Addr().Is4In6() || p.Bits() == 0 || p.Addr().IsLinkLocalUnicast() {
		return // the address is refused: no prefix to check against
	}
	switch {
	case gw == p.Addr():
		errs.add(FieldRoute, pos, "%s gateway %s is the IPv6 address itself; it must be another host.", name, gw)
	case p.Bits() == 128:
		errs.add(FieldRoute, pos, "%s gateway %s is not on-link with a /128 address; give the router's link-local address (fe80::...).", name, gw)
	case !p.Masked().Contains(gw):
		errs.add(FieldRoute, pos, "%s gateway %s is outside the prefix %s; give one inside it, or the router's link-local address (fe80::...).", name, gw, p.Masked())
	}
}

// parseAddress parses the address field, with the netmask field as an
// alternative to the prefix length.
func parseAddress(addr, mask string, errs *fieldErrors) netip.Prefix {
	addr, mask = strings.TrimSpace(addr), strings.TrimSpace(mask)
	if addr == "" {
		errs.add(FieldAddress, -1, "Address is required for a static configuration.")
		return netip.Prefix{}
	}
	maskBits := -1
	if mask != "" {
		maskBits = parseNetmask(mask, errs)
	}
	if strings.Contains(addr, "/") {
		p, err := netip.ParsePrefix(addr)
		if err != nil || p.Addr().Zone() != "" {
			errs.add(FieldAddress, -1, "Address %q is not an address with a prefix length, like 192.0.2.10/24.", addr)
			return netip.Prefix{}
		}
		if maskBits >= 0 && maskBits != p.Bits() {
			errs.add(FieldNetmask, -1, "Netmask %s disagrees with the address prefix /%d; give one or the other.", mask, p.Bits())
		}
		return p
	}
	a, err := netip.ParseAddr(addr)
	if err != nil || a.Zone() != "" {
		errs.add(FieldAddress, -1, "Address %q is not an IP address.", addr)
		return netip.Prefix{}
	}
	if mask == "" {
		errs.add(FieldAddress, -1, "Address %s needs a prefix length (like %s/24) or a netmask.", a, a)
		return netip.Prefix{}
	}
	if maskBits < 0 {
		return netip.Prefix{}
	}
	if a.Is6() {
		// Let validation explain where IPv6 goes.
		return netip.PrefixFrom(a, 64)
	}
	return netip.PrefixFrom(a, maskBits)
}

// parseNetmask parses "255.255.255.0", "24" or "/24" into a prefix length,
// or returns -1 after adding an error.
func parseNetmask(s string, errs *fieldErrors) int {
	if n, err := strconv.Atoi(strings.TrimPrefix(s, "/")); err == nil {
		if n < 0 || n > 32 {
			errs.add(FieldNetmask, -1, "Netmask /%d is out of range; use /1 to /32.", n)
			return -1
		}
		return n
	}
	m, err := netip.ParseAddr(s)
	if err != nil || !m.Is4() {
		errs.add(FieldNetmask, -1, "Netmask %q is not a netmask like 255.255.255.0.", s)
		return -1
	}
	b := m.As4()
	v := binary.BigEndian.Uint32(b[:])
	ones := bits.LeadingZeros32(^v)
	if v<<ones != 0 {
		errs.add(FieldNetmask, -1, "Netmask %s is not contiguous (its one bits must come first).", s)
		return -1
	}
	return ones
}

// checkHost reports whether a is a usable IPv4 host address (within p, when
// p is valid and a is not p's own address), adding an error naming field
// otherwise.
func checkHost(errs *fieldErrors, f Field, idx int, name string, a netip.Addr, p netip.Prefix) bool {
	switch {
	case a.Is4In6():
		// The kernel would take it as an IPv6 address (with an IPv6
		// prefix length): refuse it rather than guess.
		errs.add(f, idx, "%s %s is an IPv4-mapped IPv6 address; write it as %s.", name, a, a.Unmap())
		return false
	case a.Is6():
		errs.add(f, idx, "%s %s is IPv6; only IPv4 is supported here: set IPv6 to static for an IPv6 address.", name, a)
		return false
	case a.IsUnspecified():
		errs.add(f, idx, "%s %s is the unspecified address.", name, a)
		return false
	case a.IsLoopback():
		errs.add(f, idx, "%s %s is a loopback address.", name, a)
		return false
	case a.IsMulticast():
		errs.add(f, idx, "%s %s is a multicast address.", name, a)
		return false
	case a.IsLinkLocalUnicast():
		errs.add(f, idx, "%s %s is a link-local address.", name, a)
		return false
	case a == netip.AddrFrom4([4]byte{255, 255, 255, 255}) || a.As4()[0] >= 240:
		errs.add(f, idx, "%s %s is a reserved or broadcast address.", name, a)
		return false
	}
	if f == FieldAddress && p.Bits() == 0 {
		errs.add(f, idx, "%s %s has prefix /0; use a prefix length from /1 to /32.", name, p)
		return false
	}
	if p.IsValid() && p.Addr().Is4() && p.Bits() > 0 && p.Bits() <= 30 && p.Masked().Contains(a) {
		net := p.Masked()
		if a == net.Addr() {
			errs.add(f, idx, "%s %s is the network address of %s; choose a host address.", name, a, net)
			return false
		}
		if a == broadcast(net) {
			errs.add(f, idx, "%s %s is the broadcast address of %s; choose a host address.", name, a, net)
			return false
		}
	}
	return true
}

// broadcast returns the last address of an IPv4 prefix.
func broadcast(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().As4()
	v := binary.BigEndian.Uint32(b[:]) | (1<<(32-p.Bits()) - 1)
	binary.BigEndian.PutUint32(b[:], v)
	return netip.AddrFrom4(b)
}
