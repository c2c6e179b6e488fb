package netconfig

import (
	"context"
	"net/netip"
	"strings"
	"testing"
)

// TestDNSFailureIsASentence: a DNS server that does not answer is said in
// a few words (#17: no Go error chain with its prefixes on screen), for one
// server and for several, and the reason follows the error.
func TestDNSFailureIsASentence(t *testing.T) {
	sim := NewSimulated()
	sim.OnlyLoopback(netip.MustParseAddrPort("127.0.0.1:1")) // never the host's port 53
	p := &Prober{Reader: sim, Dial: sim.Dial}
	cases := []struct {
		servers []string
		want    string
	}{
		{[]string{"192.0.2.99"}, "DNS server 192.0.2.99 does not answer (no answer in time)"},
		{[]string{"192.0.2.99", "203.0.113.7"}, "DNS servers 192.0.2.99, 203.0.113.7 do not answer ("},
		{[]string{"127.0.0.1"}, "DNS server 127.0.0.1 does not answer (refused: nothing listens on port 53)"},
	}
	for _, c := range cases {
		var servers []netip.Addr
		for _, s := range c.servers {
			servers = append(servers, netip.MustParseAddr(s))
		}
		r := p.DNS(context.Background(), servers, "192.0.2.1")
		if r.OK || !strings.HasPrefix(r.Detail, c.want) {
			t.Errorf("DNS via %v: %+v, want a failure starting %q", c.servers, r, c.want)
		}
		if strings.Contains(r.Detail, "lookup ") || strings.Contains(r.Detail, "dial ") {
			t.Errorf("DNS via %v shows the Go error: %q", c.servers, r.Detail)
		}
	}
}
