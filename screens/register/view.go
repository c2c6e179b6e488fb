package register

import (
	"fmt"
	"strings"
	"time"

	"charm.land/lipgloss/v2"

	"github.com/nodeconsole/nodeconsole/tui/ui"
)

// View implements ui.Screen.
func (m *Model) View() string {
	st := m.d.Styles
	var s string
	switch m.ph {
	case phAlready:
		s = m.viewAlready()
	case phConfirm:
		s = m.viewConfirm()
	case phSteps:
		s = m.viewSteps()
	case phCode, phCancelling:
		s = m.viewCode()
	case phExpired:
		s = m.viewMessage(st.Warn.Render, "The activation code expired.",
			"A new code keeps the node's key. "+ui.Hints(m.ShortHelp()...))
	case phDenied:
		s = m.viewMessage(st.Fail.Render, "The registration was denied in the portal.",
			"Ask the portal admin, then run Register Node again.")
	case phStopped:
		s = m.viewMessage(st.Fail.Render, m.final, "Run Register Node again once it is fixed.")
	case phActivated, phRebooting, phLater:
		s = m.viewActivated()
	}
	return ui.Fit(s, m.width, m.height, st)
}

func (m *Model) viewAlready() string {
	line := "This node is already registered"
	if m.state.NodeName != "" {
		line += " as " + m.state.NodeName
	}
	if m.state.Project != "" {
		line += " (" + m.state.Project + ")"
	}
	return m.viewMessage(m.d.Styles.OK.Render, line+".",
		"To register it again (another account, a new name), use Deregister Node first.")
}

// viewMessage is the title, head in style, and prose, each piece wrapped
// to the width.
func (m *Model) viewMessage(style func(...string) string, head string, lines ...string) string {
	parts := []ui.Part{m.title(), {Lines: styleLines(style, wrapIndent(head, m.width))}}
	for _, l := range lines {
		parts = append(parts, ui.Part{Lines: wrapIndent(l, m.width)})
	}
	return ui.Compose(m.height, parts...)
}

// title is the screen's title; on a small terminal it gives way first (the
// header names the screen too).
func (m *Model) title() ui.Part {
	return ui.Part{Lines: []string{m.d.Styles.Title.Render(" Register Node")}, Drop: 9}
}

func (m *Model) viewConfirm() string {
	st := m.d.Styles
	c := m.d.Choices[m.choice]
	unknown := func(s string) string {
		if s == "" {
			return st.Muted.Render("unknown")
		}
		return s
	}
	marker := func(f field) string {
		if m.focus == f {
			return st.MarkerOn.Render(st.Glyphs.Marker)
		}
		return " "
	}
	var choose string
	if len(m.d.Choices) > 1 {
		choose = st.Muted.Render(fmt.Sprintf("(%d of %d; %s to change)", m.choice+1, len(m.d.Choices), m.keys.Choose.Help().Key))
	}
	makeLine := " " + marker(fieldModel) + " " + st.Label.Render("Make      ") + unknown(c.Make)
	fields := []string{makeLine}
	if choose != "" {
		if lipgloss.Width(makeLine)+2+lipgloss.Width(choose) <= m.width {
			fields[0] += "  " + choose
		} else {
			// Narrow: under the make, as far in as fits.
			pad := max(min(13, m.width-lipgloss.Width(choose)), 1)
			fields = append(fields, strings.Repeat(" ", pad)+choose)
		}
	}
	fields = append(fields,
		"   "+st.Label.Render("Model     ")+unknown(c.Model),
		" "+marker(fieldEndpoint)+" "+st.Label.Render("Endpoint  ")+m.endpoint.View())
	if m.epErr != "" {
		for _, l := range ui.Wrap(m.epErr, m.width-3) {
			fields = append(fields, "   "+st.Fail.Render(l))
		}
	}
	top := m.title()
	top.Lines = append(top.Lines, wrapIndent("Check these values; "+ui.Hints(m.keys.Continue)+".", m.width)...)
	parts := []ui.Part{top, {Lines: fields}}
	if m.errText != "" {
		parts = append(parts, ui.Part{Lines: styleLines(st.Warn.Render, wrapIndent(m.errText, m.width))})
	}
	// What happens next: explanation, so it gives way on a small terminal.
	parts = append(parts, ui.Part{Drop: 1, Lines: styleLines(st.Muted.Render,
		wrapIndent("The node creates a key, asks for a short code, and waits until an admin enters the code in the portal (Activate Node).", m.width))})
	return ui.Compose(m.height, parts...)
}

