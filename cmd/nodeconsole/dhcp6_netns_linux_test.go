//go:build linux

package main

import (
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vishvananda/netlink"

	"github.com/nodeconsole/nodeconsole/testenv"
)

// dhclient6Hook is the dhclient -6 script of the test: like Debian's
// dhclient-script it waits for the link-local address to leave duplicate
// address detection (PREINIT6) and applies the lease to $interface, but
// never touches /etc/resolv.conf (the file system is the host's).
const dhclient6Hook = `#!/bin/sh
case "$reason" in
PREINIT6)
	ip link set dev "$interface" up
	i=0
	while [ $i -lt 100 ] && ip -6 -o addr show dev "$interface" scope link | grep -q tentative; do sleep 0.1; i=$((i+1)); done ;;
BOUND6|RENEW6|REBIND6|REBOOT6)
	[ -n "$new_ip6_address" ] && ip -6 addr replace "$new_ip6_address/$new_ip6_prefixlen" dev "$interface" valid_lft "$new_max_life" preferred_lft "$new_preferred_life" ;;
EXPIRE6|RELEASE6|STOP6)
	[ -n "$old_ip6_address" ] && ip -6 addr del "$old_ip6_address/$old_ip6_prefixlen" dev "$interface" ;;
esac
exit 0
`

// dhcp6Pool is the range the test's DHCPv6 server leases from.
var dhcp6Pool = netip.MustParsePrefix("2001:db8:6::/64")

// newDHCP6Lab is an nsLab with a real DHCPv6 server in the peer namespace:
// dnsmasq on gw0 (2001:db8:6::1/64) leasing 2001:db8:6::100-1ff, and
// sending router advertisements with the M flag and the prefix on-link but
// not for SLAAC, so that the only global address the node can get is a
// DHCPv6 lease. veth0 starts ignoring router advertisements. nodeconsole
// (dhcpClient process) starts its built-in DHCPv6 client with its pid and
// lease files in the test's directory; "dhclient" on its PATH is a wrapper
// that runs the real one with the test's script (dhclient6Hook). Every
// process in both namespaces is killed at the end.
func newDHCP6Lab(t *testing.T) *dhcpLab {
	t.Helper()
	dnsmasq := testenv.RequireCommand(t, "dnsmasq")
	dhclient := testenv.RequireCommand(t, "dhclient")
	l := &dhcpLab{nsLab: newNSLab(t)}
	t.Cleanup(func() { killNetns(t, l.node); killNetns(t, l.peer) })
	l.must("-n", l.peer, "addr", "add", "2001:db8:6::1/64", "dev", "gw0", "nodad")
	l.must("netns", "exec", l.node, "sysctl", "-q", "-w", "net.ipv6.conf.veth0.accept_ra=0")

	hook, empty := filepath.Join(l.dir, "dhclient6.sh"), filepath.Join(l.dir, "dhclient.conf")
	bin := filepath.Join(l.dir, "bin")
	wrapper := fmt.Sprintf("#!/bin/sh\nexec %s -cf %s -sf %s \"$@\"\n", dhclient, empty, hook)
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	for p, body := range map[string]string{hook: dhclient6Hook, empty: "", filepath.Join(bin, "dhclient"): wrapper} {
		if err := os.WriteFile(p, []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))

	l.start(t, "dnsmasq", "netns", "exec", l.peer, dnsmasq, "--keep-in-foreground", "--conf-file=/dev/null",
		"--no-resolv", "--no-hosts", "--port=0", "--user=root", "--group=root", "--interface=gw0", "--bind-interfaces",
		"--dhcp-range=2001:db8:6::100,2001:db8:6::1ff,64,1h", "--enable-ra", "--ra-param=gw0,4", "--log-dhcp", "--log-facility=-",
		"--dhcp-leasefile="+filepath.Join(l.dir, "dnsmasq.leases"), "--pid-file="+filepath.Join(l.dir, "dnsmasq.pid"))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("dnsmasq:\n%s\nnodeconsole.log:\n%s", l.read(filepath.Join(l.dir, "dnsmasq.log")), l.read(filepath.Join(l.state, "nodeconsole.log")))
		}
	})

	cfg := fmt.Sprintf("network: {resolvConf: %q, networkdDir: %q, dhcpClient: process, dhcp6PidFile: %q, dhcp6LeaseFile: %q}\n",
		l.resolv, l.networkd, filepath.Join(l.dir, "dh6.{interface}.pid"), filepath.Join(l.dir, "dh6.{interface}.leases"))
	if err := os.WriteFile(l.cfg, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return l
}

// kernel6 is veth0's IPv6 settings, global addresses and IPv6 routes in
// the node namespace.
func (l *dhcpLab) kernel6() string {
	l.t.Helper()
	var sys []string
	for _, k := range []string{"disable_ipv6", "accept_ra", "autoconf"} {
		sys = append(sys, strings.TrimSpace(l.must("netns", "exec", l.node, "sysctl", "net.ipv6.conf.veth0."+k)))
	}
	var addrs []string
	for _, line := range strings.Split(strings.TrimSpace(l.must("-n", l.node, "-6", "-o", "addr", "show", "dev", "veth0", "scope", "global")), "\n") {
		if f := strings.Fields(line); len(f) >= 4 {
			addrs = append(addrs, "addr "+f[3])
		}
	}
	return strings.Join(append(sys, addrs...), "\n") + "\n" + l.must("-n", l.node, "-6", "route", "show")
}

