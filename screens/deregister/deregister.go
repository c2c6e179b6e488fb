// Package deregister is the Deregister Node screen: a warning, a Yes/No
// question (No by default), the typed word DEREGISTER, then the Deregister
// event to the control plane, the local wipe, and "ready to register again".
// When the control plane cannot be reached it offers, behind a second
// confirmation, to remove the identity locally anyway.
package deregister

import (
	"context"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/nodeconsole/nodeconsole/regclient"
	"github.com/nodeconsole/nodeconsole/tui/ui"
)

// ConfirmWord is the word the operator must type, exactly.
const ConfirmWord = "DEREGISTER"

// Flow is what the screen needs from the registration client; every method
// runs inside a tea.Cmd.
type Flow interface {
	// Current returns the registration state on disk.
	Current() (regclient.State, error)
	// SendEvent sends the Deregister event over mutual TLS (the control
	// plane records it and revokes the certificate).
	SendEvent(ctx context.Context) error
	// CloseConnections closes any connection the node holds.
	CloseConnections()
	// Wipe removes the identity and resets the state, crash-safely.
	Wipe() error
}

// Deps are the screen's dependencies.
type Deps struct {
	Styles *ui.Styles
	Flow   Flow
}

type phase int

const (
	phLoading phase = iota
	phNotRegistered
	phWarning
	phTyped
	phWorking
	phUnreachable
	phDone
	phFailed
)

// Model is the Deregister Node screen.
type Model struct {
	d       Deps
	keys    keyMap
	nav     ui.NavKeys
	ph      phase
	state   regclient.State
	yes     bool // the Yes/No choice; false (No) by default
	input   textinput.Model
	wrong   bool
	steps   [3]string // per step: "", "...", "OK", "FAIL", "skipped"
	detail  string
	sendErr error
	width   int
	height  int
}

type keyMap struct {
	Toggle  key.Binding
	Yes     key.Binding
	No      key.Binding
	Accept  key.Binding
	Cancel  key.Binding
	Confirm key.Binding
}

// defaultKeyMap builds the keys; leftRight names the arrow keys in hints
// (ui.Glyphs.LeftRight: "left/right" where the font has no arrows).
func defaultKeyMap(leftRight string) keyMap {
	toggle := leftRight
	return keyMap{
		Toggle:  key.NewBinding(key.WithKeys("left", "right", "tab", "shift+tab", "h", "l"), key.WithHelp(toggle, "choose")),
		Yes:     key.NewBinding(key.WithKeys("y", "Y"), key.WithHelp("y", "yes")),
		No:      key.NewBinding(key.WithKeys("n", "N"), key.WithHelp("n", "no")),
		Accept:  key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "accept")),
		Cancel:  key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel")),
		Confirm: key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "confirm")),
	}
}

// New builds the screen.
func New(d Deps) *Model {
	ti := ui.NewTextInput(d.Styles, 20, 40)
	return &Model{d: d, keys: defaultKeyMap(d.Styles.Glyphs.LeftRight), nav: d.Styles.NavKeys(), input: ti, width: 80, height: 22}
}

// Title implements ui.Screen.
func (m *Model) Title() string { return "Deregister Node" }

// CapturesInput implements ui.InputCapturer while the word is typed.
func (m *Model) CapturesInput() bool { return m.ph == phTyped }

type stateMsg struct {
	st  regclient.State
	err error
}
type sentMsg struct{ err error }
type wipedMsg struct {
	err   error
	local bool
}

// Init implements ui.Screen.
func (m *Model) Init() tea.Cmd {
	flow := m.d.Flow
	return func() tea.Msg {
		st, err := flow.Current()
		return stateMsg{st, err}
	}
}

// Update implements ui.Screen.
func (m *Model) Update(msg tea.Msg) (ui.Screen, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
	case stateMsg:
		m.state = msg.st
		if msg.st.State == regclient.Registered {
			m.ph = phWarning
		} else {
			m.ph = phNotRegistered
		}
	case sentMsg:
		if msg.err != nil {
			m.sendErr = msg.err
			m.steps[0] = "FAIL"
			m.ph = phUnreachable
			m.yes = false
			return m, ui.Audit("deregister event failed", "err", msg.err.Error())
		}
		m.steps[0], m.steps[1], m.steps[2] = "OK", "...", "..."
		return m, m.wipeCmd(false)
	case wipedMsg:
		if msg.err != nil {
			m.ph = phFailed
			m.steps[2] = "FAIL"
			m.detail = msg.err.Error()
			return m, tea.Batch(ui.Error("The identity could not be removed; the node is still registered.", msg.err), ui.StatusChanged)
		}
		m.steps[1], m.steps[2] = "OK", "OK"
		m.ph = phDone
		action := "deregistered"
		if msg.local {
			action = "deregistered locally (control plane unreachable)"
		}
		return m, tea.Batch(ui.Audit(action, "nodeId", m.state.NodeID, "name", m.state.NodeName), ui.StatusChanged)
	case tea.KeyPressMsg:
		return m.key(msg)
	default:
		if m.ph == phTyped {
			var cmd tea.Cmd
			m.input, cmd = m.input.Update(msg)
			return m, cmd
		}
	}
	return m, nil
}

