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

// harness runs a screen like the shell does, in the test goroutine: every
// command runs in its own goroutine, its message comes back on a channel
// and is delivered to Update by pump. ui messages (audit, error, back) are
// recorded instead.
type harness struct {
	t      *testing.T
	m      *Model
	sim    *netconfig.Simulated
	mgr    *netconfig.Manager
	clock  *clock
	expire chan time.Time // fires the Manager's own deadline
	msgs   chan tea.Msg
	audits []ui.AuditMsg
	errs   []ui.ErrorMsg
	back   bool
}

type harnessOpts struct {
	profile    ui.Profile
	tryTimeout time.Duration
	stateDir   string
}

func newHarness(t *testing.T, o harnessOpts) *harness {
	t.Helper()
	if o.profile == (ui.Profile{}) {
		o.profile = uitest.TrueColor
	}
	if o.stateDir == "" {
		o.stateDir = t.TempDir()
	}
	h := &harness{t: t, sim: netconfig.NewSimulated(), clock: &clock{t: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)},
		expire: make(chan time.Time, 1), msgs: make(chan tea.Msg, 64)}
	mgr, err := netconfig.NewManager(netconfig.Options{
		Backend: h.sim, Reader: h.sim, DHCP: netconfig.DHCPHook(h.sim.DHCP),
		StateDir: o.stateDir, NetworkdDir: o.stateDir + "/network",
		Now: h.clock.Now, After: func(time.Duration) <-chan time.Time { return h.expire },
	})
	if err != nil {
		t.Fatal(err)
	}
	h.mgr = mgr
	h.m = New(Deps{Styles: uitest.Styles(o.profile), Manager: mgr, Now: h.clock.Now, TryTimeout: o.tryTimeout})
	h.handle(tea.WindowSizeMsg{Width: 80, Height: 22})
	h.run(h.m.Init())
	h.until("the interface list", func() bool { return h.m.phase == phaseList })
	return h
}

// run starts cmd (and the commands of a batch) in goroutines.
func (h *harness) run(cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	go func() {
		msg := cmd()
		if b, ok := msg.(tea.BatchMsg); ok {
			for _, c := range b {
				h.run(c)
			}
			return
		}
		if msg != nil {
			h.msgs <- msg
		}
	}()
}

func (h *harness) handle(msg tea.Msg) {
	switch msg := msg.(type) {
	case ui.AuditMsg:
		h.audits = append(h.audits, msg)
		return
	case ui.ErrorMsg:
		h.errs = append(h.errs, msg)
		return
	case ui.BackMsg:
		h.back = true
		return
	}
	s, cmd := h.m.Update(msg)
	h.m = s.(*Model)
	h.run(cmd)
}

// until delivers messages until cond holds; it fails after 10 s.
func (h *harness) until(what string, cond func() bool) {
	h.t.Helper()
	limit := time.After(10 * time.Second)
	for !cond() {
		select {
		case msg := <-h.msgs:
			h.handle(msg)
		case <-limit:
			h.t.Fatalf("timed out waiting for %s; screen:\n%s", what, h.text())
		}
	}
}

// key sends key presses: names like "enter", "tab", "esc", "backspace", or
// text typed character by character.
func (h *harness) key(keys ...string) {
	for _, k := range keys {
		h.handle(uitest.Key(k))
	}
}

func (h *harness) typeText(s string) {
	for _, r := range s {
		h.handle(tea.KeyPressMsg{Code: r, Text: string(r)})
	}
}

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
