package home

import (
	"fmt"
	"slices"
	"strings"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/nodeconsole/nodeconsole/nodestatus"
	"github.com/nodeconsole/nodeconsole/tui/ui"
)

// menuWidth is the width of the menu column in the side-by-side layout.
func (m *Model) menuWidth() int {
	w := 0
	for _, it := range m.menu.Items {
		w = max(w, len([]rune(it.Label)))
	}
	return w + 7 // " ▸ 1  " + a space of margin
}

// sideBySide reports whether the node block and the menu share the top rows.
func (m *Model) sideBySide() bool { return m.width >= 78 }

// View implements ui.Screen.
func (m *Model) View() string {
	st := m.d.Styles
	menu := st.Title.Render(" Menu") + "\n" + m.menu.View()
	if !m.sideBySide() {
		menuH := lipgloss.Height(menu)
		status := m.compactBlock(m.width, m.height-menuH-1)
		if status == "" {
			return menu
		}
		return status + "\n\n" + menu
	}
	if v, ok := m.panelView(); ok {
		return v
	}
	leftW := m.width - m.menuWidth() - 1
	node := m.nodeBlock(leftW)
	top := lipgloss.JoinHorizontal(lipgloss.Top, lipgloss.NewStyle().Width(leftW+1).Render(node), menu)
	rest := m.height - lipgloss.Height(top) - 1
	if rest <= 0 {
		return top
	}
	return top + "\n\n" + m.networkBlock(m.width, rest)
}

func (m *Model) regStyled() string {
	st := m.d.Styles
	reg := m.snap.Registration.RegistrationLine(m.d.Now())
	switch m.snap.Registration.State {
	case "registered":
		return st.OK.Render(reg)
	case "pending":
		return st.Warn.Render(reg)
	}
	return st.Value.Render(reg)
}

func (m *Model) kv(label, value string) string {
	st := m.d.Styles
	return " " + st.Label.Render(fmt.Sprintf("%-*s", labelW, label)) + value
}

// labelW is the width of the status labels.
const labelW = 12

// minLeftW is the narrowest left column beside the panel's block.
const minLeftW = 34

// panelView is the layout while the panel shows its block (the QR code):
// the block on the right, full height; on the left the node, the panel's
// lines, the menu and what room is left of the network. ok is false when
// the block does not fit.
func (m *Model) panelView() (string, bool) {
	if m.d.Panel == nil || !m.loaded {
		return "", false
	}
	block := m.d.Panel.Block(m.width-minLeftW-1, m.height)
	if block == "" {
		return "", false
	}
	st := m.d.Styles
	leftW := m.width - lipgloss.Width(block) - 1
	left := []string{m.nodeBlock(leftW)}
	if pl := m.d.Panel.Lines(leftW, labelW, true); len(pl) > 0 {
		left = append(left, strings.Join(pl, "\n"))
	}
	left = append(left, "", st.Title.Render(" Menu")+"\n"+m.menu.View())
	col := strings.Join(left, "\n")
	if rest := m.height - lipgloss.Height(col) - 1; rest >= 1 {
		var more []string
		more = append(more, m.noteLines(leftW)...)
		more = append(more, strings.Split(m.compactNetwork(leftW, rest), "\n")...)
		col += "\n\n" + joinFit(more, leftW, rest, st)
	}
	col = joinFit(strings.Split(col, "\n"), leftW, m.height, st)
	return lipgloss.JoinHorizontal(lipgloss.Top, lipgloss.NewStyle().Width(leftW+1).Render(col), block), true
}

// compactNetwork is the default route's interface, address and gateway in
// at most h lines.
func (m *Model) compactNetwork(w, h int) string {
	st := m.d.Styles
	s := m.snap
	lines := []string{}
	for _, ifc := range s.Interfaces {
		if ifc.Default {
			addrs := strings.Join(ifc.Addresses, " ")
			if addrs == "" {
				addrs = st.Muted.Render("no address")
			}
			lines = append(lines, m.kv("Network", ifc.Name+" "+addrs))
		}
	}
	if len(lines) == 0 {
		lines = append(lines, m.kv("Network", st.Warn.Render("no default route")))
	} else {
		lines = append(lines, m.kv("Gateway", s.Gateway))
	}
	return joinFit(lines, w, h, st)
}

// nodeBlock is the identity part of the status, w cells wide.
func (m *Model) nodeBlock(w int) string {
	st := m.d.Styles
	if !m.loaded {
		return st.Title.Render(" Node") + "\n" + st.Muted.Render(" Reading node status"+st.Glyphs.Ellipsis)
	}
	s := m.snap
	mm := strings.TrimSpace(s.Make + " " + s.Model)
	if mm == "" {
		mm = st.Muted.Render("unknown")
	}
	lines := []string{
		st.Title.Render(" Node"),
		m.kv("Host name", s.Hostname), // as Site settings, where it is set, says
		m.kv("Node ID", s.NodeID),
		m.kv("Make/model", mm),
		m.kv("Version", s.Version),
		m.kv("Status", m.regStyled()),
	}
	if c := s.Certificate; c != nil && s.Registration.State == "registered" {
		line := c.ExpiryLine(m.d.Now())
		if c.ExpiresSoon(m.d.Now()) {
			line = st.Warn.Render(line)
		}
		lines = append(lines, m.kv("Certificate", line))
	}
	if s.Endpoint != "" {
		lines = append(lines, m.kv("Endpoint", s.Endpoint))
	}
	return joinFit(lines, w, len(lines), st)
}

