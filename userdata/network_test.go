package userdata

import (
	"errors"
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"github.com/nodeconsole/nodeconsole/config"
	"github.com/nodeconsole/nodeconsole/netconfig"
)

const fullNetwork = `#cloud-config
nodeconsole:
  network:
    httpsProxy: http://alice:s3cret@proxy.example.com:3128
    noProxy: .example.com,10.0.0.0/8
    hostname: node-12
    ntp: [ntp1.example.com, 192.0.2.123]
    interface:
      name: eth0
      address: 192.0.2.10/24
      gateway: 192.0.2.1
      defaultRoute: true
      dns: [192.0.2.53, 2001:db8:1::53]
      vlan: 100
      mtu: 9000
      ipv6: static
      address6: 2001:db8:1::10/64
      gateway6: fe80::1
      routes:
        - 10.20.0.0/16@192.0.2.254
        - 2001:db8:100::/48@fe80::1
`

// TestParseNetworkSettings: every #18 setting of `network set`, `network
// hostname`, `network ntp` and `network proxy` is taken from user data
// under the same names: the interface's become the form network set
// parses (to the same Config), the host name and NTP servers are kept to
// set, and the proxy goes to the config drop-in (and nothing else does).
func TestParseNetworkSettings(t *testing.T) {
	s, err := Parse("ud", []byte(fullNetwork))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(s.Keys, " "); got != "network.httpsProxy network.noProxy network.hostname network.ntp network.interface" {
		t.Errorf("keys %q", got)
	}
	if s.Hostname != "node-12" || !reflect.DeepEqual(s.NTP, []string{"ntp1.example.com", "192.0.2.123"}) {
		t.Errorf("hostname %q, NTP %q", s.Hostname, s.NTP)
	}
	for _, k := range []string{"hostname", "ntp", "interface"} {
		if strings.Contains(string(s.DropIn), k) {
			t.Errorf("the drop-in holds %s:\n%s", k, s.DropIn)
		}
	}
	if cfg, probs := config.Parse("50-user-data.yaml", s.DropIn); len(probs) > 0 || cfg.Network.HTTPSProxy != "http://alice:s3cret@proxy.example.com:3128" || cfg.Network.NoProxy != ".example.com,10.0.0.0/8" {
		t.Errorf("drop-in %+v, %v", cfg.Network, probs)
	}
	st := netconfig.Status{Interfaces: []netconfig.Interface{{Name: "eth0", State: netconfig.LinkUp, Ethernet: true}}}
	cfg, err := netconfig.ParseForm(*s.Network, st)
	if err != nil {
		t.Fatal(err)
	}
	want := netconfig.Config{Interface: "eth0", VLAN: 100, Mode: netconfig.ModeStatic, Address: netip.MustParsePrefix("192.0.2.10/24"),
		Gateway: netip.MustParseAddr("192.0.2.1"), DefaultRoute: true, DNS: []netip.Addr{netip.MustParseAddr("192.0.2.53")}, MTU: 9000,
		Routes: []netconfig.Route{{Dst: netip.MustParsePrefix("10.20.0.0/16"), Gateway: netip.MustParseAddr("192.0.2.254")},
			{Dst: netip.MustParsePrefix("2001:db8:100::/48"), Gateway: netip.MustParseAddr("fe80::1")}},
		IPv6: netconfig.IPv6Static, Address6: netip.MustParsePrefix("2001:db8:1::10/64"), Gateway6: netip.MustParseAddr("fe80::1"),
		DNS6: []netip.Addr{netip.MustParseAddr("2001:db8:1::53")}}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("config\n %s\nwant\n %s", cfg.Describe(), want.Describe())
	}
	// A gateway without defaultRoute is the default route, as --gateway
	// is; defaultRoute: false leaves it where it is, as --no-default-route.
	s, err = Parse("ud", []byte("#cloud-config\nnodeconsole:\n  network:\n    interface: {name: eth0, address: 192.0.2.10/24, defaultRoute: false}\n"))
	if err != nil || s.Network.DefaultRoute {
		t.Errorf("defaultRoute: false: %+v, %v", s.Network, err)
	}
}

