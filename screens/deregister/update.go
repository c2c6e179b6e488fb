package deregister

import (
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/nodeconsole/nodeconsole/regclient"
	"github.com/nodeconsole/nodeconsole/tui/ui"
)

// Init implements ui.Screen: it reads the state on disk.
func (m *Model) Init() tea.Cmd {
	m.enter(phLoading)
	return m.loadCmd()
}

// Closed implements ui.Closer: the shell removed the screen, so the work in
// flight is cancelled and its results are dropped.
func (m *Model) Closed() { m.enter(phClosed) }

// enter leaves the current phase for ph: the work the old phase started is
// cancelled, and its results no longer match the run.
func (m *Model) enter(ph phase) {
	m.run.Next()
	m.ph = ph
}

// Update implements ui.Screen.
func (m *Model) Update(msg tea.Msg) (ui.Screen, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
	case ui.RunResult:
		return m.result(msg)
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

// result is the one place an asynchronous result changes the screen; a
// result of another run is dropped.
func (m *Model) result(msg ui.RunResult) (ui.Screen, tea.Cmd) {
	res, ok := m.run.Current(msg)
	if !ok {
		return m, nil
	}
	switch r := res.(type) {
	case stateRes:
		m.state = r.st
		if r.st.State == regclient.Registered {
			m.enter(phWarning)
		} else {
			m.enter(phNotRegistered)
		}
	case sentRes:
		if r.err != nil {
			m.sendErr = r.err
			m.steps[stepSend] = ui.CheckFail
			m.yes = false
			m.enter(phUnreachable)
			return m, ui.Audit("deregister event failed", "err", r.err.Error())
		}
		m.steps = [numSteps]ui.CheckState{ui.CheckOK, ui.CheckRunning, ui.CheckRunning}
		m.enter(phWorking)
		return m, m.wipeCmd(false)
	case wipedRes:
		if r.err != nil {
			m.steps[stepWipe] = ui.CheckFail
			m.detail = r.sentence // the log has the error (ui.Error)
			m.enter(phFailed)
			return m, tea.Batch(ui.Error("The identity could not be removed; the node is still registered.", r.err), ui.StatusChanged)
		}
		m.steps[stepClose], m.steps[stepWipe] = ui.CheckOK, ui.CheckOK
		m.enter(phDone)
		action := "deregistered"
		if r.local {
			action = "deregistered locally (control plane unreachable)"
		}
		return m, tea.Batch(ui.Audit(action, "nodeId", m.state.NodeID, "name", m.state.NodeName), ui.StatusChanged)
	}
	return m, nil
}

func (m *Model) cancelled() (ui.Screen, tea.Cmd) {
	m.enter(phClosed)
	return m, tea.Batch(ui.Audit("deregister cancelled"), ui.Back)
}

func (m *Model) key(k tea.KeyPressMsg) (ui.Screen, tea.Cmd) {
	switch m.ph {
	case phWarning, phUnreachable:
		switch {
		case key.Matches(k, m.keys.Cancel):
			return m.cancelled()
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
			return m.cancelled()
		case key.Matches(k, m.keys.Confirm):
			if m.input.Value() != ConfirmWord {
				m.wrong = true
				return m, ui.Audit("deregister confirmation refused")
			}
			m.steps = [numSteps]ui.CheckState{ui.CheckRunning}
			m.enter(phWorking)
			return m, tea.Batch(ui.Audit("deregister confirmed"), m.sendCmd())
		}
		m.wrong = false
		var cmd tea.Cmd
		m.input, cmd = m.input.Update(k)
		return m, cmd
	case phNotRegistered, phDone, phFailed:
		if key.Matches(k, m.nav.Back) || key.Matches(k, m.keys.Accept) {
			m.enter(phClosed)
			return m, ui.Back
		}
	}
	return m, nil
}

func (m *Model) accept() (ui.Screen, tea.Cmd) {
	if !m.yes {
		return m.cancelled()
	}
	if m.ph == phUnreachable {
		m.steps = [numSteps]ui.CheckState{ui.CheckSkipped, ui.CheckRunning, ui.CheckRunning}
		m.enter(phWorking)
		return m, m.wipeCmd(true)
	}
	m.enter(phTyped)
	m.input.SetValue("")
	return m, m.input.Focus()
}
