package network

import (
	"strings"
	"testing"

	"github.com/nodeconsole/nodeconsole/lldp"
	"github.com/nodeconsole/nodeconsole/netconfig"
	"github.com/nodeconsole/nodeconsole/tui/ui"
	"github.com/nodeconsole/nodeconsole/tui/uitest"
)

// TestWatchedRereadsTheList: a change the status watcher saw re-reads the
// interface list under it (the neighbours the LLDP listener heard since);
// an answer that comes once the operator has opened a form is dropped.
func TestWatchedRereadsTheList(t *testing.T) {
	tab := &netconfig.LLDPTable{}
	h := newHarness(t, harnessOpts{lldp: tab})
	tab.Set("eth0", []lldp.Neighbor{{ChassisID: "52:54:00:aa:bb:cc", PortID: "Gi1/0/12", SystemName: "sw-core-1", VLAN: 20}})
	h.handle(ui.WatchedMsg{})
	if !strings.Contains(h.text(), "switch sw-core-1 port Gi1/0/12 VLAN 20") || h.m.phase != phaseList {
		t.Fatalf("the list was not read again:\n%s", h.text())
	}
	tab.Set("eth0", nil)
	h.d.Deliver(ui.WatchedMsg{}) // the read starts ...
	h.d.Deliver(uitest.Key("3")) // ... and mgmt0's form opens before it answers
	h.d.Settle()
	if h.m.phase != phaseForm || h.m.form.ifc.Name != "mgmt0" {
		t.Errorf("a late re-read left phase %d, form for %q", h.m.phase, h.m.form.ifc.Name)
	}
	if ifc, _ := h.m.status.Interface("eth0"); len(ifc.LLDP) != 1 {
		t.Errorf("a late re-read replaced the status: eth0 LLDP %+v", ifc.LLDP)
	}
}
