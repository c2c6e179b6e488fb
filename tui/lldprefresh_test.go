package tui_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/nodeconsole/nodeconsole/lldp"
	"github.com/nodeconsole/nodeconsole/netconfig"
	"github.com/nodeconsole/nodeconsole/netwatch"
	"github.com/nodeconsole/nodeconsole/nodestatus"
	"github.com/nodeconsole/nodeconsole/screens/home"
	"github.com/nodeconsole/nodeconsole/screens/network"
	"github.com/nodeconsole/nodeconsole/tui"
	"github.com/nodeconsole/nodeconsole/tui/ui"
	"github.com/nodeconsole/nodeconsole/tui/uitest"
)

// gatedLLDP hears a switch port on eth0 (index 2) once heard is closed,
// nothing elsewhere, and then waits for the end of the listen.
type gatedLLDP struct {
	index int
	heard chan struct{}
}

func (g gatedLLDP) Listen(ctx context.Context, _ time.Duration, heard func([]lldp.Neighbor)) ([]lldp.Neighbor, error) {
	if g.index != 2 {
		<-ctx.Done()
		return nil, nil
	}
	select {
	case <-g.heard:
	case <-ctx.Done():
		return nil, nil
	}
	nbs := []lldp.Neighbor{{ChassisID: "52:54:00:aa:bb:cc", PortID: "Gi1/0/12", SystemName: "sw-core-1", VLAN: 20}}
	heard(nbs)
	<-ctx.Done()
	return nbs, nil
}

func (gatedLLDP) Close() error { return nil }

// TestNetworkScreenFollowsLLDP: with Network settings open over the home
// screen, a switch the console's LLDP listener hears on eth0 shows under
// eth0 in the list, through the status watcher (no timer: the home and
// network screens' tick sources fail the test), and the cursor stays on
// the interface it was on.
func TestNetworkScreenFollowsLLDP(t *testing.T) {
	sim := netconfig.NewSimulated()
	var tab netconfig.LLDPTable
	mgr, err := netconfig.NewManager(netconfig.Options{Backend: sim, Reader: netconfig.WithLLDP(sim, &tab), StateDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	noTimer := func(d time.Duration, fn func(time.Time) tea.Msg) tea.Cmd {
		t.Errorf("a %s timer was started", d)
		return nil
	}
	w, _ := netwatch.New(netwatch.Options{})
	pw := &uitest.ParkedWatch{W: w}
	st := uitest.Styles(uitest.MonoASCII)
	var reads atomic.Int32 // the home screen's
	h := home.New(home.Deps{Styles: st, Watch: pw, Tick: noTimer,
		Collect: func(context.Context) nodestatus.Snapshot { reads.Add(1); return nodestatus.Snapshot{NodeID: "edge-1"} }})
	app := tui.New(tui.Options{Styles: st, Home: h, Node: "edge-1"})
	d := uitest.NewModelDriver(t, app)
	pw.D = d
	heard := make(chan struct{})
	lis := &netconfig.LLDPListener{Table: &tab, Reader: sim, Open: func(i int) (netconfig.LLDPConn, error) { return gatedLLDP{i, heard}, nil }}
	defer func() {
		lis.Close()
		w.Close() // the parked Wait returns false
		d.Drain()
	}()
	d.Send(tea.WindowSizeMsg{Width: 80, Height: 24})
	d.Init(app.Init())
	d.Send(ui.PushMsg{Screen: network.New(network.Deps{Styles: st, Manager: mgr, Tick: noTimer, Park: d.Park})})
	d.Until("the interface list", func() bool { return strings.Contains(d.Text(), "mgmt0") })
	d.Keys("down", "down") // onto mgmt0
	lis.Start(w.Notify)
	if strings.Contains(d.Text(), "switch") {
		t.Fatalf("a switch before one was heard:\n%s", d.Text())
	}
	read := reads.Load()
	close(heard)
	// The watcher wakes the home screen, which reads again; what that
	// starts (the Network screen's read) is settled before looking.
	d.Await("the home screen's read after the change", func() bool { return reads.Load() > read })
	d.Settle()
	if !strings.Contains(d.Text(), "switch sw-core-1 port Gi1/0/12 VLAN 20") {
		t.Fatalf("the switch heard is not shown:\n%s", d.Text())
	}
	lines := strings.Split(d.Text(), "\n")
	for i, l := range lines {
		if strings.Contains(l, " eth0 ") && (i+1 >= len(lines) || !strings.Contains(lines[i+1], "sw-core-1")) {
			t.Errorf("the switch is not under eth0:\n%s", d.Text())
		}
		if strings.Contains(l, " > ") && !strings.Contains(l, "mgmt0") {
			t.Errorf("the cursor moved off mgmt0: %q", l)
		}
	}
}
