package tui

import (
	"slices"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/nodeconsole/nodeconsole/netconfig"
	"github.com/nodeconsole/nodeconsole/nodestatus"
	"github.com/nodeconsole/nodeconsole/regclient"
	"github.com/nodeconsole/nodeconsole/tui/uitest"
)

// TestSiteProxyReachesRegistration: a proxy saved in Network settings' Site
// settings is the one Register Node and Deregister Node use from then on,
// and Site settings opened again shows it (without its credentials).
func TestSiteProxyReachesRegistration(t *testing.T) {
	sim := netconfig.NewSimulated()
	state, dir := t.TempDir(), t.TempDir()
	mgr, err := netconfig.NewManager(netconfig.Options{Backend: sim, Reader: sim, DHCP: netconfig.DHCPHook(sim.DHCP),
		StateDir: state, NetworkdDir: state + "/network"})
	if err != nil {
		t.Fatal(err)
	}
	reg := &Registration{Store: regclient.Store{Dir: state}, NodeID: "edge-4c4c4544004235108052b4c04f4e4a32",
		Choices: []Choice{{Make: "Acme", Model: "EdgeBox 200"}}}
	var told []string // what ProxyChanged was told (in Update: no lock)
	a := NewConsole(ConsoleDeps{
		Styles: uitest.Styles(uitest.TrueColor),
		Collector: nodestatus.Collector{NodeID: reg.NodeID, Version: "1.2.3",
			Hostname: func() (string, error) { return "node-lab-01", nil }, Net: sim, State: reg.Store},
		Network: mgr, Refresh: time.Hour, Registration: reg,
		ProxyChanged: func(p, np string) { told = append(told, p) },
		Site: &netconfig.Site{HostnameFile: dir + "/hostname", ProxyDir: dir + "/config.d",
			NTP: netconfig.NTPOptions{Client: netconfig.NTPTimesyncd, TimesyncdDropIn: dir + "/timesyncd.conf", ReloadCommand: []string{"true"}}},
	})
	f := newFrameTap(a)
	tm := teatest.NewTestModel(t, f, teatest.WithInitialTermSize(80, 24))
	tab, enter := tea.KeyPressMsg{Code: tea.KeyTab}, tea.KeyPressMsg{Code: tea.KeyEnter}
	waitFrame(t, tm, f, "node-lab-01")
	tm.Send(enter) // Network settings
	waitFrame(t, tm, f, "Choose the interface")
	tm.Type("s")
	waitFrame(t, tm, f, "nothing changed")
	tm.Send(tab)
	tm.Send(tab) // HTTPS proxy
	tm.Type("proxy.example.com:3128")
	tm.Send(tab) // Proxy login
	tm.Type("u:p")
	tm.Send(tab)
	tm.Send(tab) // Save
	tm.Send(enter)
	waitFrame(t, tm, f, "(with credentials) saved.")
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEscape})
	waitFrame(t, tm, f, "Choose the interface")
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEscape}) // home; the screen is built anew
	waitFrame(t, tm, f, "Log out")
	tm.Send(enter)
	waitFrame(t, tm, f, "Choose the interface")
	tm.Type("s")
	waitFrame(t, tm, f, "HTTPS proxy http://proxy.example.com:3128")
	if err := tm.Quit(); err != nil {
		t.Fatal(err)
	}
	tm.FinalModel(t, teatest.WithFinalTimeout(10*time.Second))
	if got := reg.Client.HTTPSProxy; got != "http://u:p@proxy.example.com:3128" {
		t.Errorf("Register Node's proxy %q", got)
	}
	if want := []string{"http://u:p@proxy.example.com:3128"}; !slices.Equal(told, want) {
		t.Errorf("ProxyChanged told %q, want %q (the checks and the background renewal)", told, want)
	}
}
