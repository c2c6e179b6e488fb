package netconfig

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"time"
)

// Layers returns the interface tested (Test network) and the layered
// checks for the current status: carrier, address and gateway of the
// interface with the default route (or the first Ethernet one), its IPv6
// address and gateway when it has a global IPv6 address, then DNS (and
// DNS over IPv6 with IPv6 servers), TCP, TLS and clock against endpoint. A
// missing address or gateway becomes a FAIL with a hint instead of a probe.
func (p *Prober) Layers(st Status, endpoint string) (string, []Check) {
	ifname := st.GatewayInterface
	if ifname == "" {
		for _, ifc := range st.Interfaces {
			if ifc.Ethernet && (ifname == "" || ifc.State == LinkUp && len(ifc.Addrs) > 0) {
				ifname = ifc.Name
			}
		}
	}
	if ifname == "" {
		return "", []Check{failCheck("carrier", "no Ethernet interface found", "Check that the network card is detected.")}
	}
	ifc, _ := st.Interface(ifname)
	cfg := Config{Interface: ifname, Mode: ModeStatic, Gateway: st.Gateway, DefaultRoute: true, DNS: st.DNS}
	for _, a := range ifc.Addrs {
		if a.Addr().Is4() {
			cfg.Address = a
			break
		}
	}
	// IPv6 layers where IPv6 is configured: a global IPv6 address (and its
	// default route and DNS servers, if any).
	for _, a := range ifc.Addrs {
		if a.Addr().Is6() {
			cfg.IPv6, cfg.Address6 = IPv6Static, a
			if st.Gateway6Interface == ifname {
				cfg.Gateway6 = st.Gateway6
			}
			for _, d := range st.DNS {
				if d.Is6() {
					cfg.DNS6 = append(cfg.DNS6, d)
				}
			}
			break
		}
	}
	var out []Check
	for _, c := range p.Checks(cfg, endpoint) {
		switch {
		case c.Name == "address" && !cfg.Address.IsValid():
			c = failCheck("address", "no IPv4 address on "+ifname, "Set an address in Network settings, or check the DHCP server.")
		case c.Name == "gateway" && !cfg.Gateway.IsValid():
			c = failCheck("gateway", "no default route", "Set a gateway in Network settings.")
		case c.Name == "dns" && len(cfg.DNS) == 0:
			c = failCheck("dns", "no DNS servers configured", "Set DNS servers in Network settings.")
		}
		out = append(out, c)
	}
	return ifname, out
}

func failCheck(name, detail, hint string) Check {
	return Check{Name: name, Run: func(context.Context) Result {
		return Result{Check: name, Detail: detail, Hint: hint}
	}}
}

// ProbeHost resolves input (a host name, an IPv4 address, or either with
// :port) through the status's DNS servers, asks for its MAC address by ARP
// when it is on a local subnet, and opens a TCP connection to the port
// (443 by default).
func (p *Prober) ProbeHost(ctx context.Context, st Status, input string) []Result {
	host, port := input, "443"
	if h, pt, err := net.SplitHostPort(input); err == nil {
		host, port = h, pt
	}
	var out []Result
	addr, err := netip.ParseAddr(host)
	if err != nil {
		lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		addrs, srv, lerr := p.Lookup(lctx, st.DNS, host)
		cancel()
		if lerr != nil || len(addrs) == 0 {
			return append(out, Result{Check: "dns", Detail: "cannot resolve " + host + ": " + lookupErrText(lerr),
				Hint: "Check the name and the DNS servers in Network settings."})
		}
		out = append(out, Result{Check: "dns", OK: true, Detail: fmt.Sprintf("%s is %s (via %s)", host, joinAddrs(addrs), srv)})
		addr = addrs[0]
	}
	if r, ok := p.arp(ctx, st, addr); ok {
		out = append(out, r)
	}
	return append(out, p.TCP(ctx, net.JoinHostPort(addr.String(), port)))
}

// arp resolves addr by ARP (IPv6: neighbour discovery, check "ndp") when
// it lies on the subnet of one of the interfaces; ok is false when it does
// not (or no resolver is set).
func (p *Prober) arp(ctx context.Context, st Status, addr netip.Addr) (Result, bool) {
	if p.Neighbors == nil {
		return Result{}, false
	}
	for _, ifc := range st.Interfaces {
		for _, a := range ifc.Addrs {
			if !a.Masked().Contains(addr) || addr == a.Addr() {
				continue
			}
			ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			name, proto := "arp", "ARP"
			if addr.Is6() {
				name, proto = "ndp", "neighbour discovery"
			}
			mac, err := p.Neighbors.ResolveNeighbor(ctx, ifc.Name, addr)
			if err != nil {
				return Result{Check: name, Detail: addr.String() + " does not answer " + proto + " on " + ifc.Name,
					Hint: "The host is off, or on another VLAN."}, true
			}
			return Result{Check: name, OK: true, Detail: addr.String() + " answers " + proto + " on " + ifc.Name + " (" + mac + ")"}, true
		}
	}
	return Result{}, false
}

func lookupErrText(err error) string {
	if err == nil {
		return "no address"
	}
	return err.Error()
}
