// Package network is the "Network settings" screen: a list of interfaces,
// then DHCP or a static address for the one chosen, validated as the
// operator types, previewed as "current → new", applied through
// netconfig.Manager with the checks shown live, and kept only when the
// operator confirms before the countdown ends; otherwise the previous
// settings come back by themselves.
package network

import (
	"context"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/nodeconsole/nodeconsole/netconfig"
	"github.com/nodeconsole/nodeconsole/tui/ui"
)

// Deps are the screen's dependencies.
type Deps struct {
	Styles *ui.Styles
	// Manager reads, validates, applies, reverts and saves (required):
	// backed by netlink on a node, by a netconfig.Simulated in --demo.
	Manager *netconfig.Manager
	// Endpoint is the control-plane URL the checks after an apply try to
	// reach; "" uses the Manager's.
	Endpoint string
	// TryTimeout is how long "Keep these settings?" waits before the
	// previous settings are restored; 0 uses the Manager's deadline
	// (60 s by default).
	TryTimeout time.Duration
	// Now is the clock of the countdown; nil means time.Now.
	Now func() time.Time
	// Timeout bounds reading the status, previewing and applying; 0 means
	// 20 s.
	Timeout time.Duration
}

type phase int

const (
	phaseLoading  phase = iota // reading the status
	phaseList                  // choosing an interface
	phaseForm                  // editing
	phasePreview               // "current → new", waiting for Apply
	phaseApplying              // Manager.Apply running
	phaseTrial                 // checks and "Keep these settings?"
	phaseDeciding              // Confirm or Revert running
	phaseDone                  // kept or restored
)

// Model is the Network settings screen.
type Model struct {
	d    Deps
	st   *ui.Styles
	keys keyMap

	phase   phase
	status  netconfig.Status
	loadErr string
	menu    ui.Menu
	listMsg string

	form       form
	askDiscard bool

	preview    netconfig.Preview
	previewErr string

	gen      int // increments per apply; stale messages are dropped
	trial    *netconfig.Trial
	deadline time.Time
	checks   []netconfig.Check
	results  []netconfig.Result
	keepSel  bool          // Keep (true) or Revert (false) is selected
	expired  bool          // the countdown ran out
	tryFor   time.Duration // the countdown's length
	outcome  netconfig.Outcome
	outErr   error
	applyErr string

	width, height int
}

// New builds the screen.
func New(d Deps) *Model {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Timeout <= 0 {
		d.Timeout = 20 * time.Second
	}
	return &Model{d: d, st: d.Styles, keys: newKeyMap(d.Styles), width: 80, height: 22}
}

// Messages. Each carries the generation it belongs to where a late answer
// could otherwise be mistaken for a current one.
type (
	statusMsg struct {
		st  netconfig.Status
		err error
	}
	previewMsg struct {
		p   netconfig.Preview
		err error
	}
	appliedMsg struct {
		gen   int
		trial *netconfig.Trial
		err   error
		// resumed marks a trial started before the screen was opened.
		resumed bool
	}
	checkMsg struct {
		gen, i int
		r      netconfig.Result
	}
	tickMsg    struct{ gen int }
	outcomeMsg struct {
		gen     int
		outcome netconfig.Outcome
		err     error
	}
)

// Init implements ui.Screen.
func (m *Model) Init() tea.Cmd { return m.loadCmd() }

func (m *Model) loadCmd() tea.Cmd {
	m.phase = phaseLoading
	mgr, timeout := m.d.Manager, m.d.Timeout
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		st, err := mgr.Status(ctx)
		return statusMsg{st: st, err: err}
	}
}

// Title implements ui.Screen.
func (m *Model) Title() string { return "Network settings" }

// CapturesInput implements ui.InputCapturer: true while a text field is
// being edited, so q, ?, digits and Backspace reach it.
func (m *Model) CapturesInput() bool {
	return m.phase == phaseForm && !m.askDiscard && m.form.textFocused()
}

