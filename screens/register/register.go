// Package register is the Register Node screen: confirm make, model and
// control-plane endpoint; run the steps (connectivity, key and CSR, update
// check, activation code) with live status; show the code in big letters,
// as text and as a QR code while waiting for an admin to license the node;
// then count down to a reboot.
package register

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

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
	// RegistrationURL is site.registrationURL: when set, the QR code of a
	// resumed code encodes it with the node ID and code.
	RegistrationURL string
	// RebootAfter is the countdown after activation; 0 means 10 s.
	RebootAfter time.Duration
	// Now returns the time; nil means time.Now.
	Now func() time.Time
}

type phase int

const (
	phLoading phase = iota
	phAlready
	phConfirm
	phSteps
	phCode
	phCancelAsk
	phExpired
	phDenied
	phActivated
	phRebooting
	phLater
)

type stepState int

const (
	stepPending stepState = iota
	stepRunning
	stepOK
	stepFail
	stepSkipped
)

type step struct {
	name   string
	state  stepState
	detail string
	hint   string
}

const (
	stConnectivity = iota
	stKey
	stUpdate
	stCode
)

// Model is the Register Node screen.
type Model struct {
	d        Deps
	keys     keyMap
	nav      ui.NavKeys
	ph       phase
	state    regclient.State
	choice   int
	endpoint textinput.Model
	focus    int // 0 make/model, 1 endpoint
	epErr    string
	steps    []step
	code     Code
	out      Outcome
	waitGen  int
	deadline time.Time
	final    string
	width    int
	height   int
	errText  string
	qr       qrCache // the QR code of the shown code
}

type keyMap struct {
	Continue key.Binding
	Choose   key.Binding
	Field    key.Binding
	Yes      key.Binding
	No       key.Binding
	Cancel   key.Binding
	Reboot   key.Binding
	Later    key.Binding
	NewCode  key.Binding
}

func defaultKeyMap(ascii bool) keyMap {
	choose := "←/→"
	if ascii {
		choose = "left/right"
	}
	return keyMap{
		Continue: key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "continue")),
		Choose:   key.NewBinding(key.WithKeys("left", "right"), key.WithHelp(choose, "model")),
		Field:    key.NewBinding(key.WithKeys("tab", "shift+tab", "up", "down"), key.WithHelp("tab", "next field")),
		Yes:      key.NewBinding(key.WithKeys("y", "Y"), key.WithHelp("y", "yes")),
		No:       key.NewBinding(key.WithKeys("n", "N", "esc", "enter"), key.WithHelp("n", "no")),
		Cancel:   key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel")),
		Reboot:   key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "reboot now")),
		Later:    key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "later")),
		NewCode:  key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "new code")),
	}
}

