package tui

import (
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
