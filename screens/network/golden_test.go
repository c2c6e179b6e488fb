package network_test

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/nodeconsole/nodeconsole/lldp"
	"github.com/nodeconsole/nodeconsole/netconfig"
	"github.com/nodeconsole/nodeconsole/screens/network"
	"github.com/nodeconsole/nodeconsole/tui"
	"github.com/nodeconsole/nodeconsole/tui/ui"
	"github.com/nodeconsole/nodeconsole/tui/uitest"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// demoConsole is the shell with the network screen on top of the stack, as
// in --demo: a simulated network, a state dir in t.TempDir, a clock the test
// moves. The Manager's own deadline never fires, so only the screen's
// countdown decides. tick, when not nil, is the countdown's tick source and
// park runs the trial's Wait (a uitest.Driver's); teatest flows pass nil.
func demoConsole(t *testing.T, p ui.Profile, tick func(time.Duration, func(time.Time) tea.Msg) tea.Cmd, park func(func())) (*tui.App, *netconfig.Simulated, *netconfig.Manager, *fakeClock) {
	t.Helper()
	sim := netconfig.NewSimulated()
	clock := &fakeClock{t: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)}
	dir := t.TempDir()
	mgr, err := netconfig.NewManager(netconfig.Options{
		Backend: sim, Reader: netconfig.WithLLDP(sim, heard()), DHCP: netconfig.DHCPHook(sim.DHCP), StateDir: dir, NetworkdDir: dir + "/network",
		Now: clock.Now, After: func(time.Duration) <-chan time.Time { return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	st := uitest.Styles(p)
	site := &netconfig.Site{HostnameFile: dir + "/hostname", ProxyDir: dir + "/config.d",
		NTP: netconfig.NTPOptions{Client: netconfig.NTPTimesyncd, TimesyncdDropIn: dir + "/timesyncd.conf", ReloadCommand: []string{"true"}}}
	scr := network.New(network.Deps{Styles: st, Manager: mgr, Now: clock.Now, TryTimeout: 60 * time.Second, Tick: tick, Park: park,
		Site: site, Proxy: "http://alice:s3cret@proxy.example.com:3128"})
	return tui.New(tui.Options{Styles: st, Home: scr, Node: "edge-0123456789abcdef0123456789abcdef"}), sim, mgr, clock
}

// heard is what the console's LLDP listener (a fake here) heard: a switch
// on eth0, nothing on eth1; mgmt0 was not listened on.
func heard() *netconfig.LLDPTable {
	t := &netconfig.LLDPTable{}
	t.Set("eth0", []lldp.Neighbor{{ChassisID: "52:54:00:aa:bb:cc", PortID: "Gi1/0/12", SystemName: "sw-core-1", VLAN: 20, TTL: 120}})
	t.Set("eth1", nil)
	return t
}

// drivenConsole is demoConsole in a uitest.Driver at w x h, started.
func drivenConsole(t *testing.T, p ui.Profile, w, h int) *uitest.Driver {
	t.Helper()
	var d *uitest.Driver
	a, _, _, _ := demoConsole(t, p,
		func(dur time.Duration, fn func(time.Time) tea.Msg) tea.Cmd { return d.Tick(dur, fn) },
		func(wait func()) { d.Park(wait) })
	d = uitest.NewModelDriver(t, a)
	d.Send(tea.WindowSizeMsg{Width: w, Height: h})
	d.Init(a.Init())
	return d
}

var (
	enter = tea.KeyPressMsg{Code: tea.KeyEnter}
	tab   = tea.KeyPressMsg{Code: tea.KeyTab}
	clear = tea.KeyPressMsg{Code: 'u', Mod: tea.ModCtrl}
)

func typed(s string) []tea.KeyPressMsg {
	var out []tea.KeyPressMsg
	for _, r := range s {
		out = append(out, tea.KeyPressMsg{Code: r, Text: string(r)})
	}
	return out
}

// fill replaces the focused field's text and moves to the next field.
func fill(d *uitest.Driver, s string) {
	d.Keys("ctrl+u")
	d.Send(uitest.Typed(s)...)
	d.Keys("tab")
}

func assertFits(t *testing.T, view string, w, h int) {
	t.Helper()
	lines := strings.Split(view, "\n")
	if len(lines) != h {
		t.Errorf("view has %d lines, want %d", len(lines), h)
	}
	for i, l := range lines {
		if n := ansi.StringWidth(l); n > w {
			t.Errorf("line %d is %d cells wide, want <= %d: %q", i+1, n, w, ansi.Strip(l))
		}
	}
}

func TestGolden(t *testing.T) {
	profiles := []struct {
		name string
		p    ui.Profile
	}{{"truecolor", uitest.TrueColor}, {"mono_ascii", uitest.MonoASCII}}
	pictures := []struct {
		name string
		prep func(d *uitest.Driver)
		want []string
	}{
		{"list", func(*uitest.Driver) {}, []string{"eth0", "* default", "Default route", "switch sw-core-1 port Gi1/0/12 VLAN 20", "LLDP: no switch heard"}},
		{"form_errors", func(d *uitest.Driver) {
			d.Keys("enter") // eth0, where the cursor starts
			fill(d, "192.0.2.255/24")
			fill(d, "")
			fill(d, "198.51.100.1")
			d.Keys("tab") // Default route via this interface: on
			fill(d, "224.0.0.1")
			fill(d, "192.0.2.53")
		}, []string{"broadcast address", "not a unicast address", "disabled: fix the 2 problems"}},
		{"preview", func(d *uitest.Driver) {
			d.Keys("enter")
			fill(d, "198.51.100.10/24")
			fill(d, "")
			fill(d, "198.51.100.1")
			d.Keys("tab")
			fill(d, "198.51.100.53")
			fill(d, "")
			d.Keys("tab", "tab", "enter") // past IPv6 and Add route, on Preview and apply
		}, []string{"198.51.100.1", "Warning: eth0 carries the default route"}},
		// mgmt0: an address, no gateway, the default route on eth0.
		{"form_second_nic", func(d *uitest.Driver) {
			d.Keys("3")
		}, []string{"[ ] Default route via this interface", "Preview and apply"}},
		{"preview_second_nic", func(d *uitest.Driver) {
			d.Keys("3")
			fill(d, "198.51.100.21/24")
			d.Keys("tab", "tab", "tab", "tab", "enter", "enter", "enter") // to DNS 2, IPv6; Enter skips Add route
		}, []string{"Default route", "(unchanged)"}},
		// Static IPv6 on mgmt0, with a link-local address refused.
		{"form_ipv6", func(d *uitest.Driver) {
			d.Keys("3", "tab", "tab", "tab", "tab", "tab", "tab", "left") // mgmt0, down to IPv6: Static
			d.Keys("tab")
			fill(d, "fe80::5/64")
			fill(d, "2001:db8:7::1")
		}, []string{"IPv6     < Static >", "is link-local", "Gateway6 2001:db8:7::1"}},
		// VLAN, MTU and a static route on mgmt0.
		{"preview_vlan_mtu_route", func(d *uitest.Driver) {
			d.Keys("3", "shift+tab", "shift+tab") // mgmt0, up to VLAN ID
			fill(d, "20")
			fill(d, "1400") // a VLAN's MTU is at most its NIC's
			fill(d, "203.0.113.5/24")
			d.Keys("tab", "tab", "tab", "tab", "tab", "tab", "enter") // past IPv6 to Add route, add one
			d.Send(uitest.Typed("198.51.100.128/25@203.0.113.1")...)
			d.Keys("tab", "tab", "enter") // past Add route, on Preview and apply
		}, []string{"20, link mgmt0.20 will be created", "MTU           1500 ", "1400", "198.51.100.128/25 via 203.0.113.1 added"}},
		// One change kept, then "Restore a previous setup".
		{"history", func(d *uitest.Driver) {
			d.Keys("enter") // eth0
			fill(d, "192.0.2.20/24")
			d.Keys("tab", "tab", "tab", "tab", "enter", "enter", "enter", "enter") // past IPv6 to Apply, preview, apply
			d.Keys("y", "enter", "h")                                              // keep, back to the list, history
		}, []string{"Restore a previous setup", "2025-01-02 03:04  eth0 static 192.0.2.20/24", "Changed: first saved settings"}},
		// Site settings, a host name typed, the proxy's login hidden.
		{"site", func(d *uitest.Driver) {
			d.Keys("s")
			d.Send(uitest.Typed("node-12")...)
			d.Keys("tab")
			d.Send(uitest.Typed("ntp1.example.com, 192.0.2.123")...)
		}, []string{"Site settings", "Host name   node-12", "HTTPS proxy http://proxy.example.com:3128", "Proxy login ************"}},
		// eth1 has no carrier: the checks fail and Revert is selected.
		{"trial_failed", func(d *uitest.Driver) {
			d.Keys("2")
			fill(d, "198.51.100.40/24")
			d.Keys("tab", "tab", "tab", "tab", "enter", "enter", "enter") // to DNS 2, IPv6; Enter skips Add route
			d.Keys("enter")
		}, []string{"FAIL", "[ Revert ]"}},
	}
	sizes := []struct{ w, h int }{{80, 24}, {40, 12}}
	for _, sz := range sizes {
		for _, pr := range profiles {
			for _, pic := range pictures {
				name := pic.name + "_" + pr.name
				if sz.w != 80 {
					name = fmt.Sprintf("%s_%dx%d", name, sz.w, sz.h)
				}
				t.Run(name, func(t *testing.T) {
					d := drivenConsole(t, pr.p, sz.w, sz.h)
					pic.prep(d)
					view := d.View()
					assertFits(t, view, sz.w, sz.h)
					plain := ansi.Strip(view)
					if sz.w == 80 {
						for _, w := range pic.want {
							if !strings.Contains(plain, w) {
								t.Errorf("view lacks %q:\n%s", w, plain)
							}
						}
					}
					golden.RequireEqual(t, uitest.Render(view, pr.p.Color))
				})
			}
		}
	}
}

// waitFor waits until the program has written all of want (consuming the
// output read).
func waitFor(t *testing.T, tm *teatest.TestModel, want ...string) {
	t.Helper()
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool {
		for _, w := range want {
			if !bytes.Contains(b, []byte(w)) {
				return false
			}
		}
		return true
	},
		teatest.WithDuration(20*time.Second), teatest.WithCheckInterval(5*time.Millisecond))
}

// finalText quits and returns the last screen as plain text.
func finalText(t *testing.T, tm *teatest.TestModel) string {
	t.Helper()
	if err := tm.Quit(); err != nil {
		t.Fatal(err)
	}
	return ansi.Strip(tm.FinalModel(t, teatest.WithFinalTimeout(10*time.Second)).(*tui.App).View().Content)
}

func send(tm *teatest.TestModel, ks ...tea.KeyPressMsg) {
	for _, k := range ks {
		tm.Send(k)
	}
}

func sendFill(tm *teatest.TestModel, s string) {
	send(tm, clear)
	send(tm, typed(s)...)
	send(tm, tab)
}

// TestFlowEditApplyKeep: edit, apply, keep; the config is saved and the
// simulated network holds it.
func TestFlowEditApplyKeep(t *testing.T) {
	a, sim, mgr, _ := demoConsole(t, uitest.TrueColor, nil, nil)
	tm := teatest.NewTestModel(t, a, teatest.WithInitialTermSize(80, 24),
		teatest.WithProgramOptions(tea.WithColorProfile(colorprofile.TrueColor)))
	waitFor(t, tm, "Choose the interface")
	send(tm, enter)
	waitFor(t, tm, "Preview and apply")
	sendFill(tm, "192.0.2.20/24")
	sendFill(tm, "")
	sendFill(tm, "192.0.2.1")
	send(tm, tab)
	sendFill(tm, "192.0.2.53")
	sendFill(tm, "")
	send(tm, tab, tab, enter) // past IPv6 and Add route, on Preview and apply
	waitFor(t, tm, "current")
	send(tm, enter)
	waitFor(t, tm, "Keep these settings?", "answers ARP")
	send(tm, typed("y")...)
	// The renderer rewrites only changed cells; the end of the sentence lands
	// on cells that were blank, so it arrives whole.
	waitFor(t, tm, "again at boot")
	if text := finalText(t, tm); !strings.Contains(text, "kept and saved") {
		t.Errorf("final screen:\n%s", text)
	}
	if c, err := mgr.Saved(); err != nil || c.Address.String() != "192.0.2.20/24" {
		t.Errorf("saved %+v, %v", c, err)
	}
	if !slices.Contains(sim.Render(), "addr 192.0.2.20/24 dev eth0") {
		t.Errorf("simulated network:\n%s", strings.Join(sim.Render(), "\n"))
	}
}

// TestFlowCountdownExpires: nobody answers; the clock moves past the
// deadline and the next tick restores the previous settings. No sleeping:
// the test moves the clock and waits for output.
func TestFlowCountdownExpires(t *testing.T) {
	a, sim, mgr, clock := demoConsole(t, uitest.TrueColor, nil, nil)
	before := sim.Render()
	tm := teatest.NewTestModel(t, a, teatest.WithInitialTermSize(80, 24),
		teatest.WithProgramOptions(tea.WithColorProfile(colorprofile.TrueColor)))
	waitFor(t, tm, "Choose the interface")
	send(tm, enter)
	waitFor(t, tm, "Preview and apply")
	sendFill(tm, "198.51.100.10/24")
	sendFill(tm, "")
	sendFill(tm, "198.51.100.1")
	send(tm, enter, enter, enter, enter) // default route, DNS and IPv6 kept; Enter moves on to Apply
	send(tm, enter)
	waitFor(t, tm, "current")
	send(tm, enter)
	waitFor(t, tm, "Reverting in 60 s")
	if slices.Equal(sim.Render(), before) {
		t.Fatal("the settings were not applied")
	}
	clock.Add(61 * time.Second)
	waitFor(t, tm, "were restored.")
	if text := finalText(t, tm); !strings.Contains(text, "No answer within 60 s: the previous settings were restored.") {
		t.Errorf("final screen:\n%s", text)
	}
	if got := sim.Render(); !slices.Equal(got, before) {
		t.Errorf("not restored:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(before, "\n"))
	}
	if _, err := mgr.Saved(); err == nil {
		t.Error("an expired trial must not save")
	}
}

// TestFlowSecondNICKeepsDefaultRoute: a static address without a gateway on
// eth1 keeps the default route on eth0: the preview says so, and after Keep
// the simulated network and the saved config agree.
func TestFlowSecondNICKeepsDefaultRoute(t *testing.T) {
	a, sim, mgr, _ := demoConsole(t, uitest.TrueColor, nil, nil)
	sim.SetCarrier("eth1", true)
	tm := teatest.NewTestModel(t, a, teatest.WithInitialTermSize(80, 24),
		teatest.WithProgramOptions(tea.WithColorProfile(colorprofile.TrueColor)))
	waitFor(t, tm, "Choose the interface")
	send(tm, typed("2")...) // eth1
	waitFor(t, tm, "[ ] Default route via this interface")
	sendFill(tm, "198.51.100.40/24")
	send(tm, tab, tab, tab, tab, enter, enter) // netmask, gateway, default route, DNS 1, DNS 2, IPv6 as they are; Enter skips Add route
	send(tm, enter)
	waitFor(t, tm, "192.0.2.1 via eth0", "(unchanged)")
	send(tm, enter)
	waitFor(t, tm, "Keep these settings?")
	send(tm, typed("y")...)
	waitFor(t, tm, "again at boot")
	finalText(t, tm)
	got := sim.Render()
	for _, want := range []string{"addr 198.51.100.40/24 dev eth1", "route default via 192.0.2.1 dev eth0"} {
		if !slices.Contains(got, want) {
			t.Errorf("simulated network lacks %q:\n%s", want, strings.Join(got, "\n"))
		}
	}
	if c, err := mgr.Saved(); err != nil || c.DefaultRoute || c.Gateway.IsValid() {
		t.Errorf("saved %+v, %v; want no default route", c, err)
	}
}

// TestFlowFailedChecksSelectRevert: a check fails (eth1 has no carrier), so
// Revert is selected and Enter restores the previous settings.
func TestFlowFailedChecksSelectRevert(t *testing.T) {
	a, sim, mgr, _ := demoConsole(t, uitest.TrueColor, nil, nil)
	before := sim.Render()
	tm := teatest.NewTestModel(t, a, teatest.WithInitialTermSize(80, 24),
		teatest.WithProgramOptions(tea.WithColorProfile(colorprofile.TrueColor)))
	waitFor(t, tm, "Choose the interface")
	send(tm, typed("2")...)
	waitFor(t, tm, "Preview and apply")
	sendFill(tm, "198.51.100.40/24")
	send(tm, tab, tab, tab, tab, enter, enter, enter)
	waitFor(t, tm, "current")
	send(tm, enter)
	waitFor(t, tm, "has no carrier", "Keep these settings?")
	send(tm, enter)
	waitFor(t, tm, "were restored.")
	if text := finalText(t, tm); !strings.Contains(text, "Reverted: the previous settings were restored.") {
		t.Errorf("final screen:\n%s", text)
	}
	if got := sim.Render(); !slices.Equal(got, before) {
		t.Errorf("not restored:\n%s", strings.Join(got, "\n"))
	}
	if _, err := mgr.Saved(); err == nil {
		t.Error("a reverted trial must not save")
	}
}
