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
