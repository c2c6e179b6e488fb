package netconfig

import (
	"context"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// TestRoutes6Form: IPv6 static routes go via an IPv6 gateway that is
// link-local or inside the static IPv6 address's prefix, as the IPv6
// gateway does; each bad route is one sentence at its form position.
func TestRoutes6Form(t *testing.T) {
	withRoutes := func(f Form, routes ...string) Form { f.Routes = routes; return f }
	ok := withRoutes(static6("2001:db8:1::10/64", "fe80::1"), "2001:db8:100::/48@2001:db8:1::fe", "10.20.0.0/16@192.0.2.254", "2001:db8:200::/48 @ fe80::2")
	cfg, err := ParseForm(ok, testStatus)
	if err != nil {
		t.Fatalf("valid IPv6 routes refused: %v", err)
	}
	want := []Route{
		{netip.MustParsePrefix("2001:db8:100::/48"), netip.MustParseAddr("2001:db8:1::fe")},
		{netip.MustParsePrefix("10.20.0.0/16"), netip.MustParseAddr("192.0.2.254")},
		{netip.MustParsePrefix("2001:db8:200::/48"), netip.MustParseAddr("fe80::2")},
	}
	if !reflect.DeepEqual(cfg.Routes, want) || !reflect.DeepEqual(cfg.routes(true), []Route{want[0], want[2]}) || !reflect.DeepEqual(cfg.routes(false), want[1:2]) {
		t.Errorf("routes %v (v6 %v, v4 %v)", cfg.Routes, cfg.routes(true), cfg.routes(false))
	}
	// DHCP for IPv4 takes IPv6 routes (static IPv6 is its own family).
	dhcp := withRoutes(Form{Interface: "eth0", DHCP: true, IPv6: IPv6Static, Address6: "2001:db8:1::10/64"}, "2001:db8:100::/48@fe80::1")
	if _, err := ParseForm(dhcp, testStatus); err != nil {
		t.Errorf("IPv6 route with IPv4 DHCP refused: %v", err)
	}

	tests := []struct {
		name string
		form Form
		errs []string
	}{
		{"ipv6 left alone", withRoutes(static("192.0.2.10/24", "192.0.2.1"), "2001:db8:100::/48@fe80::1"),
			[]string{"Route 1 is IPv6, which needs static IPv6; set IPv6 to static, or remove the route."}},
		{"dhcp refuses ipv4 routes only", withRoutes(Form{Interface: "eth0", DHCP: true, IPv6: IPv6Static, Address6: "2001:db8:1::10/64"}, "10.20.0.0/16@192.0.2.254", "2001:db8:100::/48@fe80::1"),
			[]string{"Routes for IPv4 need a static address; with DHCP the server's routes are used."}},
		{"every kind of bad route", withRoutes(static6("2001:db8:1::10/64", ""),
			"2001:db8:100::/48@192.0.2.1", "10.20.0.0/16@2001:db8:1::1", "2001:db8:110::/48@2001:db8:9::1", "2001:db8:300::/48@2001:db8:1::10",
			"::/0@fe80::1", "2001:db8:400::1/48@fe80::1", "fe80::/64@fe80::1", "ff00::/8@fe80::1", "2001:db8:500::/48@ff02::1",
			"2001:db8:600::/48@::ffff:192.0.2.1", "2001:db8:700::/48@fe80::1%eth0", "2001:db8:100::/48@fe80::3", "::1/128@fe80::1"), []string{
			// Unparsed first, as ParseForm reports them.
			"Route 11 gateway fe80::1%eth0 has a zone; leave out %eth0 (it is the interface being set).",
			"Route 1 destination 2001:db8:100::/48 is IPv6 but its gateway 192.0.2.1 is IPv4; give a gateway of the same family.",
			"Route 2 destination 10.20.0.0/16 is IPv4 but its gateway 2001:db8:1::1 is IPv6; give a gateway of the same family.",
			"Route 3 gateway 2001:db8:9::1 is outside the prefix 2001:db8:1::/64; give one inside it, or the router's link-local address (fe80::...).",
			"Route 4 gateway 2001:db8:1::10 is the IPv6 address itself; it must be another host.",
			"Route 5 destination ::/0 is the IPv6 default route; give it as the IPv6 gateway instead.",
			"Route 6 destination 2001:db8:400::1/48 has host bits set; write 2001:db8:400::/48.",
			"Route 7 destination fe80::/64 is link-local, which is never routed.",
			"Route 8 destination ff00::/8 is not a unicast network.",
			"Route 9 gateway ff02::1 is a multicast address.",
			"Route 10 gateway ::ffff:192.0.2.1 is an IPv4-mapped IPv6 address; write it as 192.0.2.1.",
			"Route 12 destination 2001:db8:100::/48 duplicates route 1.",
			"Route 13 destination ::1/128 is not a unicast network.",
		}},
		{"/128 address", withRoutes(static6("2001:db8:1::10/128", "fe80::1"), "2001:db8:100::/48@2001:db8:1::1"),
			[]string{"Route 1 gateway 2001:db8:1::1 is not on-link with a /128 address; give the router's link-local address (fe80::...)."}},
	}
	for _, tt := range tests {
		_, err := ParseForm(tt.form, testStatus)
		var got []string
		for _, fe := range FieldErrors(err) {
			if fe.Field != FieldRoute {
				t.Errorf("%s: error on field %s: %s", tt.name, fe.Field, fe.Message)
			}
			got = append(got, fe.Message)
		}
		diffLines(t, tt.name, got, tt.errs)
	}
}

// TestRoutes6Persisted: IPv6 routes are [Route] sections of the networkd
// file (IPv4 DHCP too), never on-link like the IPv4 ones of a /32, and
// are part of Describe and the saved JSON.
func TestRoutes6Persisted(t *testing.T) {
	c := static6Config()
	c.Address = netip.MustParsePrefix("192.0.2.10/32")
	c.Routes = []Route{{netip.MustParsePrefix("10.20.0.0/16"), netip.MustParseAddr("192.0.2.1")}, {netip.MustParsePrefix("2001:db8:100::/48"), netip.MustParseAddr("fe80::1")}}
	got := string(RenderNetworkd(c))
	if w := "\n[Route]\nDestination=10.20.0.0/16\nGateway=192.0.2.1\nGatewayOnLink=yes\n\n[Route]\nDestination=2001:db8:100::/48\nGateway=fe80::1\n"; !strings.HasSuffix(got, w) {
		t.Errorf("static:\n%s\nwant it to end with:\n%s", got, w)
	}
	d := Config{Interface: "eth0", Mode: ModeDHCP, IPv6: IPv6Static, Address6: netip.MustParsePrefix("2001:db8:1::10/64"), Routes: c.Routes[1:]}
	got = string(RenderNetworkd(d))
	if w := "DHCP=ipv4\nIPv6AcceptRA=no\nAddress=2001:db8:1::10/64\n\n[Route]\nDestination=2001:db8:100::/48\nGateway=fe80::1\n"; !strings.HasSuffix(got, w) {
		t.Errorf("dhcp:\n%s\nwant it to end with:\n%s", got, w)
	}
	if s := d.Describe(); s != "eth0 DHCP route 2001:db8:100::/48@fe80::1 ipv6 static 2001:db8:1::10/64" {
		t.Errorf("Describe = %q", s)
	}
}

// TestRoutes6ApplyRevert: on the simulated network an IPv6 route is
// previewed, applied with static IPv6 and reverted exactly; a config that
// leaves IPv6 alone neither shows nor removes an IPv6 route that is there.
func TestRoutes6ApplyRevert(t *testing.T) {
	ctx := context.Background()
	e := newSimEnv(t)
	cfg := cfgStatic("eth0", "192.0.2.10/24", "192.0.2.1")
	cfg.IPv6, cfg.Address6 = IPv6Static, netip.MustParsePrefix("2001:db8:1::10/64")
	cfg.Routes = []Route{{netip.MustParsePrefix("2001:db8:100::/48"), netip.MustParseAddr("fe80::1")}}
	p, err := e.m.Preview(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if l := p.Lines(); !slices.Contains(l, "IPv6 route    none -> 2001:db8:100::/48 via fe80::1 added") {
		t.Errorf("preview lacks the IPv6 route:\n%s", strings.Join(l, "\n"))
	}
	tr, err := e.m.Apply(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if r := e.sim.Render(); !slices.Contains(r, "route 2001:db8:100::/48 via fe80::1 dev eth0") {
		t.Errorf("applied:\n%s", strings.Join(r, "\n"))
	}
	st, _ := e.m.Status(ctx)
	if ifc, _ := st.Interface("eth0"); !slices.Contains(ifc.Routes, cfg.Routes[0]) {
		t.Errorf("status routes %v", ifc.Routes)
	}
	if err := tr.Revert(ctx); err != nil {
		t.Fatal(err)
	}
	diffLines(t, "after revert", e.sim.Render(), initialLines)

	// Kept, then a change that leaves IPv6 alone: the route stays and the
	// preview does not say it goes.
	if tr, err = e.m.Apply(ctx, cfg); err != nil || tr.Confirm(ctx) != nil {
		t.Fatal(err)
	}
	v4 := cfgStatic("eth0", "192.0.2.11/24", "192.0.2.1")
	if p, _ = e.m.Preview(ctx, v4); slices.ContainsFunc(p.Lines(), func(l string) bool { return strings.Contains(l, "2001:db8:100::") }) {
		t.Errorf("IPv4-only preview mentions the IPv6 route:\n%s", strings.Join(p.Lines(), "\n"))
	}
	if _, err := e.m.Apply(ctx, v4); err != nil {
		t.Fatal(err)
	}
	if r := e.sim.Render(); !slices.Contains(r, "route 2001:db8:100::/48 via fe80::1 dev eth0") {
		t.Errorf("an IPv4-only change removed the IPv6 route:\n%s", strings.Join(r, "\n"))
	}
}

// FuzzParseRoutes: whatever routes are typed, an accepted one has a
// destination and a gateway of one family, no host bits, no IPv4-mapped
// address, and, for IPv6, static IPv6 and a gateway that is link-local or
// inside the static address's prefix.
func FuzzParseRoutes(f *testing.F) {
	f.Add("2001:db8:100::/48@fe80::1,10.20.0.0/16@192.0.2.254", "2001:db8:1::10/64", true)
	f.Add("2001:db8:100::/48@192.0.2.1,::ffff:10.0.0.0/104@192.0.2.1", "2001:db8:1::10/128", true)
	f.Add("fe80::/64@fe80::1%eth0,::/0@fe80::1", "fe80::5/64", false)
	f.Fuzz(func(t *testing.T, routes, addr6 string, static6 bool) {
		form := Form{Interface: "eth0", Address: "192.0.2.10/24", Routes: strings.Split(routes, ","), Address6: addr6}
		if static6 {
			form.IPv6 = IPv6Static
		}
		cfg, err := ParseForm(form, testStatus)
		if err != nil {
			if len(FieldErrors(err)) == 0 {
				t.Fatalf("error without field errors: %v", err)
			}
			return
		}
		for _, r := range cfg.Routes {
			d, gw := r.Dst, r.Gateway
			switch {
			case d.Addr().Is4In6() || gw.Is4In6() || d.Addr().Is6() != gw.Is6() || d != d.Masked() || gw.Zone() != "":
				t.Fatalf("accepted route %s", r)
			case r.Is6() && (cfg.IPv6 != IPv6Static || !gw.IsLinkLocalUnicast() && !cfg.Address6.Masked().Contains(gw)):
				t.Fatalf("accepted IPv6 route %s with %s", r, cfg.Describe())
			}
		}
	})
}
