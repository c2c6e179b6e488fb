package main

import (
	"testing"

	"github.com/nodeconsole/nodeconsole/config"
	"github.com/nodeconsole/nodeconsole/netconfig"
)

// TestProxyChangedReachesChecksAndRenewal: a proxy saved in the console's
// Site settings is used by the network checks (their proxy layer) and the
// background renewal at once, not from the next log-in; clearing it takes
// the layer away again.
func TestProxyChangedReachesChecksAndRenewal(t *testing.T) {
	sim := netconfig.NewSimulated()
	mgr, err := netconfig.NewManager(netconfig.Options{Backend: sim, Reader: sim, StateDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	cfg := netconfig.Config{Interface: "eth0", Mode: netconfig.ModeDHCP}
	hasProxyLayer := func() bool {
		for _, c := range mgr.Prober().Checks(cfg, "https://cp.example.com:8443") {
			if c.Name == "proxy" {
				return true
			}
		}
		return false
	}
	if hasProxyLayer() {
		t.Fatal("a proxy layer before any proxy was set")
	}
	e := &env{cfg: config.Config{Network: config.Network{HTTPSProxy: "", NoProxy: "old.example"}}}
	changed := e.proxyChanged(mgr)

	changed("http://u:p@proxy.example.com:3128", "internal.example")
	if !hasProxyLayer() {
		t.Error("the checks have no proxy layer after a proxy was saved")
	}
	n := e.cfg.Network
	e.proxy.apply(&n)
	if n.HTTPSProxy != "http://u:p@proxy.example.com:3128" || n.NoProxy != "internal.example" {
		t.Errorf("the renewal's proxy %q, noProxy %q", n.HTTPSProxy, n.NoProxy)
	}

	changed("", "")
	if hasProxyLayer() {
		t.Error("a proxy layer after the proxy was cleared")
	}
	e.proxy.apply(&n)
	if n.HTTPSProxy != "" || n.NoProxy != "" {
		t.Errorf("the renewal's proxy %q, noProxy %q after clearing", n.HTTPSProxy, n.NoProxy)
	}
}
