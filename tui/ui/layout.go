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

// Part is a run of lines of a screen body, for Compose.
type Part struct {
	Lines []string
	// Drop is 0 for a part that is always shown; parts with a Drop go
	// when the body has no room for them, the highest first.
	Drop int
}

// Compose lays out the parts of a screen body of h lines, a blank line
// between parts. When they do not all fit, the blank lines go first (from
// the bottom up), then the optional parts, highest Drop first, so what the
// operator must read or answer stays on screen rather than being cut.
func Compose(h int, parts ...Part) string {
	keep := make([]bool, len(parts))
	for i, p := range parts {
		keep[i] = len(p.Lines) > 0
	}
	height := func(gaps int) int {
		n, shown := 0, 0
		for i, p := range parts {
			if keep[i] {
				n += len(p.Lines)
				shown++
			}
		}
		return n + min(gaps, max(shown-1, 0))
	}
	gaps := len(parts)
	for height(gaps) > h {
		if height(0) > h {
			// Drop the optional part with the highest Drop, the last of those.
			best := -1
			for i, p := range parts {
				if keep[i] && p.Drop > 0 && (best < 0 || p.Drop >= parts[best].Drop) {
					best = i
				}
			}
			if best < 0 {
				break
			}
			keep[best] = false
			gaps = len(parts)
			continue
		}
		gaps--
	}
	var out []string
	shown := 0
	for i, p := range parts {
		if !keep[i] {
			continue
		}
		if shown > 0 && shown <= gaps {
			out = append(out, "")
		}
		out = append(out, p.Lines...)
		shown++
	}
	return strings.Join(out, "\n")
}
