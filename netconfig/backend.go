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
	"path/filepath"
	"strings"

	"github.com/nodeconsole/nodeconsole/atomicfile"
)

// Backend is the narrow set of kernel and file operations an apply needs.
// NewNetlinkBackend is the real one; Simulated is the in-memory one. IPv6
// is touched only by SetIPv6 (and restored only when the snapshot holds
// it).
type Backend interface {
	// Snapshot captures everything the other methods can change for
	// ifname: its link state, IPv4 addresses, the IPv4 routes through it,
	// every IPv4 default route, the resolv.conf content, and its IPv6
	// state (Snapshot.IPv6).
	Snapshot(ctx context.Context, ifname string) (*Snapshot, error)
	// ReplaceAddrs makes addrs the exact set of global IPv4 addresses on
	// ifname, removing the others (DHCP leases included).
	ReplaceAddrs(ctx context.Context, ifname string, addrs []netip.Prefix) error
	// LinkUp sets ifname administratively up.
	LinkUp(ctx context.Context, ifname string) error
	// ReplaceDefaultRoute makes "default via gw dev ifname" the only IPv4
	// default route (onlink: the gateway is outside the subnet). A zero gw
	// removes the default routes through ifname instead.
	ReplaceDefaultRoute(ctx context.Context, ifname string, gw netip.Addr, onlink bool) error
	// AddVLAN creates the 802.1Q link name with VLAN id on parent; an
	// existing link of that name must be that VLAN.
	AddVLAN(ctx context.Context, parent string, id int, name string) error
	// DeleteLink removes the (virtual) link name.
	DeleteLink(ctx context.Context, name string) error
	// SetMTU sets the MTU of ifname.
	SetMTU(ctx context.Context, ifname string, mtu int) error
	// ReplaceRoutes makes routes (IPv4) the exact set of static IPv4
	// gateway routes (not default routes) through ifname, removing other
	// static ones (onlink: the gateways are outside the subnet). IPv6
	// routes are SetIPv6's.
	ReplaceRoutes(ctx context.Context, ifname string, routes []Route, onlink bool) error
	// WriteDNS atomically replaces the nameserver lines of resolv.conf with
	// servers, keeping its other lines.
	WriteDNS(ctx context.Context, servers []netip.Addr) error
	// SetIPv6 applies s to the IPv6 of ifname: IPv6Off disables it;
	// IPv6Auto and IPv6DHCP accept router advertisements (SLAAC) and
	// remove the static IPv6 addresses, default routes and routes through
	// it; IPv6Static ignores router advertisements and makes s.Addr the
	// only global IPv6 address of ifname, s.Gateway the only IPv6 default
	// route (a zero Gateway: none through ifname) and s.Routes the exact
	// set of static IPv6 gateway routes through it.
	SetIPv6(ctx context.Context, ifname string, s IPv6Settings) error
	// Restore puts back exactly what s captured (its IPv6 part only when
	// s.IPv6 is set).
	Restore(ctx context.Context, s *Snapshot) error
}

// IPv6Settings is what SetIPv6 makes of a link's IPv6.
type IPv6Settings struct {
	Mode IPv6Mode
	// Addr and Gateway are the static address and default gateway, and
	// Routes the static IPv6 routes (IPv6Static only).
	Addr    netip.Prefix
	Gateway netip.Addr
	Routes  []Route
}

// IPv6Snapshot is the IPv6 state of a link as a Backend captured it.
type IPv6Snapshot struct {
	// DisableIPv6, AcceptRA and Autoconf are the link's settings
	// (/proc/sys/net/ipv6/conf/IF/...) as read.
	DisableIPv6, AcceptRA, Autoconf string
	// Addrs are its global IPv6 addresses.
	Addrs []SnapshotAddr
	// Routes are the IPv6 routes through it other than those the kernel
	// makes for an address, and every IPv6 default route.
	Routes []SnapshotRoute
}

// Snapshot is the state a Backend captured before an apply.
type Snapshot struct {
	Interface string
	// Up reports whether the link was administratively up.
	Up bool
	// MTU is the link's MTU.
	MTU int
	// Created means the link did not exist (a VLAN link the apply
	// creates): restoring removes it instead of the rest.
	Created bool
	// Parent is the snapshot of a VLAN link's NIC (its link state is what
	// the apply changes), restored after the link itself; nil otherwise.
	Parent *Snapshot
	Addrs  []SnapshotAddr
	Routes []SnapshotRoute
	// ResolvConf is the resolv.conf content; ResolvConfExists is false when
	// the file did not exist (a restore then removes it).
	ResolvConf       []byte
	ResolvConfExists bool
	// IPv6 is the link's IPv6 state; nil when the apply leaves IPv6
	// alone (or the kernel has none), and then a restore does too.
	IPv6 *IPv6Snapshot
}

// lifetimeForever is the kernel's "forever" address lifetime.
const lifetimeForever = 0xFFFFFFFF

// SnapshotAddr is one IPv4 address as the kernel had it.
type SnapshotAddr struct {
	Prefix netip.Prefix
	Flags  int
	Scope  int
	Label  string
	// Broadcast is the IPv4 broadcast address the kernel holds for it;
	// the zero Addr when it has none (restored as none, not computed).
	Broadcast netip.Addr `json:",omitzero"`
	// ValidLft and PreferredLft are the remaining lifetimes in seconds,
	// 0xFFFFFFFF for forever; finite ones mark a DHCP lease.
	ValidLft, PreferredLft int
}

