package network

import (
	"fmt"
	"strings"

	"charm.land/lipgloss/v2"
)

func (m *Model) siteView() ([]string, int) {
	st, f := m.st, &m.site
	lines := []string{st.Title.Render(" Site settings")}
	switch {
	case f.loadErr != "":
		return append(append(lines, ""), wrap(f.loadErr, m.width, " ")...), 0
	case !f.loaded:
		return append(lines, "", st.Muted.Render(" Reading the site settings"+st.Glyphs.Ellipsis)), 0
	}
	gap := []string{""}
	if m.height < 16 {
		gap = nil
	} else {
		lines = append(lines, st.Muted.Render(" The host name, the time servers and the proxy for the control plane."))
	}
	lines = append(lines, gap...)
	problems := f.problems()
	focus := 0
	for i, label := range siteLabels {
		if f.focus == i {
			focus = len(lines)
		}
		line := m.siteMarker(i) + st.Label.Render(fmt.Sprintf("%-*s", siteLabelW, label)) + f.inputs[i].View()
		if h := siteHints[i]; lipgloss.Width(line)+2+len(h) <= m.width {
			line += "  " + st.Muted.Render(h)
		}
		lines = append(lines, line)
		if p := problems[i]; p != "" {
			for j, l := range wrap(p, m.width, strings.Repeat(" ", 3+siteLabelW+2)) {
				if j == 0 {
					l = strings.Repeat(" ", 3+siteLabelW) + st.Glyphs.Fail + " " + strings.TrimLeft(l, " ")
				}
				lines = append(lines, st.Fail.Render(l))
			}
		}
	}
	lines = append(lines, gap...)
	if f.focus == siteSave {
		focus = len(lines)
	}
	button := "[ Save ]"
	switch {
	case f.saving:
		button = st.Muted.Render(button) + "  " + st.Muted.Render("saving"+st.Glyphs.Ellipsis)
	case !f.valid():
		button = st.Muted.Render(button) + "  " + st.Warn.Render("disabled: fix the problems above")
	case !f.dirty():
		button = st.Muted.Render(button) + "  " + st.Muted.Render("nothing changed")
	case f.focus == siteSave:
		button = st.Selected.Render(button)
	}
	lines = append(lines, m.siteMarker(siteSave)+button)
	for _, s := range f.saved {
		lines = append(lines, wrap(st.OK.Render(st.Glyphs.OK+" "+s), m.width, " ")...)
	}
	if f.saveErr != "" {
		lines = append(lines, wrap(st.Fail.Render(st.Glyphs.Fail+" "+f.saveErr), m.width, " ")...)
	}
	if f.savedProxy {
		lines = append(lines, wrap(st.Muted.Render("The console (registration, checks, renewal) and the register and renew commands use the proxy at once."), m.width, " ")...)
	}
	return m.discardPrompt(lines, focus)
}

func (m *Model) siteMarker(i int) string { return m.focusMarker(m.site.focus == i) }
