package network

import (
	"fmt"
	"strings"
	"time"

	"charm.land/lipgloss/v2"

	"github.com/nodeconsole/nodeconsole/netconfig"
	"github.com/nodeconsole/nodeconsole/tui/ui"
)

// page is the page of the phases whose body scrolls (preview, trial,
// outcome); false in the others.
func (m *Model) page() (page, bool) {
	switch m.phase {
	case phasePreview:
		return m.previewPage(), true
	case phaseTrial, phaseDeciding, phaseDone:
		return m.trialPage(), true
	}
	return page{}, false
}

func (m *Model) previewPage() page {
	st := m.st
	p := page{head: []string{st.Title.Render(" Preview: " + m.cfg.Link())}}
	if m.restoring > 0 && m.restoring <= len(m.history) {
		p.head = append(p.head, st.Muted.Render(fmt.Sprintf(" Restoring entry %d, kept %s", m.restoring, keptAt(m.history[m.restoring-1].Time))))
	}
	if m.previewErr != "" {
		p.body = append(append([]string{""}, wrap(m.previewErr, m.width, " ")...), "", st.Muted.Render(" "+ui.Hints(withHelp(m.keys.nav.Back, "back to the form"))))
		return p
	}
	if m.preview.Interface == "" {
		p.body = []string{"", st.Muted.Render(" Reading the current settings" + st.Glyphs.Ellipsis)}
		return p
	}
	var warning []string
	if m.preview.Warning != "" {
		for i, l := range wrap("Warning: "+m.preview.Warning, m.width, "   ") {
			if i == 0 {
				l = " ! " + strings.TrimLeft(l, " ")
			}
			warning = append(warning, st.Warn.Render(l))
		}
	}
	if m.narrow() {
		// Small screens: the warning first, where it is seen without
		// scrolling.
		p.body = append(p.body, warning...)
		warning = nil
	} else {
		p.body = append(p.body, "", st.Label.Render(fmt.Sprintf("   %-*s %s", previewW, "", "current "+st.Glyphs.Arrow+" new")))
	}
	for _, c := range m.preview.Changes {
		p.body = append(p.body, m.changeLines(c)...)
	}
	if warning != nil {
		p.body = append(append(p.body, ""), warning...)
	}
	try := "after a countdown"
	if m.d.TryTimeout > 0 {
		try = "after " + seconds(m.d.TryTimeout)
	}
	p.body = append(append(p.body, ""), wrap("After applying, the checks run and you are asked to keep the settings; without an answer the previous settings come back by themselves "+try+".", m.width, " ")...)
	return p
}

// previewW is the width of the preview's field column.
const previewW = len("Default route")

// changeLines renders one line of the preview: on one line where it fits,
// else the new value on a line of its own, wrapped, never cut.
func (m *Model) changeLines(c netconfig.Change) []string {
	st := m.st
	row := "   " + st.Label.Render(fmt.Sprintf("%-*s", previewW, c.Field)) + " "
	rest := st.Muted.Render("(unchanged)")
	if c.Changed() {
		rest = st.Glyphs.Arrow + " " + st.Value.Bold(true).Render(c.New)
	}
	if lipgloss.Width(row+c.Current+" "+rest) <= m.width {
		return []string{row + c.Current + " " + rest}
	}
	indent := 4 + previewW
	if m.narrow() {
		indent = 5
	}
	out := m.wrapIndent(row+c.Current, 4+previewW)
	for _, l := range m.wrapIndent(rest, 2) {
		out = append(out, strings.Repeat(" ", indent)+l)
	}
	return out
}

func (m *Model) trialPage() page {
	st := m.st
	p := page{head: []string{st.Title.Render(" Applied to " + m.trial.Config().Link() + ". Checks:")}}
	for i, c := range m.checks {
		switch {
		case i < len(m.results):
			r := m.results[i]
			state := ui.CheckFail
			if r.OK {
				state = ui.CheckOK
			}
			p.body = append(p.body, st.CheckRows(state, c.Name, 0, r.Detail, r.Hint, m.width)...)
		case i == len(m.results) && m.phase == phaseTrial:
			p.body = append(p.body, st.CheckRows(ui.CheckRunning, c.Name, 0, "", "", m.width)...)
		default:
			p.body = append(p.body, st.CheckRows(ui.CheckWaiting, c.Name, 0, "not run", "", m.width)...)
		}
	}
	gap := []string{""}
	if m.height < 16 {
		gap = nil // small screens: no blank lines around the question
	}
	switch m.phase {
	case phaseTrial:
		q, r := "Keep these settings?", fmt.Sprintf("Reverting in %s.", seconds(m.remaining()))
		switch {
		case lipgloss.Width(q+r)+3 <= m.width:
			p.tail = append(gap, st.Warn.Render(" "+q+"  "+r))
		case lipgloss.Width(q+r)+2 <= m.width:
			p.tail = append(gap, st.Warn.Render(" "+q+" "+r))
		default:
			p.tail = append(gap, st.Warn.Render(" "+q), st.Warn.Render(" "+r))
		}
		p.tail = append(p.tail, gap...)
		sel := 1
		if m.keepSel {
			sel = 0
		}
		p.tail = append(p.tail, st.Buttons([]string{"Keep", "Revert"}, sel))
	case phaseDeciding:
		p.tail = append(gap, st.Muted.Render(" Working"+st.Glyphs.Ellipsis))
	case phaseDone:
		text, good := m.describeOutcome()
		style, glyph := st.OK, st.Glyphs.OK
		if !good || m.outcome != netconfig.OutcomeConfirmed {
			style, glyph = st.Warn, "!"
		}
		if !good {
			style, glyph = st.Fail, st.Glyphs.Fail
		}
		p.tail = gap
		for i, l := range wrap(text, m.width, "   ") {
			if i == 0 {
				l = " " + glyph + " " + strings.TrimLeft(l, " ")
			}
			p.tail = append(p.tail, style.Render(l))
		}
		p.tail = append(append(p.tail, gap...), st.Muted.Render(" "+ui.Hints(withHelp(m.keys.nav.Select, "back to the interface list"))))
	}
	return p
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
