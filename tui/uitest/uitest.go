// Package uitest holds helpers for screen tests: styles at a pinned colour
// profile and rendering a view the way the terminal would receive it.
package uitest

import (
	"bytes"

	"github.com/charmbracelet/colorprofile"

	"github.com/nodeconsole/nodeconsole/tui/ui"
)

// Styles returns styles for a pinned profile.
func Styles(p ui.Profile) *ui.Styles {
	s := ui.NewStyles(p)
	return &s
}

// TrueColor, ANSI16 and MonoASCII are the three profiles golden files are
// taken in.
var (
	TrueColor = ui.Profile{Color: colorprofile.TrueColor}
	ANSI16    = ui.Profile{Color: colorprofile.ANSI}
	MonoASCII = ui.Profile{Color: colorprofile.Ascii, ASCII: true, Serial: true}
)

// Render downsamples a view's styled text to profile p, as the renderer
// does before writing to the terminal, so golden files show what a
// terminal of that kind receives.
func Render(view string, p colorprofile.Profile) string {
	var b bytes.Buffer
	w := &colorprofile.Writer{Forward: &b, Profile: p}
	_, _ = w.WriteString(view)
	return b.String()
}
