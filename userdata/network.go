package userdata

import (
	"net/netip"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/nodeconsole/nodeconsole/config"
	"github.com/nodeconsole/nodeconsole/netconfig"
)

// ownNetworkKeys are the keys of network: that user data applies itself,
// as the network commands do, instead of writing them to the config.
var ownNetworkKeys = []string{"interface", "hostname", "ntp"}

// interfaceKeys are the keys of network.interface, named as the flags of
// `nodeconsole network set`.
const interfaceKeys = "name, dhcp, address, netmask, gateway, defaultRoute, dns, vlan, mtu, ipv6, address6, gateway6, routes"

// problems collects problems of one user data file.
type problems struct {
	file  string
	probs config.Problems
}

func (p *problems) add(n *yaml.Node, key, msg string) {
	p.probs = append(p.probs, config.Problem{File: p.file, Line: n.Line, Key: key, Msg: msg})
}

// str reads a string scalar; a number (vlan: 100) is taken as written
// when num.
func (p *problems) str(v *yaml.Node, key string, num bool) (string, bool) {
	if v.Kind != yaml.ScalarNode || (v.Tag != "!!str" && !(num && v.Tag == "!!int")) {
		p.add(v, key, "must be a string")
		return "", false
	}
	return v.Value, true
}

// list reads a list of strings, or one string of comma-separated ones
// (the command-line form).
func (p *problems) list(v *yaml.Node, key, what string) ([]string, bool) {
	var out []string
	if v.Kind == yaml.ScalarNode && v.Tag == "!!str" {
		out = strings.Split(v.Value, ",")
	} else if err := v.Decode(&out); err != nil || v.Kind != yaml.SequenceNode {
		p.add(v, key, "must be a list of "+what)
		return nil, false
	}
	for i := range out {
		out[i] = strings.TrimSpace(out[i])
	}
	return out, true
}

// parseNetwork reads the network keys user data applies itself. The proxy
// keys go to the config, whose decoder checks them as `network proxy` does
// (never quoting the URL, which may hold credentials).
func (s *Settings) parseNetwork(n *yaml.Node) config.Problems {
	p := &problems{file: s.file}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i].Value, n.Content[i+1]
		key := "network." + k
		switch k {
		case "interface":
			s.parseInterface(p, v)
		case "hostname":
			if name, ok := p.str(v, key, false); ok {
				if err := netconfig.ValidateHostname(name); err != nil {
					p.add(v, key, err.Error())
				}
				s.Hostname = name
			}
		case "ntp":
			if list, ok := p.list(v, key, "NTP servers"); ok {
				servers, err := netconfig.ParseNTPServers(strings.Join(list, ","))
				if err != nil {
					p.add(v, key, netconfig.FieldMessages(err))
				}
				s.NTP = servers
			}
		}
	}
	return p.probs
}