// styleLines renders each line in style.
func styleLines(style func(...string) string, lines []string) []string {
	for i, l := range lines {
		lines[i] = style(l)
	}
	return lines
}

// checkState maps a step's state to the shared check row's.
func checkState(s stepState) ui.CheckState {
	switch s {
	case stepOK:
		return ui.CheckOK
	case stepFail:
		return ui.CheckFail
	case stepRunning:
		return ui.CheckRunning
	case stepSkipped:
		return ui.CheckSkipped
	}
	return ui.CheckWaiting
}

func (m *Model) viewSteps() string {
	rows := m.stepRows(true)
	if len(rows) > m.height {
		// Small terminal: only the step that runs or failed keeps its detail.
		rows = m.stepRows(false)
	}
	parts := []ui.Part{m.title(), {Lines: rows}}
	if _, failed := m.failed(); failed {
		hints := []string{" " + ui.Hints(m.ShortHelp()...)}
		if lipgloss.Width(hints[0]) > m.width {
			// Narrow: one key a line rather than the last one cut.
			hints = nil
			for _, b := range m.ShortHelp() {
				hints = append(hints, " "+ui.Hints(b))
			}
		}
		parts = append(parts, ui.Part{Lines: hints, Drop: 10})
	}
	return ui.Compose(m.height, parts...)
}

// stepRows are the steps' check rows; with all false, the details of the
// steps that passed or were skipped are left out.
func (m *Model) stepRows(all bool) []string {
	st := m.d.Styles
	var lines []string
	for i, s := range m.steps {
		detail := s.detail
		if !all && (s.state == stepOK || s.state == stepSkipped) {
			detail = ""
		}
		lines = append(lines, st.CheckRows(checkState(s.state), stepID(i).String(), 18, detail, s.hint, m.width)...)
	}
	return lines
}

