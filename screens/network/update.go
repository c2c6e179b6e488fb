package network

import (
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/nodeconsole/nodeconsole/netconfig"
	"github.com/nodeconsole/nodeconsole/tui/ui"
)

// Init implements ui.Screen.
func (m *Model) Init() tea.Cmd { return m.loadCmd() }

// Update implements ui.Screen.
func (m *Model) Update(msg tea.Msg) (ui.Screen, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.menu.SetWidth(msg.Width)
		m.histMenu.SetWidth(msg.Width)
		for i := range m.site.inputs {
			m.site.inputs[i].SetWidth(siteInputW(msg.Width))
		}
		for i, ifc := range m.status.Interfaces {
			if i < len(m.menu.Items) {
				// The columns and the neighbour lines follow the width.
				m.menu.Items[i].Label, m.menu.Items[i].Detail = m.ifaceRow(ifc), m.neighbours(ifc)
			}
		}
	case statusMsg:
		return m, m.onStatus(msg)
	case ui.WatchedMsg:
		if m.phase == phaseList && m.loadErr == "" {
			// Read again under the list (new LLDP neighbours, a cable
			// plugged in); any other phase reads when it comes back.
			return m, m.readCmd(true)
		}
	case previewMsg:
		if msg.gen != m.gen || m.phase != phasePreview {
			return m, nil
		}
		m.preview = msg.p
		if msg.err != nil {
			m.previewErr = "Cannot read the current settings: " + msg.err.Error()
			return m, ui.Error("Cannot read the current network settings.", msg.err)
		}
	case appliedMsg:
		return m, m.onApplied(msg)
	case checkMsg:
		if msg.gen != m.gen || m.trial == nil || msg.i != len(m.results) {
			return m, nil
		}
		m.results = append(m.results, msg.r)
		if !msg.r.OK {
			// A failed check: Revert is the safe answer, so it is the
			// one Enter chooses; Keep needs a deliberate move.
			m.keepSel = false
		}
		return m, m.nextCheck()
	case tickMsg:
		if msg.gen != m.gen || m.phase != phaseTrial {
			return m, nil // the countdown is not shown: let the tick die
		}
		if !m.d.Now().Before(m.deadline) {
			m.expired = true
			return m, m.decide(false, "expired")
		}
		return m, m.tick()
	case outcomeMsg:
		return m, m.onOutcome(msg)
	case historyMsg:
		return m, m.onHistory(msg)
	case siteMsg:
		return m, m.onSite(msg)
	case siteSavedMsg:
		return m, m.onSiteSaved(msg)
	case tea.KeyPressMsg:
		return m, m.onKey(msg)
	case tea.PasteMsg:
		switch {
		case m.CapturesInput() && m.phase == phaseSite:
			return m, m.site.update(msg)
		case m.CapturesInput():
			return m, m.form.update(msg)
		}
	}
	return m, nil
}

func (m *Model) onStatus(msg statusMsg) tea.Cmd {
	switch {
	case msg.gen != m.gen:
		return nil
	case msg.refresh:
		if m.phase == phaseList && msg.err == nil { // a failed re-read keeps the list
			at := ""
			if c := m.menu.Cursor; c < len(m.menu.Items) {
				at = m.menu.Items[c].ID // the cursor stays on its interface
			}
			m.status, m.saved, m.modes6, m.dhcp6 = msg.st, msg.saved, msg.modes6, msg.dhcp6
			m.setMenu(at)
		}
		return nil
	case m.phase != phaseLoading:
		return nil
	}
	m.phase = phaseList
	if msg.err != nil {
		m.loadErr = "Cannot read the network interfaces: " + msg.err.Error()
		return ui.Error("Cannot read the network interfaces.", msg.err)
	}
	m.loadErr = ""
	m.status, m.saved, m.modes6, m.dhcp6 = msg.st, msg.saved, msg.modes6, msg.dhcp6
	m.setMenu("")
	if t := m.d.Manager.Pending(); t != nil {
		// The screen was closed while a change was on trial: show it
		// again, with its countdown, so that it can be kept or reverted.
		m.gen++
		m.phase = phaseApplying
		return m.onApplied(appliedMsg{gen: m.gen, trial: t, resumed: true})
	}
	return nil
}

