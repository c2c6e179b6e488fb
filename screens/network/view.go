package network

import (
	"fmt"
	"strings"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/nodeconsole/nodeconsole/netconfig"
	"github.com/nodeconsole/nodeconsole/tui/ui"
)

const labelW = 9 // field label column

// View implements ui.Screen.
func (m *Model) View() string {
	if m.width <= 0 || m.height <= 0 {
		return ""
	}
	var lines []string
	focus := 0
	switch m.phase {
	case phaseLoading:
		lines = []string{m.st.Muted.Render(" Reading the network interfaces" + m.st.Glyphs.Ellipsis)}
	case phaseList:
		lines, focus = m.listView()
	case phaseForm:
		lines, focus = m.formView()
	case phasePreview:
		lines = m.previewView()
	case phaseApplying:
		lines = []string{m.st.Title.Render(" Applying to " + m.form.ifc.Name + m.st.Glyphs.Ellipsis)}
	case phaseTrial, phaseDeciding, phaseDone:
		lines, focus = m.trialView()
	}
	return fitLines(lines, m.width, m.height, focus, m.st)
}

// fitLines cuts lines to w cells and shows at most h of them, keeping line
// focus in view.
func fitLines(lines []string, w, h, focus int, st *ui.Styles) string {
	var out []string
	for _, l := range lines {
		out = append(out, strings.Split(l, "\n")...)
	}
	for i, l := range out {
		if lipgloss.Width(l) > w {
			out[i] = ansi.Truncate(l, w, st.Glyphs.Ellipsis)
		}
	}
	if len(out) > h {
		start := 0
		if focus >= h {
			start = min(focus-h/2, len(out)-h)
		}
		out = out[start : start+h]
	}
	return strings.Join(out, "\n")
}

// wrap wraps s to w cells (at least 20) and indents the continuation lines.
func wrap(s string, w int, indent string) []string {
	w = max(w-lipgloss.Width(indent), 20)
	var out []string
	for _, l := range strings.Split(ansi.Wordwrap(s, w, ""), "\n") {
		out = append(out, indent+l)
	}
	return out
}

func (m *Model) ifaceRow(ifc netconfig.Interface) string {
	mac := ifc.MAC
	if mac == "" {
		mac = "-"
	}
	var addrs []string
	for _, a := range ifc.Addrs {
		addrs = append(addrs, a.String())
	}
	a := strings.Join(addrs, " ")
	if a == "" {
		a = "no address"
	}
	row := fmt.Sprintf("%-8s %-10s %-17s  %-18s", ifc.Name, string(ifc.State), mac, a)
	if m.narrow() {
		row = fmt.Sprintf("%-7s %-10s %s", ifc.Name, string(ifc.State), a)
	}
	switch {
	case m.narrow() && ifc.Default:
		row = strings.TrimRight(row, " ") + " " + m.st.Glyphs.Default
	case ifc.Default:
		row += " " + m.st.Glyphs.Default + " default"
	case !ifc.Ethernet && !m.narrow():
		row += " (not Ethernet)"
	}
	return strings.TrimRight(row, " ")
}

// narrow reports a screen too narrow for the MAC column (under 70 cells).
func (m *Model) narrow() bool { return m.width < 70 }

func (m *Model) listView() ([]string, int) {
	st := m.st
	if m.loadErr != "" {
		return append(wrap(m.loadErr, m.width, " "), "", st.Muted.Render(" Press r to try again, Esc to go back.")), 0
	}
	lines := []string{st.Title.Render(" Choose the interface to configure"), ""}
	if len(m.status.Interfaces) == 0 {
		return append(lines, " No network interfaces were found."), 0
	}
	head := fmt.Sprintf("%-8s %-10s %-17s  %s", "Name", "Link", "MAC", "Addresses")
	if m.narrow() {
		head = fmt.Sprintf("%-7s %-10s %s", "Name", "Link", "Addresses")
	}
	lines = append(lines, st.Label.Render(strings.Repeat(" ", ui.MenuIndent)+head))
	focus := len(lines) + m.menu.Cursor
	lines = append(lines, m.menu.View(), "")
	gw := "none"
	if m.status.Gateway.IsValid() {
		gw = m.status.Gateway.String() + " via " + m.status.GatewayInterface
	}
	lines = append(lines, " "+st.Label.Render("Default route ")+gw)
	lines = append(lines, " "+st.Label.Render("DNS           ")+orNone(joinAddrs(m.status)))
	lines = append(lines, st.Muted.Render(" "+st.Glyphs.Default+" carries the default route"))
	if m.listMsg != "" {
		lines = append(lines, "")
		lines = append(lines, wrap(st.Warn.Render(m.listMsg), m.width, " ")...)
	}
	return lines, focus
}

