package netconfig

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"slices"
	"strings"

	"github.com/nodeconsole/nodeconsole/lldp"
)

// LinkState is the operational state of an interface as an operator reads it.
type LinkState string

// Link states.
const (
	// LinkUp means the interface is administratively up and has a carrier.
	LinkUp LinkState = "up"
	// LinkDown means the interface is administratively down.
	LinkDown LinkState = "down"
	// LinkNoCarrier means the interface is up but nothing is plugged in
	// (or the peer is down).
	LinkNoCarrier LinkState = "no-carrier"
)

// Interface is one network interface as the console shows it.
type Interface struct {
	Name  string
	Index int
	// MAC is the hardware address, "" when the interface has none.
	MAC   string
	State LinkState
	// Ethernet reports whether the interface is Ethernet-like (ethernet,
	// veth, bond, bridge, vlan, macvlan), i.e. eligible for WAN config.
	Ethernet bool
	// Addrs are the global-scope addresses, IPv4 first, each family in
	// kernel order.
	Addrs []netip.Prefix
	// Default reports whether the interface carries a default route;
	// Default4 and Default6 say of which family (IPv4, IPv6 or both).
	Default            bool
	Default4, Default6 bool
	// DHCP reports whether its IPv4 address is a DHCP lease (a finite
	// lifetime), so the current mode can be told: DHCP, static or none.
	DHCP bool
	// MTU is the link MTU in bytes.
	MTU int
	// VLANParent and VLANID describe an 802.1Q link: its NIC and VLAN ID
	// ("" and 0 otherwise).
	VLANParent string
	VLANID     int
	// Routes are the gateway routes through it other than default routes
	// (main table; IPv6 ones not from router advertisements), IPv4 first,
	// each family in kernel order.
	Routes []Route
	// LLDP are the switch ports heard on this NIC (switch name, chassis,
	// port, native VLAN), in the order first heard: nil when nothing was
	// listened for, empty when listened and nothing was heard. Readers of
	// the kernel leave it nil; an LLDPTable (WithLLDP) fills it in. Its
	// JSON form is the "lldp" field of `network show --json` and
	// `status --json`.
	LLDP []lldp.Neighbor
}

// Mode is how the interface gets its IPv4 address now: "DHCP", "static",
// or "none" without one.
func (i Interface) Mode() string {
	switch {
	case i.DHCP:
		return "DHCP"
	case slices.ContainsFunc(i.Addrs, func(p netip.Prefix) bool { return p.Addr().Is4() }):
		return "static"
	}
	return "none"
}

// Status is a read-only picture of the node's network.
type Status struct {
	// Interfaces are sorted by name; loopback is omitted.
	Interfaces []Interface
	// Gateway is the IPv4 default gateway (the lowest-metric default route),
	// the zero Addr if there is none.
	Gateway netip.Addr
	// GatewayInterface names the interface of Gateway's route.
	GatewayInterface string
	// Gateway6 is the IPv6 default gateway (the lowest-metric IPv6 default
	// route), the zero Addr if there is none; Gateway6Interface names its
	// interface.
	Gateway6          netip.Addr
	Gateway6Interface string
	// DNS are the nameservers listed in the resolv.conf file read.
	DNS []netip.Addr
}

// Interface returns the interface called name and whether it exists.
func (s Status) Interface(name string) (Interface, bool) {
	for _, ifc := range s.Interfaces {
		if ifc.Name == name {
			return ifc, true
		}
	}
	return Interface{}, false
}

// Reader reads the current network status.
type Reader interface {
	// Read returns the current status.
	Read(ctx context.Context) (Status, error)
}

// ParseNameservers returns the nameserver addresses listed in resolv.conf
// content, in order. Comments and other directives are ignored, and so are
// nameserver lines whose address does not parse.
func ParseNameservers(data []byte) []netip.Addr {
	var out []netip.Addr
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := sc.Text()
		if i := strings.IndexAny(line, "#;"); i >= 0 {
			line = line[:i]
		}
		f := strings.Fields(line)
		if len(f) < 2 || f[0] != "nameserver" {
			continue
		}
		a, err := netip.ParseAddr(f[1])
		if err != nil {
			continue
		}
		out = append(out, a)
	}
	return out
}

// readNameservers reads resolv.conf at path. A missing file means no
// nameservers, not an error.
func readNameservers(path string) ([]netip.Addr, error) {
	if path == "" {
		return nil, nil
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("netconfig: read nameservers: %w", err)
	}
	return ParseNameservers(data), nil
}

// sortAddrs orders prefixes IPv4 first, keeping the order within a family.
func sortAddrs(p []netip.Prefix) {
	slices.SortStableFunc(p, func(a, b netip.Prefix) int {
		switch {
		case a.Addr().Is4() && !b.Addr().Is4():
			return -1
		case !a.Addr().Is4() && b.Addr().Is4():
			return 1
		}
		return 0
	})
}

// sortInterfaces orders interfaces by name.
func sortInterfaces(ifs []Interface) {
	slices.SortFunc(ifs, func(a, b Interface) int { return strings.Compare(a.Name, b.Name) })
}
