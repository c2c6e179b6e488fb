// Package register is the Register Node screen: confirm make, model and
// control-plane endpoint; run the steps (connectivity, node key, update
// check, activation code) with live status; show the code in big letters,
// as text and as a QR code while waiting for an admin to license the node;
// then count down to a reboot.
//
// The screen is a state machine (phase). Every asynchronous result passes
// through one function (Model.result), which drops results that belong to
// an older run: the run moves on every phase exit, Esc and closing the
// screen included, and leaving a phase cancels the context of the work it
// started, so nothing is sent to the control plane after the operator
// backed out.
package register

import (
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/nodeconsole/nodeconsole/config"
	"github.com/nodeconsole/nodeconsole/regclient"
	"github.com/nodeconsole/nodeconsole/tui/ui"
)

// Choice is a make/model the operator can pick on the confirm step.
type Choice struct {
	Make, Model, Endpoint string
}

// Deps are the screen's dependencies.
type Deps struct {
	Styles *ui.Styles
	Flow   Flow
	// Choices are the make/model pairs offered: the node's own (config or
	// DMI) first, then config models. Must not be empty.
	Choices []Choice
	// Endpoint is the configured endpoint ("" when none).
	Endpoint string
	// RebootAfter is the countdown after activation; 0 means 10 s.
	RebootAfter time.Duration
	// Timeouts bound each kind of request; zero fields take the defaults
	// (DefaultTimeouts).
	Timeouts Timeouts
	// Now returns the time; nil means time.Now.
	Now func() time.Time
	// Tick is tea.Tick (nil); tests inject their own tick source.
	Tick func(d time.Duration, fn func(time.Time) tea.Msg) tea.Cmd
}

// phase is where the screen is; see update.go for the transitions.
type phase int

const (
	phLoading    phase = iota // reading the state on disk
	phAlready                 // registered already: nothing to do
	phConfirm                 // make, model and endpoint to confirm
	phSteps                   // the steps run (or one failed)
	phCode                    // the code is shown; long-polls run
	phCancelling              // the enrollment is being cancelled
	phExpired                 // the code expired; Enter asks for a new one
	phDenied                  // an admin denied the code
	phStopped                 // a final error stopped the waiting
	phActivated               // registered: the reboot countdown runs
	phRebooting               // the reboot command runs
	phLater                   // the reboot was postponed (or failed, or simulated)
	phClosed                  // the screen was closed: every result is dropped
)

// stepState is how far one step got.
type stepState int

const (
	stepPending stepState = iota
	stepRunning
	stepOK
	stepFail
	stepSkipped
)

// stepID names the steps, in the order they run.
type stepID int

const (
	stConnectivity stepID = iota
	stKey
	stUpdate
	stCode
	numSteps
)

var stepNames = [numSteps]string{"Connectivity", "Node key", "Update check", "Activation code"}

func (s stepID) String() string { return stepNames[s] }

type step struct {
	state  stepState
	detail string
	hint   string
}

// field is the confirm step's focused field.
type field int

const (
	fieldModel field = iota
	fieldEndpoint
)

// Model is the Register Node screen.
type Model struct {
	d    Deps
	keys keyMap
	nav  ui.NavKeys
	ph   phase
	run  ui.Run // moves on every phase exit; see update.go

	state    regclient.State
	choice   int
	endpoint textinput.Model
	focus    field
	epErr    string
	errText  string
	steps    [numSteps]step
	code     Code
	asking   bool // the cancel question is shown over the code
	out      Outcome
	deadline time.Time
	final    string
	width    int
	height   int
	qr       qrCache // the QR code of the shown code
}

type keyMap struct {
	Continue key.Binding
	Retry    key.Binding
	Choose   key.Binding
	Field    key.Binding
	Change   key.Binding
	Cancel   key.Binding
	Yes      key.Binding
	No       key.Binding
	Reboot   key.Binding
	Later    key.Binding
	NewCode  key.Binding
	Close    key.Binding

	// left picks the previous choice (Choose shows both directions), and
	// esc leaves the confirm step while Backspace edits the endpoint.
	left key.Binding
	esc  key.Binding
}

