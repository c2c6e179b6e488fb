package netconfig

import (
	"context"
	"encoding/json"
	"net/netip"
	"reflect"
	"strings"
	"testing"
)

// testStatus has one Ethernet interface and one that is not.
var testStatus = Status{Interfaces: []Interface{
	{Name: "eth0", Index: 2, State: LinkUp, Ethernet: true},
	{Name: "enp0s31f6abcd", Index: 4, State: LinkUp, Ethernet: true},
	{Name: "wg0", Index: 3, State: LinkUp},
}}

func static(addr, gw string, dns ...string) Form {
	return Form{Interface: "eth0", Address: addr, Gateway: gw, DefaultRoute: true, DNS: dns}
}

// static6 is static IPv4 192.0.2.10/24 with static IPv6.
func static6(addr6, gw6 string, dns6 ...string) Form {
	return Form{Interface: "eth0", Address: "192.0.2.10/24", IPv6: IPv6Static, Address6: addr6, Gateway6: gw6, DNS6: dns6}
}

func TestParseForm(t *testing.T) {
	tests := []struct {
		name string
		form Form
		// errs are the expected error sentences, in order; none means valid.
		errs []string
		// want is checked for valid forms.
		want *Config
	}{
		{name: "static ok", form: static("192.0.2.10/24", "192.0.2.1", "192.0.2.53", "198.51.100.53"),
			want: &Config{Interface: "eth0", Mode: ModeStatic, Address: netip.MustParsePrefix("192.0.2.10/24"),
				Gateway: netip.MustParseAddr("192.0.2.1"), DefaultRoute: true,
				DNS: []netip.Addr{netip.MustParseAddr("192.0.2.53"), netip.MustParseAddr("198.51.100.53")}}},
		{name: "dhcp ignores static fields", form: Form{Interface: "eth0", DHCP: true, Address: "junk", Gateway: "junk"},
			want: &Config{Interface: "eth0", Mode: ModeDHCP}},
		{name: "spaces trimmed and blank dns skipped", form: Form{Interface: " eth0 ", Address: " 192.0.2.10/24 ", Gateway: " 192.0.2.1", DefaultRoute: true, DNS: []string{"", " 192.0.2.53 "}},
			want: &Config{Interface: "eth0", Mode: ModeStatic, Address: netip.MustParsePrefix("192.0.2.10/24"),
				Gateway: netip.MustParseAddr("192.0.2.1"), DefaultRoute: true, DNS: []netip.Addr{netip.MustParseAddr("192.0.2.53")}}},
		{name: "netmask instead of prefix", form: Form{Interface: "eth0", Address: "192.0.2.10", Netmask: "255.255.255.0", Gateway: "192.0.2.1", DefaultRoute: true},
			want: &Config{Interface: "eth0", Mode: ModeStatic, Address: netip.MustParsePrefix("192.0.2.10/24"), Gateway: netip.MustParseAddr("192.0.2.1"), DefaultRoute: true}},
		{name: "netmask as /n", form: Form{Interface: "eth0", Address: "198.51.100.7", Netmask: "/25", Gateway: "198.51.100.1", DefaultRoute: true},
			want: &Config{Interface: "eth0", Mode: ModeStatic, Address: netip.MustParsePrefix("198.51.100.7/25"), Gateway: netip.MustParseAddr("198.51.100.1"), DefaultRoute: true}},
		{name: "netmask agreeing with prefix", form: Form{Interface: "eth0", Address: "192.0.2.10/24", Netmask: "255.255.255.0", Gateway: "192.0.2.1", DefaultRoute: true},
			want: &Config{Interface: "eth0", Mode: ModeStatic, Address: netip.MustParsePrefix("192.0.2.10/24"), Gateway: netip.MustParseAddr("192.0.2.1"), DefaultRoute: true}},
		{name: "slash 31 both ends usable", form: static("192.0.2.0/31", "192.0.2.1"),
			want: &Config{Interface: "eth0", Mode: ModeStatic, Address: netip.MustParsePrefix("192.0.2.0/31"), Gateway: netip.MustParseAddr("192.0.2.1"), DefaultRoute: true}},
		{name: "slash 32 with on-link gateway", form: static("198.51.100.10/32", "198.51.100.1"),
			want: &Config{Interface: "eth0", Mode: ModeStatic, Address: netip.MustParsePrefix("198.51.100.10/32"), Gateway: netip.MustParseAddr("198.51.100.1"), DefaultRoute: true}},
		{name: "slash 30 host", form: static("192.0.2.9/30", "192.0.2.10"),
			want: &Config{Interface: "eth0", Mode: ModeStatic, Address: netip.MustParsePrefix("192.0.2.9/30"), Gateway: netip.MustParseAddr("192.0.2.10"), DefaultRoute: true}},
		{name: "loopback dns allowed (local stub)", form: static("192.0.2.10/24", "192.0.2.1", "127.0.0.53"),
			want: &Config{Interface: "eth0", Mode: ModeStatic, Address: netip.MustParsePrefix("192.0.2.10/24"), Gateway: netip.MustParseAddr("192.0.2.1"), DefaultRoute: true, DNS: []netip.Addr{netip.MustParseAddr("127.0.0.53")}}},

		{name: "everything empty", form: Form{}, errs: []string{
			"Address is required for a static configuration.",
			"Interface is required."}},
		{name: "dhcp without interface", form: Form{DHCP: true}, errs: []string{"Interface is required."}},
		{name: "missing interface", form: Form{Interface: "eth9", DHCP: true}, errs: []string{"Interface eth9 does not exist."}},
		{name: "interface not ethernet", form: Form{Interface: "wg0", DHCP: true}, errs: []string{"Interface wg0 is not Ethernet-like; choose a wired interface."}},
		{name: "address garbage", form: static("192.0.2.300/24", "192.0.2.1"), errs: []string{`Address "192.0.2.300/24" is not an address with a prefix length, like 192.0.2.10/24.`}},
		{name: "prefix too long", form: static("192.0.2.10/33", "192.0.2.1"), errs: []string{`Address "192.0.2.10/33" is not an address with a prefix length, like 192.0.2.10/24.`}},
		{name: "address without prefix or netmask", form: static("192.0.2.10", "192.0.2.1"), errs: []string{"Address 192.0.2.10 needs a prefix length (like 192.0.2.10/24) or a netmask."}},
		{name: "address not an ip", form: Form{Interface: "eth0", Address: "node", Netmask: "255.255.255.0", Gateway: "192.0.2.1", DefaultRoute: true}, errs: []string{`Address "node" is not an IP address.`}},
		{name: "prefix zero", form: static("192.0.2.10/0", "192.0.2.1"), errs: []string{"Address 192.0.2.10/0 has prefix /0; use a prefix length from /1 to /32."}},
		{name: "network address", form: static("192.0.2.0/24", "192.0.2.1"), errs: []string{"Address 192.0.2.0 is the network address of 192.0.2.0/24; choose a host address."}},
		{name: "broadcast address", form: static("192.0.2.255/24", "192.0.2.1"), errs: []string{"Address 192.0.2.255 is the broadcast address of 192.0.2.0/24; choose a host address."}},
		{name: "network address of /30", form: static("192.0.2.8/30", "192.0.2.9"), errs: []string{"Address 192.0.2.8 is the network address of 192.0.2.8/30; choose a host address."}},
		{name: "broadcast address of /30", form: static("192.0.2.11/30", "192.0.2.9"), errs: []string{"Address 192.0.2.11 is the broadcast address of 192.0.2.8/30; choose a host address."}},
		{name: "loopback address", form: static("127.0.0.2/8", "127.0.0.1"), errs: []string{"Address 127.0.0.2 is a loopback address.", "Gateway 127.0.0.1 is a loopback address."}},
		{name: "multicast address", form: static("224.0.0.5/24", "192.0.2.1"), errs: []string{"Address 224.0.0.5 is a multicast address."}},
		{name: "link-local address", form: static("169.254.1.1/16", "169.254.0.1"), errs: []string{"Address 169.254.1.1 is a link-local address.", "Gateway 169.254.0.1 is a link-local address."}},
		{name: "unspecified address", form: static("0.0.0.0/24", "192.0.2.1"), errs: []string{"Address 0.0.0.0 is the unspecified address."}},
		{name: "reserved class E", form: static("240.0.0.1/24", "192.0.2.1"), errs: []string{"Address 240.0.0.1 is a reserved or broadcast address."}},
		{name: "ipv6 address refused", form: static("2001:db8::10/64", "2001:db8::1"), errs: []string{
			"Address 2001:db8::10 is IPv6; only IPv4 is supported here: set IPv6 to static for an IPv6 address.",
			"Gateway 2001:db8::1 is IPv6; only IPv4 is supported here: set IPv6 to static for an IPv6 address."}},
		{name: "bad netmask", form: Form{Interface: "eth0", Address: "192.0.2.10", Netmask: "255.255.256.0", Gateway: "192.0.2.1", DefaultRoute: true}, errs: []string{`Netmask "255.255.256.0" is not a netmask like 255.255.255.0.`}},
		{name: "non-contiguous netmask", form: Form{Interface: "eth0", Address: "192.0.2.10", Netmask: "255.0.255.0", Gateway: "192.0.2.1", DefaultRoute: true}, errs: []string{"Netmask 255.0.255.0 is not contiguous (its one bits must come first)."}},
		{name: "netmask out of range", form: Form{Interface: "eth0", Address: "192.0.2.10", Netmask: "40", Gateway: "192.0.2.1", DefaultRoute: true}, errs: []string{"Netmask /40 is out of range; use /1 to /32."}},
		{name: "netmask disagrees with prefix", form: Form{Interface: "eth0", Address: "192.0.2.10/16", Netmask: "255.255.255.0", Gateway: "192.0.2.1", DefaultRoute: true}, errs: []string{"Netmask 255.255.255.0 disagrees with the address prefix /16; give one or the other."}},
		{name: "gateway missing", form: static("192.0.2.10/24", ""), errs: []string{"Gateway is required for the default route; give one, or turn off the default route via this interface."}},
		{name: "gateway garbage", form: static("192.0.2.10/24", "gw"), errs: []string{`Gateway "gw" is not an IP address.`}},
		{name: "gateway outside subnet", form: static("192.0.2.10/24", "198.51.100.1"), errs: []string{"Gateway 198.51.100.1 is outside the subnet 192.0.2.0/24."}},
		{name: "gateway equals address", form: static("192.0.2.10/24", "192.0.2.10"), errs: []string{"Gateway 192.0.2.10 is the same as the address; it must be another host."}},
		{name: "gateway is network address", form: static("192.0.2.10/24", "192.0.2.0"), errs: []string{"Gateway 192.0.2.0 is the network address of 192.0.2.0/24; choose a host address."}},
		{name: "gateway is broadcast", form: static("192.0.2.10/24", "192.0.2.255"), errs: []string{"Gateway 192.0.2.255 is the broadcast address of 192.0.2.0/24; choose a host address."}},
		{name: "gateway equals /32 address", form: static("198.51.100.10/32", "198.51.100.10"), errs: []string{"Gateway 198.51.100.10 is the same as the address; it must be another host."}},
		{name: "slash 31 gateway outside", form: static("192.0.2.0/31", "192.0.2.2"), errs: []string{"Gateway 192.0.2.2 is outside the subnet 192.0.2.0/31."}},
		{name: "dns garbage", form: static("192.0.2.10/24", "192.0.2.1", "dns.example"), errs: []string{`DNS server 1 "dns.example" is not an IP address.`}},
		{name: "dns multicast", form: static("192.0.2.10/24", "192.0.2.1", "192.0.2.53", "224.0.0.251"), errs: []string{"DNS server 2 224.0.0.251 is not a unicast address."}},
		{name: "dns unspecified", form: static("192.0.2.10/24", "192.0.2.1", "0.0.0.0"), errs: []string{"DNS server 1 0.0.0.0 is not a unicast address."}},
		{name: "dns broadcast", form: static("192.0.2.10/24", "192.0.2.1", "255.255.255.255"), errs: []string{"DNS server 1 255.255.255.255 is not a unicast address."}},
		{name: "dns reserved class E", form: static("192.0.2.10/24", "192.0.2.1", "250.1.2.3"), errs: []string{"DNS server 1 250.1.2.3 is not a unicast address."}},
		{name: "dns duplicate keeps form positions", form: static("192.0.2.10/24", "192.0.2.1", "192.0.2.53", "", "192.0.2.53"), errs: []string{"DNS server 3 192.0.2.53 duplicates DNS server 1."}},
		{name: "dns ipv6 refused", form: static("192.0.2.10/24", "192.0.2.1", "2001:db8::53"), errs: []string{"DNS server 1 2001:db8::53 is IPv6; only IPv4 is supported here: put it in the IPv6 DNS servers."}},
		{name: "too many dns", form: static("192.0.2.10/24", "192.0.2.1", "192.0.2.53", "192.0.2.54", "192.0.2.55", "192.0.2.56"), errs: []string{"DNS takes at most 3 servers; 4 were given."}},
		{name: "mtu and routes ok", form: Form{Interface: "eth0", Address: "192.0.2.10/24", MTU: " 1400 ", Routes: []string{"10.20.0.0/16@192.0.2.254", "", "203.0.113.0/24 @ 192.0.2.1"}},
			want: &Config{Interface: "eth0", Mode: ModeStatic, Address: netip.MustParsePrefix("192.0.2.10/24"), MTU: 1400,
				Routes: []Route{{netip.MustParsePrefix("10.20.0.0/16"), netip.MustParseAddr("192.0.2.254")}, {netip.MustParsePrefix("203.0.113.0/24"), netip.MustParseAddr("192.0.2.1")}}}},
		{name: "mtu with dhcp", form: Form{Interface: "eth0", DHCP: true, MTU: "9000"}, want: &Config{Interface: "eth0", Mode: ModeDHCP, MTU: 9000}},
		{name: "mtu garbage", form: Form{Interface: "eth0", DHCP: true, MTU: "jumbo"}, errs: []string{`MTU "jumbo" is not a whole number of bytes.`}},
		{name: "mtu too small", form: Form{Interface: "eth0", DHCP: true, MTU: "67"}, errs: []string{"MTU 67 is out of range; use 68 to 9000."}},
		{name: "mtu too big", form: Form{Interface: "eth0", DHCP: true, MTU: "9001"}, errs: []string{"MTU 9001 is out of range; use 68 to 9000."}},
		{name: "routes with dhcp", form: Form{Interface: "eth0", DHCP: true, Routes: []string{"10.20.0.0/16@192.0.2.254"}}, errs: []string{"Routes for IPv4 need a static address; with DHCP the server's routes are used."}},
		{name: "route garbage", form: Form{Interface: "eth0", Address: "192.0.2.10/24", Routes: []string{"10.20.0.0/16", "10.0.0.0/8@gw"}}, errs: []string{
			`Route 1 "10.20.0.0/16" is not DESTINATION@GATEWAY, like 10.20.0.0/16@192.0.2.254.`,
			`Route 2 "10.0.0.0/8@gw" is not DESTINATION@GATEWAY, like 10.20.0.0/16@192.0.2.254.`}},
		{name: "route semantic errors keep form positions", form: Form{Interface: "eth0", Address: "192.0.2.10/24", Routes: []string{
			"", "0.0.0.0/0@192.0.2.1", "10.20.1.0/16@192.0.2.1", "10.30.0.0/16@198.51.100.1", "10.40.0.0/16@192.0.2.10",
			"10.40.0.0/16@192.0.2.2", "2001:db8::/32@192.0.2.1", "10.50.0.0/16@169.254.0.1", "224.0.0.0/4@192.0.2.1", "::ffff:10.0.0.0/104@192.0.2.1", "10.60.0.0/16@::ffff:192.0.2.1"}}, errs: []string{
			"Route 2 destination 0.0.0.0/0 is the default route; use the default route via this interface instead.",
			"Route 3 destination 10.20.1.0/16 has host bits set; write 10.20.0.0/16.",
			"Route 4 gateway 198.51.100.1 is outside the subnet 192.0.2.0/24.",
			"Route 5 gateway 192.0.2.10 is the address itself; it must be another host.",
			"Route 6 destination 10.40.0.0/16 duplicates route 5.",
			"Route 7 destination 2001:db8::/32 is IPv6 but its gateway 192.0.2.1 is IPv4; give a gateway of the same family.",
			"Route 8 gateway 169.254.0.1 is a link-local address.",
			"Route 9 destination 224.0.0.0/4 is not a unicast network.",
			"Route 10 destination ::ffff:10.0.0.0/104 is an IPv4-mapped IPv6 address; write it as 10.0.0.0/8.",
			"Route 11 gateway ::ffff:192.0.2.1 is an IPv4-mapped IPv6 address; write it as 192.0.2.1."}},
		{name: "vlan ok", form: Form{Interface: "eth0", DHCP: true, VLAN: " 4094 "}, want: &Config{Interface: "eth0", VLAN: 4094, Mode: ModeDHCP}},
		{name: "vlan garbage", form: Form{Interface: "eth0", DHCP: true, VLAN: "mgmt"}, errs: []string{`VLAN "mgmt" is not a VLAN ID like 100.`}},
		{name: "vlan zero", form: Form{Interface: "eth0", DHCP: true, VLAN: "0"}, errs: []string{"VLAN 0 is out of range; use 1 to 4094."}},
		{name: "vlan 4095", form: Form{Interface: "eth0", DHCP: true, VLAN: "4095"}, errs: []string{"VLAN 4095 is out of range; use 1 to 4094."}},
		{name: "vlan on a missing nic", form: Form{Interface: "eth9", DHCP: true, VLAN: "100"}, errs: []string{"Interface eth9 does not exist."}},
		{name: "vlan link name too long", form: Form{Interface: "enp0s31f6abcd", DHCP: true, VLAN: "100"}, errs: []string{"VLAN link name enp0s31f6abcd.100 is longer than 15 characters, which Linux does not allow."}},
		{name: "ipv6 static ok", form: static6("2001:db8:1::10/64", "fe80::1", "2001:db8::53"),
			want: &Config{Interface: "eth0", Mode: ModeStatic, Address: netip.MustParsePrefix("192.0.2.10/24"), IPv6: IPv6Static,
				Address6: netip.MustParsePrefix("2001:db8:1::10/64"), Gateway6: netip.MustParseAddr("fe80::1"), DNS6: []netip.Addr{netip.MustParseAddr("2001:db8::53")}}},
		{name: "ipv6 static gateway in prefix, unique local", form: static6(" fd00:1::10/48 ", " fd00:1::1 "),
			want: &Config{Interface: "eth0", Mode: ModeStatic, Address: netip.MustParsePrefix("192.0.2.10/24"), IPv6: IPv6Static,
				Address6: netip.MustParsePrefix("fd00:1::10/48"), Gateway6: netip.MustParseAddr("fd00:1::1")}},
		{name: "ipv6 static without gateway", form: static6("2001:db8:1::10/64", ""),
			want: &Config{Interface: "eth0", Mode: ModeStatic, Address: netip.MustParsePrefix("192.0.2.10/24"), IPv6: IPv6Static, Address6: netip.MustParsePrefix("2001:db8:1::10/64")}},
		{name: "ipv6 /128 with link-local gateway", form: static6("2001:db8:1::10/128", "fe80::1"),
			want: &Config{Interface: "eth0", Mode: ModeStatic, Address: netip.MustParsePrefix("192.0.2.10/24"), IPv6: IPv6Static,
				Address6: netip.MustParsePrefix("2001:db8:1::10/128"), Gateway6: netip.MustParseAddr("fe80::1")}},
		{name: "ipv6 auto ignores static fields", form: Form{Interface: "eth0", DHCP: true, IPv6: " Auto ", Address6: "junk", Gateway6: "junk", MTU: "1280"},
			want: &Config{Interface: "eth0", Mode: ModeDHCP, IPv6: IPv6Auto, MTU: 1280}},
		{name: "ipv6 off allows a small mtu", form: Form{Interface: "eth0", DHCP: true, IPv6: "off", MTU: "576", DNS6: []string{"junk"}},
			want: &Config{Interface: "eth0", Mode: ModeDHCP, IPv6: IPv6Off, MTU: 576}},
		{name: "ipv6 dhcp", form: Form{Interface: "eth0", DHCP: true, IPv6: "dhcp"}, want: &Config{Interface: "eth0", Mode: ModeDHCP, IPv6: IPv6DHCP}},
		{name: "ipv6 mode garbage", form: Form{Interface: "eth0", DHCP: true, IPv6: "slaac"}, errs: []string{`IPv6 mode "slaac" is not off, auto, dhcp or static.`}},
		{name: "ipv6 mtu too small", form: Form{Interface: "eth0", DHCP: true, IPv6: "auto", MTU: "1279"}, errs: []string{"MTU 1279 is too small for IPv6; use 1280 to 9000, or turn IPv6 off."}},
		{name: "ipv6 address required", form: static6("", ""), errs: []string{"IPv6 address is required for static IPv6."}},
		{name: "ipv6 address garbage", form: static6("2001:db8::g/64", ""), errs: []string{`IPv6 address "2001:db8::g/64" is not an address with a prefix length, like 2001:db8::10/64.`}},
		{name: "ipv6 address without prefix", form: static6("2001:db8::10", ""), errs: []string{"IPv6 address 2001:db8::10 needs a prefix length, like 2001:db8::10/64."}},
		{name: "ipv6 address link-local", form: static6("fe80::10/64", "fe80::1"), errs: []string{"IPv6 address fe80::10 is link-local; the kernel makes one by itself, so give a global or unique local address."}},
		{name: "ipv6 address ipv4-mapped", form: static6("::ffff:192.0.2.10/120", ""), errs: []string{"IPv6 address ::ffff:192.0.2.10 is an IPv4-mapped address; put 192.0.2.10 in Address."}},
		{name: "ipv6 address is ipv4", form: static6("192.0.2.10/24", ""), errs: []string{"IPv6 address 192.0.2.10 is IPv4; put it in Address."}},
		{name: "ipv6 address loopback multicast unspecified", form: Form{Interface: "eth0", Address: "192.0.2.10/24", IPv6: IPv6Static, Address6: "::1/128", DNS6: []string{"ff02::1", "::"}}, errs: []string{
			"IPv6 DNS server 1 ff02::1 is a multicast address.",
			"IPv6 DNS server 2 :: is the unspecified address.",
			"IPv6 address ::1 is the loopback address."}},
		{name: "ipv6 prefix zero", form: static6("2001:db8::10/0", ""), errs: []string{"IPv6 address 2001:db8::10/0 has prefix /0; use a prefix length from /1 to /128 (usually /64)."}},
		{name: "ipv6 subnet-router anycast", form: static6("2001:db8:1::/64", ""), errs: []string{"IPv6 address 2001:db8:1:: is the subnet-router anycast address of 2001:db8:1::/64; choose a host address."}},
		{name: "ipv6 gateway outside prefix", form: static6("2001:db8:1::10/64", "2001:db8:2::1"), errs: []string{"IPv6 gateway 2001:db8:2::1 is outside the prefix 2001:db8:1::/64; give one inside it, or the router's link-local address (fe80::...)."}},
		{name: "ipv6 gateway not on-link with /128", form: static6("2001:db8:1::10/128", "2001:db8:1::1"), errs: []string{"IPv6 gateway 2001:db8:1::1 is not on-link with a /128 address; give the router's link-local address (fe80::...)."}},
		{name: "ipv6 gateway is the address", form: static6("2001:db8:1::10/64", "2001:db8:1::10"), errs: []string{"IPv6 gateway 2001:db8:1::10 is the address itself; it must be another host."}},
		{name: "ipv6 gateway with zone", form: static6("2001:db8:1::10/64", "fe80::1%eth0"), errs: []string{"IPv6 gateway fe80::1%eth0 has a zone; leave out %eth0 (it is the interface being set)."}},
		{name: "ipv6 gateway garbage and ipv4-mapped", form: static6("2001:db8:1::10/64", "::ffff:192.0.2.1"), errs: []string{"IPv6 gateway ::ffff:192.0.2.1 is an IPv4-mapped address; put 192.0.2.1 in Gateway."}},
		{name: "ipv6 gateway garbage", form: static6("2001:db8:1::10/64", "router"), errs: []string{`IPv6 gateway "router" is not an IP address.`}},
		{name: "ipv6 dns errors keep form positions", form: static6("2001:db8:1::10/64", "", "", "2001:db8::53", "fe80::53", "2001:db8::53", "x"), errs: []string{
			`IPv6 DNS server 5 "x" is not an IP address.`,
			"IPv6 DNS server 3 fe80::53 is a link-local address, which resolv.conf cannot name; give a global one.",
			"IPv6 DNS server 4 2001:db8::53 duplicates IPv6 DNS server 2."}},
		{name: "ipv6 dns and dns over three", form: Form{Interface: "eth0", Address: "192.0.2.10/24", DNS: []string{"192.0.2.53", "192.0.2.54"}, IPv6: IPv6Auto, DNS6: []string{"2001:db8::53", "2001:db8::54"}},
			errs: []string{"IPv6 DNS servers and DNS servers together take at most 3; 4 were given."}},
		{name: "ipv6 dns with dhcp", form: Form{Interface: "eth0", DHCP: true, IPv6: IPv6Static, Address6: "2001:db8:1::10/64", DNS6: []string{"2001:db8::53"}},
			errs: []string{"IPv6 DNS servers need a static IPv4 configuration; with DHCP the server's DNS servers are used."}},
		{name: "every field wrong at once", form: Form{Interface: "wg0", Address: "192.0.2.255/24", Netmask: "255.255.0.0", Gateway: "198.51.100.1", DefaultRoute: true, DNS: []string{"x", "224.0.0.1"}}, errs: []string{
			"Netmask 255.255.0.0 disagrees with the address prefix /24; give one or the other.",
			`DNS server 1 "x" is not an IP address.`,
			"Interface wg0 is not Ethernet-like; choose a wired interface.",
			"Address 192.0.2.255 is the broadcast address of 192.0.2.0/24; choose a host address.",
			"DNS server 2 224.0.0.1 is not a unicast address."}},
	}
	if len(tests) < 30 {
		t.Fatalf("validation table has %d cases, want at least 30", len(tests))
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := ParseForm(tt.form, testStatus)
			var got []string
			for _, fe := range FieldErrors(err) {
				got = append(got, fe.Message)
				if !strings.HasPrefix(fe.Message, strings.ToUpper(string(fe.Field[:1]))) && fe.Field != FieldDNS && !strings.HasPrefix(fe.Message, "IPv6 ") {
					t.Errorf("message %q does not start with its field %q", fe.Message, fe.Field)
				}
			}
			if err != nil && len(got) == 0 {
				t.Fatalf("error without field errors: %v", err)
			}
			if !reflect.DeepEqual(got, tt.errs) {
				t.Errorf("errors:\n got %q\nwant %q", got, tt.errs)
			}
			if tt.want != nil && !reflect.DeepEqual(cfg, *tt.want) {
				t.Errorf("config:\n got %+v\nwant %+v", cfg, *tt.want)
			}
		})
	}
}

