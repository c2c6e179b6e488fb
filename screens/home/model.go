// Package home is the console's first screen: the node's status and the main
// menu. The status is read in the background (a tea.Cmd) when a watcher
// says it changed, or every few seconds without one; only what changed is
// redrawn, so an idle console writes nothing and, with a watcher, wakes for
// nothing.
//
// The screen is split like the other screens: model.go (dependencies, model,
// keys), update.go (messages and transitions), commands.go (the background
// work) and view.go (layout for each terminal size).
package home

import (
	"context"
	"fmt"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/nodeconsole/nodeconsole/nodestatus"
	"github.com/nodeconsole/nodeconsole/tui/ui"
)

// Action is a menu entry that opens a screen.
type Action struct {
	Label string
	Hint  string
	// Open builds the screen when chosen. It runs in Update, so it must
	// not do I/O: the screen's Init does that.
	Open func() ui.Screen
}

// Deps are the home screen's dependencies.
type Deps struct {
	Styles *ui.Styles
	// Collect reads the status; it runs inside a tea.Cmd.
	Collect func(ctx context.Context) nodestatus.Snapshot
	// Actions are the menu entries before "Log out".
	Actions []Action
	// Watch, when set, says when the status may have changed (a
	// netwatch.Watcher: netlink and inotify notifications): the screen
	// reads the status then, and otherwise only when a time-dependent line
	// (an activation code's expiry, the certificate's) is due to change.
	// nil polls every Refresh.
	Watch Watch
	// Refresh is the status refresh period without Watch; 0 means 5 s.
	Refresh time.Duration
	// Tick is the timer source; nil means tea.Tick (tests inject one that
	// fires only when told).
	Tick func(d time.Duration, fn func(time.Time) tea.Msg) tea.Cmd
	// Now returns the time; nil means time.Now.
	Now func() time.Time
	// Notes are extra lines shown under the status (demo portal URL ...).
	Notes []string
	// Panel, when set, works in the background and shows its lines in the
	// status and its block (the registration QR code) beside the menu when
	// it fits. It is paused while another screen is open.
	Panel ui.Panel
}

const logoutID = "logout"

// Model is the home screen.
type Model struct {
	d       Deps
	menu    ui.Menu
	snap    nodestatus.Snapshot
	loaded  bool
	width   int
	height  int
	gen     int
	keys    keyMap
	lastHdr string
	// waiting: a Watch.Wait command is out (there is never more than one).
	waiting bool
}

// Watch is what the screen needs of a netwatch.Watcher.
type Watch interface {
	// Wait blocks until the status may have changed (true) or the
	// watcher is closed (false).
	Wait() bool
	// Drain drops a change signalled but not waited for: the reading
	// about to start covers it.
	Drain()
}

type keyMap struct {
	Logout key.Binding
}

func defaultKeyMap() keyMap {
	return keyMap{Logout: key.NewBinding(key.WithKeys("q"), key.WithHelp("q", "log out"))}
}

// New builds the home screen.
func New(d Deps) *Model {
	if d.Refresh <= 0 {
		d.Refresh = 5 * time.Second
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Tick == nil {
		d.Tick = tea.Tick
	}
	items := make([]ui.MenuItem, 0, len(d.Actions)+1)
	for i, a := range d.Actions {
		items = append(items, ui.MenuItem{ID: fmt.Sprint(i), Label: a.Label, Hint: a.Hint})
	}
	items = append(items, ui.MenuItem{ID: logoutID, Label: "Log out"})
	return &Model{d: d, menu: ui.NewMenu(d.Styles, items), keys: defaultKeyMap(), width: 80, height: 22}
}

// Title implements ui.Screen.
func (m *Model) Title() string { return "Home" }

// Snapshot returns the latest status reading.
func (m *Model) Snapshot() nodestatus.Snapshot { return m.snap }

// ShortHelp implements help.KeyMap.
func (m *Model) ShortHelp() []key.Binding { return append(m.menu.ShortHelp(), m.keys.Logout) }

// FullHelp implements help.KeyMap.
func (m *Model) FullHelp() [][]key.Binding {
	return append(m.menu.FullHelp(), []key.Binding{m.keys.Logout})
}
