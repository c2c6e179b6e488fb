package netconfig

import (
	"context"
	"net/netip"
	"reflect"
	"testing"
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
