//go:build linux

package netconfig

import (
	"context"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

func TestReaderInNamespace(t *testing.T) {
	tn := newTestNet(t)
	h := tn.nodeH
	eth0 := tn.addVeth(t, "eth0", "02:00:00:00:00:10", "gw0", true)
	eth1 := tn.addVeth(t, "eth1", "02:00:00:00:00:11", "gw1", false)
	for _, l := range []netlink.Link{eth0, eth1} {
		if err := h.LinkSetUp(l); err != nil {
			t.Fatal(err)
		}
	}
	v6 := mustAddr(t, "2001:db8::10/64")
	v6.Flags = unix.IFA_F_NODAD
	for _, a := range []*netlink.Addr{v6, mustAddr(t, "192.0.2.10/24")} {
		if err := h.AddrAdd(eth0, a); err != nil {
			t.Fatalf("add %s: %v", a, err)
		}
	}
	if err := h.AddrAdd(eth1, mustAddr(t, "198.51.100.20/24")); err != nil {
		t.Fatal(err)
	}
	if err := h.RouteAdd(&netlink.Route{LinkIndex: eth0.Attrs().Index, Gw: net.ParseIP("192.0.2.1")}); err != nil {
		t.Fatalf("add default route: %v", err)
	}
	// An IPv6-only default route on eth1: Default6, not Default4.
	if err := h.RouteAdd(&netlink.Route{LinkIndex: eth1.Attrs().Index, Gw: net.ParseIP("fe80::1"), Priority: 1024}); err != nil {
		t.Fatalf("add IPv6 default route: %v", err)
	}
	resolv := filepath.Join(t.TempDir(), "resolv.conf")
	if err := os.WriteFile(resolv, []byte("# generated\nsearch example.com\nnameserver 192.0.2.53\nnameserver 198.51.100.53 # second\nnameserver bogus\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	want := Status{
		Interfaces: []Interface{
			{Name: "eth0", Index: eth0.Attrs().Index, MAC: "02:00:00:00:00:10", State: LinkUp, Ethernet: true,
				Addrs:   []netip.Prefix{netip.MustParsePrefix("192.0.2.10/24"), netip.MustParsePrefix("2001:db8::10/64")},
				Default: true, Default4: true, MTU: 1500},
			{Name: "eth1", Index: eth1.Attrs().Index, MAC: "02:00:00:00:00:11", State: LinkNoCarrier, Ethernet: true,
				Addrs: []netip.Prefix{netip.MustParsePrefix("198.51.100.20/24")}, Default: true, Default6: true, MTU: 1500},
		},
		Gateway:          netip.MustParseAddr("192.0.2.1"),
		GatewayInterface: "eth0",
		Gateway6:         netip.MustParseAddr("fe80::1"), Gateway6Interface: "eth1",
		DNS: []netip.Addr{netip.MustParseAddr("192.0.2.53"), netip.MustParseAddr("198.51.100.53")},
	}

	got, err := NewReaderAt(h, resolv).Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("NewReaderAt: status\n got %+v\nwant %+v", got, want)
	}

	// NewReader works in the namespace of the calling thread.
	tn.enterNode(t)
	got, err = NewReader(resolv).Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("NewReader: status\n got %+v\nwant %+v", got, want)
	}

	// Link down is reported as down, and a missing resolv.conf as no DNS.
	if err := h.LinkSetDown(eth1); err != nil {
		t.Fatal(err)
	}
	got, err = NewReaderAt(h, filepath.Join(t.TempDir(), "missing")).Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got.Interfaces[1].State != LinkDown || got.DNS != nil {
		t.Errorf("after eth1 down: state %q dns %v, want down and none", got.Interfaces[1].State, got.DNS)
	}
}
