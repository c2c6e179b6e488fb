package main

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/nodeconsole/nodeconsole/nodestatus"
	"github.com/nodeconsole/nodeconsole/regclient"
)

// TestDemoRebootEndsRebootNote: in --demo, a registration made since the
// (simulated) node booted shows "Reboot to finish registration" on the
// home screen; the menu's simulated Reboot is that reboot, so the note goes
// (it stayed: the demo read the host's boot time).
func TestDemoRebootEndsRebootNote(t *testing.T) {
	ctx := context.Background()
	e := demoEnvFor(t)
	booted := time.Now().Add(-time.Hour)
	e.demo.booted.Store(&booted)
	if err := e.store.Save(regclient.State{State: regclient.Registered, NodeID: e.nodeID, NodeName: "store-17",
		RegisteredAt: time.Now().Add(-time.Minute)}); err != nil {
		t.Fatal(err)
	}
	c := e.collector()
	if notes := c.Collect(ctx).Notes; !slices.Contains(notes, nodestatus.RebootNote) {
		t.Fatalf("no reboot note after registering in this boot: %q", notes)
	}
	if _, err := e.powerCmd("reboot", nil, nil)(ctx); err != nil {
		t.Fatal(err)
	}
	if notes := c.Collect(ctx).Notes; slices.Contains(notes, nodestatus.RebootNote) {
		t.Errorf("the reboot note stayed after the simulated reboot: %q", notes)
	}
}

// TestDemoProbeStaysSimulated: "Probe a host" in --demo runs against the
// simulated network: a listener on this host's loopback is never reached.
func TestDemoProbeStaysSimulated(t *testing.T) {
	ctx := context.Background()
	e := demoEnvFor(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	reached := make(chan struct{}, 1)
	go func() {
		if c, err := ln.Accept(); err == nil {
			reached <- struct{}{}
			c.Close()
		}
	}()
	mgr, err := e.netManager()
	if err != nil {
		t.Fatal(err)
	}
	st, err := e.demo.net.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	mgr.Prober().ProbeHost(ctx, st, ln.Addr().String())
	ln.Close() // Accept returns; a connection made before it is in reached
	select {
	case <-reached:
		t.Error("the demo's probe reached a real listener on this host")
	default:
	}
}

// demoEnvFor is the --demo environment with an empty config, closed when
// the test ends.
func demoEnvFor(t *testing.T) *env {
	t.Helper()
	cfg := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(cfg, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	e, err := newEnv(context.Background(), globals{demo: true, configPath: cfg, configSet: true}, envOpts{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.close)
	return e
}