func (m *Model) viewCode() string {
	st := m.d.Styles
	left := max(m.code.ExpiresAt.Sub(m.d.Now()).Truncate(time.Second), 0)
	code := m.code.UserCode
	// The code and the time left come first and are always there as plain
	// text; the big letters only where they fit (not at 40x12).
	text := []string{" Code       " + st.Code.Render(code),
		fmt.Sprintf(" Time left  %d:%02d", int(left.Minutes()), int(left.Seconds())%60)}
	if m.code.KeyFingerprint != "" {
		// The admin compares it with the one Find shows in the portal.
		text = append(text, " Key        "+m.code.KeyFingerprint)
	}
	if at := " At         " + m.code.VerificationURI; lipgloss.Width(at) <= m.width {
		text = append(text, at)
	} else {
		// Narrow: the address on a line of its own rather than cut.
		text = append(text, " At", "  "+m.code.VerificationURI)
	}
	status := "Waiting for activation"
	if !m.out.LastCheck.IsZero() {
		status += ", last check " + m.out.LastCheck.Format("15:04:05")
	}
	switch {
	case m.ph == phCancelling:
		status = "Cancelling the registration" + st.Glyphs.Ellipsis
	case m.out.Kind == Retrying:
		status = st.Warn.Render(fmt.Sprintf("Cannot reach the control plane; retrying in %s", m.out.RetryIn.Round(time.Second)))
	}
	if m.asking {
		// The question takes the status's place, so it is on screen even
		// at 40x12; the footer has the keys when the hints do not fit.
		text = append(text, styleLines(st.Warn.Render, wrapIndent("Cancel the registration? The code stops working.", m.width))...)
		if hints := " " + ui.Hints(m.ShortHelp()...); lipgloss.Width(hints) <= m.width {
			text = append(text, hints)
		}
	} else {
		text = append(text, wrapIndent(status, m.width)...)
	}
	title := strings.Join(wrapIndent("Enter this code in the portal: Activate Node", m.width), "\n")
	titleH := lipgloss.Height(title)
	if big := m.bigCode(code, m.width, m.height-titleH-1-len(text)-1); big != "" {
		text = append(strings.Split(big, "\n"), append([]string{""}, text...)...)
	}
	title = st.Title.Render(title)
	textBlock := strings.Join(text, "\n")
	textW := lipgloss.Width(textBlock)
	// The QR code goes beside the text when it fits, else below, else not
	// at all (the URL and code are always there as text).
	if m.code.QRURL != "" {
		if qr, qrW := m.qr.draw(m.code.QRURL, st.Profile, m.width-textW-2, m.height-2); qr != nil {
			qrBlock := strings.Join(qr, "\n")
			return title + "\n\n" + lipgloss.JoinHorizontal(lipgloss.Top, lipgloss.NewStyle().Width(m.width-qrW-1).Render(textBlock), qrBlock)
		}
		if qr, _ := m.qr.draw(m.code.QRURL, st.Profile, m.width, m.height-len(text)-3); qr != nil {
			return title + "\n\n" + textBlock + "\n\n" + strings.Join(qr, "\n")
		}
	}
	return title + "\n\n" + textBlock
}

// bigCode is the code in big letters, on one line or two, within w cells
// and h lines, or "" when it does not fit.
func (m *Model) bigCode(code string, w, h int) string {
	st := m.d.Styles
	render := func(big string) string {
		var out []string
		for _, l := range strings.Split(big, "\n") {
			out = append(out, "  "+st.Code.Render(l))
		}
		return strings.Join(out, "\n")
	}
	if BigWidth(code)+2 <= w-38 || BigWidth(code)+2 <= w && m.code.QRURL == "" {
		if b := Big(code, st.Glyphs.Block); lipgloss.Height(b) <= h {
			return render(b)
		}
	}
	if parts := strings.SplitN(code, "-", 2); len(parts) == 2 && BigWidth(parts[0])+2 <= w {
		b := Big(parts[0], st.Glyphs.Block) + "\n\n" + Big(parts[1], st.Glyphs.Block)
		if lipgloss.Height(b) <= h {
			return render(b)
		}
	}
	return ""
}

// wrapIndent wraps s to w cells with one space before each line.
func wrapIndent(s string, w int) []string {
	var out []string
	for _, l := range ui.Wrap(s, w-1) {
		out = append(out, " "+l)
	}
	return out
}

func (m *Model) viewActivated() string {
	st := m.d.Styles
	who := m.out.NodeName
	if m.out.Project != "" {
		who += " (" + m.out.Project + ")"
	}
	parts := []ui.Part{m.title(), {Lines: styleLines(st.OK.Render, wrapIndent("Registered as "+who, m.width))}}
	switch m.ph {
	case phActivated:
		left := max(m.deadline.Sub(m.d.Now()).Round(time.Second), 0)
		parts = append(parts, ui.Part{Lines: append(wrapIndent(fmt.Sprintf("The node reboots in %d s to finish.", int(left.Seconds())), m.width),
			" "+ui.Hints(m.ShortHelp()...))})
	case phRebooting:
		parts = append(parts, ui.Part{Lines: []string{" Rebooting" + st.Glyphs.Ellipsis}})
	case phLater:
		parts = append(parts, ui.Part{Lines: wrapIndent(m.final, m.width)})
	}
	return ui.Compose(m.height, parts...)
}
