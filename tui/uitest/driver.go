package uitest

import (
	"strings"
	"sync/atomic"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/nodeconsole/nodeconsole/tui/ui"
)

// Driver runs a screen, or the whole shell, as bubbletea would but without
// a terminal: every command runs in a goroutine of its own and its message
// is delivered on the test's goroutine. Nothing is dropped because it is
// slow: the driver waits for every command it started, however long it
// takes on a loaded machine (the test binary's -timeout is the only limit).
//
// Commands that wait for something the test controls (a fake long-poll)
// call Park around the wait, so that Settle does not wait for them.
//
// Timers never sleep: the screen under test
// takes the driver's Tick as its tick source (tea.Tick in production), the
// driver keeps each timer pending, and the test fires them with Fire, as
// if the time had passed.
type Driver struct {
	t      testing.TB
	update func(tea.Msg) tea.Cmd
	view   func() string
	screen ui.Screen
	keep   bool // keep shell messages instead of delivering them

	msgs    chan tea.Msg
	running int
	parked  atomic.Int64
	timers  []func(time.Time) tea.Msg

	// Shell holds the messages a screen sent to the shell (audit, back,
	// errors, pushes...), in order, for a screen driver.
	Shell []tea.Msg
	// Now is the time timers fire at; zero means time.Now.
	Now time.Time
}

// wakeMsg wakes the driver when a command parks.
type wakeMsg struct{}

// timerMsg is what the driver's Tick commands return: a timer to keep.
type timerMsg struct{ fn func(time.Time) tea.Msg }

// NewScreenDriver drives one screen. The messages a screen sends to the
// shell (ui.AuditMsg, ui.BackMsg, ui.PushMsg...) are kept in Shell rather
// than delivered.
func NewScreenDriver(t testing.TB, s ui.Screen) *Driver {
	d := &Driver{t: t, screen: s, keep: true}
	d.update = func(msg tea.Msg) tea.Cmd {
		var cmd tea.Cmd
		d.screen, cmd = d.screen.Update(msg)
		return cmd
	}
	d.view = func() string { return d.screen.View() }
	d.msgs = make(chan tea.Msg, 256)
	return d
}

// NewModelDriver drives a whole program model (the shell): every message
// is delivered to it.
func NewModelDriver(t testing.TB, m tea.Model) *Driver {
	d := &Driver{t: t, msgs: make(chan tea.Msg, 256)}
	d.update = func(msg tea.Msg) tea.Cmd {
		var cmd tea.Cmd
		m, cmd = m.Update(msg)
		return cmd
	}
	d.view = func() string { return m.View().Content }
	return d
}

// Screen is the driven screen (nil for a model driver).
func (d *Driver) Screen() ui.Screen { return d.screen }

// Tick is the tick source to inject into the screen under test in place of
// tea.Tick: the timer waits, without sleeping, until Fire.
func (d *Driver) Tick(_ time.Duration, fn func(time.Time) tea.Msg) tea.Cmd {
	return func() tea.Msg { return timerMsg{fn} }
}

// Init runs the screen's (or model's) Init command and settles.
func (d *Driver) Init(cmd tea.Cmd) {
	d.start(cmd)
	d.Settle()
}

// Send delivers msg, then settles: it returns once every command that
// followed has delivered its message.
func (d *Driver) Send(msgs ...tea.Msg) {
	for _, msg := range msgs {
		d.Deliver(msg)
		d.Settle()
	}
}

// Keys sends key presses by name (see Key), settling after each.
func (d *Driver) Keys(names ...string) {
	for _, n := range names {
		d.Send(Key(n))
	}
}

// Deliver delivers msg and starts the commands it returns, without waiting
// for them (a test that holds a command mid-way uses it, then Settle).
func (d *Driver) Deliver(msg tea.Msg) {
	d.t.Helper()
	switch msg := msg.(type) {
	case nil:
	case tea.BatchMsg:
		for _, c := range msg {
			d.start(c)
		}
	case timerMsg:
		d.timers = append(d.timers, msg.fn)
	case ui.AuditMsg, ui.StatusChangedMsg, ui.BackMsg, ui.HomeMsg, ui.QuitMsg, ui.ErrorMsg, ui.PushMsg,
		ui.NoticeMsg, ui.HeaderMsg:
		if d.keep {
			d.Shell = append(d.Shell, msg)
			return
		}
		d.start(d.update(msg))
	default:
		d.start(d.update(msg))
	}
}

func (d *Driver) start(cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	d.running++
	go func() { d.msgs <- cmd() }()
}

