//go:build linux

package netconfig

import (
	"context"
	"testing"
	"time"

	"github.com/vishvananda/netns"

	"github.com/nodeconsole/nodeconsole/lldp"
	"github.com/nodeconsole/nodeconsole/netwatch"
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
	want := testSwitch
	switchSends(t, tn, "sw-eth0", want)

	var tab LLDPTable
	changed := make(chan struct{}, 100)
	ended := make(chan int, 10) // a listen returned (its interface index)
	reader := NewReaderAt(tn.nodeH, "")
	l := &LLDPListener{Table: &tab, Reader: reader, Listen: 5 * time.Second,
		Open: lldpOpenIn(tn.node, ended)}
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

// testSwitch is the switch port the tests' peer namespace announces.
var testSwitch = lldp.Neighbor{ChassisID: "00:1b:54:aa:bb:cc", PortID: "Gi1/0/12", PortDescription: "rack 12",
	SystemName: "sw-rack12.example", VLAN: 100, TTL: 120}

// switchSends announces nb from the peer namespace's link ifname.
func switchSends(t *testing.T, tn *testNet, ifname string, nb lldp.Neighbor) {
	t.Helper()
	testenv.SendFrames(t, tn.peer, ifname, lldp.Frame(nb, [6]byte{0x00, 0x1b, 0x54, 0xaa, 0xbb, 0xcc}))
}

// lldpOpenIn opens LLDP sockets in ns, reporting on ended (when not nil)
// each time a listen returns.
func lldpOpenIn(ns netns.NsHandle, ended chan<- int) func(int) (LLDPConn, error) {
	return func(i int) (LLDPConn, error) {
		var c *lldp.Conn
		if err := testenv.InNetns(ns, func() (err error) { c, err = lldp.Open(i); return err }); err != nil {
			return nil, err
		}
		return endedConn{c, i, ended}, nil
	}
}

// TestLLDPListenerAfterLinkUp: a NIC that is down at start is not listened
// on; when it comes up (netlink, through netwatch's LinkUp) the listener
// listens and hears its switch.
func TestLLDPListenerAfterLinkUp(t *testing.T) {
	tn := newTestNet(t)
	eth0 := tn.addVeth(t, "eth0", "02:00:00:00:00:01", "sw-eth0", true)
	switchSends(t, tn, "sw-eth0", testSwitch)
	var tab LLDPTable
	changed := make(chan struct{}, 100)
	opened := make(chan int, 10)
	open := lldpOpenIn(tn.node, nil)
	l := &LLDPListener{Table: &tab, Reader: NewReaderAt(tn.nodeH, ""), Open: func(i int) (LLDPConn, error) {
		opened <- i
		return open(i)
	}}
	w, err := netwatch.New(netwatch.Options{Netlink: true, Namespace: &tn.node, LinkUp: l.LinkUp})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	l.Start(func() { changed <- struct{}{} })
	defer l.Close()
	if err := tn.nodeH.LinkSetUp(eth0); err != nil {
		t.Fatal(err)
	}
	if i := <-opened; i != eth0.Attrs().Index {
		t.Fatalf("listened on %d, want eth0 (%d)", i, eth0.Attrs().Index)
	}
	for len(tab.Get("eth0")) == 0 {
		<-changed
	}
	if nb := tab.Get("eth0"); nb[0] != testSwitch {
		t.Errorf("eth0 heard %+v", nb)
	}
}

// endedConn reports on ended when its listen returns.
type endedConn struct {
	*lldp.Conn
	index int
	ended chan<- int
}

func (c endedConn) Listen(ctx context.Context, d time.Duration, heard func([]lldp.Neighbor)) ([]lldp.Neighbor, error) {
	if c.ended != nil {
		defer func() { c.ended <- c.index }()
	}
	return c.Conn.Listen(ctx, d, heard)
}