// setMenu builds the interface list from m.status, the cursor on the
// interface called at, else on the one with the IPv4 default route.
func (m *Model) setMenu(at string) {
	items := make([]ui.MenuItem, 0, len(m.status.Interfaces))
	cursor := -1
	for i, ifc := range m.status.Interfaces {
		items = append(items, ui.MenuItem{ID: ifc.Name, Label: m.ifaceRow(ifc), Detail: m.neighbours(ifc)})
		if ifc.Name == at || (cursor < 0 && ifc.Default4) {
			cursor = i
		}
	}
	m.menu = ui.NewMenu(m.st, items)
	m.menu.Cursor = max(cursor, 0)
	m.menu.SetWidth(m.width)
}

func (m *Model) onKey(k tea.KeyPressMsg) tea.Cmd {
	if _, ok := m.page(); ok {
		switch {
		case key.Matches(k, m.keys.ScrollDown):
			m.scroll = min(m.scroll+1, m.maxScroll())
			return nil
		case key.Matches(k, m.keys.ScrollUp):
			m.scroll = max(min(m.scroll, m.maxScroll())-1, 0)
			return nil
		}
	}
	switch m.phase {
	case phaseLoading:
		if key.Matches(k, m.keys.nav.Back) {
			return ui.Back
		}
	case phaseList:
		return m.listKey(k)
	case phaseForm:
		return m.formKey(k)
	case phaseHistory:
		return m.historyKey(k)
	case phaseSite:
		return m.siteKey(k)
	case phasePreview:
		switch {
		case key.Matches(k, m.keys.nav.Back) && m.restoring > 0:
			m.gen++
			m.phase = phaseHistory
		case key.Matches(k, m.keys.nav.Back):
			m.gen++
			m.phase = phaseForm
		case key.Matches(k, m.keys.Apply) && m.previewErr == "" && m.preview.Interface != "":
			return m.apply()
		}
	case phaseTrial:
		switch {
		case key.Matches(k, m.keys.Keep):
			return m.decide(true, "operator")
		case key.Matches(k, m.keys.Revert):
			return m.decide(false, "operator")
		case key.Matches(k, m.keys.Switch):
			m.keepSel = !m.keepSel
		case key.Matches(k, m.keys.nav.Select):
			return m.decide(m.keepSel, "operator")
		}
	case phaseDone:
		if key.Matches(k, m.keys.nav.Select, m.keys.nav.Back) {
			return m.loadCmd()
		}
	}
	return nil
}

func (m *Model) listKey(k tea.KeyPressMsg) tea.Cmd {
	switch {
	case key.Matches(k, m.keys.nav.Back):
		return ui.Back
	case key.Matches(k, m.keys.Refresh):
		m.listMsg = ""
		return m.loadCmd()
	case key.Matches(k, m.keys.History):
		m.listMsg = ""
		return m.historyCmd()
	case key.Matches(k, m.keys.Site) && m.d.Site != nil:
		m.listMsg = ""
		return m.siteCmd()
	}
	var cmd tea.Cmd
	m.menu, cmd = m.menu.Update(k)
	if name, ok := m.menu.Chosen(); ok {
		ifc, _ := m.status.Interface(name)
		if !ifc.Ethernet {
			m.listMsg = name + " is not an Ethernet interface; choose a wired one."
			return nil
		}
		m.listMsg = ""
		m.form = newForm(m.st, m.status, ifc, m.saved, m.modes6[ifc.Name])
		m.form.dhcp6Unavailable(m.dhcp6)
		m.askDiscard = false
		m.phase = phaseForm
		return nil
	}
	return cmd
}

