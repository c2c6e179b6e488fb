//go:build linux

package netconfig

import (
	"context"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nodeconsole/nodeconsole/lldp"
	"github.com/nodeconsole/nodeconsole/testenv"
)

// TestLLDPListenerHearsPeerFrames: LLDP frames crafted in the peer
// namespace (as a switch sends them, every 50 ms here) reach the table and
// the status read through WithLLDP, on the NIC they came in on, while the
// listen still runs; a NIC whose peer sends nothing is listened on too and
// ends with an empty list.
func TestLLDPListenerHearsPeerFrames(t *testing.T) {
	tn := newTestNet(t)
	for _, name := range []string{"eth0", "eth1"} {
		l := tn.addVeth(t, name, map[string]string{"eth0": "02:00:00:00:00:01", "eth1": "02:00:00:00:00:02"}[name], "sw-"+name, true)
		if err := tn.nodeH.LinkSetUp(l); err != nil {
			t.Fatal(err)
		}
	}
	sw, err := tn.peerH.LinkByName("sw-eth0")
	if err != nil {
		t.Fatal(err)
	}
	var send int
	if err := testenv.InNetns(tn.peer, func() (err error) {
		send, err = unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(send)
	want := lldp.Neighbor{ChassisID: "00:1b:54:aa:bb:cc", PortID: "Gi1/0/12", PortDescription: "rack 12",
		SystemName: "sw-rack12.example", VLAN: 100, TTL: 120}
	to := &unix.SockaddrLinklayer{Ifindex: sw.Attrs().Index, Halen: 6, Protocol: 0xcc88}
	copy(to.Addr[:], []byte{0x01, 0x80, 0xc2, 0x00, 0x00, 0x0e})
	ctx, stop := context.WithCancel(context.Background())
	sent := make(chan struct{})
	go func() {
		defer close(sent)
		for ctx.Err() == nil {
			unix.Sendto(send, lldp.Frame(want, [6]byte{0x00, 0x1b, 0x54, 0xaa, 0xbb, 0xcc}), 0, to)
			time.Sleep(50 * time.Millisecond) // a switch's period, shortened
		}
	}()
	defer func() { stop(); <-sent }()

	var tab LLDPTable
	changed := make(chan struct{}, 100)
	ended := make(chan int, 10) // a listen returned (its interface index)
	reader := NewReaderAt(tn.nodeH, "")
	l := &LLDPListener{Table: &tab, Reader: reader, Listen: 5 * time.Second,
		Open: func(i int) (LLDPConn, error) {
			var c *lldp.Conn
			err := testenv.InNetns(tn.node, func() (err error) { c, err = lldp.Open(i); return err })
			if err != nil {
				return nil, err
			}
			return endedConn{c, i, ended}, nil
		}}
	l.Start(func() { changed <- struct{}{} })
	t.Cleanup(l.Close) // on a failure; Close twice is fine
	eth0, err := tn.nodeH.LinkByName("eth0")
	if err != nil {
		t.Fatal(err)
	}
	for tab.Get("eth0") == nil {
		select {
		case <-changed:
		case i := <-ended:
			if i == eth0.Attrs().Index {
				t.Fatal("eth0's listen ended without a neighbour")
			}
		}
	}
	st, err := WithLLDP(reader, &tab).Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ifc, _ := st.Interface("eth0")
	if len(ifc.LLDP) != 1 || ifc.LLDP[0] != want {
		t.Errorf("eth0 heard %+v, want %+v", ifc.LLDP, want)
	}
	// eth1's switch says nothing: once its listen ends (here: Close), an
	// empty list, "listened, nothing heard".
	l.Close()
	if nb := tab.Get("eth1"); nb == nil || len(nb) != 0 {
		t.Errorf("eth1 heard %#v, want an empty list", nb)
	}
}

// endedConn reports on ended when its listen returns.
type endedConn struct {
	*lldp.Conn
	index int
	ended chan<- int
}

func (c endedConn) Listen(ctx context.Context, d time.Duration, heard func([]lldp.Neighbor)) ([]lldp.Neighbor, error) {
	defer func() { c.ended <- c.index }()
	return c.Conn.Listen(ctx, d, heard)
}
