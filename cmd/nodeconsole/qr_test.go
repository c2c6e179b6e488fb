package main

import (
	"testing"

	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"

	"github.com/nodeconsole/nodeconsole/tui/ui"
	"github.com/nodeconsole/nodeconsole/tui/uitest"
)

// TestRegisterQRScansOnBothThemes: the QR code 'nodeconsole register'
// prints, as each kind of terminal shows it (its default colours, glyphs
// drawn as glyphs), reads back with a real decoder on a dark-theme and a
// light-theme terminal where the terminal has colour (qrterminal's code,
// drawn in the default colours, came out inverted on a light theme), and
// on a dark one in monochrome (reverse video); with half blocks it fits
// 80 columns.
func TestRegisterQRScansOnBothThemes(t *testing.T) {
	const url = "https://cp.example.com/register?node=edge-4c4c4544004235108052b4c04f4e4a32&code=BCDFGHJK"
	for name, p := range map[string]ui.Profile{
		"truecolor": uitest.TrueColor, "ansi256": {Color: colorprofile.ANSI256}, "ansi16": uitest.ANSI16,
		"mono": {Color: colorprofile.Ascii}, "mono-ascii": uitest.MonoASCII,
	} {
		width := 80
		if p.ASCII {
			width = 160 // two columns per module
		}
		lines := qrLines(url, p, width)
		if lines == nil {
			t.Fatalf("%s: no QR code in %d columns", name, width)
		}
		for _, l := range lines {
			if ansi.StringWidth(l) > width {
				t.Fatalf("%s: a line of %d columns", name, ansi.StringWidth(l))
			}
		}
		themes := []uitest.Theme{uitest.DarkTheme, uitest.LightTheme}
		if p.Color < colorprofile.ANSI {
			themes = themes[:1]
		}
		for _, th := range themes {
			if got := uitest.DecodeQR(t, lines, th); got != url {
				t.Errorf("%s on a %s terminal: decoded %q", name, th.Name, got)
			}
		}
	}
	if lines := qrLines(url, uitest.TrueColor, 20); lines != nil {
		t.Errorf("a QR code in 20 columns: %d lines", len(lines))
	}
}