func (m *Model) key(k tea.KeyPressMsg) (ui.Screen, tea.Cmd) {
	switch m.ph {
	case phWarning, phUnreachable:
		switch {
		case key.Matches(k, m.keys.Cancel):
			return m, tea.Batch(ui.Audit("deregister cancelled"), ui.Back)
		case key.Matches(k, m.keys.Toggle):
			m.yes = !m.yes
		case key.Matches(k, m.keys.Yes):
			m.yes = true
			return m.accept()
		case key.Matches(k, m.keys.No):
			m.yes = false
			return m.accept()
		case key.Matches(k, m.keys.Accept):
			return m.accept()
		}
	case phTyped:
		switch {
		case key.Matches(k, m.keys.Cancel):
			return m, tea.Batch(ui.Audit("deregister cancelled"), ui.Back)
		case key.Matches(k, m.keys.Confirm):
			if m.input.Value() != ConfirmWord {
				m.wrong = true
				return m, ui.Audit("deregister confirmation refused")
			}
			m.ph = phWorking
			m.steps = [3]string{"...", "", ""}
			flow := m.d.Flow
			return m, tea.Batch(ui.Audit("deregister confirmed"), func() tea.Msg {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				return sentMsg{flow.SendEvent(ctx)}
			})
		}
		m.wrong = false
		var cmd tea.Cmd
		m.input, cmd = m.input.Update(k)
		return m, cmd
	case phNotRegistered, phDone, phFailed:
		if key.Matches(k, m.nav.Back) || key.Matches(k, m.keys.Accept) {
			return m, ui.Back
		}
	}
	return m, nil
}

func (m *Model) accept() (ui.Screen, tea.Cmd) {
	if !m.yes {
		return m, tea.Batch(ui.Audit("deregister cancelled"), ui.Back)
	}
	if m.ph == phUnreachable {
		m.ph = phWorking
		m.steps[0], m.steps[1], m.steps[2] = "skipped", "...", "..."
		return m, m.wipeCmd(true)
	}
	m.ph = phTyped
	m.input.SetValue("")
	return m, m.input.Focus()
}

func (m *Model) wipeCmd(local bool) tea.Cmd {
	flow := m.d.Flow
	return func() tea.Msg {
		flow.CloseConnections()
		return wipedMsg{err: flow.Wipe(), local: local}
	}
}

// ShortHelp implements help.KeyMap.
func (m *Model) ShortHelp() []key.Binding {
	switch m.ph {
	case phWarning, phUnreachable:
		return []key.Binding{m.keys.Toggle, m.keys.Accept, m.keys.Cancel}
	case phTyped:
		return []key.Binding{m.keys.Confirm, m.keys.Cancel}
	case phWorking:
		return nil
	}
	return []key.Binding{m.nav.Back}
}

// FullHelp implements help.KeyMap.
func (m *Model) FullHelp() [][]key.Binding {
	return [][]key.Binding{{m.keys.Toggle, m.keys.Yes, m.keys.No, m.keys.Accept, m.keys.Cancel}}
}

// View implements ui.Screen.
func (m *Model) View() string {
	st := m.d.Styles
	out := []string{st.Title.Render(" Deregister Node"), ""}
	switch m.ph {
	case phNotRegistered:
		out = append(out, " This node is not registered: there is nothing to deregister.", "", " "+ui.Hints(m.ShortHelp()...))
	case phWarning:
		who := m.state.NodeName
		if who == "" {
			who = m.state.NodeID
		}
		out = append(out, " "+st.Warn.Render("Deregistering "+who+" is one-way."), "")
		for _, l := range []string{
			"It loses its connection to the control plane and to any data-plane gateways.",
			"Its certificates are removed from this node.",
			"It has to be registered again to be managed.",
			"It is not a factory reset: network settings and files stay.",
		} {
			out = append(out, "  "+st.Glyphs.Bullet+" "+l)
		}
		out = append(out, "", " Deregister this node?  "+m.yesNo())
	case phTyped:
		out = append(out, " Type "+st.Code.Render(ConfirmWord)+" to confirm.", "",
			"   "+m.input.View())
		if m.wrong {
			out = append(out, "", " "+st.Fail.Render("Type DEREGISTER exactly (capital letters, nothing else)."))
		}
		out = append(out, "", " "+ui.Hints(m.ShortHelp()...), st.Muted.Render(" Nothing has changed yet."))
	case phWorking, phDone, phFailed, phUnreachable:
		names := []string{"Send the Deregister event", "Close connections", "Remove the identity"}
		for i, n := range names {
			out = append(out, st.CheckRows(checkState(m.steps[i]), n, 25, "", "", m.width)...)
		}
		switch m.ph {
		case phUnreachable:
			out = append(out, "", " "+st.Fail.Render("The control plane could not be reached."))
			for _, l := range ui.Wrap(regclient.Sentence(m.sendErr), m.width-2) {
				out = append(out, " "+st.Muted.Render(l))
			}
			out = append(out, "",
				" You can remove this node's identity locally anyway. The portal keeps",
				" listing the node until an admin deletes it there.",
				"", " Remove locally anyway?  "+m.yesNo())
		case phDone:
			out = append(out, "", " "+st.OK.Render("Deregistered. This node can be registered again."), "", " "+ui.Hints(m.ShortHelp()...))
		case phFailed:
			out = append(out, "", " "+st.Fail.Render("The identity could not be removed: ")+m.detail, " The node is still registered.", "", " "+ui.Hints(m.ShortHelp()...))
		}
	}
	return ui.Fit(strings.Join(out, "\n"), m.width, m.height, st)
}

func (m *Model) yesNo() string {
	st := m.d.Styles
	opt := func(label string, on bool) string {
		if on {
			return st.MarkerOn.Render(st.Glyphs.Marker) + st.Selected.Render("["+label+"]")
		}
		return " [" + label + "]"
	}
	return opt("No", !m.yes) + "  " + opt("Yes", m.yes)
}

// checkState maps a step's word to the shared check row's.
func checkState(s string) ui.CheckState {
	switch s {
	case "OK":
		return ui.CheckOK
	case "FAIL":
		return ui.CheckFail
	case "...":
		return ui.CheckRunning
	}
	return ui.CheckWaiting
}
