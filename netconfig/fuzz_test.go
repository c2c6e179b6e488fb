package netconfig

import (
	"strings"
	"testing"
)

// FuzzParseForm: whatever is typed, ParseForm does not panic, every error
// is a field error, and a form it accepts as static is plain IPv4 only (no
// IPv6, no IPv4-mapped IPv6) with the gateway inside the subnet or on-link,
// so nothing else ever reaches the kernel.
func FuzzParseForm(f *testing.F) {
	f.Add("eth0", false, "192.0.2.10/24", "", "192.0.2.1", "192.0.2.53,198.51.100.53")
	f.Add("eth0", false, "192.0.2.10", "255.255.255.0", "192.0.2.1", "")
	f.Add("eth0", false, "::ffff:192.0.2.10/120", "", "::ffff:192.0.2.1", "::ffff:192.0.2.53")
	f.Add("eth0", false, "2001:db8::10/64", "/64", "fe80::1%eth0", "")
	f.Add("eth0", false, "198.51.100.10/32", "32", "198.51.100.1", ",,")
	f.Add("wg0", true, "junk", "255.0.255.0", "gw", "x")
	f.Add(" eth0 ", false, " 0.0.0.0/0 ", "0", "255.255.255.255", "224.0.0.1")
	f.Fuzz(func(t *testing.T, ifname string, dhcp bool, addr, mask, gw, dns string) {
		form := Form{Interface: ifname, DHCP: dhcp, Address: addr, Netmask: mask, Gateway: gw, DNS: strings.Split(dns, ","), DefaultRoute: true}
		cfg, err := ParseForm(form, testStatus)
		if err != nil {
			if len(FieldErrors(err)) == 0 {
				t.Fatalf("error without field errors: %v", err)
			}
			return
		}
		if cfg.Interface != "eth0" {
			t.Fatalf("accepted interface %q", cfg.Interface)
		}
		if cfg.Mode != ModeStatic {
			return
		}
		if !cfg.Address.Addr().Is4() || !cfg.Gateway.Is4() {
			t.Fatalf("accepted a non-IPv4 address or gateway: %+v", cfg)
		}
		if cfg.Address.Bits() < 1 || cfg.Address.Bits() > 32 {
			t.Fatalf("accepted prefix length %d", cfg.Address.Bits())
		}
		if !cfg.OnLink() && !cfg.Address.Masked().Contains(cfg.Gateway) {
			t.Fatalf("accepted gateway %s outside %s", cfg.Gateway, cfg.Address)
		}
		if len(cfg.DNS) > MaxDNS {
			t.Fatalf("accepted %d DNS servers", len(cfg.DNS))
		}
		for _, a := range cfg.DNS {
			if !a.Is4() {
				t.Fatalf("accepted DNS server %s", a)
			}
		}
		if err := cfg.Validate(testStatus); err != nil {
			t.Fatalf("ParseForm accepted what Validate refuses: %v", err)
		}
	})
}

// FuzzParseFormIPv6: whatever static IPv6 the form accepts is a global
// IPv6 address (not IPv4-mapped, not link-local) with a prefix of 1 to 128
// bits, a gateway inside that prefix or link-local, and IPv6 DNS servers;
// and the MTU is at least 1280 with IPv6 on.
func FuzzParseFormIPv6(f *testing.F) {
	f.Add("static", "2001:db8:1::10/64", "fe80::1", "2001:db8::53", "")
	f.Add("static", "2001:db8:1::10/128", "2001:db8:1::1", "", "1280")
	f.Add("static", "::ffff:192.0.2.10/120", "::ffff:192.0.2.1", "::ffff:192.0.2.53", "")
	f.Add("static", "fe80::10/64", "fe80::1%eth0", "fe80::53", "")
	f.Add("auto", "junk", "junk", "2001:db8::53,2001:db8::54", "1279")
	f.Add("off", "", "", "", "576")
	f.Add("STATIC", " 2001:db8::/64 ", " 2001:db8::1 ", ",,", "9000")
	f.Fuzz(func(t *testing.T, mode, addr6, gw6, dns6, mtu string) {
		form := Form{Interface: "eth0", Address: "192.0.2.10/24", IPv6: IPv6Mode(mode), Address6: addr6, Gateway6: gw6, DNS6: strings.Split(dns6, ","), MTU: mtu}
		cfg, err := ParseForm(form, testStatus)
		if err != nil {
			if len(FieldErrors(err)) == 0 {
				t.Fatalf("error without field errors: %v", err)
			}
			return
		}
		if cfg.IPv6.On() && cfg.MTU != 0 && cfg.MTU < MinMTU6 {
			t.Fatalf("accepted MTU %d with IPv6 %s", cfg.MTU, cfg.IPv6)
		}
		for _, d := range cfg.DNS6 {
			if !d.Is6() || d.Is4In6() || d.IsLinkLocalUnicast() || d.Zone() != "" {
				t.Fatalf("accepted IPv6 DNS server %s", d)
			}
		}
		if cfg.IPv6 != IPv6Static {
			if cfg.Address6.IsValid() || cfg.Gateway6.IsValid() {
				t.Fatalf("static IPv6 fields with IPv6 %q: %+v", cfg.IPv6, cfg)
			}
			return
		}
		a := cfg.Address6
		if !a.Addr().Is6() || a.Addr().Is4In6() || a.Addr().IsLinkLocalUnicast() || a.Bits() < 1 || a.Bits() > 128 || a.Addr().Zone() != "" {
			t.Fatalf("accepted IPv6 address %s", a)
		}
		if gw := cfg.Gateway6; gw.IsValid() && !gw.IsLinkLocalUnicast() && (gw == a.Addr() || !a.Masked().Contains(gw) || a.Bits() == 128) {
			t.Fatalf("accepted IPv6 gateway %s with %s", gw, a)
		}
	})
}
