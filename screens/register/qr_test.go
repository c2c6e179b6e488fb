package register

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"

	"github.com/nodeconsole/nodeconsole/api"
	"github.com/nodeconsole/nodeconsole/tui/ui"
	"github.com/nodeconsole/nodeconsole/tui/uitest"
	"github.com/nodeconsole/nodeconsole/tui/vtfont"
)

// vtFont loads the Unicode map of a real console font (tui/vtfont/testdata).
func vtFont(t *testing.T, name string) *vtfont.Font {
	t.Helper()
	f, err := vtfont.LoadTable(filepath.Join("..", "..", "tui", "vtfont", "testdata", name+".table"))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// qrProfiles are the terminals the QR code must scan on: emulators, the
// Linux VT with the kernel's font and with console-setup's default font
// (no half blocks), monochrome and ASCII serial lines.
func qrProfiles(t *testing.T) map[string]ui.Profile {
	uni2, kernel := vtFont(t, "Uni2-Fixed16"), vtFont(t, "kernel-cp437")
	return map[string]ui.Profile{
		"truecolor":      uitest.TrueColor,
		"ansi16":         uitest.ANSI16,
		"vt-kernel-font": {Color: colorprofile.ANSI, Font: kernel},
		"vt-uni2-fixed":  {Color: colorprofile.ANSI, Font: uni2},
		"vt-ascii":       {Color: colorprofile.ANSI, ASCII: true, Font: uni2},
		"mono-utf8":      {Color: colorprofile.Ascii},
		"mono-ascii":     uitest.MonoASCII,
	}
}

// TestQRScansOnEveryTheme: the QR code, drawn for each kind of terminal and
// painted as that terminal would show it (glyphs as glyphs, with its
// default colours), reads back as the URL with a real decoder, on a
// dark-theme and on a light-theme terminal. Monochrome has only reverse
// video, which is right on a dark theme (consoles, serial lines) only.
func TestQRScansOnEveryTheme(t *testing.T) {
	urls := []string{
		"https://cp.example.com/activate?code=BCDF-GHJK",
		api.RegisterPageURL("https://sites.example.com/register", "edge-4c4c4544004235108052b4c04f4e4a32", "BCDFGHJK"),
	}
	for name, p := range qrProfiles(t) {
		themes := []uitest.Theme{uitest.DarkTheme, uitest.LightTheme}
		if p.Color < colorprofile.ANSI {
			themes = themes[:1]
		}
		for i, url := range urls {
			q, err := EncodeQR(url)
			if err != nil {
				t.Fatal(err)
			}
			lines, _ := q.Draw(p, 200, 100)
			if lines == nil {
				t.Fatalf("%s: no QR code in 200x100", name)
			}
			// What the renderer sends to a terminal of this profile.
			sent := strings.Split(uitest.Render(strings.Join(lines, "\n"), p.Color), "\n")
			for _, th := range themes {
				t.Run(fmt.Sprintf("%s/%s/%d", name, th.Name, i), func(t *testing.T) {
					if got := uitest.DecodeQR(t, sent, th); got != url {
						t.Errorf("decoded %q, want %q", got, url)
					}
				})
			}
		}
	}
}

// TestQRGlyphChoice: the code is drawn only with characters the terminal
// has: half blocks where the font has them, else spaces two columns per
// module (coloured or reversed), never "#", never a character the VT's
// font would show as its replacement glyph.
func TestQRGlyphChoice(t *testing.T) {
	q, err := EncodeQR("https://cp.example.com/activate?code=BCDF-GHJK")
	if err != nil {
		t.Fatal(err)
	}
	n := q.code.Size
	for name, p := range qrProfiles(t) {
		lines, w := q.Draw(p, 200, 100)
		text := ansi.Strip(strings.Join(lines, ""))
		half := strings.ContainsAny(text, "▀▄")
		wantHalf := name == "truecolor" || name == "ansi16" || name == "vt-kernel-font" || name == "mono-utf8"
		if half != wantHalf {
			t.Errorf("%s: half blocks %v, want %v", name, half, wantHalf)
		}
		if strings.Trim(text, "▀▄█ ") != "" {
			t.Errorf("%s: drawn with %q; only blocks and spaces are solid", name, strings.Trim(text, "▀▄█ "))
		}
		if !p.CanDraw(text) {
			t.Errorf("%s: uses characters the font lacks", name)
		}
		wantW := n + 8
		if !wantHalf {
			wantW = 2 * (n + 8)
		}
		if w != wantW {
			t.Errorf("%s: %d cells wide, want %d (quiet zone of 4 modules when there is room)", name, w, wantW)
		}
	}
}

// TestQRFits: the widest quiet zone that fits (4, else 2 modules), nothing
// when even 2 does not fit; at 80x24 the half-block code fits beside the
// code text, the two-column one does not fit at all (the text is shown).
func TestQRFits(t *testing.T) {
	q, err := EncodeQR("https://cp.example.com/activate?code=BCDF-GHJK")
	if err != nil {
		t.Fatal(err)
	}
	n := q.code.Size // 29: version 3
	p := uitest.TrueColor
	for _, tc := range []struct{ w, h, wantW, wantH int }{
		{n + 8, (n + 9) / 2, n + 8, (n + 9) / 2},
		{n + 7, 100, n + 4, (n + 5) / 2},
		{n + 4, (n + 5) / 2, n + 4, (n + 5) / 2},
		{n + 3, 100, 0, 0},
		{100, (n+5)/2 - 1, 0, 0},
	} {
		lines, w := q.Draw(p, tc.w, tc.h)
		if w != tc.wantW || len(lines) != tc.wantH {
			t.Errorf("in %dx%d: %dx%d, want %dx%d", tc.w, tc.h, w, len(lines), tc.wantW, tc.wantH)
		}
		for _, l := range lines {
			if ansi.StringWidth(l) != w {
				t.Errorf("in %dx%d: a line is %d cells, not %d", tc.w, tc.h, ansi.StringWidth(l), w)
			}
		}
	}
	if lines, w := q.Draw(p, 45, 22); lines == nil || w > 45 {
		t.Errorf("half-block QR does not fit beside the code at 80x24")
	}
	vt := ui.Profile{Color: colorprofile.ANSI, Font: vtFont(t, "Uni2-Fixed16")}
	if lines, _ := q.Draw(vt, 80, 24); lines != nil {
		t.Errorf("a two-column QR code of %d modules cannot fit 24 lines", n)
	}
	if lines, w := q.Draw(vt, 128, 46); lines == nil || w != 2*(n+8) {
		t.Errorf("on a 128x48 VT the two-column QR code fits with its full quiet zone (width %d)", w)
	}
}
