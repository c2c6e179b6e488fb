package vtfont

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
)

// Pitch is the number of rows each glyph takes in a Bitmap, whatever the
// font's height: the layout KDFONTOP uses.
const Pitch = 32

// Bitmap is a console font's glyphs as the kernel passes them (KDFONTOP):
// Count glyphs of Width x Height pixels, each Pitch rows of (Width+7)/8
// bytes, the most significant bit leftmost.
type Bitmap struct {
	Width, Height, Count int
	Data                 []byte
}

// rowBytes is the size of one glyph row.
func (b *Bitmap) rowBytes() int { return (b.Width + 7) / 8 }

// glyph is the data of glyph i.
func (b *Bitmap) glyph(i int) []byte {
	n := b.rowBytes() * Pitch
	return b.Data[i*n : (i+1)*n]
}

// check reports a bitmap whose data does not match its geometry.
func (b *Bitmap) check() error {
	if b.Width < 1 || b.Width > 32 || b.Height < 2 || b.Height > Pitch || b.Count < 1 || b.Count > 512 {
		return fmt.Errorf("vtfont: a font of %d glyphs of %dx%d cannot be patched", b.Count, b.Width, b.Height)
	}
	if len(b.Data) < b.Count*b.rowBytes()*Pitch {
		return fmt.Errorf("vtfont: %d bytes for %d glyphs of %dx%d", len(b.Data), b.Count, b.Width, b.Height)
	}
	return nil
}

// The half blocks a QR code is drawn with, two modules per cell.
const (
	UpperHalf = '▀' // U+2580
	LowerHalf = '▄' // U+2584
)

// NeedsHalfBlocks reports whether a font with Unicode map m has neither
// half block (console-setup's fonts; the kernel's own font has both).
func NeedsHalfBlocks(m []Entry) bool {
	f := FromMap(m)
	return !f.Has(UpperHalf) && !f.Has(LowerHalf)
}

// HalfBlockGlyph is the bitmap of one glyph of b's size: the upper half
// of the rows lit for UpperHalf, the lower half for LowerHalf. The two
// split the cell at the same row, so stacked modules tile.
func HalfBlockGlyph(b *Bitmap, r rune) []byte {
	g := make([]byte, b.rowBytes()*Pitch)
	row := make([]byte, b.rowBytes())
	for x := range b.Width {
		row[x/8] |= 0x80 >> (x % 8)
	}
	for y := range b.Height {
		if (y < b.Height/2) == (r == UpperHalf) {
			copy(g[y*len(row):], row)
		}
	}
	return g
}

// ErrNoSlot means the font has no glyph position to spare: every position
// is mapped and draws a glyph no other position draws.
var ErrNoSlot = errors.New("vtfont: the font has no glyph position to spare")

// Slot is a glyph position AddHalfBlocks takes: Twin is the position
// whose identical glyph draws the characters that were mapped to Pos, or
// -1 when nothing was mapped to Pos.
type Slot struct{ Pos, Twin int }

// SpareSlots are the glyph positions of b that can take a new glyph
// without changing how any mapped character looks: first the positions
// no entry of m points at, then those whose glyph is the same as an
// earlier position's (their characters move to that twin). Within each
// kind, positions 0xC0-0xDF (of either 256) come first: a VGA text mode
// with 9-pixel cells repeats the 8th column only there, so a block glyph
// stays solid.
func SpareSlots(b *Bitmap, m []Entry) []Slot {
	used := make([]bool, b.Count)
	for _, e := range m {
		if e.Pos >= 0 && e.Pos < b.Count {
			used[e.Pos] = true
		}
	}
	var free, dups []Slot
	first := map[string]int{}
	for p := range b.Count {
		if !used[p] {
			free = append(free, Slot{Pos: p, Twin: -1})
			continue
		}
		k := string(b.glyph(p)[:b.rowBytes()*b.Height])
		if q, ok := first[k]; ok {
			dups = append(dups, Slot{Pos: p, Twin: q})
		} else {
			first[k] = p
		}
	}
	lineGraphics := func(s Slot) int {
		if lo := s.Pos % 256; lo >= 0xC0 && lo <= 0xDF {
			return 0
		}
		return 1
	}
	byRange := func(a, b Slot) int { return lineGraphics(a) - lineGraphics(b) }
	slices.SortStableFunc(free, byRange)
	slices.SortStableFunc(dups, byRange)
	return append(free, dups...)
}

// AddHalfBlocks returns b and m with UpperHalf and LowerHalf drawn in
// spare glyph positions (SpareSlots) and mapped to them: both when two
// positions are spare, UpperHalf alone when one is (with the two colours
// of a cell, one half block draws any pair of modules). The characters of
// a duplicate position are mapped to its twin. b and m are not changed.
func AddHalfBlocks(b *Bitmap, m []Entry) (*Bitmap, []Entry, error) {
	if err := b.check(); err != nil {
		return nil, nil, err
	}
	slots := SpareSlots(b, m)
	if len(slots) == 0 {
		return nil, nil, ErrNoSlot
	}
	slots = slots[:min(2, len(slots))]
	nb := &Bitmap{Width: b.Width, Height: b.Height, Count: b.Count, Data: bytes.Clone(b.Data)}
	twin := map[int]int{}
	var added []Entry
	for i, s := range slots {
		r := []rune{UpperHalf, LowerHalf}[i]
		copy(nb.glyph(s.Pos), HalfBlockGlyph(b, r))
		if s.Twin >= 0 {
			twin[s.Pos] = s.Twin
		}
		added = append(added, Entry{Rune: r, Pos: s.Pos})
	}
	nm := make([]Entry, 0, len(m)+len(added))
	for _, e := range m {
		if e.Rune == UpperHalf || e.Rune == LowerHalf {
			continue
		}
		if t, ok := twin[e.Pos]; ok {
			e.Pos = t
		}
		nm = append(nm, e)
	}
	return nb, append(nm, added...), nil
}
