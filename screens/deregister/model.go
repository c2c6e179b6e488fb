// Package deregister is the Deregister Node screen: a warning, a Yes/No
// question (No by default), the typed word DEREGISTER, then the Deregister
// event to the control plane, the local wipe, and "ready to register again".
// When the control plane cannot be reached it offers, behind a second
// confirmation, to remove the identity locally anyway.
//
// The screen is a state machine (phase) split like Register Node: model.go
// (dependencies, model, keys), update.go (transitions: every asynchronous
// result goes through Model.result, which drops the results of another run),
// commands.go (the work, under the phase's context) and view.go.
package deregister

import (
	"context"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"

	"github.com/nodeconsole/nodeconsole/regclient"
	"github.com/nodeconsole/nodeconsole/tui/ui"
)

// ConfirmWord is the word the operator must type, exactly.
const ConfirmWord = "DEREGISTER"

// Flow is what the screen needs from the registration client; every method
// runs inside a tea.Cmd, under a context that ends when the screen closes.
type Flow interface {
	// Current returns the registration state on disk.
	Current(ctx context.Context) (regclient.State, error)
	// SendEvent sends the Deregister event over mutual TLS (the control
	// plane records it and revokes the certificate).
	SendEvent(ctx context.Context) error
	// CloseConnections closes any connection the node holds.
	CloseConnections(ctx context.Context)
	// Wipe removes the identity and resets the state, crash-safely.
	Wipe(ctx context.Context) error
}

// Deps are the screen's dependencies.
type Deps struct {
	Styles *ui.Styles
	Flow   Flow
	// SendTimeout bounds the Deregister event; 0 means DefaultSendTimeout.
	SendTimeout time.Duration
}

// DefaultSendTimeout bounds the Deregister event when Deps has none.
const DefaultSendTimeout = 10 * time.Second

// localTimeout bounds reading the state and the local wipe.
const localTimeout = 30 * time.Second

// phase is where the screen is; see update.go for the transitions.
type phase int

const (
	phLoading       phase = iota // reading the state on disk
	phNotRegistered              // nothing to deregister
	phWarning                    // what happens, and Yes/No (No first)
	phTyped                      // the word DEREGISTER to type
	phWorking                    // event, connections, wipe
	phUnreachable                // the event failed: remove locally anyway?
	phDone                       // deregistered
	phFailed                     // the wipe failed
	phClosed                     // the shell closed the screen
)

// Steps of the work, in order.
const (
	stepSend = iota
	stepClose
	stepWipe
	numSteps
)

var stepNames = [numSteps]string{"Send the Deregister event", "Close connections", "Remove the identity"}

// Model is the Deregister Node screen.
type Model struct {
	d    Deps
	keys keyMap
	nav  ui.NavKeys
	ph   phase
	run  ui.Run // moves on every phase exit; see update.go

	state   regclient.State
	yes     bool // the Yes/No choice; false (No) by default
	input   textinput.Model
	wrong   bool
	steps   [numSteps]ui.CheckState
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
	return keyMap{
		Toggle:  key.NewBinding(key.WithKeys("left", "right", "tab", "shift+tab", "h", "l"), key.WithHelp(leftRight, "choose")),
		Yes:     key.NewBinding(key.WithKeys("y", "Y"), key.WithHelp("y", "yes")),
		No:      key.NewBinding(key.WithKeys("n", "N"), key.WithHelp("n", "no")),
		Accept:  key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "accept")),
		Cancel:  key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel")),
		Confirm: key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "confirm")),
	}
}

// New builds the screen.
func New(d Deps) *Model {
	if d.SendTimeout <= 0 {
		d.SendTimeout = DefaultSendTimeout
	}
	ti := ui.NewTextInput(d.Styles, 20, 40)
	return &Model{d: d, keys: defaultKeyMap(d.Styles.Glyphs.LeftRight), nav: d.Styles.NavKeys(), input: ti, width: 80, height: 22}
}

// Title implements ui.Screen.
func (m *Model) Title() string { return "Deregister Node" }

// CapturesInput implements ui.InputCapturer while the word is typed.
func (m *Model) CapturesInput() bool { return m.ph == phTyped }

// ShortHelp implements help.KeyMap.
func (m *Model) ShortHelp() []key.Binding {
	switch m.ph {
	case phWarning, phUnreachable:
		return []key.Binding{m.keys.Toggle, m.keys.Accept, m.keys.Cancel}
	case phTyped:
		return []key.Binding{m.keys.Confirm, m.keys.Cancel}
	case phLoading, phWorking, phClosed:
		return nil
	}
	return []key.Binding{m.nav.Back}
}

// FullHelp implements help.KeyMap.
func (m *Model) FullHelp() [][]key.Binding {
	if m.ph == phWarning || m.ph == phUnreachable {
		return [][]key.Binding{{m.keys.Toggle, m.keys.Yes, m.keys.No, m.keys.Accept, m.keys.Cancel}}
	}
	return [][]key.Binding{m.ShortHelp()}
}
