// Package network is the "Network settings" screen: a list of interfaces,
// then DHCP or a static address for the one chosen, validated as the
// operator types, previewed as "current → new", applied through
// netconfig.Manager with the checks shown live, and kept only when the
// operator confirms before the countdown ends; otherwise the previous
// settings come back by themselves.
//
// The screen is a state machine (phase; update.go holds the transitions).
// Every asynchronous answer carries the generation (gen) it was started in
// and is dropped when the screen has moved on since: gen moves whenever a
// read, a preview or an apply starts, so a late answer is never mistaken
// for the current one.
package network

import (
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/nodeconsole/nodeconsole/netconfig"
	"github.com/nodeconsole/nodeconsole/tui/ui"
)

// Deps are the screen's dependencies.
type Deps struct {
	Styles *ui.Styles
	// Manager reads, validates, applies, reverts and saves (required):
	// backed by netlink on a node, by a netconfig.Simulated in --demo.
	// The LLDP neighbours shown under each NIC are the Interface.LLDP of
	// its status: a Reader wrapped with netconfig.WithLLDP fills them in
	// from the console's background listener (none: nothing is shown).
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
	// Tick is the countdown's tick source: tea.Tick when nil; tests
	// inject their driver's.
	Tick func(d time.Duration, fn func(time.Time) tea.Msg) tea.Cmd
	// Park runs wait, the command that waits for the trial's decision
	// (Keep, Revert or the Manager's own deadline), directly when nil;
	// tests pass their driver's Park so that settling does not wait for
	// it.
	Park func(wait func())
	// Site is where Site settings (host name, NTP servers, proxy) are
	// written, as `network hostname|ntp|proxy` write them; nil leaves
	// Site settings out.
	Site *netconfig.Site
	// Proxy and NoProxy are the proxy in use (config network.httpsProxy,
	// network.noProxy), shown in Site settings without its credentials.
	Proxy, NoProxy string
	// ProxyChanged, when set, is told (in Update) the proxy Site settings
	// saved, so that what the console sends from then on uses it.
	ProxyChanged func(proxy, noProxy string)
	// IPv6Mode, when set, reads an interface's IPv6 mode from the kernel
	// (netconfig.KernelIPv6Mode), in a tea.Cmd; the form starts there when
	// no kept settings say. Nil (--demo): inferred from the addresses.
	IPv6Mode func(ifname string) netconfig.IPv6Mode
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
	phaseHistory               // "Restore a previous setup": the kept settings
	phaseSite                  // "Site settings": host name, NTP, proxy
)

// Model is the Network settings screen.
type Model struct {
	d    Deps
	st   *ui.Styles
	keys keyMap

	phase   phase
	status  netconfig.Status
	saved   netconfig.Config // the settings kept last, for the form's IPv6 mode
	modes6  map[string]netconfig.IPv6Mode
	dhcp6   error // why IPv6 dhcp cannot be applied (nil: it can)
	loadErr string
	menu    ui.Menu
	listMsg string

	form       form
	askDiscard bool

	// cfg is what is previewed and applied: the form's, or a kept one
	// being restored (restoring is then its entry number, from 1).
	cfg        netconfig.Config
	restoring  int
	preview    netconfig.Preview
	previewErr string

	history  []netconfig.HistoryEntry // nil while reading
	histMenu ui.Menu
	histErr  string // the history could not be read
	histMsg  string // why the entry chosen cannot be restored

	site           siteForm
	proxy, noProxy string // the proxy now: Deps', then what Site settings saved

	gen      int // moves per read, preview and apply; stale messages are dropped
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

	// scroll is how far the body of the preview or the trial is
	// scrolled (short screens); it starts at 0 in each phase.
	scroll int

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
	if d.Tick == nil {
		d.Tick = tea.Tick
	}
	if d.Park == nil {
		d.Park = func(wait func()) { wait() }
	}
	return &Model{d: d, st: d.Styles, keys: newKeyMap(d.Styles), width: 80, height: 22, proxy: d.Proxy, noProxy: d.NoProxy}
}

// Messages. Each carries the generation it belongs to.
type (
	statusMsg struct {
		gen   int
		st    netconfig.Status
		saved netconfig.Config // the settings kept last (zero: none)
		// modes6 are Deps.IPv6Mode's answers by interface (nil without it).
		modes6 map[string]netconfig.IPv6Mode
		dhcp6  error // Manager.DHCPv6: nil when IPv6 dhcp can be applied
		err    error
		// refresh: read again while the list is shown (the watcher saw
		// a change), not loading.
		refresh bool
	}
	previewMsg struct {
		gen int
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

// Title implements ui.Screen.
func (m *Model) Title() string { return "Network settings" }

// CapturesInput implements ui.InputCapturer: true while a text field is
// being edited, so q, ?, digits and Backspace reach it.
func (m *Model) CapturesInput() bool {
	switch m.phase {
	case phaseForm:
		return !m.askDiscard && m.form.textFocused()
	case phaseSite:
		return !m.askDiscard && m.site.loaded && m.site.focus < siteSave
	}
	return false
}

// remaining is the countdown shown, rounded up to whole seconds.
func (m *Model) remaining() time.Duration {
	d := m.deadline.Sub(m.d.Now())
	if d < 0 {
		return 0
	}
	return (d + time.Second - 1).Truncate(time.Second)
}
