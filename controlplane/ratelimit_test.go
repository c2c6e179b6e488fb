package controlplane

import "testing"

// Anonymous callers are limited per source: an IPv4 address (also written
// IPv4-mapped), or the /64 of an IPv6 address.
func TestSourceKey(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.10":               "192.0.2.10",
		"::ffff:192.0.2.10":        "192.0.2.10",
		"2001:db8:1:2::1":          "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff:ffff::": "2001:db8:1:2::/64",
		"2001:db8:1:3::1":          "2001:db8:1:3::/64",
		"fe80::1%eth0":             "fe80::/64",
		"not-an-address":           "not-an-address",
	} {
		if got := sourceKey(in); got != want {
			t.Errorf("sourceKey(%q) = %q, want %q", in, got, want)
		}
	}
}
