package forwarded

import (
	"net/netip"
	"slices"
	"testing"
)

// TestClient: the client is the right-most hop that is not a trusted
// proxy, believed only from a trusted peer; a malformed hop ends the walk
// at the last trusted one (left of it anyone could have written anything).
func TestClient(t *testing.T) {
	proxies, err := ParseCIDRs("10.0.0.0/8, 192.0.2.7, 2001:db8::/32")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, peer string
		xff        []string
		want       string
	}{
		{"untrusted peer", "203.0.113.1:443", []string{"198.51.100.1"}, ""},
		{"no header", "10.0.0.1:443", nil, ""},
		{"one hop", "10.0.0.1:443", []string{"198.51.100.1"}, "198.51.100.1"},
		{"bare peer address", "192.0.2.7", []string{"198.51.100.1"}, "198.51.100.1"},
		{"IPv4-mapped peer", "[::ffff:10.0.0.1]:443", []string{"198.51.100.1"}, "198.51.100.1"},
		{"IPv6 peer and client", "[2001:db8::1]:443", []string{"2001:db8:ffff::5, 2a00::1"}, "2a00::1"},
		{"right-most untrusted wins", "10.0.0.1:443", []string{"6.6.6.6", "198.51.100.1, 10.9.9.9"}, "198.51.100.1"},
		{"all trusted: the left-most", "10.0.0.1:443", []string{"10.1.1.1, 10.2.2.2"}, "10.1.1.1"},
		{"malformed hop ends the walk", "10.0.0.1:443", []string{"198.51.100.1, junk, 10.3.3.3"}, "10.3.3.3"},
		{"malformed last hop", "10.0.0.1:443", []string{"junk"}, ""},
		{"mapped client unmapped", "10.0.0.1:443", []string{"::ffff:198.51.100.1"}, "198.51.100.1"},
	} {
		if got := Client(proxies, tc.peer, tc.xff); got != tc.want {
			t.Errorf("%s: Client(%q, %q) = %q, want %q", tc.name, tc.peer, tc.xff, got, tc.want)
		}
	}
}

// TestParseCIDRs: prefixes are masked, single addresses become host
// prefixes (IPv4-mapped ones as IPv4), empty items are skipped, anything
// else is refused.
func TestParseCIDRs(t *testing.T) {
	got, err := ParseCIDRs(" 10.1.2.3/8,,::ffff:192.0.2.7, 2001:db8::1 ")
	if err != nil {
		t.Fatal(err)
	}
	want := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.7/32"), netip.MustParsePrefix("2001:db8::1/128")}
	if !slices.Equal(got, want) {
		t.Fatalf("ParseCIDRs = %v, want %v", got, want)
	}
	if _, err := ParseCIDRs("10.0.0.0/8,nonsense"); err == nil {
		t.Fatal("ParseCIDRs accepted nonsense")
	}
}
