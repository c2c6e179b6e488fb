// Package vtfont finds out which characters a Linux virtual terminal can
// draw: the Unicode map of the console font loaded on a VT (GIO_UNIMAP),
// and whether the VT decodes UTF-8. A character the font does not map is
// drawn as the font's replacement glyph (often ♦), so the console must not
// use it.
package vtfont

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// Font is the set of characters a console font maps to a glyph.
type Font struct {
	runes map[rune]struct{}
}

// Has reports whether the font has a glyph for r.
func (f *Font) Has(r rune) bool {
	_, ok := f.runes[r]
	return ok
}

// Len is the number of characters the font maps.
func (f *Font) Len() int { return len(f.runes) }

// New returns a font that maps exactly rs.
func New(rs ...rune) *Font {
	f := &Font{runes: make(map[rune]struct{}, len(rs))}
	for _, r := range rs {
		f.runes[r] = struct{}{}
	}
	return f
}

// Entry is one entry of a console font's Unicode map: a character and the
// position of the glyph that draws it.
type Entry struct {
	Rune rune
	Pos  int
}

// FromMap returns the set of characters a Unicode map maps.
func FromMap(m []Entry) *Font {
	f := New()
	for _, e := range m {
		f.runes[e.Rune] = struct{}{}
	}
	return f
}

// ParseTable reads a Unicode map in the format psfgettable prints and the
// kernel's cp437.uni uses: one line per glyph, "0xNN<TAB>U+XXXX U+YYYY",
// "#" comments. Sequences (several code points for one glyph) are skipped.
func ParseTable(r io.Reader) (*Font, error) {
	m, err := ParseMap(r)
	if err != nil {
		return nil, err
	}
	return FromMap(m), nil
}

// ParseMap reads a Unicode map as ParseTable does, keeping the glyph
// positions.
func ParseMap(r io.Reader) ([]Entry, error) {
	var m []Entry
	sc := bufio.NewScanner(r)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		pos, err := strconv.ParseUint(fields[0], 0, 16)
		if err != nil {
			return nil, fmt.Errorf("vtfont: line %d: glyph position %q: %w", n, fields[0], err)
		}
		for _, u := range fields[1:] {
			if strings.Count(u, "U+") != 1 {
				continue // a sequence
			}
			v, err := strconv.ParseUint(strings.TrimPrefix(u, "U+"), 16, 32)
			if err != nil {
				return nil, fmt.Errorf("vtfont: line %d: code point %q: %w", n, u, err)
			}
			m = append(m, Entry{Rune: rune(v), Pos: int(pos)})
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("vtfont: read table: %w", err)
	}
	return m, nil
}

// IsVT reports whether dev names a Linux virtual terminal (/dev/tty1,
// /dev/tty12), not a serial line or a pseudo-terminal.
func IsVT(dev string) bool {
	n, ok := strings.CutPrefix(dev, "/dev/tty")
	if !ok || n == "" {
		return false
	}
	for _, c := range n {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// DefaultUTF8Path is where the kernel says whether new VTs decode UTF-8.
const DefaultUTF8Path = "/sys/module/vt/parameters/default_utf8"

// DefaultUTF8 reports whether the kernel starts VTs in UTF-8 mode (the
// default since Linux 2.6.24), read from path (DefaultUTF8Path). A
// minimal image often has no locale at all (LANG unset) while its VT
// decodes UTF-8 all the same.
func DefaultUTF8(path string) (bool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return false, fmt.Errorf("vtfont: read %s: %w", path, err)
	}
	v := strings.TrimSpace(string(b))
	return v == "Y" || v == "1", nil
}

// LoadTable reads a Unicode map file (see ParseTable).
func LoadTable(path string) (*Font, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("vtfont: %w", err)
	}
	defer f.Close()
	return ParseTable(f)
}