// New builds the screen.
func New(d Deps) *Model {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.RebootAfter <= 0 {
		d.RebootAfter = 10 * time.Second
	}
	if len(d.Choices) == 0 {
		d.Choices = []Choice{{}}
	}
	ti := ui.NewTextInput(d.Styles, 50, 200)
	ep := d.Endpoint
	if ep == "" {
		ep = d.Choices[0].Endpoint
	}
	ti.SetValue(ep)
	m := &Model{d: d, keys: defaultKeyMap(d.Styles.Profile.ASCII), nav: d.Styles.NavKeys(), endpoint: ti, width: 80, height: 22}
	m.validate()
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
func (m *Model) CapturesInput() bool { return m.ph == phConfirm && m.focus == 1 }

type stateMsg struct {
	st  regclient.State
	err error
}
type checksMsg struct{ checks []Check }
type keyDoneMsg struct{ err error }
type updateMsg struct {
	result string
	err    error
}
type codeMsg struct {
	code Code
	err  error
}
type outcomeMsg struct {
	gen int
	out Outcome
}
type tickMsg struct{ gen int }
type cancelDoneMsg struct{ err error }
type rebootDoneMsg struct {
	result string
	err    error
}

// Init implements ui.Screen: it reads the state on disk first, so a pending
// code is shown again at once and a registered node is told so.
func (m *Model) Init() tea.Cmd {
	if m.ph == phActivated {
		return m.tick()
	}
	flow := m.d.Flow
	return func() tea.Msg {
		st, err := flow.Current()
		return stateMsg{st, err}
	}
}

func (m *Model) validate() {
	m.epErr = ""
	if err := config.ValidEndpoint(strings.TrimSpace(m.endpoint.Value())); err != nil {
		m.epErr = "The endpoint must be an https URL such as https://cp.example.com."
		if strings.TrimSpace(m.endpoint.Value()) == "" {
			m.epErr = "Enter the control-plane endpoint, an https URL."
		} else if strings.HasPrefix(m.endpoint.Value(), "http://") {
			m.epErr = "The endpoint must use https, not http."
		}
	}
}

func (m *Model) request() Request {
	c := m.d.Choices[m.choice]
	return Request{Endpoint: strings.TrimSpace(m.endpoint.Value()), Make: c.Make, Model: c.Model}
}

// Update implements ui.Screen.
func (m *Model) Update(msg tea.Msg) (ui.Screen, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.endpoint.SetWidth(min(60, max(msg.Width-16, 10)))
		return m, nil
	case stateMsg:
		return m.onState(msg)
	case checksMsg:
		return m.onChecks(msg)
	case keyDoneMsg:
		if msg.err != nil {
			return m.fail(stKey, "Could not create the node key.", "Check that the state dir is writable.", msg.err)
		}
		m.setStep(stKey, stepOK, "ECDSA P-256 key and CSR ready", "")
		m.setStep(stUpdate, stepRunning, "", "")
		return m, m.updateCmd()
	case updateMsg:
		if msg.err != nil {
			// An update problem never blocks registration.
			m.setStep(stUpdate, stepFail, msg.err.Error(), "Registration continues with this version.")
		} else {
			st := stepOK
			if msg.result == "skipped" {
				st = stepSkipped
			}
			m.setStep(stUpdate, st, msg.result, "")
		}
		m.setStep(stCode, stepRunning, "", "")
		return m, m.startCmd()
	case codeMsg:
		if msg.err != nil {
			return m.fail(stCode, "Could not get an activation code.", hintFor(msg.err), msg.err)
		}
		return m.showCode(msg.code)
	case outcomeMsg:
		if msg.gen != m.waitGen {
			return m, nil
		}
		return m.onOutcome(msg.out)
	case tickMsg:
		if msg.gen != m.waitGen || (m.ph != phCode && m.ph != phCancelAsk && m.ph != phActivated) {
			return m, nil
		}
		if m.ph == phActivated && !m.d.Now().Before(m.deadline) {
			return m.reboot()
		}
		if m.ph == phCode && !m.d.Now().Before(m.code.ExpiresAt) {
			m.ph = phExpired
			m.waitGen++
			return m, ui.Audit("registration code expired", "code", m.code.UserCode)
		}
		return m, m.tick()
	case cancelDoneMsg:
		if msg.err != nil {
			return m, tea.Batch(ui.Error("The enrollment was cancelled here, but the control plane could not be told.", msg.err), ui.StatusChanged, ui.Back)
		}
		return m, tea.Batch(ui.Audit("registration cancelled"), ui.StatusChanged, ui.Back)
	case rebootDoneMsg:
		m.ph = phLater
		if msg.err != nil {
			m.final = "The reboot command failed: " + msg.err.Error()
			return m, ui.Error("The reboot command failed.", msg.err)
		}
		m.final = msg.result
		return m, nil
	case tea.KeyPressMsg:
		return m.key(msg)
	}
	if m.ph == phConfirm && m.focus == 1 {
		var cmd tea.Cmd
		m.endpoint, cmd = m.endpoint.Update(msg)
		return m, cmd
	}
	return m, nil
}

func (m *Model) onState(msg stateMsg) (ui.Screen, tea.Cmd) {
	m.state = msg.st
	switch {
	case msg.err != nil && msg.st.State == "":
		m.ph = phConfirm
		m.errText = "The registration state could not be read; registering will replace it."
	case msg.st.State == regclient.Registered:
		m.ph = phAlready
		return m, nil
	case msg.st.State == regclient.Pending && m.d.Now().Before(msg.st.ExpiresAt):
		// Resume: show the same code at once, and keep waiting.
		m.initSteps()
		for i := range m.steps {
			m.steps[i].state = stepOK
		}
		return m.showCode(Code{UserCode: msg.st.UserCode, VerificationURI: msg.st.VerificationURI,
			VerificationURIComplete: msg.st.VerificationURIComplete, ExpiresAt: msg.st.ExpiresAt,
			QRURL: regclient.QRURL(m.d.RegistrationURL, msg.st.NodeID, msg.st.UserCode, msg.st.VerificationURIComplete, msg.st.VerificationURI)})
	default:
		m.ph = phConfirm
	}
	if m.focus == 1 {
		return m, m.endpoint.Focus()
	}
	return m, nil
}