// Update implements ui.Screen.
func (m *Model) Update(msg tea.Msg) (ui.Screen, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.menu.SetWidth(msg.Width)
		for i, ifc := range m.status.Interfaces {
			if i < len(m.menu.Items) {
				m.menu.Items[i].Label = m.ifaceRow(ifc) // the columns follow the width
			}
		}
	case statusMsg:
		return m, m.onStatus(msg)
	case previewMsg:
		if m.phase != phasePreview {
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
	case tea.KeyPressMsg:
		return m, m.onKey(msg)
	case tea.PasteMsg:
		if m.CapturesInput() {
			return m, m.form.update(msg)
		}
	}
	return m, nil
}

func (m *Model) onStatus(msg statusMsg) tea.Cmd {
	if m.phase != phaseLoading {
		return nil
	}
	m.phase = phaseList
	if msg.err != nil {
		m.loadErr = "Cannot read the network interfaces: " + msg.err.Error()
		return ui.Error("Cannot read the network interfaces.", msg.err)
	}
	m.loadErr = ""
	m.status = msg.st
	items := make([]ui.MenuItem, 0, len(msg.st.Interfaces))
	for _, ifc := range msg.st.Interfaces {
		items = append(items, ui.MenuItem{ID: ifc.Name, Label: m.ifaceRow(ifc)})
	}
	cursor := 0
	for i, ifc := range msg.st.Interfaces {
		if ifc.Default {
			cursor = i
			break
		}
	}
	m.menu = ui.NewMenu(m.st, items)
	m.menu.Cursor = cursor
	m.menu.SetWidth(m.width)
	if t := m.d.Manager.Pending(); t != nil {
		// The screen was closed while a change was on trial: show it
		// again, with its countdown, so that it can be kept or reverted.
		m.gen++
		m.phase = phaseApplying
		return m.onApplied(appliedMsg{gen: m.gen, trial: t, resumed: true})
	}
	return nil
}

func (m *Model) onKey(k tea.KeyPressMsg) tea.Cmd {
	switch m.phase {
	case phaseLoading:
		if key.Matches(k, m.keys.nav.Back) {
			return ui.Back
		}
	case phaseList:
		return m.listKey(k)
	case phaseForm:
		return m.formKey(k)
	case phasePreview:
		switch {
		case key.Matches(k, m.keys.nav.Back):
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
		m.form = newForm(m.st, m.status, ifc)
		m.askDiscard = false
		m.phase = phaseForm
		return nil
	}
	return cmd
}

func (m *Model) formKey(k tea.KeyPressMsg) tea.Cmd {
	f := &m.form
	if m.askDiscard {
		switch {
		case key.Matches(k, m.keys.Yes):
			m.askDiscard = false
			m.phase = phaseList
		case key.Matches(k, m.keys.No):
			m.askDiscard = false
		}
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
	case f.focus == rowMode && key.Matches(k, m.keys.Toggle, m.keys.Enter):
		f.toggleMode()
		return nil
	case f.focus == rowDefaultRoute && key.Matches(k, m.keys.Toggle):
		f.toggleDefaultRoute()
		return nil
	case f.focus == rowApply && key.Matches(k, m.keys.Enter):
		if !f.valid() {
			return nil
		}
		return m.startPreview()
	case key.Matches(k, m.keys.Enter):
		return f.move(1)
	}
	return f.update(k)
}

// startPreview reads the current status (a tea.Cmd) and shows "current → new".
func (m *Model) startPreview() tea.Cmd {
	m.phase = phasePreview
	m.preview, m.previewErr = netconfig.Preview{}, ""
	mgr, cfg, timeout := m.d.Manager, m.form.cfg, m.d.Timeout
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		p, err := mgr.Preview(ctx, cfg)
		return previewMsg{p: p, err: err}
	}
}

// apply runs Manager.Apply in a tea.Cmd.
func (m *Model) apply() tea.Cmd {
	m.gen++
	m.phase = phaseApplying
	m.trial, m.results, m.checks, m.expired, m.outcome, m.outErr, m.applyErr = nil, nil, nil, false, "", nil, ""
	mgr, cfg, gen, timeout := m.d.Manager, m.form.cfg, m.gen, m.d.Timeout
	return tea.Batch(ui.Audit("network apply", cfgAttrs(cfg)...), func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		t, err := mgr.Apply(ctx, cfg)
		return appliedMsg{gen: gen, trial: t, err: err}
	})
}

