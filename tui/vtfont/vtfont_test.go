package vtfont

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFontTables: what Debian's console-setup fonts and the kernel's
// default font can draw, from their real Unicode maps (testdata). The
// console-setup fonts, the default among them, have the full block but
// neither half block nor a check mark, which is why the console asks the
// font instead of assuming.
func TestFontTables(t *testing.T) {
	for _, tc := range []struct {
		table            string
		full, half, tick bool
	}{
		{"Uni2-Fixed16", true, false, false},
		{"Uni2-VGA16", true, false, false},
		{"Uni2-Terminus16", true, false, false},
		{"Uni3-Fixed16", true, false, false},
		{"Lat15-Fixed16", true, false, false},
		{"Lat2-Terminus16", true, false, false},
		{"FullCyrSlav-Fixed16", true, true, false},
		{"kernel-cp437", true, true, false},
	} {
		f, err := LoadTable(filepath.Join("testdata", tc.table+".table"))
		if err != nil {
			t.Fatal(err)
		}
		if f.Len() < 200 || !f.Has('A') || !f.Has(' ') {
			t.Errorf("%s: %d characters, no A or space: the table did not parse", tc.table, f.Len())
		}
		if f.Has('█') != tc.full || f.Has('▀') != tc.half || f.Has('▄') != tc.half || f.Has('✓') != tc.tick {
			t.Errorf("%s: █ %v ▀ %v ▄ %v ✓ %v, want %v %v %v %v", tc.table,
				f.Has('█'), f.Has('▀'), f.Has('▄'), f.Has('✓'), tc.full, tc.half, tc.half, tc.tick)
		}
	}
}

func TestParseTableErrors(t *testing.T) {
	f, err := ParseTable(strings.NewReader("# comment\n0x41\tU+0041 U+00c0\n0x42\tU+0042U+0301\n"))
	if err != nil || !f.Has('A') || !f.Has('À') || f.Has('B') || f.Len() != 2 {
		t.Errorf("parse: %v, A %v À %v B %v (a sequence is not a character), %d", err, f.Has('A'), f.Has('À'), f.Has('B'), f.Len())
	}
	for _, bad := range []string{"zz\tU+0041\n", "0x41\tU+zz\n"} {
		if _, err := ParseTable(strings.NewReader(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestIsVT(t *testing.T) {
	for dev, want := range map[string]bool{"/dev/tty1": true, "/dev/tty12": true, "/dev/tty": false,
		"/dev/ttyS0": false, "/dev/pts/3": false, "/dev/ttyUSB0": false, "": false} {
		if IsVT(dev) != want {
			t.Errorf("IsVT(%q) = %v", dev, !want)
		}
	}
}

func TestDefaultUTF8(t *testing.T) {
	dir := t.TempDir()
	for v, want := range map[string]bool{"Y\n": true, "N\n": false, "1": true} {
		p := filepath.Join(dir, "p")
		if err := os.WriteFile(p, []byte(v), 0o644); err != nil {
			t.Fatal(err)
		}
		if got, err := DefaultUTF8(p); err != nil || got != want {
			t.Errorf("%q: %v, %v", v, got, err)
		}
	}
	if _, err := DefaultUTF8(filepath.Join(dir, "missing")); err == nil {
		t.Error("a missing parameter file must be an error")
	}
}
