package netconfig

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/nodeconsole/nodeconsole/lldp"
)

// TestWithLLDP: the neighbours a listener put in the table come out with
// the status, per interface; an interface never listened on keeps nil (JSON
// null), one listened on without a neighbour an empty list.
func TestWithLLDP(t *testing.T) {
	var tab LLDPTable
	sw := lldp.Neighbor{ChassisID: "00:1b:54:aa:bb:cc", PortID: "Gi1/0/12", SystemName: "sw-rack12", VLAN: 100, TTL: 120}
	tab.Set("eth0", []lldp.Neighbor{sw})
	tab.Set("eth1", nil)
	st, err := WithLLDP(NewSimulated(), &tab).Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, ifc := range st.Interfaces {
		b, _ := json.Marshal(ifc.LLDP)
		got[ifc.Name] = string(b)
	}
	want := map[string]string{
		"eth0":  `[{"chassisId":"00:1b:54:aa:bb:cc","portId":"Gi1/0/12","systemName":"sw-rack12","vlan":100,"ttl":120}]`,
		"eth1":  `[]`,
		"mgmt0": `null`,
		"wg0":   `null`,
	}
	for name, w := range want {
		if got[name] != w {
			t.Errorf("%s: lldp %s, want %s", name, got[name], w)
		}
	}
	if WithLLDP(NewSimulated(), nil) == nil {
		t.Error("WithLLDP(r, nil) is nil")
	}
}