// TestParseNetworkProblems: a bad value of each key group is one problem
// with file, line and key; the proxy's is said without the URL, which may
// hold a password.
func TestParseNetworkProblems(t *testing.T) {
	iface := func(lines ...string) string {
		return "#cloud-config\nnodeconsole:\n  network:\n    interface:\n      name: eth0\n      address: 192.0.2.10/24\n      " + strings.Join(lines, "\n      ") + "\n"
	}
	net := func(lines ...string) string {
		return "#cloud-config\nnodeconsole:\n  network:\n    " + strings.Join(lines, "\n    ") + "\n"
	}
	for _, tc := range []struct {
		name, data string
		want       []string
	}{
		{"ipv6 mode", iface("ipv6: slaac"), []string{`ud:7: network.interface.ipv6: IPv6 mode "slaac" is not off, auto, dhcp or static.`}},
		{"address6 without static", iface("ipv6: auto", "address6: 2001:db8:1::10/64"), []string{"ud:8: network.interface.address6: needs ipv6: static"}},
		{"link-local address6", iface("ipv6: static", "address6: fe80::5/64"), []string{"ud:8: network.interface.address6: IPv6 address fe80::5 is link-local"}},
		{"gateway6 outside", iface("ipv6: static", "address6: 2001:db8:1::10/64", "gateway6: 2001:db8:2::1"), []string{"ud:9: network.interface.gateway6: IPv6 gateway 2001:db8:2::1 is outside the prefix"}},
		{"ipv6 dns without ipv6", iface("dns: [2001:db8::53]"), []string{"ud:7: network.interface.dns: 2001:db8::53 is an IPv6 server; IPv6 DNS servers need ipv6: auto or static"}},
		{"vlan", iface("vlan: 5000"), []string{"ud:7: network.interface.vlan: VLAN 5000 is out of range; use 1 to 4094."}},
		{"mtu", iface("mtu: jumbo"), []string{`ud:7: network.interface.mtu: MTU "jumbo" is not a whole number of bytes.`}},
		{"mtu with ipv6", iface("mtu: 1200", "ipv6: auto"), []string{"ud:7: network.interface.mtu: MTU 1200 is too small for IPv6"}},
		{"routes at their lines", iface("routes:", "  - 10.20.0.0/16@192.0.2.254", "  - 2001:db8:100::/48@192.0.2.1"),
			[]string{"ud:9: network.interface.routes: Route 2 destination 2001:db8:100::/48 is IPv6 but its gateway 192.0.2.1 is IPv4"}},
		{"routes not a list", iface("routes: {a: b}"), []string{"ud:7: network.interface.routes: must be a list of routes"}},
		{"defaultRoute", iface("defaultRoute: please"), []string{"ud:7: network.interface.defaultRoute: must be true or false"}},
		{"defaultRoute without gateway", iface("defaultRoute: true"), []string{"ud:7: network.interface.gateway: Gateway is required for the default route"}},
		{"defaultRoute with dhcp", "#cloud-config\nnodeconsole:\n  network:\n    interface: {name: eth0, dhcp: true, defaultRoute: false}\n",
			[]string{"ud:4: network.interface: dhcp: true cannot be combined with address, netmask, gateway, defaultRoute or dns"}},
		{"unknown interface key", iface("vlanid: 5"), []string{"ud:7: network.interface.vlanid: unknown key (name, dhcp, address"}},
		{"hostname", net("hostname: -node-"), []string{`ud:4: network.hostname: Host name "-node-" has a label starting or ending with a hyphen.`}},
		{"hostname not a string", net("hostname: [a]"), []string{"ud:4: network.hostname: must be a string"}},
		{"ntp", net("ntp: [ntp1.example.com, 'bad server']"), []string{`ud:4: network.ntp: NTP server 2 "bad server" is neither an IP address nor a host name.`}},
		{"ntp as one string", net("ntp: ''"), []string{"ud:4: network.ntp: NTP servers are missing"}},
		{"proxy", net("httpsProxy: ftp://alice:s3cret@proxy.example.com:21"), []string{`ud:4: network.httpsProxy: the proxy scheme "ftp" is not http, https or socks5`}},
		{"no proxy", net("noProxy: a b"), []string{`ud:4: network.noProxy: no-proxy entry "a b" is not a host, domain or CIDR`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			probs := wantProblems(t, tc.data, tc.want)
			if strings.Contains(probs.Error(), "s3cret") {
				t.Errorf("a problem shows the proxy password: %v", probs)
			}
		})
	}
}

// wantProblems parses data as file "ud" and checks its problems: one per
// entry of want, each starting with it. It returns them.
func wantProblems(t *testing.T, data string, want []string) config.Problems {
	t.Helper()
	_, err := Parse("ud", []byte(data))
	var probs config.Problems
	if !errors.As(err, &probs) {
		t.Fatalf("err = %v, want problems", err)
	}
	if len(probs) != len(want) {
		t.Errorf("problems = %v, want %d", probs, len(want))
	}
	for i, w := range want {
		if i < len(probs) && !strings.HasPrefix(probs[i].String(), w) {
			t.Errorf("problem %d = %q, want prefix %q", i, probs[i].String(), w)
		}
	}
	return probs
}
