package network

import (
	"fmt"
	"strings"
	"time"

	"charm.land/lipgloss/v2"

	"github.com/nodeconsole/nodeconsole/netconfig"
	"github.com/nodeconsole/nodeconsole/tui/ui"
)

func (m *Model) previewView() []string {
	st := m.st
	lines := []string{st.Title.Render(" Preview: " + m.form.cfg.Link()), ""}
	if m.previewErr != "" {
		return append(append(lines, wrap(m.previewErr, m.width, " ")...), "", st.Muted.Render(" "+ui.Hints(withHelp(m.keys.nav.Back, "back to the form"))))
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
	return lines
}

func (m *Model) trialView() ([]string, int) {
	st := m.st
	lines := []string{st.Title.Render(" Applied to " + m.trial.Config().Link() + ". Checks:")}
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
		lines = append(lines, "", st.Muted.Render(" "+ui.Hints(withHelp(m.keys.nav.Select, "back to the interface list"))))
	}
	return lines, len(lines) - 1
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
