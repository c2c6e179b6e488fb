package network_test

import (
	"fmt"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/nodeconsole/nodeconsole/lldp"
	"github.com/nodeconsole/nodeconsole/netconfig"
	"github.com/nodeconsole/nodeconsole/screens/network"
	"github.com/nodeconsole/nodeconsole/tui"
	"github.com/nodeconsole/nodeconsole/tui/uitest"
)

// TestGoldenLLDP: the switch, port and VLAN heard on a NIC are read whole
// at 80x24 and at 40x12: a short name on one line ("switch" dropped where
// it does not fit), a long one over two (eth0), a long port and VLAN over
// three (mgmt0), two switches on one NIC each on its own lines (eth1).
func TestGoldenLLDP(t *testing.T) {
	tab := &netconfig.LLDPTable{}
	tab.Set("eth0", []lldp.Neighbor{{ChassisID: "00:1b:54:aa:bb:cc", PortID: "Gi1/0/12", SystemName: "core-sw-2.bldg-a.example.net", VLAN: 120}})
	tab.Set("eth1", []lldp.Neighbor{{ChassisID: "52:54:00:aa:bb:01", PortID: "Gi1/0/1", SystemName: "sw-a", VLAN: 20},
		{ChassisID: "52:54:00:aa:bb:02", PortID: "Gi1/0/2", SystemName: "sw-b"}})
	tab.Set("mgmt0", []lldp.Neighbor{{ChassisID: "52:54:00:aa:bb:03", PortID: "TenGigabitEthernet1/1/4", SystemName: "agg-1", VLAN: 4001}})
	for _, sz := range []struct {
		w, h int
		want []string
	}{
		{80, 24, []string{"switch core-sw-2.bldg-a.example.net port Gi1/0/12 VLAN 120",
			"switch sw-a port Gi1/0/1 VLAN 20; switch sw-b port Gi1/0/2", "switch agg-1 port TenGigabitEthernet1/1/4 VLAN 4001"}},
		{40, 12, []string{"switch core-sw-2.bldg-a.example.net", "port Gi1/0/12 VLAN 120", "switch sw-a port Gi1/0/1 VLAN 20",
			"switch sw-b port Gi1/0/2"}},
	} {
		t.Run(fmt.Sprintf("%dx%d", sz.w, sz.h), func(t *testing.T) {
			sim := netconfig.NewSimulated()
			mgr, err := netconfig.NewManager(netconfig.Options{Backend: sim, Reader: netconfig.WithLLDP(sim, tab), StateDir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			st := uitest.Styles(uitest.MonoASCII)
			app := tui.New(tui.Options{Styles: st, Home: network.New(network.Deps{Styles: st, Manager: mgr}), Node: "edge-1"})
			d := uitest.NewModelDriver(t, app)
			d.Send(tea.WindowSizeMsg{Width: sz.w, Height: sz.h})
			d.Init(app.Init())
			assertFits(t, d.View(), sz.w, sz.h)
			plain := ansi.Strip(d.View())
			for _, w := range sz.want {
				if !strings.Contains(plain, w) {
					t.Errorf("view lacks %q:\n%s", w, plain)
				}
			}
			if sz.w == 40 {
				d.Keys("down", "down") // mgmt0: its port and VLAN scroll into view
				if plain := ansi.Strip(d.View()); !strings.Contains(plain, "port TenGigabitEthernet1/1/4") || !strings.Contains(plain, "VLAN 4001") {
					t.Errorf("mgmt0's port and VLAN are not read whole:\n%s", plain)
				}
			}
			golden.RequireEqual(t, uitest.Render(d.View(), uitest.MonoASCII.Color))
		})
	}
}