func (m *Model) initSteps() {
	m.steps = []step{{name: "Connectivity"}, {name: "Node key and CSR"}, {name: "Update check"}, {name: "Activation code"}}
}

func (m *Model) setStep(i int, s stepState, detail, hint string) {
	m.steps[i].state, m.steps[i].detail, m.steps[i].hint = s, detail, hint
}

func (m *Model) fail(i int, text, hint string, err error) (ui.Screen, tea.Cmd) {
	detail := text
	if p := regclient.StorageProblem(err); p != "" {
		detail, hint = p, "Nothing was registered; the node stays as it was."
	} else if err != nil {
		detail = firstSentence(err.Error())
	}
	m.setStep(i, stepFail, detail, hint)
	return m, tea.Batch(ui.Audit("register step failed", "step", m.steps[i].name, "err", errString(err)))
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func firstSentence(s string) string {
	if i := strings.Index(s, "\n"); i >= 0 {
		s = s[:i]
	}
	return s
}

func hintFor(err error) string {
	var r interface{ Retryable() bool }
	switch {
	case errors.As(err, &r) && r.Retryable():
		return "The control plane is busy or unreachable: press Enter to try again."
	default:
		return "Press Enter to try again, or Esc to go back."
	}
}

func (m *Model) start() (ui.Screen, tea.Cmd) {
	m.ph = phSteps
	m.initSteps()
	m.setStep(stConnectivity, stepRunning, "", "")
	flow, ep := m.d.Flow, m.request().Endpoint
	return m, tea.Batch(ui.Audit("register", "endpoint", ep, "make", m.request().Make, "model", m.request().Model),
		func() tea.Msg {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			return checksMsg{flow.Connectivity(ctx, ep)}
		})
}

func (m *Model) onChecks(msg checksMsg) (ui.Screen, tea.Cmd) {
	var failed []Check
	var names []string
	for _, c := range msg.checks {
		names = append(names, c.Name)
		if !c.OK {
			failed = append(failed, c)
		}
	}
	if len(failed) > 0 {
		f := failed[0]
		m.setStep(stConnectivity, stepFail, f.Name+": "+f.Detail, f.Hint)
		return m, ui.Audit("register connectivity failed", "check", f.Name, "detail", f.Detail)
	}
	m.setStep(stConnectivity, stepOK, strings.Join(names, ", ")+" ok", "")
	m.setStep(stKey, stepRunning, "", "")
	flow := m.d.Flow
	return m, func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		return keyDoneMsg{flow.PrepareKey(ctx)}
	}
}

func (m *Model) updateCmd() tea.Cmd {
	flow, ep := m.d.Flow, m.request().Endpoint
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		r, err := flow.Update(ctx, ep)
		return updateMsg{r, err}
	}
}

func (m *Model) startCmd() tea.Cmd {
	flow, req := m.d.Flow, m.request()
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		c, err := flow.Start(ctx, req)
		return codeMsg{c, err}
	}
}

func (m *Model) showCode(c Code) (ui.Screen, tea.Cmd) {
	m.code = c
	m.ph = phCode
	m.waitGen++
	m.out = Outcome{Kind: Waiting}
	if m.steps != nil {
		m.setStep(stCode, stepOK, c.UserCode, "")
	}
	return m, tea.Batch(ui.Audit("activation code shown", "code", c.UserCode), ui.StatusChanged, m.nextCmd(), m.tick())
}

func (m *Model) nextCmd() tea.Cmd {
	flow, gen := m.d.Flow, m.waitGen
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		return outcomeMsg{gen, flow.Next(ctx)}
	}
}

// tick redraws the time left once a second while it is on screen.
func (m *Model) tick() tea.Cmd {
	gen := m.waitGen
	return tea.Tick(time.Second, func(time.Time) tea.Msg { return tickMsg{gen} })
}

