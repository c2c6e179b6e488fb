//go:build linux

package lldp

import (
	"context"
	"reflect"
	"runtime"
	"testing"
	"time"

	"github.com/nodeconsole/nodeconsole/testenv"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// TestListenHearsPeerFrames: LLDP frames sent from the peer namespace of a
// veth (crafted, on an AF_PACKET socket, as a switch sends them) are heard
// on the node's end, once per chassis and port, with what they say.
func TestListenHearsPeerFrames(t *testing.T) {
	testenv.RequireRoot(t)
	var node, peer netns.NsHandle
	func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		orig, err := netns.Get()
		if err != nil {
			t.Fatal(err)
		}
		defer orig.Close()
		for _, p := range []*netns.NsHandle{&node, &peer} {
			if *p, err = netns.New(); err != nil {
				t.Fatal(err)
			}
		}
		if err := netns.Set(orig); err != nil {
			panic(err)
		}
	}()
	t.Cleanup(func() { node.Close(); peer.Close() })
	nodeH, err := netlink.NewHandleAt(node)
	if err != nil {
		t.Fatal(err)
	}
	defer nodeH.Close()
	peerH, err := netlink.NewHandleAt(peer)
	if err != nil {
		t.Fatal(err)
	}
	defer peerH.Close()
	if err := nodeH.LinkAdd(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "eth0"}, PeerName: "sw0", PeerNamespace: netlink.NsFd(peer)}); err != nil {
		t.Fatal(err)
	}
	eth0, err := nodeH.LinkByName("eth0")
	if err != nil {
		t.Fatal(err)
	}
	sw0, err := peerH.LinkByName("sw0")
	if err != nil {
		t.Fatal(err)
	}
	for h, l := range map[*netlink.Handle]netlink.Link{nodeH: eth0, peerH: sw0} {
		if err := h.LinkSetUp(l); err != nil {
			t.Fatal(err)
		}
	}
	var c *Conn
	if err := testenv.InNetns(node, func() (err error) { c, err = Open(eth0.Attrs().Index); return err }); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var send int
	if err := testenv.InNetns(peer, func() (err error) {
		send, err = unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(send)
	to := &unix.SockaddrLinklayer{Ifindex: sw0.Attrs().Index, Halen: 6, Protocol: htons(EtherType)}
	copy(to.Addr[:], multicast[:6])
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		// A switch repeats its frame; send until the listener is done.
		for ctx.Err() == nil {
			for _, f := range [][]byte{testFrame(false), otherPortFrame()} {
				unix.Sendto(send, f, 0, to)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	got, err := c.Collect(ctx, 2*time.Second)
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	other, _ := ParseFrame(otherPortFrame())
	if !reflect.DeepEqual(got, []Neighbor{testNeighbor, other}) {
		t.Errorf("heard %+v\nwant %+v", got, []Neighbor{testNeighbor, other})
	}
}

// otherPortFrame is a second switch port (no VLAN, no names).
func otherPortFrame() []byte {
	f := append([]byte{0x01, 0x80, 0xc2, 0x00, 0x00, 0x0e, 0x02, 0, 0, 0, 0, 0x98}, 0x88, 0xcc)
	f = append(f, tlv(tlvChassisID, append([]byte{7}, "sw-2"...)...)...)
	f = append(f, tlv(tlvPortID, append([]byte{7}, "port 9"...)...)...)
	f = append(f, tlv(tlvTTL, 0, 60)...)
	return append(f, tlv(tlvEnd)...)
}
