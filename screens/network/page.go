package network

import (
	"strings"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/nodeconsole/nodeconsole/tui/ui"
)

// page is a view in three parts: head (the title) and tail (the question
// and its buttons) are always on screen; body scrolls when the screen is
// too short for it (40x12), with a line saying so, so that a title, a
// warning or a button is never pushed off the screen.
type page struct {
	head, body, tail []string
}

// lines splits each entry at its newlines.
func lines(in []string) []string {
	var out []string
	for _, l := range in {
		out = append(out, strings.Split(l, "\n")...)
	}
	return out
}

// window returns the body lines shown from line off in a screen h lines
// tall, the indicator line to add ("" when the body fits) and the largest
// useful offset.
func (m *Model) window(p page, off int) (shown []string, more string, maxOff int) {
	head, body, tail := lines(p.head), lines(p.body), lines(p.tail)
	avail := m.height - len(head) - len(tail)
	if len(body) <= avail {
		return body, "", 0
	}
	avail = max(avail-1, 1) // one line for the indicator
	maxOff = max(len(body)-avail, 0)
	off = min(max(off, 0), maxOff)
	shown = body[off:min(off+avail, len(body))]
	switch {
	case off == 0:
		more = ui.Hints(m.keys.ScrollDown)
	case off < maxOff:
		more = ui.Hints(m.keys.ScrollDown, m.keys.ScrollUp)
	default:
		more = ui.Hints(m.keys.ScrollUp)
	}
	more = m.st.Muted.Render(" " + more)
	return shown, more, maxOff
}

// fitPage renders p at the screen's size, the body scrolled by m.scroll.
func (m *Model) fitPage(p page) string {
	shown, more, _ := m.window(p, m.scroll)
	out := append(lines(p.head), shown...)
	if more != "" {
		out = append(out, more)
	}
	out = append(out, lines(p.tail)...)
	// What still does not fit (a screen shorter than head and tail): keep
	// the end, where the buttons are.
	return fitLines(out, m.width, m.height, len(out)-1, m.st)
}

// maxScroll is how far the body of the page shown can scroll.
func (m *Model) maxScroll() int {
	p, ok := m.page()
	if !ok {
		return 0
	}
	_, _, maxOff := m.window(p, 0)
	return maxOff
}

// wrapIndent wraps s (styled or not) to the screen width, continuation
// lines indented by indent cells; words longer than a line are broken.
func (m *Model) wrapIndent(s string, indent int) []string {
	if lipgloss.Width(s) <= m.width {
		return []string{s}
	}
	first := ansi.Wrap(s, max(m.width, 10), "")
	parts := strings.Split(first, "\n")
	out := []string{parts[0]}
	rest := strings.TrimLeft(strings.Join(parts[1:], " "), " ")
	pad := strings.Repeat(" ", indent)
	for _, l := range strings.Split(ansi.Wrap(rest, max(m.width-indent, 10), ""), "\n") {
		out = append(out, pad+l)
	}
	return out
}