func (m *Model) onOutcome(o Outcome) (ui.Screen, tea.Cmd) {
	m.out = o
	switch o.Kind {
	case Waiting, Retrying:
		return m, m.nextCmd()
	case Registered:
		m.ph = phActivated
		m.waitGen++
		m.deadline = m.d.Now().Add(m.d.RebootAfter)
		return m, tea.Batch(ui.Audit("registered", "name", o.NodeName, "project", o.Project), ui.StatusChanged, m.tick())
	case Expired:
		m.ph = phExpired
		m.waitGen++
		return m, ui.Audit("registration code expired", "code", m.code.UserCode)
	case Denied:
		m.ph = phDenied
		m.waitGen++
		return m, tea.Batch(ui.Audit("registration denied"), ui.StatusChanged)
	default:
		m.ph = phDenied
		m.waitGen++
		return m, ui.Error("Registration stopped: "+firstSentence(errString(o.Err)), o.Err)
	}
}

func (m *Model) reboot() (ui.Screen, tea.Cmd) {
	m.ph = phRebooting
	m.waitGen++
	flow := m.d.Flow
	return m, tea.Batch(ui.Audit("reboot"), func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		r, err := flow.Reboot(ctx)
		return rebootDoneMsg{r, err}
	})
}

func (m *Model) key(k tea.KeyPressMsg) (ui.Screen, tea.Cmd) {
	switch m.ph {
	case phConfirm:
		return m.confirmKey(k)
	case phSteps:
		failed := false
		for _, s := range m.steps {
			failed = failed || s.state == stepFail
		}
		if failed && key.Matches(k, m.keys.Continue) {
			return m.start()
		}
		if key.Matches(k, m.nav.Back) {
			m.ph = phConfirm
			return m, nil
		}
	case phCode:
		if key.Matches(k, m.keys.Cancel) {
			m.ph = phCancelAsk
		}
	case phCancelAsk:
		if key.Matches(k, m.keys.Yes) {
			m.waitGen++
			flow := m.d.Flow
			return m, func() tea.Msg {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				return cancelDoneMsg{flow.Cancel(ctx)}
			}
		}
		if key.Matches(k, m.keys.No) {
			m.ph = phCode
		}
	case phExpired:
		if key.Matches(k, m.keys.NewCode) {
			m.ph = phSteps
			m.initSteps()
			for i := range stCode {
				m.steps[i].state = stepOK
			}
			m.setStep(stCode, stepRunning, "", "")
			return m, m.startCmd()
		}
		if key.Matches(k, m.nav.Back) {
			return m, tea.Batch(ui.StatusChanged, ui.Back)
		}
	case phActivated:
		if key.Matches(k, m.keys.Reboot) {
			return m.reboot()
		}
		if key.Matches(k, m.keys.Later) {
			m.ph = phLater
			m.waitGen++
			m.final = "Reboot later to finish: the node uses its new certificate after a restart."
			return m, ui.Audit("reboot postponed")
		}
	case phAlready, phDenied, phLater, phLoading:
		if key.Matches(k, m.nav.Back) || key.Matches(k, m.keys.Continue) {
			return m, tea.Batch(ui.StatusChanged, ui.Back)
		}
	}
	return m, nil
}

func (m *Model) confirmKey(k tea.KeyPressMsg) (ui.Screen, tea.Cmd) {
	switch {
	case key.Matches(k, m.nav.Back) && !(m.focus == 1 && k.String() == "backspace"):
		return m, ui.Back
	case key.Matches(k, m.keys.Continue):
		m.validate()
		if m.epErr != "" {
			return m, nil
		}
		return m.start()
	case key.Matches(k, m.keys.Field):
		m.focus = 1 - m.focus
		if m.focus == 1 {
			return m, m.endpoint.Focus()
		}
		m.endpoint.Blur()
		return m, nil
	case m.focus == 0 && key.Matches(k, m.keys.Choose):
		n := len(m.d.Choices)
		if k.String() == "left" {
			m.choice = (m.choice + n - 1) % n
		} else {
			m.choice = (m.choice + 1) % n
		}
		if ep := m.d.Choices[m.choice].Endpoint; ep != "" {
			m.endpoint.SetValue(ep)
		}
		m.validate()
		return m, nil
	}
	if m.focus == 1 {
		var cmd tea.Cmd
		m.endpoint, cmd = m.endpoint.Update(k)
		m.validate()
		return m, cmd
	}
	return m, nil
}

