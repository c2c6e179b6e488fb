package netconfig

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"testing"
)

// TestSimulatedProbes: with Simulated.Dial the probes never leave the
// process: DNS is answered by the simulated servers, other hosts get no
// answer, and loopback (the demo control plane) is real.
func TestSimulatedProbes(t *testing.T) {
	ctx := context.Background()
	sim := NewSimulated()
	p := &Prober{Reader: sim, Neighbors: sim, Dial: sim.Dial}
	dns := []netip.Addr{netip.MustParseAddr("192.0.2.53")}

	if r := p.DNS(ctx, dns, "controlplane.example.com"); !r.OK || !strings.Contains(r.Detail, "203.0.113.10 (via 192.0.2.53)") {
		t.Errorf("simulated lookup: %+v", r)
	}
	if r := p.DNS(ctx, dns, "nosuch.example.com"); r.OK || !strings.Contains(r.Hint, "does not know the name") {
		t.Errorf("unknown name: %+v", r)
	}
	// An IP endpoint: the check asks the configured server, not "is an IP".
	if r := p.DNS(ctx, dns, "192.0.2.80"); !r.OK || r.Detail != "DNS server 192.0.2.53 answers (the endpoint is an IP address: no lookup needed)" {
		t.Errorf("IP endpoint: %+v", r)
	}
	if r := p.DNS(ctx, []netip.Addr{netip.MustParseAddr("203.0.113.53")}, "192.0.2.80"); r.OK {
		t.Errorf("a server that does not exist answered: %+v", r)
	}
	if r := p.TCP(ctx, "203.0.113.10:443"); r.OK || !strings.Contains(r.Detail, "simulated network") {
		t.Errorf("TCP to a simulated host: %+v", r)
	}
	// A failed connection says why in words, not as Go's dial error
	// ("dial tcp 192.0.2.1:443: i/o timeout").
	if r := p.TCP(ctx, "192.0.2.1:443"); r.Detail != "cannot connect to 192.0.2.1:443: no answer in time (simulated network: only the demo control plane answers)" {
		t.Errorf("TCP to the simulated gateway: %+v", r)
	}
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed.Close()
	if r := (&Prober{}).TCP(ctx, closed.Addr().String()); r.Detail != "cannot connect to "+closed.Addr().String()+": refused" {
		t.Errorf("TCP to a closed port: %+v", r)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	// An IP endpoint is not repeated in brackets ("connected to
	// 127.0.0.1:1234 (127.0.0.1:1234)"); a name gets the address it resolved to.
	if r := p.TCP(ctx, ln.Addr().String()); !r.OK || r.Detail != "connected to "+ln.Addr().String() {
		t.Errorf("TCP to loopback (the demo control plane): %+v", r)
	}
	byName := &Prober{Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, ln.Addr().String()) // cp.example resolves to the listener
	}}
	if r := byName.TCP(ctx, "cp.example:443"); !r.OK || r.Detail != "connected to cp.example:443 ("+ln.Addr().String()+")" {
		t.Errorf("TCP by name: %+v", r)
	}
	// With eth0 unplugged its DNS server is out of reach.
	sim.SetCarrier("eth0", false)
	if r := p.DNS(ctx, dns, "controlplane.example.com"); r.OK {
		t.Errorf("lookup without a route: %+v", r)
	}
}