func (m *Model) formKey(k tea.KeyPressMsg) tea.Cmd {
	f := &m.form
	if m.askDiscard {
		m.discardKey(k)
		return nil
	}
	switch {
	case key.Matches(k, m.keys.Cancel) || (!f.textFocused() && key.Matches(k, m.keys.nav.Back)):
		if f.dirty() {
			m.askDiscard = true
			return nil
		}
		m.phase = phaseList
		return nil
	case key.Matches(k, m.keys.FieldNext):
		return f.move(1)
	case key.Matches(k, m.keys.FieldPrev):
		return f.move(-1)
	case f.focus == rowMode && key.Matches(k, m.keys.Toggle):
		f.toggleMode()
		return nil
	case f.focus == rowIPv6 && key.Matches(k, m.keys.Mode6Next):
		f.cycleIPv6(1)
		return nil
	case f.focus == rowIPv6 && key.Matches(k, m.keys.Mode6Prev):
		f.cycleIPv6(-1)
		return nil
	case f.focus == rowDefaultRoute && key.Matches(k, m.keys.Toggle):
		f.toggleDefaultRoute()
		return nil
	case f.focus == rowAddRoute && key.Matches(k, m.keys.Enter):
		return f.newRoute()
	case isRoute(f.focus) && key.Matches(k, m.keys.RemoveRoute):
		return f.removeRoute()
	case f.focus == rowApply && key.Matches(k, m.keys.Enter):
		if !f.valid() {
			return nil
		}
		m.restoring = 0
		return m.startPreview(f.cfg)
	case key.Matches(k, m.keys.Enter):
		return f.next()
	}
	return f.update(k)
}

func (m *Model) onApplied(msg appliedMsg) tea.Cmd {
	if msg.gen != m.gen || m.phase != phaseApplying {
		return nil
	}
	if msg.err != nil && m.restoring > 0 {
		m.phase = phaseHistory
		m.histMsg = "Not applied: " + msg.err.Error()
		return ui.Error("The settings were not applied; nothing changed.", msg.err)
	}
	if msg.err != nil {
		m.phase = phaseForm
		m.applyErr = "Not applied: " + msg.err.Error()
		if netconfig.IsInvalid(msg.err) {
			// The network changed under the form, or DHCPv6 is not
			// available: validate again.
			m.form.ipv6Rejected(m.cfg, msg.err)
			m.form.validate()
		}
		return ui.Error("The settings were not applied; nothing changed.", msg.err)
	}
	m.trial = msg.trial
	m.phase, m.scroll = phaseTrial, 0
	m.keepSel = true
	m.deadline = msg.trial.Deadline()
	if m.d.TryTimeout > 0 && !msg.resumed {
		m.deadline = m.d.Now().Add(m.d.TryTimeout)
	}
	m.tryFor = m.deadline.Sub(m.d.Now()).Round(time.Second)
	if m.d.Endpoint != "" {
		m.checks = m.d.Manager.ChecksAt(msg.trial.Config(), m.d.Endpoint)
	} else {
		m.checks = msg.trial.Checks()
	}
	return tea.Batch(m.waitCmd(), m.nextCheck(), m.tick())
}

func (m *Model) onOutcome(msg outcomeMsg) tea.Cmd {
	if msg.gen != m.gen || m.trial == nil || (m.phase != phaseTrial && m.phase != phaseDeciding) {
		return nil
	}
	m.phase, m.scroll = phaseDone, 0
	m.outcome, m.outErr = msg.outcome, msg.err
	if msg.outcome == netconfig.OutcomeExpired {
		m.expired = true
	}
	switch {
	case msg.outcome == netconfig.OutcomeConfirmed && msg.err != nil:
		return ui.Error("The settings are in use but could not be saved for the next boot.", msg.err)
	case msg.outcome != netconfig.OutcomeConfirmed && msg.err != nil:
		return ui.Error("Restoring the previous settings failed; check them.", msg.err)
	}
	return nil
}

// discardKey answers "Discard your changes?" (form, Site settings): y goes
// back to the interface list, n keeps editing.
func (m *Model) discardKey(k tea.KeyPressMsg) {
	switch {
	case key.Matches(k, m.keys.Yes):
		m.askDiscard = false
		m.gen++ // a late answer for the page left is dropped
		m.phase = phaseList
	case key.Matches(k, m.keys.No):
		m.askDiscard = false
	}
}
