package ui

import (
	"fmt"
	"strings"

	"charm.land/lipgloss/v2"
)

// CheckState is where one check (or step) stands.
type CheckState int

// Check states.
const (
	CheckWaiting CheckState = iota // not run yet
	CheckRunning                   // running now
	CheckOK                        // passed
	CheckFail                      // failed
	CheckSkipped                   // not needed (shown muted as "- skip")
)

// Check-row columns: the mark and word ("✓ OK", "✗ FAIL"), then the name.
// A detail column narrower than minDetailW goes under the name instead.
const (
	// CheckIndent is where a check's name starts: the mark and word.
	CheckIndent = 2 + checkMarkW
	minDetailW  = 20
	checkMarkW  = 7
	// CheckNameW is the width of a check's name column.
	CheckNameW = 8
)

// CheckRows renders one check as the Network, Test network, Register and
// Deregister screens all show it: "  ✓ OK   name     detail", the detail
// wrapped under itself (at most 3 lines), and for a failure the hint,
// muted, below; where the detail column would be narrower than minDetailW
// (a wide name column at 40 columns) detail and hint go under the name. nameW is the name column (at least CheckNameW); w is the
// screen width. Colour only decorates: the word says OK or FAIL.
func (s *Styles) CheckRows(state CheckState, name string, nameW int, detail, hint string, w int) []string {
	nameW = max(nameW, CheckNameW)
	var mark string
	style := func(l string) string { return l }
	switch state {
	case CheckOK:
		mark = s.OK.Render(s.Glyphs.OK + " OK")
	case CheckFail:
		mark = s.Fail.Render(s.Glyphs.Fail + " FAIL")
	case CheckSkipped:
		mark = s.Muted.Render("- skip")
		style = func(l string) string { return s.Muted.Render(l) }
	case CheckRunning:
		mark = s.Muted.Render("...")
		if detail == "" {
			detail = "checking" + s.Glyphs.Ellipsis
		}
		style = func(l string) string { return s.Muted.Render(l) }
	default:
		style = func(l string) string { return s.Muted.Render(l) }
	}
	indent := 2 + checkMarkW + nameW + 1
	// Narrow (a wide name column at 40 columns): the detail and hint go
	// under the name rather than in a sliver beside it.
	stacked := w-indent < minDetailW
	if stacked {
		indent = 2 + checkMarkW
	}
	det := Wrap(detail, w-indent)
	if len(det) > 3 {
		det = det[:3]
	}
	for i := range det {
		if det[i] != "" {
			det[i] = style(det[i])
		}
	}
	pad := strings.Repeat(" ", max(checkMarkW-lipgloss.Width(mark), 1))
	first := "  " + mark + pad + name
	if !stacked {
		first = "  " + mark + pad + fmt.Sprintf("%-*s", nameW, name)
		if len(det) > 0 {
			first += " " + det[0]
			det = det[1:]
		}
	}
	out := []string{strings.TrimRight(first, " ")}
	for _, l := range det {
		out = append(out, strings.Repeat(" ", indent)+l)
	}
	if state == CheckFail && hint != "" {
		for _, l := range Wrap(hint, w-indent) {
			out = append(out, strings.Repeat(" ", indent)+s.Muted.Render(l))
		}
	}
	return out
}
