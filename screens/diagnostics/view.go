package diagnostics

import (
	"fmt"
	"strings"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/nodeconsole/nodeconsole/netconfig"
	"github.com/nodeconsole/nodeconsole/tui/ui"
)

// small reports a small terminal (40x12): passed checks fold into one row
// and the room goes to what failed.
func (m *Model) small() bool { return m.width < 60 || m.height < 16 }

// View implements ui.Screen. Everything wraps to the width. While the host
// field is in use the probe keeps its room; otherwise the checks do, and
// on a small terminal the probe section, then the title give way to them
// (h opens the probe).
func (m *Model) View() string {
	if m.width <= 0 || m.height <= 0 {
		return ""
	}
	st := m.st
	title := "Layered checks"
	if m.ifname != "" {
		title += " on " + m.ifname
	}
	if m.d.Endpoint != "" {
		title += " to " + m.d.Endpoint
	}
	var titleLines []string
	for _, l := range ui.Wrap(title, m.width-1) {
		titleLines = append(titleLines, st.Title.Render(" "+l))
	}
	var checks []string
	switch {
	case m.loading:
		checks = append(checks, st.Muted.Render("  Reading the network status"+st.Glyphs.Ellipsis))
	case m.loadErr != "":
		checks = append(checks, wrap(st.Fail.Render(m.loadErr), m.width, "  ")...)
	default:
		checks = m.checkLines()
		if m.d.Endpoint == "" {
			checks = append(checks, wrap(st.Muted.Render("No control-plane endpoint is configured (site.endpoint): DNS, TCP, TLS and clock checks need one."), m.width, "  ")...)
		}
	}
	probe := m.probeSection()
	if m.hostFocus || len(m.probeLines) > 0 {
		return fit(append(titleLines, checks...), append([]string{""}, probe...), m.width, m.height, true, st)
	}
	if !m.small() {
		return fit(append(titleLines, checks...), append([]string{""}, probe...), m.width, m.height, false, st)
	}
	return ui.Fit(ui.Compose(m.height, ui.Part{Lines: titleLines, Drop: 1}, ui.Part{Lines: checks}, ui.Part{Lines: probe, Drop: 2}),
		m.width, m.height, st)
}

// probeSection is "Look up and probe a host": its title, the field and the
// results.
func (m *Model) probeSection() []string {
	st := m.st
	head := st.Title.Render(" Look up and probe a host")
	const what = "(DNS, ARP on a local subnet, TCP)"
	var lines []string
	switch {
	case m.small() && (m.probing || len(m.probeLines) > 0):
		// The room goes to the result.
		lines = append(lines, head)
	case lipgloss.Width(head)+2+len(what) <= m.width:
		lines = append(lines, head+"  "+st.Muted.Render(what))
	case 1+len(what) <= m.width:
		lines = append(lines, head, " "+st.Muted.Render(what))
	default:
		lines = append(lines, head)
	}
	marker := "   "
	if m.hostFocus {
		marker = " " + st.MarkerOn.Render(st.Glyphs.Marker) + " "
	}
	lines = append(lines, marker+st.Label.Render("Host  ")+m.host.View())
	switch {
	case m.probing:
		lines = append(lines, st.Muted.Render("  Probing "+m.probeFor+st.Glyphs.Ellipsis))
	default:
		for _, r := range m.probeLines {
			lines = append(lines, m.resultLines(r)...)
		}
	}
	return lines
}

// checkLines are the layered checks' rows. On a small terminal the passed
// checks fold into one row, the first failure keeps two lines of detail
// and its hint, and a later failure (which follows from it) is its hint.
func (m *Model) checkLines() []string {
	st := m.st
	var lines, passed []string
	failed := false
	for i, c := range m.checks {
		switch {
		case i < len(m.results):
			r := m.results[i]
			switch {
			case !m.small():
				lines = append(lines, m.resultLines(r)...)
			case r.OK:
				passed = append(passed, r.Check)
			case failed:
				lines = append(lines, st.CheckRows(ui.CheckFail, r.Check, 0, r.Hint, "", m.width)...)
			default:
				failed = true
				lines = append(lines, st.CheckRows(ui.CheckFail, r.Check, 0, m.shortDetail(r.Detail), r.Hint, m.width)...)
			}
		case i == len(m.results):
			lines = append(lines, st.CheckRows(ui.CheckRunning, c.Name, 0, "", "", m.width)...)
		case m.small():
			lines = append(lines, st.CheckRows(ui.CheckWaiting, c.Name, 0, "", "", m.width)...)
		default:
			lines = append(lines, st.CheckRows(ui.CheckWaiting, c.Name, 0, "waiting", "", m.width)...)
		}
	}
	if len(passed) == 0 {
		return lines
	}
	names := ui.Wrap(strings.Join(passed, ", "), m.width-ui.CheckIndent)
	ok := st.CheckRows(ui.CheckOK, names[0], 0, "", "", m.width)
	for _, l := range names[1:] {
		ok = append(ok, strings.Repeat(" ", ui.CheckIndent)+l)
	}
	return append(ok, lines...)
}

// shortDetail is detail in at most two lines of the detail column, ending
// in an ellipsis when cut.
func (m *Model) shortDetail(detail string) string {
	w := m.width - ui.CheckIndent - ui.CheckNameW - 1
	lines := ui.Wrap(detail, w)
	if len(lines) <= 2 {
		return detail
	}
	return lines[0] + " " + ansi.Truncate(lines[1]+" "+lines[2], max(w, 10), m.st.Glyphs.Ellipsis)
}

func (m *Model) resultLines(r netconfig.Result) []string {
	state := ui.CheckFail
	detail := r.Detail
	if r.OK {
		state = ui.CheckOK
		if m.small() {
			// Small screen (40x12): a passed check is its name; the room
			// goes to what failed.
			detail = ""
		}
	}
	return m.st.CheckRows(state, r.Check, 0, detail, r.Hint, m.width)
}

func wrap(s string, w int, indent string) []string {
	w = max(w-lipgloss.Width(indent), 20)
	var out []string
	for _, l := range strings.Split(ansi.Wordwrap(s, w, ""), "\n") {
		out = append(out, indent+l)
	}
	return out
}

// fit joins the checks (top) and the host probe (bottom) in w x h, cutting
// long lines. When both do not fit, the part in use keeps its room: the
// probe while the host field is used, the checks otherwise.
func fit(top, bottom []string, w, h int, probeFirst bool, st *ui.Styles) string {
	if len(top)+len(bottom) > h {
		more := func(n int) string { return st.Muted.Render(fmt.Sprintf("  (%d more lines; enlarge the window)", n)) }
		switch keep := h - len(bottom) - 1; {
		case probeFirst && len(bottom) >= h:
			top, bottom = nil, bottom[:h]
		case probeFirst && keep > 0:
			top = append(top[:keep:keep], more(len(top)-keep))
		case probeFirst:
			top = []string{more(len(top))}
		case len(top) < h:
			bottom = bottom[:h-len(top)]
		}
	}
	lines := append(top, bottom...)
	for i, l := range lines {
		if lipgloss.Width(l) > w {
			lines[i] = ansi.Truncate(l, w, st.Glyphs.Ellipsis)
		}
	}
	if len(lines) > h {
		lines = lines[:h]
	}
	return strings.Join(lines, "\n")
}
