package register

import (
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/nodeconsole/nodeconsole/regclient"
	"github.com/nodeconsole/nodeconsole/tui/ui"
)

// Init implements ui.Screen: it reads the state on disk first, so a pending
// code is shown again at once and a registered node is told so.
func (m *Model) Init() tea.Cmd {
	if m.ph == phActivated {
		return m.tick()
	}
	m.enter(phLoading)
	return m.loadCmd()
}

// Closed implements ui.Closer: the shell closed the screen. Its work in
// flight is cancelled and every later result of it is dropped.
func (m *Model) Closed() { m.enter(phClosed) }

// enter leaves the current phase for ph: the work the old phase started is
// cancelled, and its results no longer match the run.
func (m *Model) enter(ph phase) {
	m.run.Next()
	m.ph = ph
	m.asking = false
}

// back closes the screen.
func (m *Model) back() (ui.Screen, tea.Cmd) {
	m.enter(phClosed)
	return m, tea.Batch(ui.StatusChanged, ui.Back)
}

// Update implements ui.Screen.
func (m *Model) Update(msg tea.Msg) (ui.Screen, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.endpoint.SetWidth(min(60, max(msg.Width-16, 10)))
		return m, nil
	case ui.RunResult:
		return m.result(msg)
	case tea.KeyPressMsg:
		return m.key(msg)
	}
	if m.ph == phConfirm && m.focus == fieldEndpoint {
		var cmd tea.Cmd
		m.endpoint, cmd = m.endpoint.Update(msg)
		return m, cmd
	}
	return m, nil
}

// result is the one place an asynchronous result changes the screen. A
// result of another run (an older phase, or another Register Node screen:
// the shell forwards messages to every screen) is dropped.
func (m *Model) result(msg ui.RunResult) (ui.Screen, tea.Cmd) {
	res, ok := m.run.Current(msg)
	if !ok {
		return m, nil
	}
	switch r := res.(type) {
	case stateRes:
		return m.onState(r)
	case checksRes:
		return m.onChecks(r.checks)
	case keyRes:
		if r.err != nil {
			return m.fail(stKey, r.err, r.fail)
		}
		m.setStep(stKey, stepOK, "ready; never leaves this node", "")
		m.setStep(stUpdate, stepRunning, "", "")
		return m, m.updateCmd()
	case updateRes:
		switch {
		case r.err != nil:
			// An update problem never blocks registration.
			m.setStep(stUpdate, stepFail, sentence(r.err), "Registration continues with this version.")
		case r.r.Skipped:
			m.setStep(stUpdate, stepSkipped, "", "")
		default:
			m.setStep(stUpdate, stepOK, r.r.Text, "")
		}
		m.setStep(stCode, stepRunning, "", "")
		return m, m.startCmd()
	case codeRes:
		if r.err != nil {
			return m.fail(stCode, r.err, r.fail)
		}
		return m.showCode(r.code)
	case outcomeRes:
		return m.onOutcome(r.out)
	case tickRes:
		return m.onTick()
	case cancelRes:
		_, cmd := m.back()
		if r.err != nil {
			return m, tea.Batch(ui.Error("The enrollment was cancelled here, but the control plane could not be told.", r.err), cmd)
		}
		return m, tea.Batch(ui.Audit("registration cancelled"), cmd)
	case rebootRes:
		m.enter(phLater)
		if r.err != nil {
			m.final = "The reboot command failed: " + sentence(r.err)
			return m, ui.Error("The reboot command failed.", r.err)
		}
		m.final = r.result
		return m, nil
	}
	return m, nil
}

func (m *Model) onState(r stateRes) (ui.Screen, tea.Cmd) {
	m.state = r.st.State
	switch {
	case r.err != nil && r.st.State.State == "":
		m.enter(phConfirm)
		m.errText = "The registration state could not be read; registering will replace it."
	case r.st.State.State == regclient.Registered:
		m.enter(phAlready)
		return m, nil
	case r.st.State.State == regclient.Pending && r.st.Code != nil && m.d.Now().Before(r.st.Code.ExpiresAt):
		// Resume: show the same code at once, and keep waiting.
		for i := range m.steps {
			m.steps[i] = step{state: stepOK}
		}
		return m.showCode(*r.st.Code)
	default:
		m.enter(phConfirm)
	}
	if m.focus == fieldEndpoint {
		return m, m.endpoint.Focus()
	}
	return m, nil
}

func (m *Model) setStep(i stepID, s stepState, detail, hint string) {
	m.steps[i] = step{state: s, detail: detail, hint: hint}
}

// fail marks step i failed with err: its first sentence, and a hint that
// says whether trying again may help (regclient's errors know).
func (m *Model) fail(i stepID, err error, f failure) (ui.Screen, tea.Cmd) {
	hint := "Trying again will not help until this is fixed."
	switch {
	case regclient.Retryable(err):
		hint = "The control plane is busy or unreachable; try again in a moment."
	case f.storage:
		hint = "Nothing was registered; the node stays as it was."
	}
	m.setStep(i, stepFail, f.text, hint)
	return m, ui.Audit("register step failed", "step", i.String(), "err", err)
}

// sentence is what the operator reads of err: a regclient error's own
// sentence (the log keeps the whole error), else the first line of err.
func sentence(err error) string { return firstSentence(regclient.Sentence(err)) }

func firstSentence(s string) string {
	if i := strings.Index(s, "\n"); i >= 0 {
		s = s[:i]
	}
	return s
}

// start runs the steps from the first.
func (m *Model) start() (ui.Screen, tea.Cmd) {
	m.enter(phSteps)
	m.steps = [numSteps]step{}
	m.setStep(stConnectivity, stepRunning, "", "")
	req := m.request()
	return m, tea.Batch(ui.Audit("register", "endpoint", req.Endpoint, "make", req.Make, "model", req.Model), m.checksCmd())
}

