package network

import (
	"fmt"
	"strings"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/nodeconsole/nodeconsole/tui/ui"
)

func (m *Model) formView() ([]string, int) {
	st, f := m.st, &m.form
	ifc := f.ifc
	head := " Interface " + ifc.Name + "  " + string(ifc.State)
	if ifc.VLANParent != "" {
		head = fmt.Sprintf(" Interface %s (VLAN %d on %s)  %s", ifc.Name, ifc.VLANID, ifc.VLANParent, ifc.State)
	}
	if ifc.MAC != "" {
		head += "  " + ifc.MAC
	}
	lines := []string{st.Title.Render(head)}
	cur := "no address"
	if a := currentAddr(ifc); a.IsValid() {
		cur = a.String()
	}
	if f.status.Gateway.IsValid() && f.status.GatewayInterface == ifc.Name { // not ifc.Default: an IPv6 default route sets it too
		cur += " via " + f.status.Gateway.String() + "; carries the default route"
	}
	for _, l := range wrap("Now: "+cur, m.width, " ") {
		lines = append(lines, st.Muted.Render(l))
	}
	if now6 := currentIPv6(ifc, f.status); now6 != "" {
		for _, l := range wrap("IPv6 now: "+now6, m.width, " ") {
			lines = append(lines, st.Muted.Render(l))
		}
	}
	lines = append(lines, "")
	focus := 0
	marker := m.marker
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

	for _, row := range f.rows()[1 : len(f.rows())-1] {
		if f.focus == row {
			focus = len(lines)
		}
		switch row {
		case rowDefaultRoute:
			box := "[ ]"
			if f.defRoute {
				box = "[x]"
			}
			lines = append(lines, m.choiceRow(row, box+" Default route via this interface"))
		case rowAddRoute:
			lines = append(lines, m.choiceRow(row, "[ + Add route ]"))
		case rowIPv6:
			sel := "< " + modeName6(f.ipv6.mode) + " >"
			if f.focus == row {
				sel = st.Selected.Render(sel)
			}
			lines = append(lines, marker(row)+st.Label.Render(fmt.Sprintf("%-*s", labelW, "IPv6"))+sel)
		default:
			line := marker(row) + st.Label.Render(fmt.Sprintf("%-*s", labelW, label(row))) + f.input(row).View()
			if h := hint(row); lipgloss.Width(line)+2+len(h) <= m.width {
				line += "  " + st.Muted.Render(h)
			}
			lines = append(lines, line)
		}
		lines = append(lines, errLines(row)...)
	}
	if f.dhcp {
		lines = append(lines, "")
		lines = append(lines, wrap(st.Muted.Render("The address, gateway, routes and DNS servers come from the DHCP server."), m.width, "   ")...)
	}
	lines = append(lines, "")
	if f.focus == rowApply {
		focus = len(lines)
	}
	button, why := "[ Preview and apply ]", ""
	switch {
	case !f.valid():
		n := len(f.errs)
		word := "problems"
		if n == 1 {
			word = "problem"
		}
		button, why = st.Muted.Render(button), fmt.Sprintf("disabled: fix the %d %s above", n, word)
	case f.focus == rowApply:
		button = st.Selected.Render(button)
	}
	switch line := marker(rowApply) + button; {
	case why == "":
		lines = append(lines, line)
	case lipgloss.Width(line)+2+len(why) <= m.width:
		lines = append(lines, line+"  "+st.Warn.Render(why))
	default:
		// Narrow: the reason wraps under the button rather than being cut.
		lines = append(lines, line)
		for _, l := range wrap(why, m.width, "   ") {
			lines = append(lines, st.Warn.Render(l))
		}
	}
	if m.applyErr != "" {
		lines = append(lines, "")
		for _, l := range wrap(m.applyErr, m.width, " ") {
			lines = append(lines, st.Fail.Render(l))
		}
	}
	return m.discardPrompt(lines, focus)
}

// discardPrompt adds "Discard your changes?" to a page's lines while it is
// asked, and keeps it in view.
func (m *Model) discardPrompt(lines []string, focus int) ([]string, int) {
	if !m.askDiscard {
		return lines, focus
	}
	lines = append(lines, "", m.st.Warn.Render(" Discard your changes? "+ui.Hints(m.keys.Yes, m.keys.No)))
	return lines, len(lines) - 1
}

// marker is the focus marker column of a form row.
func (m *Model) marker(row int) string { return m.focusMarker(m.form.focus == row) }

// focusMarker is the marker column: the marker where the focus is.
func (m *Model) focusMarker(focused bool) string {
	if focused {
		return " " + m.st.MarkerOn.Render(m.st.Glyphs.Marker) + " "
	}
	return "   "
}

// choiceRow is a form row without a label (a check box or a button),
// aligned with the fields, or under the marker where that does not fit.
func (m *Model) choiceRow(row int, text string) string {
	if m.form.focus == row {
		text = m.st.Selected.Render(text)
	}
	indent := labelW
	if 3+labelW+lipgloss.Width(text) > m.width {
		indent = 0 // narrow: under the marker rather than cut
	}
	return m.marker(row) + strings.Repeat(" ", indent) + text
}
