package deregister

import (
	"github.com/nodeconsole/nodeconsole/regclient"
	"github.com/nodeconsole/nodeconsole/tui/ui"
)

// The warning, one bullet each.
var consequences = []string{
	"It loses its connection to the control plane and to any data-plane gateways.",
	"Its certificates are removed: it must be registered again to be managed.",
	"It is not a factory reset: network settings and files stay.",
}

// View implements ui.Screen. Everything wraps to the width; on a small
// terminal the title, the check rows and the hints (the footer has them)
// give way first, so the question and what it means stay on screen.
func (m *Model) View() string {
	st := m.d.Styles
	w := m.width
	title := ui.Part{Lines: []string{st.Title.Render(" Deregister Node")}, Drop: 3}
	hints := ui.Part{Lines: []string{" " + ui.Hints(m.ShortHelp()...)}, Drop: 4}
	var parts []ui.Part
	switch m.ph {
	case phNotRegistered:
		parts = []ui.Part{title, text(w, "This node is not registered: there is nothing to deregister."), hints}
	case phWarning:
		who := m.state.NodeName
		if who == "" {
			who = m.state.NodeID
		}
		var bullets []string
		for _, l := range consequences {
			for i, wl := range ui.Wrap(l, w-4) {
				lead := "  " + st.Glyphs.Bullet + " "
				if i > 0 {
					lead = "    "
				}
				bullets = append(bullets, lead+wl)
			}
		}
		parts = []ui.Part{title, styled(w, st.Warn.Render, "Deregistering "+who+" is one-way."),
			{Lines: bullets}, {Lines: []string{" Deregister this node?  " + m.yesNo()}}}
	case phTyped:
		parts = []ui.Part{title, {Lines: []string{" Type " + st.Code.Render(ConfirmWord) + " to confirm.", "", "   " + m.input.View()}}}
		if m.wrong {
			parts = append(parts, styled(w, st.Fail.Render, "Type DEREGISTER exactly (capital letters, nothing else)."))
		}
		parts = append(parts, hints, styled(w, st.Muted.Render, "Nothing has changed yet."))
	case phWorking, phDone, phFailed, phUnreachable:
		var rows []string
		for i, n := range stepNames {
			rows = append(rows, st.CheckRows(m.steps[i], n, 25, "", "", w)...)
		}
		parts = []ui.Part{title, {Lines: rows}}
		switch m.ph {
		case phUnreachable:
			parts[1].Drop = 2
			why := styled(w, st.Fail.Render, "The control plane could not be reached.")
			why.Lines = append(why.Lines, styled(w, st.Muted.Render, regclient.Sentence(m.sendErr)).Lines...)
			parts = append(parts, why,
				text(w, "You can remove this node's identity locally anyway. The portal keeps listing the node until an admin deletes it there."),
				ui.Part{Lines: []string{" Remove locally anyway?  " + m.yesNo()}})
		case phDone:
			parts = append(parts, styled(w, st.OK.Render, "Deregistered. This node can be registered again."), hints)
		case phFailed:
			failed := styled(w, st.Fail.Render, "The identity could not be removed.")
			failed.Lines = append(failed.Lines, text(w, m.detail+" The node is still registered.").Lines...)
			parts = append(parts, failed, hints)
		}
	}
	return ui.Fit(ui.Compose(m.height, parts...), w, m.height, st)
}

// text is prose wrapped to w cells, one space in.
func text(w int, s string) ui.Part { return styled(w, nil, s) }

// styled is text with each line in style.
func styled(w int, style func(...string) string, s string) ui.Part {
	var out []string
	for _, l := range ui.Wrap(s, w-2) {
		if style != nil {
			l = style(l)
		}
		out = append(out, " "+l)
	}
	return ui.Part{Lines: out}
}

func (m *Model) yesNo() string {
	st := m.d.Styles
	opt := func(label string, on bool) string {
		if on {
			return st.MarkerOn.Render(st.Glyphs.Marker) + st.Selected.Render("["+label+"]")
		}
		return " [" + label + "]"
	}
	return opt("No", !m.yes) + "  " + opt("Yes", m.yes)
}