// newCode runs the code step only (the code expired; the key stays).
func (m *Model) newCode() (ui.Screen, tea.Cmd) {
	m.enter(phSteps)
	for i := range stCode {
		m.steps[i] = step{state: stepOK}
	}
	m.setStep(stCode, stepRunning, "", "")
	return m, m.startCmd()
}

func (m *Model) onChecks(checks []Check) (ui.Screen, tea.Cmd) {
	var names []string
	for _, c := range checks {
		if !c.OK {
			m.setStep(stConnectivity, stepFail, c.Name+": "+c.Detail, c.Hint)
			return m, ui.Audit("register connectivity failed", "check", c.Name, "detail", c.Detail)
		}
		names = append(names, c.Name)
	}
	m.setStep(stConnectivity, stepOK, strings.Join(names, ", ")+" ok", "")
	m.setStep(stKey, stepRunning, "", "")
	return m, m.keyCmd()
}

func (m *Model) showCode(c Code) (ui.Screen, tea.Cmd) {
	m.enter(phCode)
	m.code = c
	m.out = Outcome{Kind: Waiting}
	m.setStep(stCode, stepOK, c.UserCode, "")
	return m, tea.Batch(ui.Audit("activation code shown", "code", c.UserCode), ui.StatusChanged, m.nextCmd(), m.tick())
}

func (m *Model) onTick() (ui.Screen, tea.Cmd) {
	switch {
	case m.ph == phActivated && !m.d.Now().Before(m.deadline):
		return m.reboot()
	case m.ph == phCode && !m.d.Now().Before(m.code.ExpiresAt):
		m.enter(phExpired)
		return m, ui.Audit("registration code expired", "code", m.code.UserCode)
	case m.ph == phCode, m.ph == phActivated:
		return m, m.tick()
	}
	return m, nil
}

func (m *Model) onOutcome(o Outcome) (ui.Screen, tea.Cmd) {
	m.out = o
	switch o.Kind {
	case Waiting, Retrying:
		return m, m.nextCmd()
	case Registered:
		m.enter(phActivated)
		m.deadline = m.d.Now().Add(m.d.RebootAfter)
		return m, tea.Batch(ui.Audit("registered", "name", o.NodeName, "project", o.Project), ui.StatusChanged, m.tick())
	case Expired:
		m.enter(phExpired)
		return m, ui.Audit("registration code expired", "code", m.code.UserCode)
	case Denied:
		m.enter(phDenied)
		return m, tea.Batch(ui.Audit("registration denied"), ui.StatusChanged)
	}
	m.enter(phStopped)
	m.final = "Registration stopped: " + sentence(o.Err)
	return m, ui.Error(m.final, o.Err)
}

func (m *Model) reboot() (ui.Screen, tea.Cmd) {
	m.enter(phRebooting)
	return m, tea.Batch(ui.Audit("reboot"), m.rebootCmd())
}

func (m *Model) key(k tea.KeyPressMsg) (ui.Screen, tea.Cmd) {
	switch m.ph {
	case phConfirm:
		return m.confirmKey(k)
	case phSteps:
		if _, failed := m.failed(); failed && key.Matches(k, m.keys.Retry) {
			return m.start()
		}
		if key.Matches(k, m.keys.Change) {
			// Back out: the steps' context is cancelled, so nothing more
			// is sent, and their results are dropped.
			m.enter(phConfirm)
			return m, ui.Audit("register steps abandoned")
		}
	case phCode:
		switch {
		case m.asking && key.Matches(k, m.keys.Yes):
			m.enter(phCancelling)
			return m, m.cancelCmd()
		case m.asking && key.Matches(k, m.keys.No):
			m.asking = false
		case key.Matches(k, m.keys.Cancel):
			m.asking = true
		}
	case phExpired:
		if key.Matches(k, m.keys.NewCode) {
			return m.newCode()
		}
		if key.Matches(k, m.nav.Back) {
			return m.back()
		}
	case phActivated:
		if key.Matches(k, m.keys.Reboot) {
			return m.reboot()
		}
		if key.Matches(k, m.keys.Later) {
			m.enter(phLater)
			m.final = "Reboot later to finish: the node uses its new certificate after a restart."
			return m, ui.Audit("reboot postponed")
		}
	case phLoading:
		if key.Matches(k, m.nav.Back) {
			return m.back()
		}
	case phAlready, phDenied, phStopped, phLater:
		if key.Matches(k, m.keys.Close) {
			return m.back()
		}
	}
	return m, nil
}

func (m *Model) confirmKey(k tea.KeyPressMsg) (ui.Screen, tea.Cmd) {
	switch {
	case key.Matches(k, m.keys.esc) || m.focus == fieldModel && key.Matches(k, m.nav.Back):
		m.enter(phClosed)
		return m, ui.Back
	case key.Matches(k, m.keys.Continue):
		m.validate()
		if m.epErr != "" {
			return m, nil
		}
		return m.start()
	case key.Matches(k, m.keys.Field):
		if m.focus == fieldModel {
			m.focus = fieldEndpoint
			return m, m.endpoint.Focus()
		}
		m.focus = fieldModel
		m.endpoint.Blur()
		return m, nil
	case m.focus == fieldModel && key.Matches(k, m.keys.Choose):
		n := len(m.d.Choices)
		if key.Matches(k, m.keys.left) {
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
	if m.focus == fieldEndpoint {
		var cmd tea.Cmd
		m.endpoint, cmd = m.endpoint.Update(k)
		m.validate()
		return m, cmd
	}
	return m, nil
}