// ShortHelp implements help.KeyMap.
func (m *Model) ShortHelp() []key.Binding {
	switch m.ph {
	case phConfirm:
		b := []key.Binding{m.keys.Continue, m.keys.Field}
		if len(m.d.Choices) > 1 && m.focus == 0 {
			b = append(b, m.keys.Choose)
		}
		return append(b, m.nav.Back)
	case phCode:
		return []key.Binding{m.keys.Cancel}
	case phCancelAsk:
		return []key.Binding{m.keys.Yes, m.keys.No}
	case phExpired:
		return []key.Binding{m.keys.NewCode, m.nav.Back}
	case phActivated:
		return []key.Binding{m.keys.Reboot, m.keys.Later}
	case phSteps:
		return []key.Binding{m.keys.Continue, m.nav.Back}
	}
	return []key.Binding{m.nav.Back}
}

// FullHelp implements help.KeyMap.
func (m *Model) FullHelp() [][]key.Binding { return [][]key.Binding{m.ShortHelp()} }

// View implements ui.Screen.
func (m *Model) View() string {
	var s string
	switch m.ph {
	case phLoading:
		s = ""
	case phAlready:
		s = m.viewAlready()
	case phConfirm:
		s = m.viewConfirm()
	case phSteps:
		s = m.viewSteps()
	case phCode, phCancelAsk:
		s = m.viewCode()
	case phExpired:
		s = m.viewMessage(m.d.Styles.Warn.Render("The activation code expired."),
			"Press Enter for a new code (the node keeps its key), or Esc to go back.")
	case phDenied:
		s = m.viewMessage(m.d.Styles.Fail.Render("The registration was denied in the portal."),
			"Ask the portal admin, then run Register Node again. Esc: back.")
	case phActivated, phRebooting, phLater:
		s = m.viewActivated()
	}
	return ui.Fit(s, m.width, m.height, m.d.Styles)
}

func (m *Model) viewAlready() string {
	st := m.d.Styles
	line := "This node is already registered"
	if m.state.NodeName != "" {
		line += " as " + m.state.NodeName
	}
	if m.state.Project != "" {
		line += " (" + m.state.Project + ")"
	}
	return m.viewMessage(st.OK.Render(line+"."),
		"To register it again (another account, a new name), use Deregister Node first.", "Esc: back.")
}

func (m *Model) viewMessage(lines ...string) string {
	out := []string{m.d.Styles.Title.Render(" Register Node"), ""}
	for _, l := range lines {
		out = append(out, " "+l)
	}
	return strings.Join(out, "\n")
}

func (m *Model) viewConfirm() string {
	st := m.d.Styles
	c := m.d.Choices[m.choice]
	mk := c.Make
	if mk == "" {
		mk = st.Muted.Render("unknown")
	}
	md := c.Model
	if md == "" {
		md = st.Muted.Render("unknown")
	}
	marker := func(i int) string {
		if m.focus == i {
			return st.MarkerOn.Render(st.Glyphs.Marker)
		}
		return " "
	}
	choose := ""
	if len(m.d.Choices) > 1 {
		choose = st.Muted.Render(fmt.Sprintf("  (%d of %d; %s to change)", m.choice+1, len(m.d.Choices), m.keys.Choose.Help().Key))
	}
	lines := []string{
		st.Title.Render(" Register Node"),
		" Check these values, then press Enter.",
		"",
		" " + marker(0) + " " + st.Label.Render("Make      ") + mk + choose,
		"   " + st.Label.Render("Model     ") + md,
		" " + marker(1) + " " + st.Label.Render("Endpoint  ") + m.endpoint.View(),
	}
	if m.epErr != "" {
		lines = append(lines, "   "+st.Fail.Render(m.epErr))
	}
	if m.errText != "" {
		lines = append(lines, "", " "+st.Warn.Render(m.errText))
	}
	lines = append(lines, "", st.Muted.Render(" The node creates a key, asks for a short code, and waits until an admin"),
		st.Muted.Render(" enters the code in the portal (Activate Node)."))
	return strings.Join(lines, "\n")
}

func (m *Model) stepWord(s stepState) string {
	st := m.d.Styles
	switch s {
	case stepOK:
		return st.OK.Render(fmt.Sprintf("%-7s", "OK"))
	case stepFail:
		return st.Fail.Render(fmt.Sprintf("%-7s", "FAIL"))
	case stepRunning:
		return st.Warn.Render(fmt.Sprintf("%-7s", "..."))
	case stepSkipped:
		return st.Muted.Render(fmt.Sprintf("%-7s", "skipped"))
	}
	return fmt.Sprintf("%-7s", "")
}

