// Package power is the "Reboot" and "Shut down" screens: a confirmation that
// says what happens, then the configured command (console.rebootCommand,
// console.poweroffCommand), or a simulation in --demo.
package power

import (
	"context"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/nodeconsole/nodeconsole/tui/ui"
)

// Action is what the screen does.
type Action int

// Actions.
const (
	Reboot Action = iota
	Poweroff
)

// Deps are the screen's dependencies.
type Deps struct {
	Styles *ui.Styles
	Action Action
	// Run does it: runs the configured command, or simulates it (--demo).
	// It returns the sentence to show ("Rebooting…", or what a simulation
	// did) or an error saying why not.
	Run func(ctx context.Context) (string, error)
	// Timeout bounds Run; 0 means 30 s.
	Timeout time.Duration
}

type phase int

const (
	phConfirm phase = iota // the question, Cancel selected
	phRunning              // Run in progress
	phDone                 // Run returned: the sentence or the error
)

type keyMap struct {
	Do     key.Binding // y: do it
	Cancel key.Binding // n/esc: cancel
	Switch key.Binding // move between the buttons
	Select key.Binding // enter: the selected button
}

// Model is the screen.
type Model struct {
	d      Deps
	st     *ui.Styles
	keys   keyMap
	ph     phase
	doSel  bool // the action's button is selected (Cancel is, at first)
	result string
	failed bool
	gen    int
	width  int
}

// New builds the screen.
func New(d Deps) *Model {
	if d.Timeout <= 0 {
		d.Timeout = 30 * time.Second
	}
	verb := "reboot"
	if d.Action == Poweroff {
		verb = "shut down"
	}
	return &Model{d: d, st: d.Styles, width: 80, keys: keyMap{
		Do:     key.NewBinding(key.WithKeys("y"), key.WithHelp("y", verb)),
		Cancel: key.NewBinding(key.WithKeys("n", "esc"), key.WithHelp("n/esc", "cancel")),
		Switch: key.NewBinding(key.WithKeys("left", "right", "tab", "shift+tab", "h", "l"), key.WithHelp("tab", "switch")),
		Select: key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "choose")),
	}}
}

type doneMsg struct {
	gen  int
	text string
	err  error
}

// Init implements ui.Screen.
func (m *Model) Init() tea.Cmd { return nil }

// Title implements ui.Screen.
func (m *Model) Title() string {
	if m.d.Action == Poweroff {
		return "Shut down"
	}
	return "Reboot"
}

// Update implements ui.Screen.
func (m *Model) Update(msg tea.Msg) (ui.Screen, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width = msg.Width
	case doneMsg:
		if msg.gen != m.gen || m.ph != phRunning {
			return m, nil
		}
		m.ph = phDone
		if msg.err != nil {
			m.failed = true
			m.result = "It did not start: " + m.Title() + " failed. The log has the details."
			return m, ui.Error("The "+verbNoun(m.d.Action)+" command failed.", msg.err)
		}
		m.result = msg.text
		// A simulated reboot (--demo) changes what the status says (the
		// "reboot to finish registration" note goes); a real one ends the
		// console anyway.
		return m, ui.StatusChanged
	case tea.KeyPressMsg:
		return m, m.key(msg)
	}
	return m, nil
}

func verbNoun(a Action) string {
	if a == Poweroff {
		return "shut-down"
	}
	return "reboot"
}

func (m *Model) key(k tea.KeyPressMsg) tea.Cmd {
	switch m.ph {
	case phConfirm:
		switch {
		case key.Matches(k, m.keys.Do):
			return m.run()
		case key.Matches(k, m.keys.Cancel):
			return ui.Back
		case key.Matches(k, m.keys.Switch):
			m.doSel = !m.doSel
		case key.Matches(k, m.keys.Select):
			if m.doSel {
				return m.run()
			}
			return ui.Back
		}
	case phDone:
		if key.Matches(k, m.keys.Select, m.keys.Cancel) {
			return ui.Back
		}
	}
	return nil
}

func (m *Model) run() tea.Cmd {
	m.ph = phRunning
	m.gen++
	gen, run, timeout := m.gen, m.d.Run, m.d.Timeout
	return tea.Batch(ui.Audit(verbNoun(m.d.Action)), func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		text, err := run(ctx)
		return doneMsg{gen: gen, text: text, err: err}
	})
}

// question is what the confirmation says happens.
func (m *Model) question() (string, string) {
	if m.d.Action == Poweroff {
		return "Shut down this node?",
			"It powers off and stays off until someone presses its power button or restores power: nobody can start it remotely, and it does not pass traffic meanwhile."
	}
	return "Reboot this node?",
		"Everything on it stops and starts again; it is unreachable for a minute or two and the console comes back at its login prompt. A network change on trial is reverted first."
}

// View implements ui.Screen.
func (m *Model) View() string {
	st := m.st
	q, what := m.question()
	lines := []string{st.Title.Render(" " + q), ""}
	for _, l := range ui.Wrap(what, m.width-1) {
		lines = append(lines, " "+l)
	}
	lines = append(lines, "")
	switch m.ph {
	case phConfirm:
		sel := 1
		if m.doSel {
			sel = 0
		}
		lines = append(lines, st.Buttons([]string{m.Title(), "Cancel"}, sel))
	case phRunning:
		lines = append(lines, st.Muted.Render(" Working"+st.Glyphs.Ellipsis))
	case phDone:
		style := st.OK
		if m.failed {
			style = st.Fail
		}
		for _, l := range ui.Wrap(m.result, m.width-1) {
			lines = append(lines, style.Render(" "+l))
		}
	}
	return strings.Join(lines, "\n")
}

// ShortHelp implements help.KeyMap.
func (m *Model) ShortHelp() []key.Binding {
	switch m.ph {
	case phConfirm:
		return []key.Binding{m.keys.Do, m.keys.Cancel, m.keys.Switch}
	case phDone:
		b := m.keys.Select
		b.SetHelp("enter", "back")
		return []key.Binding{b}
	}
	return nil
}

// FullHelp implements help.KeyMap.
func (m *Model) FullHelp() [][]key.Binding { return [][]key.Binding{m.ShortHelp()} }
