package netconfig

import (
	"context"
	"encoding/json"
	"net/netip"
	"reflect"
	"strings"
	"testing"
)

func static6Config() Config {
	c := cfgStatic("eth0", "192.0.2.10/24", "192.0.2.1", "192.0.2.53")
	c.IPv6, c.Address6, c.Gateway6 = IPv6Static, netip.MustParsePrefix("2001:db8:1::10/64"), netip.MustParseAddr("fe80::1")
	c.DNS6 = []netip.Addr{netip.MustParseAddr("2001:db8::53")}
	return c
}

// TestIPv6TypedConfig: a typed config (network.json, the CLI) is checked
// like a form: static fields need static IPv6, and the JSON keeps every
// IPv6 field (none for a config that leaves IPv6 alone).
func TestIPv6TypedConfig(t *testing.T) {
	c := Config{Interface: "eth0", Mode: ModeDHCP, IPv6: IPv6Auto, Address6: netip.MustParsePrefix("2001:db8::10/64"), Gateway6: netip.MustParseAddr("fe80::1")}
	var got []string
	for _, fe := range FieldErrors(c.Validate(testStatus)) {
		got = append(got, string(fe.Field)+": "+fe.Message)
	}
	want := []string{
		"address6: IPv6 address 2001:db8::10/64 needs static IPv6; leave it empty with IPv6 automatic (SLAAC).",
		"gateway6: IPv6 gateway fe80::1 needs static IPv6; leave it empty with IPv6 automatic (SLAAC).",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("errors %q, want %q", got, want)
	}
	if err := (Config{Interface: "eth0", Mode: ModeDHCP, IPv6: IPv6Static}).Validate(testStatus); len(FieldErrors(err)) != 1 || FieldErrors(err)[0].Field != FieldAddress6 {
		t.Errorf("static IPv6 without an address: %v", err)
	}

	cfg := static6Config()
	b, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"ipv6":"static","address6":"2001:db8:1::10/64","gateway6":"fe80::1","dns6":["2001:db8::53"]`) {
		t.Errorf("json %s", b)
	}
	var back Config
	if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(back, cfg) {
		t.Errorf("round trip: %+v, %v", back, err)
	}
	if b, _ := json.Marshal(cfgStatic("eth0", "192.0.2.10/24", "192.0.2.1")); strings.Contains(string(b), "6") {
		t.Errorf("a config without IPv6 has IPv6 keys: %s", b)
	}
}

func TestIPv6Networkd(t *testing.T) {
	static := static6Config()
	tests := map[string]struct {
		cfg  Config
		want string
	}{
		"static":    {static, "[Network]\nIPv6AcceptRA=no\nAddress=2001:db8:1::10/64\nGateway=fe80::1\nAddress=192.0.2.10/24\nGateway=192.0.2.1\nDNS=192.0.2.53\nDNS=2001:db8::53\n"},
		"auto":      {Config{Interface: "eth0", Mode: ModeDHCP, IPv6: IPv6Auto}, "[Network]\nDHCP=ipv4\nIPv6AcceptRA=yes\n"},
		"dhcp both": {Config{Interface: "eth0", Mode: ModeDHCP, IPv6: IPv6DHCP}, "[Network]\nDHCP=yes\nIPv6AcceptRA=yes\n"},
		"dhcp6 with static ipv4": {Config{Interface: "eth0", Mode: ModeStatic, Address: netip.MustParsePrefix("192.0.2.10/24"), IPv6: IPv6DHCP},
			"[Network]\nDHCP=ipv6\nIPv6AcceptRA=yes\nAddress=192.0.2.10/24\n"},
		"off":   {Config{Interface: "eth0", Mode: ModeDHCP, IPv6: IPv6Off}, "[Network]\nDHCP=ipv4\nLinkLocalAddressing=no\nIPv6AcceptRA=no\n"},
		"unset": {Config{Interface: "eth0", Mode: ModeDHCP}, "[Network]\nDHCP=ipv4\n"},
	}
	for name, tt := range tests {
		if got := string(RenderNetworkd(tt.cfg)); !strings.HasSuffix(got, "\n\n"+tt.want) {
			t.Errorf("%s:\n%s\nwant it to end with:\n%s", name, got, tt.want)
		}
	}
}

func TestIPv6PreviewAndChanges(t *testing.T) {
	st := Status{Interfaces: []Interface{{Name: "eth0", Ethernet: true, Addrs: []netip.Prefix{
		netip.MustParsePrefix("192.0.2.10/24"), netip.MustParsePrefix("2001:db8:9::5/64")}, Default: true}},
		Gateway: netip.MustParseAddr("192.0.2.1"), GatewayInterface: "eth0",
		Gateway6: netip.MustParseAddr("fe80::9"), Gateway6Interface: "eth0", DNS: []netip.Addr{netip.MustParseAddr("192.0.2.53")}}
	cfg := static6Config()
	diffLines(t, "static", PreviewChanges(st, cfg).Lines(), []string{
		"Interface eth0",
		"Mode          static (unchanged)",
		"Address       192.0.2.10/24 (unchanged)",
		"Default route 192.0.2.1 via eth0 (unchanged)",
		"DNS           192.0.2.53 -> 192.0.2.53, 2001:db8::53",
		"IPv6          2001:db8:9::5/64 -> 2001:db8:1::10/64",
		"IPv6 default  fe80::9 via eth0 -> fe80::1 via eth0",
		"Warning: eth0 carries the default route; a mistake can cut this node off, so the change reverts by itself unless you confirm it.",
	})
	auto := Config{Interface: "eth0", Mode: ModeDHCP, IPv6: IPv6Auto}
	p := PreviewChanges(st, auto).Lines()
	diffLines(t, "auto", p[5:7], []string{"IPv6          2001:db8:9::5/64 -> automatic (SLAAC)", "IPv6 default  fe80::9 via eth0 -> from router advertisements"})
	if p := PreviewChanges(st, Config{Interface: "eth0", Mode: ModeDHCP, IPv6: IPv6Off}).Lines(); p[5] != "IPv6          2001:db8:9::5/64 -> off" {
		t.Errorf("off: %q", p)
	}
	diffLines(t, "changes", ConfigChanges(auto, cfg), []string{
		"mode dhcp -> static", "address none -> 192.0.2.10/24", "gateway none -> 192.0.2.1", "default route off -> on", "dns none -> 192.0.2.53",
		"ipv6 auto -> static", "ipv6 address none -> 2001:db8:1::10/64", "ipv6 gateway none -> fe80::1", "ipv6 dns none -> 2001:db8::53"})
}

// TestLayersIPv6: Test network gains the IPv6 layers where IPv6 is
// configured (here SLAAC from the simulated router), and DNS over IPv6
// with an IPv6 server.
func TestLayersIPv6(t *testing.T) {
	ctx := context.Background()
	sim := NewSimulated()
	p := &Prober{Reader: sim, Neighbors: sim}
	st, _ := sim.Read(ctx)
	if _, checks := p.Layers(st, ""); len(checks) != 3 {
		t.Errorf("without IPv6: %d layers, want carrier, address, gateway", len(checks))
	}
	if err := sim.SetIPv6(ctx, "eth0", IPv6Settings{Mode: IPv6Auto}); err != nil {
		t.Fatal(err)
	}
	if err := sim.WriteDNS(ctx, []netip.Addr{netip.MustParseAddr("192.0.2.53"), netip.MustParseAddr("2001:db8:5::53")}); err != nil {
		t.Fatal(err)
	}
	st, _ = sim.Read(ctx)
	ifname, checks := p.Layers(st, "")
	var got []string
	for _, c := range checks {
		r := c.Run(ctx)
		if !r.OK {
			t.Errorf("%s", r)
		}
		got = append(got, r.String())
	}
	diffLines(t, "layers of "+ifname, got, []string{
		"OK   carrier  eth0 is up with a carrier",
		"OK   address  192.0.2.10/24 is on eth0",
		"OK   gateway  192.0.2.1 answers ARP (52:54:00:00:00:01)",
		"OK   address6 2001:db8:5::2/64 is on eth0",
		"OK   gateway6 fe80::1 answers neighbour discovery (52:54:00:00:00:01)",
	})
	p.Dial = sim.Dial
	if r := p.ProbeHost(ctx, st, "2001:db8:5::9"); len(r) != 2 || r[0].String() != "FAIL ndp      2001:db8:5::9 does not answer neighbour discovery on eth0 (The host is off, or on another VLAN.)" {
		t.Errorf("probe of an IPv6 host on the link: %q", r)
	}
	// The simulated router answers on its global address too (the gateway
	// a static IPv6 setup in the demo is given).
	if r := p.Gateway(ctx, "eth0", netip.MustParseAddr("2001:db8:5::1")); !r.OK {
		t.Errorf("the simulated router's global address: %s", r)
	}
	_, checks = p.Layers(st, "https://cp.example:8443")
	got = nil
	for _, c := range checks {
		got = append(got, c.Name)
	}
	diffLines(t, "layers with an endpoint", got, []string{"carrier", "address", "gateway", "address6", "gateway6", "dns", "dns6", "tcp", "tls", "clock"})
}
