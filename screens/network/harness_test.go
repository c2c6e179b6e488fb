package network

import (
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/nodeconsole/nodeconsole/netconfig"
	"github.com/nodeconsole/nodeconsole/tui/ui"
	"github.com/nodeconsole/nodeconsole/tui/uitest"
)

// clock is a settable clock shared by the screen and the Manager.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// harness runs the screen in a uitest.Driver: every command runs in its own
// goroutine and its message is delivered on the test's goroutine; the
// countdown's ticks wait for Fire, and the trial's Wait is parked. The
// messages for the shell (audit, error, back) are kept in the driver.
type harness struct {
	t      *testing.T
	d      *uitest.Driver
	m      *Model
	sim    *netconfig.Simulated
	mgr    *netconfig.Manager
	clock  *clock
	expire chan time.Time // fires the Manager's own deadline
	opts   harnessOpts
}

type harnessOpts struct {
	profile    ui.Profile
	tryTimeout time.Duration
	stateDir   string
	endpoint   string                          // Deps.Endpoint
	lldp       *netconfig.LLDPTable            // what the LLDP listener heard (nil: none)
	site       *netconfig.Site                 // Deps.Site
	proxy      string                          // Deps.Proxy
	mode6      func(string) netconfig.IPv6Mode // Deps.IPv6Mode
	dhcp6      bool                            // the DHCP control runs DHCPv6 (the simulated one does not)
}

// dhcp6Hook is a DHCPHook that says it runs DHCPv6 too.
type dhcp6Hook struct{ netconfig.DHCPHook }

func (dhcp6Hook) DHCPv6() error { return nil }

func newHarness(t *testing.T, o harnessOpts) *harness {
	t.Helper()
	if o.profile == (ui.Profile{}) {
		o.profile = uitest.TrueColor
	}
	if o.stateDir == "" {
		o.stateDir = t.TempDir()
	}
	h := &harness{t: t, sim: netconfig.NewSimulated(), clock: &clock{t: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)},
		expire: make(chan time.Time, 1), opts: o}
	var dhcp netconfig.DHCPControl = netconfig.DHCPHook(h.sim.DHCP)
	if o.dhcp6 {
		dhcp = dhcp6Hook{netconfig.DHCPHook(h.sim.DHCP)}
	}
	mgr, err := netconfig.NewManager(netconfig.Options{
		Backend: h.sim, Reader: netconfig.WithLLDP(h.sim, o.lldp), DHCP: dhcp,
		StateDir: o.stateDir, NetworkdDir: o.stateDir + "/network",
		Now: h.clock.Now, After: func(time.Duration) <-chan time.Time { return h.expire },
		// Every probe runs against the simulated network, as in --demo.
		Prober: &netconfig.Prober{Reader: h.sim, Neighbors: h.sim, Dial: h.sim.Dial},
	})
	if err != nil {
		t.Fatal(err)
	}
	h.mgr = mgr
	h.open()
	h.until("the interface list", func() bool { return h.m.phase == phaseList })
	return h
}

// open opens a new screen on the harness's Manager (as the shell does
// each time the menu item is chosen) at 80x22.
func (h *harness) open() {
	var d *uitest.Driver
	h.m = New(Deps{Styles: uitest.Styles(h.opts.profile), Manager: h.mgr, Now: h.clock.Now, TryTimeout: h.opts.tryTimeout, Endpoint: h.opts.endpoint, Site: h.opts.site, Proxy: h.opts.proxy,
		IPv6Mode: h.opts.mode6,
		Tick:     func(dur time.Duration, fn func(time.Time) tea.Msg) tea.Cmd { return d.Tick(dur, fn) },
		Park:     func(wait func()) { d.Park(wait) }})
	d = uitest.NewScreenDriver(h.t, h.m)
	h.d = d
	d.Send(tea.WindowSizeMsg{Width: 80, Height: 22})
	d.Init(h.m.Init())
}

func (h *harness) handle(msg tea.Msg) { h.d.Send(msg) }

// until delivers messages until cond holds (see uitest.Driver.Until).
func (h *harness) until(what string, cond func() bool) {
	h.t.Helper()
	h.d.Until(what, cond)
}

// audits are the audit lines the screen sent.
func (h *harness) audits() []ui.AuditMsg {
	var out []ui.AuditMsg
	for _, m := range h.d.Shell {
		if a, ok := m.(ui.AuditMsg); ok {
			out = append(out, a)
		}
	}
	return out
}

// key sends key presses: names like "enter", "tab", "esc", "backspace", or
// text typed character by character.
func (h *harness) key(keys ...string) { h.d.Keys(keys...) }

func (h *harness) typeText(s string) { h.d.Send(uitest.Typed(s)...) }

func (h *harness) text() string { return ansi.Strip(h.m.View()) }

// openForm chooses the interface called name from the list.
func (h *harness) openForm(name string) {
	h.t.Helper()
	for i, ifc := range h.m.status.Interfaces {
		if ifc.Name == name {
			h.typeText(string(rune('1' + i)))
			break
		}
	}
	if h.m.phase != phaseForm || h.m.form.ifc.Name != name {
		h.t.Fatalf("form for %s did not open:\n%s", name, h.text())
	}
}

// setField replaces the text of a form row.
func (h *harness) setField(row int, value string) {
	h.t.Helper()
	h.m.form.setFocus(row)
	h.key("ctrl+u") // delete before the cursor (the cursor is at the end)
	h.typeText(value)
}
