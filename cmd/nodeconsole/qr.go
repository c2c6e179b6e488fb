package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/charmbracelet/colorprofile"
	"golang.org/x/term"

	"github.com/nodeconsole/nodeconsole/screens/register"
	"github.com/nodeconsole/nodeconsole/tui"
	"github.com/nodeconsole/nodeconsole/tui/ui"
)

// printQR writes the QR code of url to f, a terminal, as the console draws
// it (register.QRCode): dark modules on an explicitly light background
// where the terminal has colour, reverse video in monochrome, so it scans
// on a light-theme terminal too; a quiet zone of 4 modules (2 where the
// terminal is narrow); only glyphs the terminal has (a Linux VT's font,
// --ascii). Nothing when it does not fit the terminal's width.
func printQR(f *os.File, url string, ascii bool) {
	tty := tui.TTYName()
	p, _ := tui.DetectProfile(tui.TermInfo{Env: os.Environ(), TTY: tty, ForceASCII: ascii, VT: tui.ReadVT(0, tty)})
	width := 80
	if w, _, err := term.GetSize(int(f.Fd())); err == nil && w > 0 {
		width = w
	}
	for _, l := range qrLines(url, p, width) {
		fmt.Fprintln(f, l)
	}
}

// qrLines is the QR code of url for a terminal of profile p and width
// columns, with escape sequences for the terminal's colours; nil when it
// does not fit.
func qrLines(url string, p ui.Profile, width int) []string {
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