// Dynamic reports whether the address has a finite lifetime, as a DHCP
// lease does.
func (a SnapshotAddr) Dynamic() bool { return a.ValidLft > 0 && a.ValidLft != lifetimeForever }

// SnapshotRoute is one IPv4 route as the kernel had it.
type SnapshotRoute struct {
	Dst       netip.Prefix // 0.0.0.0/0 for a default route
	Gw        netip.Addr
	Src       netip.Addr
	Interface string
	Priority  int
	Protocol  int
	Scope     int
	Type      int
	Table     int
	OnLink    bool
}

// String renders the route like `ip route`.
func (r SnapshotRoute) String() string {
	var b strings.Builder
	if r.Dst.Bits() == 0 {
		b.WriteString("default")
	} else {
		b.WriteString(r.Dst.String())
	}
	if r.Gw.IsValid() {
		b.WriteString(" via " + r.Gw.String())
	}
	b.WriteString(" dev " + r.Interface)
	if r.Src.IsValid() {
		b.WriteString(" src " + r.Src.String())
	}
	if r.Priority != 0 {
		fmt.Fprintf(&b, " metric %d", r.Priority)
	}
	if r.OnLink {
		b.WriteString(" onlink")
	}
	return b.String()
}

// HadLease reports whether any captured address was a DHCP lease, i.e. a
// DHCP client ran on the interface.
func (s *Snapshot) HadLease() bool {
	for _, a := range s.Addrs {
		if a.Dynamic() {
			return true
		}
	}
	return false
}

// Lines renders the snapshot for logs and tests.
func (s *Snapshot) Lines() []string {
	up := "down"
	if s.Up {
		up = "up"
	}
	if s.Created {
		up = "absent"
	}
	out := []string{"link " + s.Interface + " " + up}
	if s.MTU != 0 {
		out[0] += fmt.Sprintf(" mtu %d", s.MTU)
	}
	addrRoutes := func(addrs []SnapshotAddr, routes []SnapshotRoute) {
		for _, a := range addrs {
			l := "addr " + a.Prefix.String() + " dev " + s.Interface
			if a.Broadcast.IsValid() {
				l += " brd " + a.Broadcast.String()
			}
			if a.Dynamic() {
				l += " dynamic"
			}
			out = append(out, l)
		}
		for _, r := range routes {
			out = append(out, "route "+r.String())
		}
	}
	addrRoutes(s.Addrs, s.Routes)
	if v6 := s.IPv6; v6 != nil {
		out = append(out, fmt.Sprintf("ipv6 %s disable_ipv6=%s accept_ra=%s autoconf=%s", s.Interface, v6.DisableIPv6, v6.AcceptRA, v6.Autoconf))
		addrRoutes(v6.Addrs, v6.Routes)
	}
	for _, l := range strings.Split(strings.TrimRight(string(s.ResolvConf), "\n"), "\n") {
		if l != "" {
			out = append(out, "resolv "+l)
		}
	}
	if s.Parent != nil {
		for _, l := range s.Parent.Lines() {
			out = append(out, "parent "+l)
		}
	}
	return out
}

// resolvHeader marks resolv.conf files written by nodeconsole.
const resolvHeader = "# Written by nodeconsole; nameservers from the network settings."

// RewriteNameservers returns resolv.conf content old with its nameserver
// lines replaced by servers; search, options and other lines are kept.
func RewriteNameservers(old []byte, servers []netip.Addr) []byte {
	var b bytes.Buffer
	b.WriteString(resolvHeader + "\n")
	sc := bufio.NewScanner(bytes.NewReader(old))
	for sc.Scan() {
		line := sc.Text()
		f := strings.Fields(line)
		if line == resolvHeader || (len(f) > 0 && f[0] == "nameserver") {
			continue
		}
		b.WriteString(line + "\n")
	}
	for _, s := range servers {
		b.WriteString("nameserver " + s.String() + "\n")
	}
	return b.Bytes()
}

// resolvFile reads and writes the resolv.conf file at a path. A symlink
// (e.g. to systemd-resolved's file) is followed so that it stays a symlink.
type resolvFile string

func (p resolvFile) target() string {
	if t, err := filepath.EvalSymlinks(string(p)); err == nil {
		return t
	}
	return string(p)
}

func (p resolvFile) read() (data []byte, exists bool, err error) {
	data, err = os.ReadFile(p.target())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("netconfig: read %s: %w", p, err)
	}
	return data, true, nil
}

func (p resolvFile) writeDNS(servers []netip.Addr) error {
	old, _, err := p.read()
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(p.target(), RewriteNameservers(old, servers), 0o644); err != nil {
		return fmt.Errorf("netconfig: write DNS servers to %s: %w", p, err)
	}
	return nil
}

func (p resolvFile) restore(data []byte, exists bool) error {
	if !exists {
		if _, err := os.Lstat(p.target()); errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err := atomicfile.Remove(p.target()); err != nil {
			return fmt.Errorf("netconfig: restore %s: %w", p, err)
		}
		return nil
	}
	if err := atomicfile.WriteFile(p.target(), data, 0o644); err != nil {
		return fmt.Errorf("netconfig: restore %s: %w", p, err)
	}
	return nil
}