// networkBlock is the network part of the status plus notes, problems and
// the Extra block, in at most h lines of width w. When room is short,
// interfaces without the default route are folded into a "+N more" line.
func (m *Model) networkBlock(w, h int) string {
	st := m.d.Styles
	if !m.loaded {
		return ""
	}
	s := m.snap
	var ifLines []string
	for _, ifc := range s.Interfaces {
		mark := " "
		if ifc.Default {
			mark = st.Glyphs.Default
		}
		var state string
		if ifc.State == "up" {
			state = st.OK.Render(fmt.Sprintf("%-10s", ifc.State))
		} else {
			state = st.Fail.Render(fmt.Sprintf("%-10s", ifc.State))
		}
		addrs := strings.Join(ifc.Addresses, " ")
		if addrs == "" {
			addrs = st.Muted.Render("no address")
		}
		mac := ifc.MAC
		if mac == "" {
			mac = "-"
		}
		if w < 70 {
			// No room for the MAC: name, link and addresses.
			ifLines = append(ifLines, fmt.Sprintf(" %s %-7s %s %s", mark, ifc.Name, state, addrs))
			continue
		}
		ifLines = append(ifLines, fmt.Sprintf(" %s %-8s %s %-17s  %s", mark, ifc.Name, state, mac, addrs))
	}
	if len(ifLines) == 0 {
		ifLines = append(ifLines, st.Muted.Render("   no network interfaces"))
	}
	gw := st.Muted.Render("none")
	if s.Gateway != "" {
		gw = s.Gateway + " via " + s.GatewayInterface
	}
	dns := st.Muted.Render("none")
	if len(s.DNS) > 0 {
		dns = strings.Join(s.DNS, ", ")
	}
	tail := []string{m.kv("Gateway", gw), m.kv("DNS", dns)}
	if m.d.Panel != nil {
		// Before the notes: when room is short the last lines go first.
		tail = append(tail, m.d.Panel.Lines(w, labelW, false)...)
	}
	tail = append(tail, m.noteLines(w)...)
	if room := h - 1 - len(tail); len(ifLines) > room && room >= 1 {
		ifLines = foldInterfaces(ifLines, s.Interfaces, room, st)
	}
	lines := append([]string{st.Title.Render(" Network")}, ifLines...)
	lines = append(lines, tail...)
	return joinFit(lines, w, h, st)
}

// compactBlock is the status for small terminals: ID, registration and the
// default-route address.
func (m *Model) compactBlock(w, h int) string {
	st := m.d.Styles
	if h <= 0 || !m.loaded {
		return ""
	}
	s := m.snap
	lines := []string{" " + s.NodeID, " " + m.regStyled()}
	if m.d.Panel != nil {
		for _, l := range m.d.Panel.Lines(w, 0, false) {
			lines = append(lines, " "+strings.TrimSpace(ansi.Strip(l)))
		}
	}
	if rest := h - len(lines) - 1; rest >= 4 {
		// Room for the network table (60x20): it keeps its place.
		return joinFit(lines, w, h, st) + "\n\n" + m.networkBlock(w, rest)
	}
	for _, ifc := range s.Interfaces {
		if ifc.Default {
			lines = append(lines, " "+ifc.Name+" "+strings.Join(ifc.Addresses, " "))
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

// noteLines are the notes (demo portal, "reboot to finish registration",
// user data) and the problems, wrapped to w cells rather than cut.
func (m *Model) noteLines(w int) []string {
	st := m.d.Styles
	var out []string
	for _, n := range slices.Concat(m.d.Notes, m.snap.Notes) {
		for _, l := range ui.Wrap(n, w-1) {
			out = append(out, " "+l)
		}
	}
	for _, p := range m.snap.Problems {
		for i, l := range ui.Wrap(p, w-3) {
			lead := "   "
			if i == 0 {
				lead = " ! "
			}
			out = append(out, st.Warn.Render(lead+l))
		}
	}
	return out
}

// foldInterfaces keeps room lines of the interface table: the interfaces
// with the default route first, then the others in order, and a "+N more"
// line for the rest (unless the only line left is the default route's).
func foldInterfaces(lines []string, ifcs []nodestatus.Interface, room int, st *ui.Styles) []string {
	if len(ifcs) != len(lines) {
		return lines[:room] // "no network interfaces"
	}
	order := make([]int, 0, len(lines))
	for i, ifc := range ifcs {
		if ifc.Default {
			order = append(order, i)
		}
	}
	for i, ifc := range ifcs {
		if !ifc.Default {
			order = append(order, i)
		}
	}
	keep := room - 1
	if keep == 0 && len(order) > 0 && ifcs[order[0]].Default {
		keep = 1 // the default route's interface rather than "+N more"
	}
	kept := order[:keep]
	slices.Sort(kept)
	var out []string
	for _, i := range kept {
		out = append(out, lines[i])
	}
	if n := len(lines) - keep; n > 0 && len(out) < room {
		out = append(out, st.Muted.Render(fmt.Sprintf("   +%d more (About this node lists all)", n)))
	}
	return out
}
