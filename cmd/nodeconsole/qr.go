package main

import (
	"fmt"
	"os"

	"golang.org/x/term"

	"github.com/nodeconsole/nodeconsole/tui"
	"github.com/nodeconsole/nodeconsole/tui/ui"
)

// printQR writes the QR code of url to f, a terminal, as the console draws
// it (tui.QRLines): dark modules on an explicitly light background
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

// qrLines is tui.QRLines: the QR code of url for a terminal of profile p
// and width columns; nil when it does not fit.
func qrLines(url string, p ui.Profile, width int) []string { return tui.QRLines(url, p, width) }