func joinAddrs(s netconfig.Status) string {
	var d []string
	for _, a := range s.DNS {
		d = append(d, a.String())
	}
	return strings.Join(d, ", ")
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func (m *Model) formView() ([]string, int) {
	st, f := m.st, &m.form
	ifc := f.ifc
	head := " Interface " + ifc.Name + "  " + string(ifc.State)
	if ifc.MAC != "" {
		head += "  " + ifc.MAC
	}
	lines := []string{st.Title.Render(head)}
	cur := "no address"
	if a := currentAddr(ifc); a.IsValid() {
		cur = a.String()
	}
	if ifc.Default && f.status.Gateway.IsValid() {
		cur += " via " + f.status.Gateway.String() + "; carries the default route"
	}
	lines = append(lines, st.Muted.Render(" Now: "+cur), "")
	focus := 0
	marker := func(row int) string {
		if f.focus == row {
			return " " + st.MarkerOn.Render(st.Glyphs.Marker) + " "
		}
		return "   "
	}
	errLines := func(row int) []string {
		var out []string
		for _, e := range f.errorsFor(row) {
			for _, l := range wrap(e, m.width, strings.Repeat(" ", 3+labelW+2)) {
				out = append(out, st.Fail.Render(l))
			}
		}
		if len(out) > 0 {
			// The first line carries the FAIL mark, so it is not told by colour alone.
			out[0] = strings.Repeat(" ", 3+labelW) + st.Fail.Render(st.Glyphs.Fail+" ") + strings.TrimLeft(ansi.Strip(out[0]), " ")
			out[0] = st.Fail.Render(out[0])
		}
		return out
	}

	// Mode row.
	on, off := "(•)", "( )"
	if st.Profile.ASCII {
		on = "(*)"
	}
	dhcp, static := off, on
	if f.dhcp {
		dhcp, static = on, off
	}
	if f.focus == rowMode {
		focus = len(lines)
	}
	mode := fmt.Sprintf("%s DHCP   %s Static", dhcp, static)
	if f.focus == rowMode {
		mode = st.Selected.Render(mode)
	}
	lines = append(lines, marker(rowMode)+st.Label.Render(fmt.Sprintf("%-*s", labelW, "Mode"))+mode)
	lines = append(lines, errLines(rowMode)...)

	if f.dhcp {
		lines = append(lines, "", st.Muted.Render("   The address, gateway and DNS servers come from the DHCP server."))
	} else {
		for _, row := range f.rows()[1 : len(f.rows())-1] {
			if f.focus == row {
				focus = len(lines)
			}
			if row == rowDefaultRoute {
				box := "[ ]"
				if f.defRoute {
					box = "[x]"
				}
				choice := box + " Default route via this interface"
				if f.focus == row {
					choice = st.Selected.Render(choice)
				}
				indent := labelW
				if 3+labelW+lipgloss.Width(choice) > m.width {
					indent = 0 // narrow: under the marker rather than cut
				}
				lines = append(lines, marker(row)+strings.Repeat(" ", indent)+choice)
				lines = append(lines, errLines(row)...)
				continue
			}
			line := marker(row) + st.Label.Render(fmt.Sprintf("%-*s", labelW, rowLabels[row])) + f.input(row).View()
			if hint := rowHints[row]; lipgloss.Width(line)+2+len(hint) <= m.width {
				line += "  " + st.Muted.Render(hint)
			}
			lines = append(lines, line)
			lines = append(lines, errLines(row)...)
		}
	}

	lines = append(lines, "")
	if f.focus == rowApply {
		focus = len(lines)
	}
	button := "[ Preview and apply ]"
	switch {
	case !f.valid():
		n := len(f.errs)
		word := "problems"
		if n == 1 {
			word = "problem"
		}
		button = st.Muted.Render(button) + "  " + st.Warn.Render(fmt.Sprintf("disabled: fix the %d %s above", n, word))
	case f.focus == rowApply:
		button = st.Selected.Render(button)
	}
	lines = append(lines, marker(rowApply)+button)
	if m.applyErr != "" {
		lines = append(lines, "")
		for _, l := range wrap(m.applyErr, m.width, " ") {
			lines = append(lines, st.Fail.Render(l))
		}
	}
	if m.askDiscard {
		lines = append(lines, "", st.Warn.Render(" Discard your changes? y: discard, n: keep editing"))
		focus = len(lines) - 1
	}
	return lines, focus
}

func (m *Model) previewView() []string {
	st := m.st
	lines := []string{st.Title.Render(" Preview: " + m.form.ifc.Name), ""}
	if m.previewErr != "" {
		return append(append(lines, wrap(m.previewErr, m.width, " ")...), "", st.Muted.Render(" Esc to go back to the form."))
	}
	if m.preview.Interface == "" {
		return append(lines, st.Muted.Render(" Reading the current settings"+st.Glyphs.Ellipsis))
	}
	const previewW = len("Default route")
	lines = append(lines, st.Label.Render(fmt.Sprintf("   %-*s %s", previewW, "", "current "+st.Glyphs.Arrow+" new")))
	for _, c := range m.preview.Changes {
		row := "   " + st.Label.Render(fmt.Sprintf("%-*s", previewW, c.Field)) + " "
		var rest string
		if c.Changed() {
			rest = st.Glyphs.Arrow + " " + st.Value.Bold(true).Render(c.New)
		} else {
			rest = st.Muted.Render("(unchanged)")
		}
		if lipgloss.Width(row+c.Current+" "+rest) > m.width {
			// Narrow: the new value goes on a line of its own, never cut.
			lines = append(lines, row+c.Current, strings.Repeat(" ", 4+previewW)+rest)
			continue
		}
		lines = append(lines, row+c.Current+" "+rest)
	}
	if m.preview.Warning != "" {
		lines = append(lines, "")
		for i, l := range wrap("Warning: "+m.preview.Warning, m.width, "   ") {
			if i == 0 {
				l = " ! " + strings.TrimLeft(l, " ")
			}
			lines = append(lines, st.Warn.Render(l))
		}
	}
	lines = append(lines, "")
	try := "after a countdown"
	if m.d.TryTimeout > 0 {
		try = "after " + seconds(m.d.TryTimeout)
	}
	lines = append(lines, wrap("After applying, the checks run and you are asked to keep the settings; without an answer the previous settings come back by themselves "+try+".", m.width, " ")...)
	lines = append(lines, "", " "+st.HelpKey.Render("Enter")+" apply    "+st.HelpKey.Render("Esc")+" edit")
	return lines
}

func (m *Model) trialView() ([]string, int) {
	st := m.st
	lines := []string{st.Title.Render(" Applied to " + m.trial.Config().Interface + ". Checks:")}
	for i, c := range m.checks {
		switch {
		case i < len(m.results):
			r := m.results[i]
			state := ui.CheckFail
			if r.OK {
				state = ui.CheckOK
			}
			lines = append(lines, st.CheckRows(state, c.Name, 0, r.Detail, r.Hint, m.width)...)
		case i == len(m.results) && m.phase == phaseTrial:
			lines = append(lines, st.CheckRows(ui.CheckRunning, c.Name, 0, "", "", m.width)...)
		default:
			lines = append(lines, st.CheckRows(ui.CheckWaiting, c.Name, 0, "not run", "", m.width)...)
		}
	}
	lines = append(lines, "")
	switch m.phase {
	case phaseTrial:
		q, r := "Keep these settings?", fmt.Sprintf("Reverting in %s.", seconds(m.remaining()))
		if lipgloss.Width(q+r)+3 <= m.width {
			lines = append(lines, st.Warn.Render(" "+q+"  "+r))
		} else {
			lines = append(lines, st.Warn.Render(" "+q), st.Warn.Render(" "+r))
		}
		lines = append(lines, "")
		sel := 1
		if m.keepSel {
			sel = 0
		}
		lines = append(lines, st.Buttons([]string{"Keep", "Revert"}, sel))
		return lines, len(lines) - 1
	case phaseDeciding:
		lines = append(lines, st.Muted.Render(" Working"+st.Glyphs.Ellipsis))
	case phaseDone:
		text, good := m.describeOutcome()
		style, glyph := st.OK, st.Glyphs.OK
		if !good || m.outcome != netconfig.OutcomeConfirmed {
			style, glyph = st.Warn, "!"
		}
		if !good {
			style, glyph = st.Fail, st.Glyphs.Fail
		}
		for i, l := range wrap(text, m.width, "   ") {
			if i == 0 {
				l = " " + glyph + " " + strings.TrimLeft(l, " ")
			}
			lines = append(lines, style.Render(l))
		}
		lines = append(lines, "", st.Muted.Render(" Press Enter to return to the interface list."))
	}
	return lines, len(lines) - 1
}
