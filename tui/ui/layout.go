package ui

import (
	"strings"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// Fit cuts a screen body to at most h lines of at most w cells, ending cut
// lines with the styles' ellipsis.
func Fit(s string, w, h int, st *Styles) string {
	lines := strings.Split(s, "\n")
	if len(lines) > h {
		lines = lines[:max(h, 0)]
	}
	for i, l := range lines {
		if lipgloss.Width(l) > w {
			lines[i] = ansi.Truncate(l, w, st.Glyphs.Ellipsis)
		}
	}
	return strings.Join(lines, "\n")
}

// Wrap breaks s into lines of at most w cells at spaces (at least 10).
func Wrap(s string, w int) []string {
	if s == "" {
		return nil
	}
	return strings.Split(ansi.Wordwrap(s, max(w, 10), ""), "\n")
}
