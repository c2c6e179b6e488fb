package tui

import (
	"log/slog"

	"github.com/nodeconsole/nodeconsole/tui/ui"
	"github.com/nodeconsole/nodeconsole/tui/vtfont"
)

// VT is what the console learns from a Linux virtual terminal.
type VT struct {
	// Font is the loaded console font's Unicode map; nil if unreadable.
	Font ui.Charset
	// UTF8 is whether the kernel starts VTs decoding UTF-8
	// (/sys/module/vt/parameters/default_utf8).
	UTF8 bool
}

// ReadVT returns what the VT tty (open on fd) can draw, or nil when tty is
// not a Linux VT.
func ReadVT(fd int, tty string) *VT {
	if !vtfont.IsVT(tty) {
		return nil
	}
	vt := &VT{}
	if f, err := vtfont.Read(fd); err == nil {
		vt.Font = f
	}
	vt.UTF8, _ = vtfont.DefaultUTF8(vtfont.DefaultUTF8Path)
	return vt
}

// LoadHalfBlocks gives the font of the VT tty (open on fd) the half blocks
// ▀ and ▄ when it has neither, as console-setup's fonts have not: in
// spare glyph positions, mapped in this VT's Unicode map
// (vtfont.LoadHalfBlocks; the VT's owner may do this without root). The QR
// code then takes two modules per cell and fits 80x25. Call it before
// ReadVT, at start. It returns what puts the font back (call it on every
// way out); when the font cannot be changed it logs why and changes
// nothing, and the QR code is drawn with full blocks as before.
func LoadHalfBlocks(fd int, tty string, log *slog.Logger) (restore func()) {
	nothing := func() {}
	if !vtfont.IsVT(tty) {
		return nothing
	}
	undo, err := vtfont.LoadHalfBlocks(fd)
	if err != nil {
		log.Warn("console font: half blocks not added; the QR code is drawn with full blocks", "tty", tty, "err", err)
		return nothing
	}
	if undo == nil {
		return nothing
	}
	log.Info("console font: half blocks added for the QR code", "tty", tty)
	return func() {
		if err := undo(); err != nil {
			log.Warn("console font: not restored (the half blocks stay; every other character looks as before)", "tty", tty, "err", err)
		}
	}
}