// dhcp6Clients lists the DHCPv6 clients (dhclient -6) in the node
// namespace.
func (l *dhcpLab) dhcp6Clients() []string {
	var out []string
	for _, c := range l.clients(l.t) {
		if strings.Contains(c, " -6 ") {
			out = append(out, c)
		}
	}
	return out
}

// waitLease6 waits, through netlink address events, until veth0 holds a
// DHCPv6 lease (an address from dhcp6Pool with a finite lifetime), and
// returns it.
func (l *dhcpLab) waitLease6(t *testing.T) string {
	t.Helper()
	u := l.awaitAddr(t, "a DHCPv6 lease on veth0", func(u netlink.AddrUpdate) bool {
		a, ok := netip.AddrFromSlice(u.LinkAddress.IP)
		return ok && u.NewAddr && u.ValidLft > 0 && u.ValidLft != 0xFFFFFFFF && dhcp6Pool.Contains(a.Unmap())
	})
	return u.LinkAddress.String()
}

// TestDHCPv6InNetns: `network set --ipv6 dhcp` with a real DHCPv6 server
// (dnsmasq) in the peer namespace starts nodeconsole's built-in DHCPv6
// client (dhclient -6, with the configured pid and lease files) and the
// lease appears on veth0; answering "n" stops that client and removes the
// lease, leaving IPv4 and the IPv6 settings exactly as they were. Kept, it
// is saved, and `network apply` (boot) starts the client again.
func TestDHCPv6InNetns(t *testing.T) {
	l := newDHCP6Lab(t)
	before4, before6 := l.kernel(), l.kernel6()
	if !strings.Contains(before6, "accept_ra = 0") || strings.Contains(before6, "addr ") {
		t.Fatalf("lab setup:\n%s", before6)
	}
	set := []string{"network", "set", "--interface", "veth0", "--address", "192.0.2.50/24", "--gateway", "192.0.2.1", "--ipv6", "dhcp"}

	// Tried, then not kept.
	tr := l.startTrial(t, append(set, "--try", "60s")...)
	lease := l.waitLease6(t)
	if !strings.Contains(tr.out, "OK   address6 ") || !strings.Contains(tr.out, "(from DHCPv6 or router advertisements)") {
		t.Errorf("checks:\n%s", tr.out)
	}
	c := l.dhcp6Clients()
	pidFile := filepath.Join(l.dir, "dh6.veth0.pid")
	if len(c) != 1 || !strings.Contains(c[0], "-pf "+pidFile+" -lf "+filepath.Join(l.dir, "dh6.veth0.leases")+" veth0") {
		t.Errorf("DHCPv6 clients during the trial: %v", c)
	}
	if _, err := os.Stat(pidFile); err != nil {
		t.Errorf("the DHCPv6 client's pid file: %v", err)
	}
	io.WriteString(tr.stdin, "n\n")
	err := <-tr.waited
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(tr.stderr.String(), "not kept; the previous settings were restored") {
		t.Fatalf("answered n: %v\n%s", err, tr.stderr.String())
	}
	if c := l.dhcp6Clients(); len(c) != 0 {
		t.Errorf("a DHCPv6 client is left after the revert: %v", c)
	}
	if got := l.kernel6(); got != before6 {
		t.Errorf("IPv6 after the revert (lease %s must be gone):\n%s\nwant:\n%s", lease, got, before6)
	}
	if got := l.kernel(); got != before4 {
		t.Errorf("IPv4 after the revert:\n%s\nwant:\n%s", got, before4)
	}

	// Kept: saved, and re-applied at boot.
	if code, out, errs := l.nodeconsole(set...); code != 0 {
		t.Fatalf("set kept: exit %d: %s\n%s", code, errs, out)
	}
	l.waitLease6(t)
	if nd := l.read(filepath.Join(l.networkd, "10-nodeconsole-veth0.network")); !strings.Contains(nd, "DHCP=ipv6") {
		t.Errorf("networkd file:\n%s", nd)
	}
	killNetns(t, l.node) // a reboot: no client, no lease
	l.must("-n", l.node, "-6", "addr", "flush", "dev", "veth0", "scope", "global")
	if code, out, errs := l.nodeconsole("network", "apply"); code != 0 {
		t.Fatalf("network apply: exit %d: %s\n%s", code, errs, out)
	}
	l.waitLease6(t)
	if c := l.dhcp6Clients(); len(c) != 1 || slices.ContainsFunc(c, func(s string) bool { return !strings.Contains(s, "-pf "+pidFile) }) {
		t.Errorf("DHCPv6 clients after network apply: %v", c)
	}
}