func cfgAttrs(cfg netconfig.Config) []any {
	attrs := []any{"interface", cfg.Interface, "mode", string(cfg.Mode)}
	if cfg.Mode == netconfig.ModeStatic {
		dns := make([]string, len(cfg.DNS))
		for i, d := range cfg.DNS {
			dns[i] = d.String()
		}
		attrs = append(attrs, "address", cfg.Address.String(), "gateway", cfg.Gateway.String(), "defaultRoute", cfg.DefaultRoute, "dns", strings.Join(dns, ","))
	}
	return attrs
}

func (m *Model) onApplied(msg appliedMsg) tea.Cmd {
	if msg.gen != m.gen || m.phase != phaseApplying {
		return nil
	}
	if msg.err != nil {
		m.phase = phaseForm
		m.applyErr = "Not applied: " + msg.err.Error()
		if netconfig.IsInvalid(msg.err) {
			// The network changed under the form: validate again.
			m.form.validate()
		}
		return ui.Error("The settings were not applied; nothing changed.", msg.err)
	}
	m.trial = msg.trial
	m.phase = phaseTrial
	m.keepSel = true
	m.deadline = msg.trial.Deadline()
	if m.d.TryTimeout > 0 && !msg.resumed {
		m.deadline = m.d.Now().Add(m.d.TryTimeout)
	}
	m.tryFor = m.deadline.Sub(m.d.Now()).Round(time.Second)
	if m.d.Endpoint != "" {
		m.checks = m.d.Manager.Prober().Checks(msg.trial.Config(), m.d.Endpoint)
	} else {
		m.checks = msg.trial.Checks()
	}
	t, gen := m.trial, m.gen
	wait := func() tea.Msg {
		// Wait returns once Keep or Revert decided, or when the
		// Manager's own deadline reverts by itself (the safety net if
		// this screen is closed).
		o, err := t.Wait(context.Background())
		return outcomeMsg{gen: gen, outcome: o, err: err}
	}
	return tea.Batch(wait, m.nextCheck(), m.tick())
}

// QuitGuard implements ui.Guarded: the shell asks before logging out while
// a change is on trial, and reverts it first, even once this screen is
// closed.
func (m *Model) QuitGuard() (string, ui.QuitGuard) {
	return "network-trial", trialGuard{m.d.Manager}
}

// QuitWarning is what the log-out question says while a change is on
// trial.
const QuitWarning = "A network change is on trial; logging out reverts it."

// trialGuard is the shell's QuitGuard for a network change on trial: it
// warns while the Manager has one open, and reverts it on log-out.
type trialGuard struct{ m *netconfig.Manager }

// QuitWarning implements ui.QuitGuard; Manager.Pending does no I/O.
func (g trialGuard) QuitWarning() string {
	if g.m.Pending() == nil {
		return ""
	}
	return QuitWarning
}

// Undo implements ui.QuitGuard: it restores the previous settings exactly.
func (g trialGuard) Undo(ctx context.Context) error {
	_, err := g.m.RevertPending(ctx, "log out")
	return err
}

// nextCheck runs the next check in its own tea.Cmd.
func (m *Model) nextCheck() tea.Cmd {
	i := len(m.results)
	if i >= len(m.checks) {
		return nil
	}
	c, gen := m.checks[i], m.gen
	return func() tea.Msg {
		return checkMsg{gen: gen, i: i, r: c.Run(context.Background())}
	}
}

// tick schedules the next countdown second.
func (m *Model) tick() tea.Cmd {
	gen := m.gen
	return tea.Tick(time.Second, func(time.Time) tea.Msg { return tickMsg{gen: gen} })
}