// defaultKeyMap builds the keys; leftRight names the arrow keys in hints
// (ui.Glyphs.LeftRight: "left/right" where the font has no arrows).
func defaultKeyMap(leftRight string) keyMap {
	choose := leftRight
	return keyMap{
		Continue: key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "continue")),
		Retry:    key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "try again")),
		Choose:   key.NewBinding(key.WithKeys("left", "right"), key.WithHelp(choose, "model")),
		Field:    key.NewBinding(key.WithKeys("tab", "shift+tab", "up", "down"), key.WithHelp("tab", "next field")),
		Change:   key.NewBinding(key.WithKeys("esc", "backspace"), key.WithHelp("esc", "change the values")),
		Cancel:   key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel")),
		Yes:      key.NewBinding(key.WithKeys("y", "Y"), key.WithHelp("y", "yes, cancel")),
		No:       key.NewBinding(key.WithKeys("n", "N", "esc", "enter"), key.WithHelp("n", "no, keep waiting")),
		Reboot:   key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "reboot now")),
		Later:    key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "later")),
		NewCode:  key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "new code")),
		Close:    key.NewBinding(key.WithKeys("esc", "backspace", "enter"), key.WithHelp("esc", "back")),
		left:     key.NewBinding(key.WithKeys("left")),
		esc:      key.NewBinding(key.WithKeys("esc")),
	}
}

// New builds the screen.
func New(d Deps) *Model {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Tick == nil {
		d.Tick = tea.Tick
	}
	if d.RebootAfter <= 0 {
		d.RebootAfter = 10 * time.Second
	}
	d.Timeouts = d.Timeouts.orDefaults()
	if len(d.Choices) == 0 {
		d.Choices = []Choice{{}}
	}
	ti := ui.NewTextInput(d.Styles, 50, 200)
	ep := d.Endpoint
	if ep == "" {
		ep = d.Choices[0].Endpoint
	}
	ti.SetValue(ep)
	m := &Model{d: d, keys: defaultKeyMap(d.Styles.Glyphs.LeftRight), nav: d.Styles.NavKeys(), endpoint: ti, width: 80, height: 22}
	m.validate()
	if len(d.Choices) == 1 {
		// Make and model cannot be changed: start where the operator can.
		m.focus = fieldEndpoint
		m.endpoint.Focus()
	}
	return m
}

// NewActivated is the screen for a node an admin licensed while its code
// was shown elsewhere (the home screen's QR code): "Registered as NAME"
// and the reboot countdown, as at the end of Register Node.
func NewActivated(d Deps, name, project string) *Model {
	m := New(d)
	m.ph = phActivated
	m.out = Outcome{Kind: Registered, NodeName: name, Project: project}
	m.deadline = m.d.Now().Add(m.d.RebootAfter)
	return m
}

// Title implements ui.Screen.
func (m *Model) Title() string { return "Register Node" }

// CapturesInput implements ui.InputCapturer: the endpoint field takes keys.
func (m *Model) CapturesInput() bool { return m.ph == phConfirm && m.focus == fieldEndpoint }

func (m *Model) validate() {
	m.epErr = ""
	v := strings.TrimSpace(m.endpoint.Value())
	if err := config.ValidEndpoint(v); err != nil {
		switch {
		case v == "":
			m.epErr = "Enter the control-plane endpoint, an https URL."
		case strings.HasPrefix(v, "http://"):
			m.epErr = "The endpoint must use https, not http."
		default:
			m.epErr = "The endpoint must be an https URL such as https://cp.example.com."
		}
	}
}

func (m *Model) request() Request {
	c := m.d.Choices[m.choice]
	return Request{Endpoint: strings.TrimSpace(m.endpoint.Value()), Make: c.Make, Model: c.Model}
}

func (m *Model) failed() (stepID, bool) {
	for i, s := range m.steps {
		if s.state == stepFail {
			return stepID(i), true
		}
	}
	return 0, false
}

// ShortHelp implements help.KeyMap: the keys that do something now.
func (m *Model) ShortHelp() []key.Binding {
	switch m.ph {
	case phConfirm:
		b := []key.Binding{m.keys.Continue, m.keys.Field}
		if len(m.d.Choices) > 1 && m.focus == fieldModel {
			b = append(b, m.keys.Choose)
		}
		return append(b, m.nav.Back)
	case phSteps:
		if _, failed := m.failed(); failed {
			return []key.Binding{m.keys.Retry, m.keys.Change}
		}
		return []key.Binding{m.keys.Change}
	case phCode:
		if m.asking {
			return []key.Binding{m.keys.Yes, m.keys.No}
		}
		return []key.Binding{m.keys.Cancel}
	case phExpired:
		return []key.Binding{m.keys.NewCode, m.nav.Back}
	case phActivated:
		return []key.Binding{m.keys.Reboot, m.keys.Later}
	case phLoading:
		return []key.Binding{m.nav.Back}
	case phCancelling, phRebooting, phClosed:
		return nil
	}
	return []key.Binding{m.keys.Close}
}

// FullHelp implements help.KeyMap.
func (m *Model) FullHelp() [][]key.Binding { return [][]key.Binding{m.ShortHelp()} }
