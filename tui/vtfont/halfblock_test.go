package vtfont

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
	"unicode/utf8"
)

// loadPSF reads a PSF1 or PSF2 console font (testdata/NAME.psf.gz, as
// console-setup ships them) into the kernel's layout, with its Unicode
// map.
func loadPSF(t *testing.T, name string) (*Bitmap, []Entry) {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name+".psf.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var raw bytes.Buffer
	if _, err := raw.ReadFrom(z); err != nil {
		t.Fatal(err)
	}
	d := raw.Bytes()
	var width, height, count, perGlyph, off int
	psf2 := false
	switch {
	case d[0] == 0x36 && d[1] == 0x04:
		width, height, count, perGlyph, off = 8, int(d[3]), 256, int(d[3]), 4
		if d[2]&1 != 0 {
			count = 512
		}
	case binary.LittleEndian.Uint32(d) == 0x864ab572:
		u := func(i int) int { return int(binary.LittleEndian.Uint32(d[4*i:])) }
		off, count, perGlyph, height, width = u(2), u(4), u(5), u(6), u(7)
		psf2 = true
	default:
		t.Fatalf("%s: not a PSF font", name)
	}
	b := &Bitmap{Width: width, Height: height, Count: count, Data: make([]byte, count*(width+7)/8*Pitch)}
	for i := range count {
		copy(b.glyph(i), d[off+i*perGlyph:off+(i+1)*perGlyph])
	}
	// The Unicode table: per glyph, its characters and then a terminator;
	// a sequence (skipped) starts with a marker.
	tab := d[off+count*perGlyph:]
	var m []Entry
	for pos := 0; pos < count && len(tab) > 0; pos++ {
		seq := false
		for len(tab) > 0 {
			var r rune
			if psf2 {
				if tab[0] == 0xFF {
					tab = tab[1:]
					break
				}
				if tab[0] == 0xFE {
					seq, tab = true, tab[1:]
					continue
				}
				var n int
				r, n = utf8.DecodeRune(tab)
				tab = tab[n:]
			} else {
				v := binary.LittleEndian.Uint16(tab)
				tab = tab[2:]
				if v == 0xFFFF {
					break
				}
				if v == 0xFFFE {
					seq = true
					continue
				}
				r = rune(v)
			}
			if !seq {
				m = append(m, Entry{Rune: r, Pos: pos})
			}
		}
	}
	return b, m
}

// lookup is the glyph the kernel draws r with under map m, nil if none.
func lookup(b *Bitmap, m []Entry, r rune) []byte {
	pos := -1
	for _, e := range m {
		if e.Rune == r {
			pos = e.Pos
		}
	}
	if pos < 0 {
		return nil
	}
	return b.glyph(pos)
}