// decide keeps (Confirm, which saves) or reverts the trial in a tea.Cmd.
func (m *Model) decide(keep bool, reason string) tea.Cmd {
	if m.phase != phaseTrial {
		return nil
	}
	m.phase = phaseDeciding
	t, gen := m.trial, m.gen
	audit := ui.Audit("network revert", "interface", t.Config().Interface, "reason", reason)
	if keep {
		audit = ui.Audit("network confirm", "interface", t.Config().Interface)
	}
	return tea.Batch(audit, func() tea.Msg {
		var err error
		if keep {
			err = t.Confirm(context.Background())
		} else {
			err = t.Revert(context.Background())
		}
		o, oerr := t.Outcome()
		if oerr == nil {
			oerr = err
		}
		return outcomeMsg{gen: gen, outcome: o, err: oerr}
	})
}

func (m *Model) onOutcome(msg outcomeMsg) tea.Cmd {
	if msg.gen != m.gen || m.trial == nil || (m.phase != phaseTrial && m.phase != phaseDeciding) {
		return nil
	}
	m.phase = phaseDone
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

// remaining is the countdown shown, rounded up to whole seconds.
func (m *Model) remaining() time.Duration {
	d := m.deadline.Sub(m.d.Now())
	if d < 0 {
		return 0
	}
	return (d + time.Second - 1).Truncate(time.Second)
}

// ShortHelp implements help.KeyMap.
func (m *Model) ShortHelp() []key.Binding {
	k := m.keys
	switch m.phase {
	case phaseList:
		return []key.Binding{k.nav.Down, k.nav.Select, k.Refresh, k.nav.Back}
	case phaseForm:
		if m.askDiscard {
			return []key.Binding{k.Yes, k.No}
		}
		b := []key.Binding{k.FieldNext, k.FieldPrev}
		switch m.form.focus {
		case rowMode:
			b = append(b, k.Toggle)
		case rowDefaultRoute:
			b = append(b, withHelp(k.Toggle, "on/off"))
		case rowApply:
			b = append(b, withHelp(k.Enter, "preview"))
		}
		return append(b, k.Cancel)
	case phasePreview:
		return []key.Binding{k.Apply, withHelp(k.nav.Back, "edit")}
	case phaseTrial:
		return []key.Binding{k.Keep, k.Revert, k.Switch}
	case phaseDone:
		return []key.Binding{withHelp(k.nav.Select, "done")}
	}
	return []key.Binding{k.nav.Back}
}

// FullHelp implements help.KeyMap.
func (m *Model) FullHelp() [][]key.Binding { return [][]key.Binding{m.ShortHelp()} }

func withHelp(b key.Binding, desc string) key.Binding {
	h := b.Help()
	b.SetHelp(h.Key, desc)
	return b
}

// describeOutcome is the sentence shown once the trial is decided.
func (m *Model) describeOutcome() (string, bool) {
	switch m.outcome {
	case netconfig.OutcomeConfirmed:
		if m.outErr != nil {
			return "The new settings are in use but could not be saved: " + m.outErr.Error(), false
		}
		return "The new settings are kept and saved; they apply again at boot.", true
	case netconfig.OutcomeExpired:
		return restored(m, fmt.Sprintf("No answer within %s: the previous settings were restored.", m.tryText()))
	case netconfig.OutcomeReverted:
		if m.expired {
			return restored(m, fmt.Sprintf("No answer within %s: the previous settings were restored.", m.tryText()))
		}
		return restored(m, "Reverted: the previous settings were restored.")
	case netconfig.OutcomeCancelled:
		return restored(m, "Stopped: the previous settings were restored.")
	}
	return "", false
}

func restored(m *Model, s string) (string, bool) {
	if m.outErr != nil {
		return "Restoring the previous settings failed: " + m.outErr.Error(), false
	}
	return s, true
}

func (m *Model) tryText() string {
	if m.tryFor > 0 {
		return seconds(m.tryFor)
	}
	return "the time given"
}

// seconds renders a duration as "60 s" or "2m30s".
func seconds(d time.Duration) string {
	if d < time.Minute*2 && d%time.Second == 0 {
		return fmt.Sprintf("%d s", int(d/time.Second))
	}
	return d.String()
}
