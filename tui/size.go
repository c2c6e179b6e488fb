package tui

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	tea "charm.land/bubbletea/v2"
)

// Size is a terminal size in cells.
type Size struct{ Width, Height int }

// DefaultSize is used when the terminal reports 0x0 (serial consoles) and
// COLUMNS/LINES do not say better.
var DefaultSize = Size{80, 24}

// ParseSize parses "COLSxROWS" as given to --size.
func ParseSize(s string) (Size, error) {
	c, r, ok := strings.Cut(strings.ToLower(s), "x")
	w, err1 := strconv.Atoi(c)
	h, err2 := strconv.Atoi(r)
	if !ok || err1 != nil || err2 != nil || w < 1 || h < 1 || w > 1000 || h > 1000 {
		return Size{}, fmt.Errorf("--size must look like 80x24, not %q", s)
	}
	return Size{w, h}, nil
}

// FallbackSize returns COLUMNS x LINES from the environment when both are
// valid, else DefaultSize.
func FallbackSize(getenv func(string) string) Size {
	if getenv == nil {
		getenv = os.Getenv
	}
	w, err1 := strconv.Atoi(getenv("COLUMNS"))
	h, err2 := strconv.Atoi(getenv("LINES"))
	if err1 == nil && err2 == nil && w > 0 && h > 0 {
		return Size{w, h}
	}
	return DefaultSize
}

// SizeFilter returns a tea program filter that fixes window sizes before the
// renderer sees them: forced (from --size) replaces every size, and a 0x0 or
// otherwise empty size (serial consoles) becomes fallback. bubbletea v2.0.10
// draws nothing at 0x0, so this must run as a filter, not in Update.
func SizeFilter(forced *Size, fallback Size) func(tea.Model, tea.Msg) tea.Msg {
	return func(_ tea.Model, msg tea.Msg) tea.Msg {
		ws, ok := msg.(tea.WindowSizeMsg)
		if !ok {
			return msg
		}
		switch {
		case forced != nil:
			return tea.WindowSizeMsg{Width: forced.Width, Height: forced.Height}
		case ws.Width <= 0 || ws.Height <= 0:
			return tea.WindowSizeMsg{Width: fallback.Width, Height: fallback.Height}
		}
		return msg
	}
}