// TestAddHalfBlocksConsoleSetupFonts: against Debian's console-setup fonts
// (the real glyphs and Unicode maps, 8 to 32 pixels high, 8 and 16 wide):
// the font gets ▀ and ▄ (or ▀ alone where only one position is spare),
// and every character it mapped before is drawn with the same pixels
// after. Every position of these fonts is mapped, so the positions taken
// are those of duplicate glyphs.
func TestAddHalfBlocksConsoleSetupFonts(t *testing.T) {
	for _, tc := range []struct {
		font  string
		added int // half blocks added; 0: no spare position
	}{
		{"Uni2-Fixed16", 2}, // console-setup's default
		{"Uni2-VGA16", 2},
		{"Uni2-VGA14", 2},
		{"Uni2-VGA8", 2},
		{"Uni2-Terminus16", 2},
		{"Uni2-TerminusBold32x16", 2},
		{"Uni2-VGA28x16", 2},
		{"Uni3-Fixed16", 2},
		{"FullCyrSlav-Fixed16", 2}, // has half blocks, and unmapped positions
		{"Lat15-Fixed16", 1},
		{"Lat2-Terminus16", 1},
		{"Lat15-TerminusBold32x16", 0},
	} {
		b, m := loadPSF(t, tc.font)
		orig := bytes.Clone(b.Data)
		nb, nm, err := AddHalfBlocks(b, m)
		if !bytes.Equal(b.Data, orig) {
			t.Fatalf("%s: AddHalfBlocks changed its input", tc.font)
		}
		if tc.added == 0 {
			if err != ErrNoSlot {
				t.Errorf("%s: %v, want ErrNoSlot", tc.font, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tc.font, err)
		}
		if nb.Width != b.Width || nb.Height != b.Height || nb.Count != b.Count || len(nb.Data) != len(b.Data) {
			t.Errorf("%s: %dx%d x%d became %dx%d x%d", tc.font, b.Width, b.Height, b.Count, nb.Width, nb.Height, nb.Count)
		}
		for _, e := range m {
			if e.Rune == UpperHalf || e.Rune == LowerHalf {
				continue
			}
			if !bytes.Equal(lookup(nb, nm, e.Rune), lookup(b, m, e.Rune)) {
				t.Errorf("%s: U+%04X looks different after", tc.font, e.Rune)
			}
		}
		for i, r := range []rune{UpperHalf, LowerHalf} {
			g := lookup(nb, nm, r)
			if (g != nil) != (i < tc.added) {
				t.Errorf("%s: %c mapped %v, want %v", tc.font, r, g != nil, i < tc.added)
			}
			if g != nil && !bytes.Equal(g, HalfBlockGlyph(b, r)) {
				t.Errorf("%s: %c is not a half block", tc.font, r)
			}
		}
		if NeedsHalfBlocks(nm) {
			t.Errorf("%s: still needs half blocks", tc.font)
		}
	}
}

// TestNeedsHalfBlocks: console-setup's fonts lack both half blocks; the
// kernel's own font (and FullCyrSlav) has them and is left alone.
func TestNeedsHalfBlocks(t *testing.T) {
	for table, want := range map[string]bool{"Uni2-Fixed16": true, "Uni2-VGA16": true, "Lat15-Fixed16": true,
		"Lat2-Terminus16": true, "Uni3-Fixed16": true, "kernel-cp437": false, "FullCyrSlav-Fixed16": false} {
		f, err := os.Open(filepath.Join("testdata", table+".table"))
		if err != nil {
			t.Fatal(err)
		}
		m, err := ParseMap(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		if NeedsHalfBlocks(m) != want {
			t.Errorf("%s: NeedsHalfBlocks %v", table, !want)
		}
	}
}

// TestHalfBlockGlyph: for every glyph size, ▀ lights exactly the top
// half of the rows and every column, ▄ the rest; the pitch rows beyond
// the height stay dark.
func TestHalfBlockGlyph(t *testing.T) {
	for _, sz := range [][2]int{{8, 8}, {8, 14}, {8, 16}, {9, 16}, {12, 24}, {16, 28}, {16, 32}} {
		b := &Bitmap{Width: sz[0], Height: sz[1], Count: 256}
		up, lo := HalfBlockGlyph(b, UpperHalf), HalfBlockGlyph(b, LowerHalf)
		lit := func(g []byte, x, y int) bool { return g[y*b.rowBytes()+x/8]&(0x80>>(x%8)) != 0 }
		for y := range Pitch {
			for x := range 8 * b.rowBytes() {
				wantUp := y < b.Height/2 && x < b.Width
				wantLo := y >= b.Height/2 && y < b.Height && x < b.Width
				if lit(up, x, y) != wantUp || lit(lo, x, y) != wantLo {
					t.Fatalf("%dx%d: pixel %d,%d: ▀ %v ▄ %v", b.Width, b.Height, x, y, lit(up, x, y), lit(lo, x, y))
				}
			}
		}
	}
}

// TestSpareSlots: unmapped positions first, then duplicates (moved to
// their first twin); 0xC0-0xDF first within each kind; a font whose
// positions are all mapped and distinct has none.
func TestSpareSlots(t *testing.T) {
	b := &Bitmap{Width: 8, Height: 16, Count: 256, Data: make([]byte, 256*Pitch)}
	var m []Entry
	for p := range 256 {
		b.glyph(p)[0], b.glyph(p)[1] = byte(p), 1 // all distinct
		m = append(m, Entry{Rune: rune(0x100 + p), Pos: p})
	}
	if s := SpareSlots(b, m); len(s) != 0 {
		t.Fatalf("distinct and mapped: %v", s)
	}
	if _, _, err := AddHalfBlocks(b, m); err != ErrNoSlot {
		t.Errorf("no spare position: %v", err)
	}
	copy(b.glyph(0x30), b.glyph(0x10)) // 0x30 duplicates 0x10
	copy(b.glyph(0xD0), b.glyph(0x20)) // 0xD0 duplicates 0x20
	m = append(m[:0x70:0x70], m[0x71:]...)
	m = append(m[:0xC4:0xC4], m[0xC5:]...) // 0x70 and 0xC5 unmapped
	got := SpareSlots(b, m)
	want := []Slot{{0xC5, -1}, {0x70, -1}, {0xD0, 0x20}, {0x30, 0x10}}
	if len(got) != len(want) {
		t.Fatalf("SpareSlots = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("SpareSlots = %v, want %v", got, want)
		}
	}
	// Only duplicates: the characters of the position taken move to its twin.
	b2 := &Bitmap{Width: 8, Height: 16, Count: 256, Data: bytes.Clone(b.Data)}
	var m2 []Entry
	for p := range 256 {
		m2 = append(m2, Entry{Rune: rune(0x100 + p), Pos: p})
	}
	_, nm, err := AddHalfBlocks(b2, m2)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range nm {
		if e.Rune == 0x100+0xD0 && e.Pos != 0x20 || e.Rune == 0x100+0x30 && e.Pos != 0x10 ||
			e.Rune == UpperHalf && e.Pos != 0xD0 || e.Rune == LowerHalf && e.Pos != 0x30 {
			t.Errorf("entry U+%04X at %#x", e.Rune, e.Pos)
		}
	}
}

// TestBitmapCheck: a font the kernel could not hold, or data shorter than
// its geometry, is refused.
func TestBitmapCheck(t *testing.T) {
	for _, b := range []*Bitmap{
		{Width: 8, Height: 16, Count: 256, Data: make([]byte, 100)},
		{Width: 40, Height: 16, Count: 256, Data: make([]byte, 5*Pitch*256)},
		{Width: 8, Height: 16, Count: 600, Data: make([]byte, Pitch*600)},
	} {
		if _, _, err := AddHalfBlocks(b, nil); err == nil {
			t.Errorf("%dx%d x%d with %d bytes: no error", b.Width, b.Height, b.Count, len(b.Data))
		}
	}
}