// parseInterface reads network.interface, the flags of `nodeconsole
// network set` as keys: {name, dhcp, address, netmask, gateway,
// defaultRoute, dns, vlan, mtu, ipv6, address6, gateway6, routes}.
func (s *Settings) parseInterface(p *problems, n *yaml.Node) {
	const key = "network.interface"
	n0 := len(p.probs)
	if n.Kind != yaml.MappingNode {
		p.add(n, key, "must be a mapping such as {name: eth0, dhcp: true}")
		return
	}
	f := &netconfig.Form{}
	s.netLine = n.Line
	s.netLines = map[netconfig.Field]int{}
	var haveDHCP, haveStatic, defRouteSet bool
	var dns6 string
	text := func(v *yaml.Node, k string, f netconfig.Field, dst *string, num bool) {
		if x, ok := p.str(v, key+"."+k, num); ok {
			*dst = x
		}
		s.netLines[f] = v.Line
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i].Value, n.Content[i+1]
		switch k {
		case "name":
			text(v, k, netconfig.FieldInterface, &f.Interface, false)
		case "dhcp", "defaultRoute":
			if v.Kind != yaml.ScalarNode || v.Tag != "!!bool" {
				p.add(v, key+"."+k, "must be true or false")
				continue
			}
			if k == "dhcp" {
				f.DHCP = v.Value == "true"
				haveDHCP = f.DHCP
				continue
			}
			f.DefaultRoute, defRouteSet, haveStatic = v.Value == "true", true, true
			s.netLines[netconfig.FieldGateway] = v.Line
		case "address":
			text(v, k, netconfig.FieldAddress, &f.Address, false)
			haveStatic = true
		case "netmask":
			text(v, k, netconfig.FieldNetmask, &f.Netmask, true)
			haveStatic = true
		case "gateway":
			text(v, k, netconfig.FieldGateway, &f.Gateway, false)
			haveStatic = true
		case "dns":
			dns, ok := p.list(v, key+".dns", "IP addresses")
			if !ok {
				continue
			}
			// IPv6 servers are the IPv6 DNS servers, as with --dns.
			for _, d := range dns {
				if a, err := netip.ParseAddr(d); err == nil && a.Is6() && !a.Is4In6() {
					f.DNS6, dns6 = append(f.DNS6, d), d
				} else {
					f.DNS = append(f.DNS, d)
				}
			}
			s.netLines[netconfig.FieldDNS], s.netLines[netconfig.FieldDNS6] = v.Line, v.Line
			haveStatic = true
		case "vlan":
			text(v, k, netconfig.FieldVLAN, &f.VLAN, true)
		case "mtu":
			text(v, k, netconfig.FieldMTU, &f.MTU, true)
		case "ipv6":
			var m string
			text(v, k, netconfig.FieldIPv6, &m, false)
			f.IPv6 = netconfig.IPv6Mode(m)
		case "address6":
			text(v, k, netconfig.FieldAddress6, &f.Address6, false)
		case "gateway6":
			text(v, k, netconfig.FieldGateway6, &f.Gateway6, false)
		case "routes":
			routes, ok := p.list(v, key+".routes", "routes like 10.20.0.0/16@192.0.2.254")
			if !ok {
				continue
			}
			f.Routes = routes
			s.netLines[netconfig.FieldRoute] = v.Line
			s.routeLines = nil
			if v.Kind == yaml.SequenceNode {
				for _, r := range v.Content {
					s.routeLines = append(s.routeLines, r.Line)
				}
			}
		default:
			p.add(n.Content[i], key+"."+k, "unknown key ("+interfaceKeys+")")
		}
	}
	if !defRouteSet {
		// A gateway means the default route, as with network set --gateway.
		f.DefaultRoute = f.Gateway != ""
	}
	switch {
	case f.Interface == "" && len(p.probs) == n0:
		p.add(n, key+".name", "is required (the interface to configure, e.g. eth0)")
	case haveDHCP && haveStatic:
		p.add(n, key, "dhcp: true cannot be combined with address, netmask, gateway, defaultRoute or dns")
	case !haveDHCP && !haveStatic:
		p.add(n, key, "give dhcp: true, or address and gateway")
	}
	// What `network set` refuses before parsing, said of the key.
	if (f.Address6 != "" || f.Gateway6 != "") && f.IPv6 != netconfig.IPv6Static {
		k, f6 := "address6", netconfig.FieldAddress6
		if f.Address6 == "" {
			k, f6 = "gateway6", netconfig.FieldGateway6
		}
		p.probs = append(p.probs, config.Problem{File: s.file, Line: s.netLines[f6], Key: key + "." + k, Msg: "needs ipv6: static"})
	}
	if dns6 != "" && f.IPv6 != netconfig.IPv6Static && f.IPv6 != netconfig.IPv6Auto {
		p.probs = append(p.probs, config.Problem{File: s.file, Line: s.netLines[netconfig.FieldDNS6], Key: key + ".dns",
			Msg: dns6 + " is an IPv6 server; IPv6 DNS servers need ipv6: auto or static"})
	}
	if len(p.probs) == n0 {
		// Syntax now; whether the interface exists is checked at apply.
		if _, err := netconfig.ParseForm(*f, netconfig.Status{}); err != nil {
			for _, pr := range s.NetworkProblems(err) {
				if pr.Key != key+".name" {
					p.probs = append(p.probs, pr)
				}
			}
		}
	}
	s.Network = f
}

// interfaceKey is the key of network.interface a form field comes from.
var interfaceKey = map[netconfig.Field]string{
	netconfig.FieldInterface: "name", netconfig.FieldRoute: "routes", netconfig.FieldDNS6: "dns",
}

// NetworkProblems turns the errors of netconfig.ParseForm for Network into
// problems at the lines of the fields concerned (a route's own line in a
// list of routes).
func (s *Settings) NetworkProblems(err error) config.Problems {
	var probs config.Problems
	for _, fe := range netconfig.FieldErrors(err) {
		line, ok := s.netLines[fe.Field]
		if !ok {
			line = s.netLine
		}
		if fe.Field == netconfig.FieldRoute && fe.Index >= 0 && fe.Index < len(s.routeLines) {
			line = s.routeLines[fe.Index]
		}
		k, ok := interfaceKey[fe.Field]
		if !ok {
			k = string(fe.Field)
		}
		probs = append(probs, config.Problem{File: s.file, Line: line, Key: "network.interface." + k, Msg: fe.Message})
	}
	if len(probs) == 0 && err != nil {
		probs = config.Problems{{File: s.file, Line: s.netLine, Key: "network.interface", Msg: err.Error()}}
	}
	return probs
}

// SiteSettings renders the host name and NTP servers to set, for people:
// "host name node-12, NTP servers ntp1.example.com" ("" for neither).
func (s *Settings) SiteSettings() string {
	var out []string
	if s.Hostname != "" {
		out = append(out, "host name "+s.Hostname)
	}
	if s.NTP != nil {
		out = append(out, "NTP servers "+strings.Join(s.NTP, ", "))
	}
	return strings.Join(out, ", ")
}
