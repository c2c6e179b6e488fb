package tui

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/charmbracelet/colorprofile"

	"github.com/nodeconsole/nodeconsole/tui/ui"
)

// TermInfo is what the shell knows about its terminal at start.
type TermInfo struct {
	// Env is the process environment (KEY=VALUE).
	Env []string
	// TTY is the device the console runs on ("/dev/ttyS0"), "" if unknown.
	TTY string
	// Baud is the line speed read from a real serial device, 0 otherwise.
	Baud int
	// ForceASCII is --ascii.
	ForceASCII bool
	// Profile is --profile: "", "auto", "default" or "serial".
	Profile string
	// VT is set on a Linux virtual terminal (ReadVT).
	VT *VT
}

// knownTerms are TERM prefixes the console has been checked against.
var knownTerms = []string{"xterm", "linux", "vt100", "vt102", "vt220", "vt320", "screen", "tmux",
	"rxvt", "alacritty", "foot", "kitty", "wezterm", "st", "ansi", "putty", "konsole", "gnome",
	"iterm", "cygwin", "dumb", "contour", "ghostty", "xterm-ghostty", "ms-terminal", "vscode"}

// DetectProfile chooses colours, glyphs and drawing mode for the terminal. It
// returns the profile and, for an unknown TERM, a notice to show.
func DetectProfile(ti TermInfo) (ui.Profile, string) {
	get := func(k string) string {
		for i := len(ti.Env) - 1; i >= 0; i-- {
			if v, ok := strings.CutPrefix(ti.Env[i], k+"="); ok {
				return v
			}
		}
		return ""
	}
	term := get("TERM")
	p := ui.Profile{ASCII: ti.ForceASCII || !utf8Locale(get)}
	if ti.VT != nil {
		// A VT decodes UTF-8 or not whatever the locale says (a minimal
		// image has none), and draws only what its font has.
		p.ASCII = ti.ForceASCII || !ti.VT.UTF8
		p.Font = ti.VT.Font
	}
	p.Color = colorprofile.Env(ti.Env)
	notice := ""
	known := false
	for _, k := range knownTerms {
		if term == k || strings.HasPrefix(term, k+"-") || strings.HasPrefix(term, k) && k != "st" {
			known = true
			break
		}
	}
	switch {
	case term == "":
		notice = "TERM is not set: using plain monochrome drawing."
		p.Color = colorprofile.Ascii
	case !known:
		notice = "Unknown terminal type " + quote(term) + ": using plain monochrome drawing."
		p.Color = colorprofile.Ascii
	case term == "linux":
		p.Color = colorprofile.ANSI // the Linux VT has 16 colours, whatever COLORTERM says
	case term == "vt100" || term == "vt102" || term == "vt220" || term == "vt320" || term == "dumb":
		p.Color = colorprofile.Ascii
	}
	if p.Color < colorprofile.Ascii {
		p.Color = colorprofile.Ascii
	}
	p.Serial = serialTTY(ti.TTY) || strings.HasPrefix(term, "vt") || term == "dumb"
	switch ti.Profile {
	case "serial":
		p.Serial = true
	case "default":
		p.Serial = false
	}
	if p.Serial && serialTTY(ti.TTY) {
		p.Baud = ti.Baud
	}
	return p, notice
}

func quote(s string) string {
	if len(s) > 32 {
		s = s[:32]
	}
	return "\"" + strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, s) + "\""
}

// utf8Locale reports whether the locale environment selects UTF-8.
func utf8Locale(get func(string) string) bool {
	for _, k := range []string{"LC_ALL", "LC_CTYPE", "LANG"} {
		if v := get(k); v != "" {
			v = strings.ToLower(v)
			return strings.Contains(v, "utf-8") || strings.Contains(v, "utf8")
		}
	}
	return false
}

// serialTTY reports whether dev is a serial device (ttyS*, ttyAMA*, ttyUSB*,
// hvc*, ttyACM*).
func serialTTY(dev string) bool {
	base := filepath.Base(dev)
	for _, p := range []string{"ttyS", "ttyAMA", "ttyUSB", "ttyACM", "hvc", "ttymxc", "ttyO"} {
		if strings.HasPrefix(base, p) {
			return true
		}
	}
	return false
}

// TTYName returns the device behind fd 0 ("/dev/ttyS0"), "" if not a tty.
func TTYName() string {
	p, err := os.Readlink("/proc/self/fd/0")
	if err != nil || !strings.HasPrefix(p, "/dev/") {
		return ""
	}
	return p
}
