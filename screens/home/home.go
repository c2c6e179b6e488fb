// Package home is the console's first screen: the node's status and the main
// menu. The status is read in the background (a tea.Cmd every few seconds);
// only what changed is redrawn, so an idle console writes nothing.
package home

import (
	"context"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/nodeconsole/nodeconsole/nodestatus"
	"github.com/nodeconsole/nodeconsole/tui/ui"
)

// Action is a menu entry that opens a screen.
type Action struct {
	Label string
	Hint  string
	// Open builds the screen when chosen. It runs in Update, so it must
	// not do I/O: the screen's Init does that.
	Open func() ui.Screen
}

// Deps are the home screen's dependencies.
type Deps struct {
	Styles *ui.Styles
	// Collect reads the status; it runs inside a tea.Cmd.
	Collect func(ctx context.Context) nodestatus.Snapshot
	// Actions are the menu entries before "Log out".
	Actions []Action
	// Refresh is the status refresh period; 0 means 5 s.
	Refresh time.Duration
	// Now returns the time; nil means time.Now.
	Now func() time.Time
	// Notes are extra lines shown under the status (demo portal URL ...).
	Notes []string
	// Extra, when set, renders a block under the status given the latest
	// snapshot and the room left (width, height); it returns "" for none.
	// The register flow uses it to show the registration QR code.
	Extra func(s nodestatus.Snapshot, width, height int) string
}

const logoutID = "logout"

// Model is the home screen.
type Model struct {
	d       Deps
	menu    ui.Menu
	snap    nodestatus.Snapshot
	loaded  bool
	width   int
	height  int
	gen     int
	keys    keyMap
	lastHdr string
}

type keyMap struct {
	Logout key.Binding
}

func defaultKeyMap() keyMap {
	return keyMap{Logout: key.NewBinding(key.WithKeys("q"), key.WithHelp("q", "log out"))}
}

// New builds the home screen.
func New(d Deps) *Model {
	if d.Refresh <= 0 {
		d.Refresh = 5 * time.Second
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	items := make([]ui.MenuItem, 0, len(d.Actions)+1)
	for i, a := range d.Actions {
		items = append(items, ui.MenuItem{ID: fmt.Sprint(i), Label: a.Label, Hint: a.Hint})
	}
	items = append(items, ui.MenuItem{ID: logoutID, Label: "Log out"})
	return &Model{d: d, menu: ui.NewMenu(d.Styles, items), keys: defaultKeyMap(), width: 80, height: 22}
}

// snapshotMsg carries a fresh status reading.
type snapshotMsg struct {
	gen  int
	snap nodestatus.Snapshot
}

// refreshMsg asks for the next reading.
type refreshMsg struct{ gen int }

// RefreshMsg makes the home screen read the status now (sent by screens that
// changed it, such as Register Node).
type RefreshMsg struct{}

func (m *Model) collectCmd() tea.Cmd {
	collect, gen := m.d.Collect, m.gen
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		return snapshotMsg{gen: gen, snap: collect(ctx)}
	}
}

// Init implements ui.Screen.
func (m *Model) Init() tea.Cmd { return m.collectCmd() }

// Title implements ui.Screen.
func (m *Model) Title() string { return "Home" }

// Snapshot returns the latest status reading.
func (m *Model) Snapshot() nodestatus.Snapshot { return m.snap }

// Update implements ui.Screen.
func (m *Model) Update(msg tea.Msg) (ui.Screen, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.menu.SetWidth(m.menuWidth())
	case snapshotMsg:
		if msg.gen != m.gen {
			return m, nil
		}
		m.snap, m.loaded = msg.snap, true
		gen := m.gen
		cmds := []tea.Cmd{tea.Tick(m.d.Refresh, func(time.Time) tea.Msg { return refreshMsg{gen: gen} })}
		if hdr := headerLabel(m.snap); hdr != m.lastHdr {
			m.lastHdr = hdr
			cmds = append(cmds, func() tea.Msg { return ui.HeaderMsg{Node: hdr} })
		}
		return m, tea.Batch(cmds...)
	case refreshMsg:
		if msg.gen != m.gen {
			return m, nil
		}
		return m, m.collectCmd()
	case RefreshMsg:
		m.gen++ // drop the pending tick; start a new chain
		return m, m.collectCmd()
	case tea.KeyPressMsg:
		if key.Matches(msg, m.keys.Logout) {
			return m, ui.Quit
		}
		var cmd tea.Cmd
		m.menu, cmd = m.menu.Update(msg)
		if id, ok := m.menu.Chosen(); ok {
			return m, m.choose(id)
		}
		return m, cmd
	}
	return m, nil
}

func (m *Model) choose(id string) tea.Cmd {
	if id == logoutID {
		return tea.Batch(ui.Audit("menu", "choice", "Log out"), ui.Quit)
	}
	var i int
	fmt.Sscan(id, &i)
	a := m.d.Actions[i]
	return tea.Batch(ui.Audit("menu", "choice", a.Label), ui.Push(a.Open()))
}

func headerLabel(s nodestatus.Snapshot) string {
	if s.Registration.NodeName != "" {
		return s.Registration.NodeName + " (" + s.NodeID + ")"
	}
	return s.NodeID
}

// ShortHelp implements help.KeyMap.
func (m *Model) ShortHelp() []key.Binding { return append(m.menu.ShortHelp(), m.keys.Logout) }

