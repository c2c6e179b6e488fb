package netconfig

import (
	"context"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestSimulatedRead(t *testing.T) {
	st, err := NewSimulated().Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.Gateway != netip.MustParseAddr("192.0.2.1") || st.GatewayInterface != "eth0" {
		t.Errorf("gateway %v on %q, want 192.0.2.1 on eth0", st.Gateway, st.GatewayInterface)
	}
	var names []string
	for _, ifc := range st.Interfaces {
		names = append(names, ifc.Name+" "+string(ifc.State))
	}
	want := []string{"eth0 up", "eth1 no-carrier", "mgmt0 up", "wg0 up"}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("interfaces %q, want %q", names, want)
	}
	if eth0, _ := st.Interface("eth0"); !eth0.Default || !eth0.Ethernet {
		t.Errorf("eth0 = %+v, want default route and Ethernet", eth0)
	}
	if len(st.DNS) != 1 || st.DNS[0] != netip.MustParseAddr("192.0.2.53") {
		t.Errorf("DNS %v, want [192.0.2.53]", st.DNS)
	}
}

// TestSimulatedChanged: every change of the simulated network signals
// Changed (--demo's status watcher), several before a receive make one,
// and reading signals nothing.
func TestSimulatedChanged(t *testing.T) {
	s := NewSimulated()
	ctx := context.Background()
	pending := func() bool {
		select {
		case <-s.Changed():
			return true
		default:
			return false
		}
	}
	if _, err := s.Read(ctx); err != nil || pending() {
		t.Fatalf("a read signalled a change (err %v)", err)
	}
	s.SetCarrier("eth1", true)
	if err := s.ReplaceAddrs(ctx, "eth1", []netip.Prefix{netip.MustParsePrefix("203.0.113.5/24")}); err != nil {
		t.Fatal(err)
	}
	if !pending() {
		t.Fatal("no change signalled after SetCarrier and ReplaceAddrs")
	}
	if pending() {
		t.Error("two changes signalled twice; want one")
	}
	if err := s.WriteDNS(ctx, []netip.Addr{netip.MustParseAddr("192.0.2.54")}); err != nil || !pending() {
		t.Errorf("WriteDNS: err %v, no change signalled", err)
	}
	if err := s.SetIPv6(ctx, "eth0", IPv6Settings{}); err != nil || !pending() {
		t.Errorf("SetIPv6: err %v, no change signalled", err)
	}
}

// TestSimulatedDHCPv6: the simulated network's DHCP control runs a
// DHCPv6 client for IPv6 dhcp (--demo offers the whole IPv6 row): it is
// available, leases a /128 beside the router's SLAAC address, releases it
// for another IPv6 mode, and a revert puts back exactly what was there,
// the running client included.
func TestSimulatedDHCPv6(t *testing.T) {
	ctx := context.Background()
	sim := NewSimulated()
	m, err := NewManager(Options{Backend: sim, Reader: sim, StateDir: t.TempDir(), DHCP: sim.DHCPControl(),
		After: func(time.Duration) <-chan time.Time { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Validate(ctx, Config{Interface: "eth0", Mode: ModeDHCP, IPv6: IPv6DHCP}); err != nil {
		t.Fatalf("IPv6 dhcp refused: %v", err)
	}
	try := func(mode IPv6Mode, keep bool) {
		t.Helper()
		tr, err := m.Apply(ctx, Config{Interface: "eth0", Mode: ModeDHCP, IPv6: mode})
		if err != nil {
			t.Fatal(err)
		}
		if keep {
			err = tr.Confirm(ctx)
		} else {
			err = tr.Revert(ctx)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	lease, slaac := "addr 2001:db8:5::102/128 dev eth0 dynamic", "addr 2001:db8:5::2/64 dev eth0 dynamic"
	before := sim.Render()
	try(IPv6DHCP, false)
	diffLines(t, "reverted IPv6 dhcp", sim.Render(), before)

	try(IPv6DHCP, true)
	kept := sim.Render()
	if !slices.Contains(kept, lease) || !slices.Contains(kept, slaac) || !slices.Contains(kept, "route default via fe80::1 dev eth0") {
		t.Fatalf("IPv6 dhcp kept: no lease, SLAAC address or default route:\n%s", strings.Join(kept, "\n"))
	}
	try(IPv6Auto, true)
	if got := sim.Render(); slices.Contains(got, lease) || !slices.Contains(got, slaac) {
		t.Errorf("IPv6 auto after dhcp: the lease stays or SLAAC went:\n%s", strings.Join(got, "\n"))
	}
	try(IPv6DHCP, true)
	try(IPv6Off, false)
	diffLines(t, "IPv6 off reverted", sim.Render(), kept)
	if !sim.dhcp6["eth0"] {
		t.Error("the DHCPv6 client that ran before the reverted change does not run again")
	}
}
