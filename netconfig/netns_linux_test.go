//go:build linux

package netconfig

import (
	"net"
	"runtime"
	"testing"

	"github.com/nodeconsole/nodeconsole/testenv"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// testNet is a pair of throwaway network namespaces: node, where the code
// under test works, and peer, which plays the gateway (192.0.2.1).
type testNet struct {
	orig, node, peer netns.NsHandle
	nodeH, peerH     *netlink.Handle
}

// newTestNet locks the test goroutine to its OS thread, creates two network
// namespaces and handles bound to them, and restores everything in
// t.Cleanup. The test goroutine stays in its original namespace; call
// enterNode to run code that opens sockets in the node namespace.
func newTestNet(t *testing.T) *testNet {
	t.Helper()
	testenv.RequireRoot(t)
	runtime.LockOSThread()
	orig, err := netns.Get()
	if err != nil {
		runtime.UnlockOSThread()
		t.Fatalf("get current netns: %v", err)
	}
	tn := &testNet{orig: orig, node: -1, peer: -1}
	t.Cleanup(func() {
		if err := netns.Set(orig); err != nil {
			// The thread is in an unknown namespace: keep it locked so the
			// runtime destroys it when the goroutine exits.
			t.Errorf("restore netns: %v", err)
			return
		}
		for _, h := range []*netlink.Handle{tn.nodeH, tn.peerH} {
			if h != nil {
				h.Close()
			}
		}
		for _, ns := range []netns.NsHandle{tn.node, tn.peer} {
			if ns.IsOpen() {
				ns.Close()
			}
		}
		orig.Close()
		runtime.UnlockOSThread()
	})
	for _, p := range []*netns.NsHandle{&tn.node, &tn.peer} {
		ns, err := netns.New() // unshares and enters the new namespace
		if err != nil {
			t.Fatalf("new netns: %v", err)
		}
		*p = ns
		if err := netns.Set(orig); err != nil {
			t.Fatalf("restore netns: %v", err)
		}
	}
	if tn.nodeH, err = netlink.NewHandleAt(tn.node); err != nil {
		t.Fatalf("handle in node netns: %v", err)
	}
	if tn.peerH, err = netlink.NewHandleAt(tn.peer); err != nil {
		t.Fatalf("handle in peer netns: %v", err)
	}
	for _, h := range []*netlink.Handle{tn.nodeH, tn.peerH} {
		lo, err := h.LinkByName("lo")
		if err != nil {
			t.Fatalf("find lo: %v", err)
		}
		if err := h.LinkSetUp(lo); err != nil {
			t.Fatalf("lo up: %v", err)
		}
	}
	return tn
}

// enterNode moves the (locked) test thread into the node namespace until
// the test ends.
func (tn *testNet) enterNode(t *testing.T) {
	t.Helper()
	if err := netns.Set(tn.node); err != nil {
		t.Fatalf("enter node netns: %v", err)
	}
}

// addVeth creates a veth pair: name in the node namespace with mac, and
// peerName in the peer namespace, up when peerUp.
func (tn *testNet) addVeth(t *testing.T, name, mac, peerName string, peerUp bool) netlink.Link {
	t.Helper()
	hw, err := net.ParseMAC(mac)
	if err != nil {
		t.Fatal(err)
	}
	v := &netlink.Veth{
		LinkAttrs:     netlink.LinkAttrs{Name: name, HardwareAddr: hw},
		PeerName:      peerName,
		PeerNamespace: netlink.NsFd(tn.peer),
	}
	if err := tn.nodeH.LinkAdd(v); err != nil {
		t.Fatalf("add veth %s/%s: %v", name, peerName, err)
	}
	if peerUp {
		p, err := tn.peerH.LinkByName(peerName)
		if err != nil {
			t.Fatalf("find %s: %v", peerName, err)
		}
		if err := tn.peerH.LinkSetUp(p); err != nil {
			t.Fatalf("%s up: %v", peerName, err)
		}
	}
	l, err := tn.nodeH.LinkByName(name)
	if err != nil {
		t.Fatalf("find %s: %v", name, err)
	}
	return l
}

// mustAddr parses an address in CIDR form for netlink.
func mustAddr(t *testing.T, cidr string) *netlink.Addr {
	t.Helper()
	a, err := netlink.ParseAddr(cidr)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
