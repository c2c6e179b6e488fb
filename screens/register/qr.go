package register

import (
	"bytes"
	"strings"

	"github.com/mdp/qrterminal/v3"
	"rsc.io/qr"
)

// QR renders text as a QR code in terminal cells at error-correction level
// L with a 2-module quiet zone: half blocks (two modules per cell, which
// assumes light-on-dark cells, as a Linux console and most terminals draw
// them), or with ascii two "#" columns per module. It never queries the
// terminal (qrterminal.Generate does, and blocks waiting for the reply).
// It returns the lines and their width in cells.
func QR(text string, ascii bool) ([]string, int) {
	var b bytes.Buffer
	cfg := qrterminal.Config{Level: qr.L, Writer: &b, QuietZone: 2}
	if ascii {
		cfg.HalfBlocks = false
		cfg.WhiteChar = "##"
		cfg.BlackChar = "  "
	} else {
		cfg.HalfBlocks = true
		cfg.WhiteChar = "█"
		cfg.BlackChar = " "
		cfg.WhiteBlackChar = "▀"
		cfg.BlackWhiteChar = "▄"
	}
	qrterminal.GenerateWithConfig(text, cfg)
	lines := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
	w := 0
	for _, l := range lines {
		if n := len([]rune(l)); n > w {
			w = n
		}
	}
	return lines, w
}