// Park runs wait, which waits for something the test controls (a fake
// long-poll waiting for its context): while it waits, Settle and Until do
// not wait for its command. Call it from inside a command.
func (d *Driver) Park(wait func()) {
	d.parked.Add(1)
	d.msgs <- wakeMsg{}
	defer d.parked.Add(-1)
	wait()
}

// step delivers the next message of a command that finished, waiting for
// one; false when no command is running, or (unless all) every command
// running is parked.
func (d *Driver) step(all bool) bool {
	if d.running == 0 || !all && int64(d.running) == d.parked.Load() {
		return false
	}
	msg := <-d.msgs
	if _, ok := msg.(wakeMsg); ok {
		return true
	}
	d.running--
	d.Deliver(msg)
	return true
}

// Settle delivers messages until no command is running but parked ones.
// Pending timers do not count: they wait for Fire.
func (d *Driver) Settle() {
	for d.step(false) {
	}
}

// Drain delivers messages until no command at all is running, parked ones
// included: call it once what they wait for was released (a gate opened,
// their context cancelled), since a parked command may not have noticed yet.
func (d *Driver) Drain() {
	for d.step(true) {
	}
}

// Until delivers messages until cond holds; it fails the test when every
// command has finished and cond still does not hold.
func (d *Driver) Until(what string, cond func() bool) {
	d.t.Helper()
	for !cond() {
		if !d.step(false) {
			d.t.Fatalf("nothing left to run, and still not %s; screen:\n%s", what, d.Text())
		}
	}
}

// Await is Until for a change the test makes outside the screen (a
// command run, a file written): it also waits for parked commands, such as
// one waiting for a status watcher, to deliver. It fails the test when no
// command at all is left and cond still does not hold.
func (d *Driver) Await(what string, cond func() bool) {
	d.t.Helper()
	for !cond() {
		if !d.step(true) {
			d.t.Fatalf("nothing left to run, and still not %s; screen:\n%s", what, d.Text())
		}
	}
}

// Running is how many commands have not delivered their message yet.
func (d *Driver) Running() int { return d.running }

// Timers is how many timers wait for Fire.
func (d *Driver) Timers() int { return len(d.timers) }

// Fire fires every pending timer (those the fired ones start wait for the
// next Fire), then settles. It returns how many fired.
func (d *Driver) Fire() int {
	now := d.Now
	if now.IsZero() {
		now = time.Now()
	}
	timers := d.timers
	d.timers = nil
	for _, fn := range timers {
		d.Deliver(fn(now))
	}
	d.Settle()
	return len(timers)
}

// View is the current view.
func (d *Driver) View() string { return d.view() }

// Text is the current view without styling.
func (d *Driver) Text() string { return ansi.Strip(d.view()) }

// Sent reports whether the screen sent a message of the shell like want
// (compared by type).
func Sent[T tea.Msg](d *Driver) bool {
	for _, m := range d.Shell {
		if _, ok := m.(T); ok {
			return true
		}
	}
	return false
}

// Key is the key press named: "enter", "esc", "tab", "shift+tab",
// "backspace", "up", "down", "left", "right", "ctrl+X", or a single
// character.
func Key(name string) tea.KeyPressMsg {
	switch name {
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "tab":
		return tea.KeyPressMsg{Code: tea.KeyTab}
	case "shift+tab":
		return tea.KeyPressMsg{Code: tea.KeyTab, Mod: tea.ModShift}
	case "backspace":
		return tea.KeyPressMsg{Code: tea.KeyBackspace}
	case "up":
		return tea.KeyPressMsg{Code: tea.KeyUp}
	case "down":
		return tea.KeyPressMsg{Code: tea.KeyDown}
	case "left":
		return tea.KeyPressMsg{Code: tea.KeyLeft}
	case "right":
		return tea.KeyPressMsg{Code: tea.KeyRight}
	case "space":
		return tea.KeyPressMsg{Code: tea.KeySpace, Text: " "}
	}
	if c, ok := strings.CutPrefix(name, "ctrl+"); ok && len(c) == 1 {
		return tea.KeyPressMsg{Code: rune(c[0]), Mod: tea.ModCtrl}
	}
	r := []rune(name)
	if len(r) != 1 {
		panic("uitest: unknown key " + name)
	}
	return tea.KeyPressMsg{Code: r[0], Text: name}
}

// Typed is the key presses that type s.
func Typed(s string) []tea.Msg {
	var out []tea.Msg
	for _, r := range s {
		out = append(out, tea.KeyPressMsg{Code: r, Text: string(r)})
	}
	return out
}
