package nodestatus

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/nodeconsole/nodeconsole/lldp"
	"github.com/nodeconsole/nodeconsole/netconfig"
	"github.com/nodeconsole/nodeconsole/regclient"
)

func TestRegistrationLine(t *testing.T) {
	now := time.Now()
	past := now.Add(-time.Minute)
	for _, tt := range []struct {
		r    Registration
		want string
	}{
		{Registration{State: regclient.Unregistered}, "Unregistered"},
		{Registration{State: regclient.Registered, NodeName: "store-17", Project: "retail"}, "Registered as store-17 (retail)"},
		{Registration{State: regclient.Pending, UserCode: "BCDF-GHJK"}, "Awaiting activation (code BCDF-GHJK)"},
		{Registration{State: regclient.Pending, UserCode: "BCDF-GHJK", ExpiresAt: &past}, "Awaiting activation (code expired)"},
		{Registration{State: regclient.Pending}, "Awaiting activation"},
		// The key kept after a lost or refused certificate (issue 12).
		{Registration{State: regclient.Pending, Recovery: "The node certificate was damaged."}, "Certificate lost; key kept (register again)"},
	} {
		if got := tt.r.RegistrationLine(now); got != tt.want {
			t.Errorf("%+v: %q, want %q", tt.r, got, tt.want)
		}
	}
}

// TestRebootNote: a registration made during this boot keeps the home note
// "Reboot to finish registration" until the next boot.
func TestRebootNote(t *testing.T) {
	store := regclient.Store{Dir: t.TempDir()}
	reg := time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC)
	if err := store.Save(regclient.State{NodeID: "edge-0123456789abcdef0123456789abcdef", State: regclient.Registered, NodeName: "n1", RegisteredAt: reg}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		boot time.Time
		want bool
	}{{reg.Add(-time.Hour), true}, {reg.Add(time.Hour), false}} {
		c := Collector{State: store, Hostname: func() (string, error) { return "h", nil },
			BootTime: func() (time.Time, error) { return tc.boot, nil }}
		s := c.Collect(context.Background())
		if s.Registration.RebootPending != tc.want || slices.Contains(s.Notes, RebootNote) != tc.want {
			t.Errorf("boot %s: pending %v, notes %q; want %v", tc.boot, s.Registration.RebootPending, s.Notes, tc.want)
		}
	}
	if bt, err := ProcBootTime(); err != nil || bt.After(time.Now()) || bt.Year() < 2000 {
		t.Errorf("ProcBootTime = %s, %v", bt, err)
	}
}

// TestCollectLLDP: the neighbours the console heard reach the snapshot
// (and status --json's "lldp") for that interface only.
func TestCollectLLDP(t *testing.T) {
	var tab netconfig.LLDPTable
	tab.Set("eth0", []lldp.Neighbor{{ChassisID: "00:1b:54:aa:bb:cc", PortID: "Gi1/0/12", SystemName: "sw-rack12", VLAN: 100}})
	c := Collector{Net: netconfig.WithLLDP(netconfig.NewSimulated(), &tab), State: regclient.Store{Dir: t.TempDir()},
		Hostname: func() (string, error) { return "h", nil }}
	s := c.Collect(context.Background())
	for _, ifc := range s.Interfaces {
		if got := len(ifc.LLDP); got != map[string]int{"eth0": 1}[ifc.Name] {
			t.Errorf("%s: %d neighbours %+v", ifc.Name, got, ifc.LLDP)
		}
		if ifc.Name == "eth0" && (len(ifc.LLDP) != 1 || ifc.LLDP[0].SystemName != "sw-rack12" || ifc.LLDP[0].VLAN != 100) {
			t.Errorf("eth0: %+v", ifc.LLDP)
		}
	}
}