func TestFieldErrorsCarryFieldAndIndex(t *testing.T) {
	_, err := ParseForm(static("192.0.2.10/24", "198.51.100.1", "", "224.0.0.1"), testStatus)
	fes := FieldErrors(err)
	if len(fes) != 2 || fes[0].Field != FieldGateway || fes[0].Index != -1 || fes[1].Field != FieldDNS || fes[1].Index != 1 {
		t.Fatalf("field errors = %+v", fes)
	}
}

func TestConfigValidateTyped(t *testing.T) {
	cfg := Config{Interface: "eth0", Mode: ModeStatic, DefaultRoute: true}
	got := FieldErrors(cfg.Validate(testStatus))
	if len(got) != 2 || got[0].Field != FieldAddress || got[1].Field != FieldGateway {
		t.Errorf("typed config without address and gateway: %v", got)
	}
	if err := (Config{Interface: "eth0", Mode: "ppp"}).Validate(testStatus); err == nil {
		t.Error("unknown mode accepted")
	}
}

func TestConfigJSONRoundTrip(t *testing.T) {
	cfg := Config{Interface: "eth0", Mode: ModeStatic, Address: netip.MustParsePrefix("192.0.2.10/24"),
		Gateway: netip.MustParseAddr("192.0.2.1"), DefaultRoute: true, DNS: []netip.Addr{netip.MustParseAddr("192.0.2.53")}}
	b, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"interface":"eth0","mode":"static","address":"192.0.2.10/24","gateway":"192.0.2.1","defaultRoute":true,"dns":["192.0.2.53"]}`; string(b) != want {
		t.Errorf("json %s, want %s", b, want)
	}
	var back Config
	if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(back, cfg) {
		t.Errorf("round trip: %+v, %v", back, err)
	}
	b, _ = json.Marshal(Config{Interface: "eth0", Mode: ModeDHCP})
	if want := `{"interface":"eth0","mode":"dhcp"}`; string(b) != want {
		t.Errorf("dhcp json %s, want %s", b, want)
	}
}

// TestIPv4MappedRefused: an IPv4-mapped IPv6 address (::ffff:a.b.c.d) is
// refused with a field error; the kernel would otherwise get an IPv6
// address with an IPv6 prefix length (issue 12).
func TestIPv4MappedRefused(t *testing.T) {
	tests := []struct {
		name  string
		form  Form
		field Field
		index int
		msg   string
	}{
		{"address with /120", static("::ffff:192.0.2.10/120", "192.0.2.1"), FieldAddress, -1,
			"Address ::ffff:192.0.2.10 is an IPv4-mapped IPv6 address; write it as 192.0.2.10."},
		{"address with netmask", Form{Interface: "eth0", Address: "::ffff:192.0.2.10", Netmask: "255.255.255.0", Gateway: "192.0.2.1", DefaultRoute: true}, FieldAddress, -1,
			"Address ::ffff:192.0.2.10 is an IPv4-mapped IPv6 address; write it as 192.0.2.10."},
		{"address with /24", static("::ffff:192.0.2.10/24", "192.0.2.1"), FieldAddress, -1,
			"Address ::ffff:192.0.2.10 is an IPv4-mapped IPv6 address; write it as 192.0.2.10."},
		{"gateway", static("192.0.2.10/24", "::ffff:192.0.2.1"), FieldGateway, -1,
			"Gateway ::ffff:192.0.2.1 is an IPv4-mapped IPv6 address; write it as 192.0.2.1."},
		{"dns", static("192.0.2.10/24", "192.0.2.1", "192.0.2.53", "::ffff:192.0.2.54"), FieldDNS, 1,
			"DNS server 2 ::ffff:192.0.2.54 is an IPv4-mapped IPv6 address; write it as 192.0.2.54."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseForm(tt.form, testStatus)
			fes := FieldErrors(err)
			if len(fes) != 1 || fes[0].Field != tt.field || fes[0].Index != tt.index || fes[0].Message != tt.msg {
				t.Fatalf("field errors = %+v, want one on %s[%d]: %q", fes, tt.field, tt.index, tt.msg)
			}
		})
	}
	// A typed Config (network.json, the CLI) is refused the same way.
	cfg := Config{Interface: "eth0", Mode: ModeStatic, Address: netip.MustParsePrefix("::ffff:192.0.2.10/120"), Gateway: netip.MustParseAddr("192.0.2.1"), DefaultRoute: true}
	if fes := FieldErrors(cfg.Validate(testStatus)); len(fes) != 1 || fes[0].Field != FieldAddress {
		t.Fatalf("typed config: %+v", fes)
	}
}

// TestDefaultRouteChoice: a static address needs a gateway only with the
// default route, and a gateway without the default route is refused (it
// would do nothing).
func TestDefaultRouteChoice(t *testing.T) {
	for _, tt := range []struct {
		name string
		form Form
		errs []string
	}{
		{"second NIC without gateway", Form{Interface: "eth0", Address: "198.51.100.20/24"}, nil},
		{"default route needs a gateway", Form{Interface: "eth0", Address: "198.51.100.20/24", DefaultRoute: true},
			[]string{"Gateway is required for the default route; give one, or turn off the default route via this interface."}},
		{"gateway without default route", Form{Interface: "eth0", Address: "198.51.100.20/24", Gateway: "198.51.100.1"},
			[]string{"Gateway 198.51.100.1 is used only for the default route; turn on the default route via this interface, or leave Gateway empty."}},
	} {
		cfg, err := ParseForm(tt.form, testStatus)
		var got []string
		for _, fe := range FieldErrors(err) {
			got = append(got, fe.Message)
		}
		if !reflect.DeepEqual(got, tt.errs) {
			t.Errorf("%s: errors %q, want %q", tt.name, got, tt.errs)
		}
		if tt.errs == nil && (cfg.DefaultRoute || cfg.Gateway.IsValid()) {
			t.Errorf("%s: config %+v", tt.name, cfg)
		}
	}
}

// A network.json saved before the choice existed meant the default route.
func TestConfigJSONWithoutDefaultRoute(t *testing.T) {
	var c Config
	if err := json.Unmarshal([]byte(`{"interface":"eth0","mode":"static","address":"192.0.2.10/24","gateway":"192.0.2.1"}`), &c); err != nil {
		t.Fatal(err)
	}
	if !c.DefaultRoute {
		t.Error("an old static config with a gateway must keep the default route")
	}
	if err := json.Unmarshal([]byte(`{"interface":"eth1","mode":"static","address":"198.51.100.2/24","defaultRoute":false}`), &c); err != nil || c.DefaultRoute || c.Gateway.IsValid() {
		t.Errorf("config %+v, %v", c, err)
	}
}

func TestRenderNetworkdWithoutDefaultRoute(t *testing.T) {
	got := string(RenderNetworkd(Config{Interface: "eth1", Mode: ModeStatic, Address: netip.MustParsePrefix("198.51.100.2/24")}))
	if strings.Contains(got, "Gateway") || !strings.Contains(got, "Address=198.51.100.2/24") {
		t.Errorf("networkd file:\n%s", got)
	}
}

// TestVLANMTUFitsTheNIC: a VLAN's MTU above its NIC's is refused in one
// sentence before anything changes (the kernel refuses it with ERANGE,
// which reached the screen as "numerical result out of range (previous
// settings restored)"); up to the NIC's MTU it is accepted, and the NIC
// itself may go up to 9000.
func TestVLANMTUFitsTheNIC(t *testing.T) {
	st := Status{Interfaces: []Interface{{Name: "eth0", Index: 2, State: LinkUp, Ethernet: true, MTU: 1500}}}
	_, err := ParseForm(Form{Interface: "eth0", DHCP: true, VLAN: "42", MTU: "9000"}, st)
	if want := "MTU 9000 is more than the MTU of eth0 (1500), which a VLAN on it cannot exceed; use 1500 or less, or raise eth0's MTU first."; err == nil || err.Error() != want {
		t.Errorf("VLAN MTU 9000 on a 1500 NIC: %v, want %q", err, want)
	}
	for _, f := range []Form{{Interface: "eth0", DHCP: true, VLAN: "42", MTU: "1500"}, {Interface: "eth0", DHCP: true, MTU: "9000"}} {
		if _, err := ParseForm(f, st); err != nil {
			t.Errorf("%+v refused: %v", f, err)
		}
	}
	sim := NewSimulated()
	ctx := context.Background()
	if err := sim.AddVLAN(ctx, "eth0", 42, "eth0.42"); err != nil {
		t.Fatal(err)
	}
	if err := sim.SetMTU(ctx, "eth0.42", 9000); err == nil {
		t.Error("the simulated network set a VLAN's MTU above its NIC's; the kernel refuses it")
	}
}