func (m *Model) viewSteps() string {
	st := m.d.Styles
	lines := []string{st.Title.Render(" Register Node"), ""}
	failed := false
	for _, s := range m.steps {
		detail := s.detail
		if s.state == stepSkipped {
			detail = ""
		}
		if s.state == stepFail {
			failed = true
			lines = append(lines, fmt.Sprintf("  %s %s", m.stepWord(s.state), s.name))
			for _, l := range ui.Wrap(detail, m.width-12) {
				lines = append(lines, "          "+l)
			}
			for _, l := range ui.Wrap(s.hint, m.width-12) {
				lines = append(lines, "          "+st.Warn.Render(l))
			}
			continue
		}
		lines = append(lines, fmt.Sprintf("  %s %-18s %s", m.stepWord(s.state), s.name, st.Muted.Render(detail)))
	}
	if failed {
		lines = append(lines, "", " Enter: try again   Esc: change the values")
	}
	return strings.Join(lines, "\n")
}

func (m *Model) viewCode() string {
	st := m.d.Styles
	now := m.d.Now()
	left := m.code.ExpiresAt.Sub(now).Truncate(time.Second)
	if left < 0 {
		left = 0
	}
	code := m.code.UserCode
	parts := strings.SplitN(code, "-", 2)
	var big string
	if len(parts) == 2 && BigWidth(code)+2 > m.width-38 {
		big = Big(parts[0], st.Glyphs.Block) + "\n\n" + Big(parts[1], st.Glyphs.Block)
	} else {
		big = Big(code, st.Glyphs.Block)
	}
	title := st.Title.Render(" Enter this code in the portal: Activate Node")
	var text []string
	for _, l := range strings.Split(big, "\n") {
		text = append(text, "  "+st.Code.Render(l))
	}
	text = append(text, "",
		" Code  "+st.Code.Render(code),
		" At    "+m.code.VerificationURI,
		fmt.Sprintf(" Time left  %d:%02d", int(left.Minutes()), int(left.Seconds())%60))
	status := "Waiting for activation"
	if !m.out.LastCheck.IsZero() {
		status += ", last check " + m.out.LastCheck.Format("15:04:05")
	}
	if m.out.Kind == Retrying {
		status = st.Warn.Render(fmt.Sprintf("Cannot reach the control plane; retrying in %s", m.out.RetryIn.Round(time.Second)))
	}
	text = append(text, " "+status)
	if m.ph == phCancelAsk {
		text = append(text, "", " "+st.Warn.Render("Cancel the registration? The code stops working. y/N"))
	}
	textBlock := strings.Join(text, "\n")
	textW := lipgloss.Width(textBlock)
	// The QR code goes beside the text when it fits, else below, else not
	// at all (the URL and code are always there as text).
	if m.code.QRURL != "" {
		if qr, qrW := m.qr.draw(m.code.QRURL, st.Profile, m.width-textW-2, m.height-2); qr != nil {
			qrBlock := strings.Join(qr, "\n")
			return title + "\n\n" + lipgloss.JoinHorizontal(lipgloss.Top, lipgloss.NewStyle().Width(m.width-qrW-1).Render(textBlock), qrBlock)
		}
		if qr, _ := m.qr.draw(m.code.QRURL, st.Profile, m.width, m.height-len(text)-3); qr != nil {
			return title + "\n\n" + textBlock + "\n\n" + strings.Join(qr, "\n")
		}
	}
	return title + "\n\n" + textBlock
}

func (m *Model) viewActivated() string {
	st := m.d.Styles
	who := m.out.NodeName
	if m.out.Project != "" {
		who += " (" + m.out.Project + ")"
	}
	lines := []string{st.Title.Render(" Register Node"), "", " " + st.OK.Render("Registered as "+who), ""}
	switch m.ph {
	case phActivated:
		left := m.deadline.Sub(m.d.Now()).Round(time.Second)
		if left < 0 {
			left = 0
		}
		lines = append(lines, fmt.Sprintf(" The node reboots in %d s to finish.", int(left.Seconds())),
			" Enter: reboot now   Esc: later")
	case phRebooting:
		lines = append(lines, " Rebooting"+st.Glyphs.Ellipsis)
	case phLater:
		lines = append(lines, " "+m.final, "", " Esc: back")
	}
	return strings.Join(lines, "\n")
}
