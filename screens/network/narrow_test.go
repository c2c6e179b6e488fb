package network_test

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/nodeconsole/nodeconsole/tui/uitest"
)

// TestNowLineWrapsAt40: on a 40-column console the form's "Now:" line
// wraps, so "carries the default route" is read whole, not cut.
func TestNowLineWrapsAt40(t *testing.T) {
	d := drivenConsole(t, uitest.MonoASCII, 40, 12)
	d.Keys("enter") // eth0, which carries the default route
	plain := ansi.Strip(d.View())
	assertFits(t, d.View(), 40, 12)
	if !strings.Contains(strings.Join(strings.Fields(plain), " "), "carries the default route") {
		t.Errorf("the Now: line is cut:\n%s", plain)
	}
}