// FullHelp implements help.KeyMap.
func (m *Model) FullHelp() [][]key.Binding {
	return append(m.menu.FullHelp(), []key.Binding{m.keys.Logout})
}

func (m *Model) wide() bool { return m.width >= 110 }

func (m *Model) menuWidth() int {
	if m.wide() {
		return 34
	}
	return m.width
}

// View implements ui.Screen.
func (m *Model) View() string {
	st := m.d.Styles
	menu := m.menu.View()
	menuH := lipgloss.Height(menu) + 1
	if m.wide() {
		leftW := min(m.width-m.menuWidth()-3, 76)
		left := m.statusBlock(leftW, m.height, false)
		right := st.Title.Render(" Menu") + "\n" + menu
		return lipgloss.JoinHorizontal(lipgloss.Top, lipgloss.NewStyle().Width(leftW+2).Render(left), right)
	}
	room := m.height - menuH - 1
	compact := m.width < 80 || room < 11
	status := m.statusBlock(m.width, room, compact)
	return status + "\n\n" + st.Title.Render(" Menu") + "\n" + menu
}

// statusBlock renders the status in at most h lines of width w.
func (m *Model) statusBlock(w, h int, compact bool) string {
	st := m.d.Styles
	if h <= 0 {
		return ""
	}
	if !m.loaded {
		return st.Muted.Render(" Reading node status" + st.Glyphs.Ellipsis)
	}
	s := m.snap
	now := m.d.Now()
	reg := s.Registration.RegistrationLine(now)
	var regStyled string
	switch s.Registration.State {
	case "registered":
		regStyled = st.OK.Render(reg)
	case "pending":
		regStyled = st.Warn.Render(reg)
	default:
		regStyled = st.Value.Render(reg)
	}
	labelW := 12
	kv := func(label, value string) string {
		return " " + st.Label.Render(fmt.Sprintf("%-*s", labelW, label)) + value
	}
	var lines []string
	if compact {
		lines = append(lines, " "+s.NodeID, " "+regStyled)
		for _, ifc := range s.Interfaces {
			if ifc.Default {
				lines = append(lines, " "+ifc.Name+" "+strings.Join(ifc.Addresses, " "))
			}
		}
		return joinFit(lines, w, h, st)
	}
	lines = append(lines, st.Title.Render(" Node"))
	lines = append(lines, kv("Hostname", s.Hostname))
	lines = append(lines, kv("Node ID", s.NodeID))
	mm := strings.TrimSpace(s.Make + " " + s.Model)
	if mm == "" {
		mm = st.Muted.Render("unknown")
	}
	lines = append(lines, kv("Make/model", mm))
	lines = append(lines, kv("Version", s.Version))
	lines = append(lines, kv("Status", regStyled))
	if s.Endpoint != "" {
		lines = append(lines, kv("Endpoint", s.Endpoint))
	}
	lines = append(lines, st.Title.Render(" Network"))
	netStart := len(lines)
	for _, ifc := range s.Interfaces {
		mark := " "
		if ifc.Default {
			mark = st.Glyphs.Default
		}
		state := ifc.State
		var stateStyled string
		switch state {
		case "up":
			stateStyled = st.OK.Render(fmt.Sprintf("%-10s", state))
		default:
			stateStyled = st.Fail.Render(fmt.Sprintf("%-10s", state))
		}
		addrs := strings.Join(ifc.Addresses, " ")
		if addrs == "" {
			addrs = st.Muted.Render("no address")
		}
		mac := ifc.MAC
		if mac == "" {
			mac = "-"
		}
		lines = append(lines, fmt.Sprintf(" %s %-8s %s %-17s  %s", mark, ifc.Name, stateStyled, mac, addrs))
	}
	if len(s.Interfaces) == 0 {
		lines = append(lines, st.Muted.Render("   no network interfaces"))
	}
	gw := st.Muted.Render("none")
	if s.Gateway != "" {
		gw = s.Gateway + " via " + s.GatewayInterface
	}
	dns := st.Muted.Render("none")
	if len(s.DNS) > 0 {
		dns = strings.Join(s.DNS, ", ")
	}
	lines = append(lines, kv("Gateway", gw), kv("DNS", dns))
	for _, n := range m.d.Notes {
		lines = append(lines, " "+n)
	}
	for _, p := range s.Problems {
		lines = append(lines, st.Warn.Render(" ! "+p))
	}
	if m.d.Extra != nil {
		if extra := m.d.Extra(s, w, h-len(lines)); extra != "" {
			lines = append(lines, strings.Split(extra, "\n")...)
		}
	}
	if len(lines) > h {
		// Keep node, status and gateway/DNS; cut interfaces first.
		over := len(lines) - h + 1
		nIf := len(s.Interfaces)
		if over < nIf {
			cut := nIf - over
			rest := append([]string{}, lines[netStart+nIf:]...)
			lines = append(lines[:netStart+cut], st.Muted.Render(fmt.Sprintf("   +%d more interfaces (Network settings lists all)", nIf-cut)))
			lines = append(lines, rest...)
		}
	}
	return joinFit(lines, w, h, st)
}

func joinFit(lines []string, w, h int, st *ui.Styles) string {
	if len(lines) > h {
		lines = lines[:h]
	}
	for i, l := range lines {
		if lipgloss.Width(l) > w {
			lines[i] = ansi.Truncate(l, w, st.Glyphs.Ellipsis)
		}
	}
	return strings.Join(lines, "\n")
}
