package tui

import (
	"path/filepath"
	"testing"

	"github.com/nodeconsole/nodeconsole/tui/ui"
	"github.com/nodeconsole/nodeconsole/tui/vtfont"
)

// TestVTProfile: on a Linux VT the kernel's UTF-8 mode decides, not the
// locale (a minimal image has none), and the glyphs come from the loaded
// font: console-setup's default font has no ✓, so the styles fall back.
func TestVTProfile(t *testing.T) {
	uni2, err := vtfont.LoadTable(filepath.Join("vtfont", "testdata", "Uni2-Fixed16.table"))
	if err != nil {
		t.Fatal(err)
	}
	env := []string{"TERM=linux"} // no LANG
	p, _ := DetectProfile(TermInfo{Env: env, TTY: "/dev/tty1", VT: &VT{Font: uni2, UTF8: true}})
	if p.ASCII || p.Font == nil {
		t.Fatalf("UTF-8 VT without a locale: ASCII %v, font %v", p.ASCII, p.Font)
	}
	st := ui.NewStyles(p)
	if st.Glyphs.OK != "+" || st.Glyphs.Block != "█" || !p.CanDraw(st.Border.Top+st.Border.Left+st.Glyphs.Marker+st.Glyphs.Arrow+st.Glyphs.Bullet+st.Glyphs.LeftRight) {
		t.Errorf("glyphs on Uni2-Fixed16: %+v, border %q", st.Glyphs, st.Border.TopLeft)
	}
	if p, _ := DetectProfile(TermInfo{Env: env, TTY: "/dev/tty1", VT: &VT{Font: uni2}}); !p.ASCII {
		t.Error("a VT not in UTF-8 mode must get ASCII")
	}
	if p, _ := DetectProfile(TermInfo{Env: env, TTY: "/dev/pts/1"}); !p.ASCII || p.Font != nil {
		t.Error("off a VT the locale decides")
	}
	if st := ui.NewStyles(ui.Profile{}); st.Glyphs.OK != "✓" {
		t.Errorf("without a known font the glyphs stay: %q", st.Glyphs.OK)
	}
}
