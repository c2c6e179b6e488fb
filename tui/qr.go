package tui

import (
	"strings"

	"github.com/charmbracelet/colorprofile"

	"github.com/nodeconsole/nodeconsole/screens/register"
	"github.com/nodeconsole/nodeconsole/tui/ui"
)

// QRLines is the QR code of url as the console draws it (register.QRCode),
// for a terminal of profile p and width columns, with escape sequences for
// the terminal's colours; nil when it does not fit. `nodeconsole register`
// prints it, so that cmd/nodeconsole needs no screen package.
func QRLines(url string, p ui.Profile, width int) []string {
	q, err := register.EncodeQR(url)
	if err != nil {
		return nil
	}
	lines, _ := q.Draw(p, width, 1<<20)
	if lines == nil {
		return nil
	}
	var b strings.Builder
	w := &colorprofile.Writer{Forward: &b, Profile: p.Color}
	_, _ = w.WriteString(strings.Join(lines, "\n"))
	return strings.Split(b.String(), "\n")
}
