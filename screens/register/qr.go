package register

import (
	"fmt"
	"image/color"
	"strings"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/colorprofile"
	"rsc.io/qr"

	"github.com/nodeconsole/nodeconsole/tui/ui"
)

// QRCode is a QR code (error correction level L) ready to be drawn in
// terminal cells.
//
// It is drawn so that it scans whatever the terminal's theme: dark modules
// on an explicitly light background where the profile has colour, and in
// monochrome the light modules in reverse video (right on a dark-theme
// terminal, which consoles and serial lines are). It is drawn only with
// characters the terminal can show (ui.Profile.CanDraw): two modules per
// cell with half blocks (one of ▀ and ▄ is enough with the two colours of
// a cell); or, without a half block (the Linux VT's console-setup fonts)
// or in ASCII, one module per two columns of full blocks or of spaces,
// coloured or reversed, which every terminal draws solid. Never "#".
type QRCode struct {
	code *qr.Code
}

// EncodeQR encodes text.
func EncodeQR(text string) (*QRCode, error) {
	c, err := qr.Encode(text, qr.L)
	if err != nil {
		return nil, fmt.Errorf("register: encode QR code: %w", err)
	}
	return &QRCode{code: c}, nil
}

// Quiet zones tried, widest first: 4 modules is the standard; 2 is what
// phone scanners need in practice when space is short.
var qrQuietZones = []int{4, 2}

// Draw renders the code for profile p in at most w cells and h lines with
// the widest quiet zone that fits. It returns the lines and their width,
// or nil when it does not fit (the caller shows the code and URL as text
// then, as it always does).
func (q *QRCode) Draw(p ui.Profile, w, h int) ([]string, int) {
	if q == nil {
		return nil, 0
	}
	g := glyphsFor(p)
	for _, quiet := range qrQuietZones {
		n := q.code.Size + 2*quiet
		cw, ch := n, (n+1)/2
		if !g.half() {
			cw, ch = 2*n, n
		}
		if cw <= w && ch <= h {
			return q.render(p, g, quiet), cw
		}
	}
	return nil, 0
}

// qrGlyphs are the block characters the terminal can draw: the upper and
// lower half blocks and the full block, 0 for each it lacks.
type qrGlyphs struct{ upper, lower, full rune }

func glyphsFor(p ui.Profile) qrGlyphs {
	has := func(r rune) rune {
		if p.CanDraw(string(r)) {
			return r
		}
		return 0
	}
	return qrGlyphs{upper: has('▀'), lower: has('▄'), full: has('█')}
}

// half reports whether two modules fit in a cell: with one half block and
// the two colours of the cell, any pair of modules can be drawn.
func (g qrGlyphs) half() bool { return g.upper != 0 || g.lower != 0 }

// cell draws the top and bottom halves of a cell (true: dark). It prefers
// dark ink on light paper, so that most cells share one style.
func (g qrGlyphs) cell(top, bottom bool) qrCell {
	switch {
	case top && bottom && g.full != 0:
		return qrCell{glyph: g.full, ink: true}
	case top == bottom:
		return qrCell{glyph: ' ', ink: !top, paper: top}
	case top && g.upper != 0:
		return qrCell{glyph: g.upper, ink: true}
	case bottom && g.lower != 0:
		return qrCell{glyph: g.lower, ink: true}
	case g.upper != 0: // light over dark: light ink on dark paper
		return qrCell{glyph: g.upper, paper: true}
	}
	return qrCell{glyph: g.lower, paper: true}
}

// qrColors are the dark and light colours where the profile has colour.
func qrColors(p ui.Profile) (dark, light color.Color, ok bool) {
	switch {
	case p.Color >= colorprofile.ANSI256:
		return lipgloss.Color("#000000"), lipgloss.Color("#ffffff"), true
	case p.Color >= colorprofile.ANSI:
		// 7, not 15: the Linux VT has no bright backgrounds.
		return lipgloss.Color("0"), lipgloss.Color("7"), true
	}
	return nil, nil, false
}

// qrCell is one terminal cell of the drawing: a glyph whose pixels show
// the ink colour over the paper colour (true: dark).
type qrCell struct {
	glyph      rune
	ink, paper bool
}

func (q *QRCode) render(p ui.Profile, g qrGlyphs, quiet int) []string {
	dark := func(x, y int) bool {
		x, y = x-quiet, y-quiet
		return x >= 0 && y >= 0 && x < q.code.Size && y < q.code.Size && q.code.Black(x, y)
	}
	n := q.code.Size + 2*quiet
	var rows [][]qrCell
	if !g.half() {
		for y := range n {
			var row []qrCell
			for x := range n {
				c := g.cell(dark(x, y), dark(x, y))
				row = append(row, c, c)
			}
			rows = append(rows, row)
		}
	} else {
		for y := 0; y < n; y += 2 {
			var row []qrCell
			for x := range n {
				row = append(row, g.cell(dark(x, y), dark(x, y+1)))
			}
			rows = append(rows, row)
		}
	}
	styles := qrStyles(p)
	out := make([]string, len(rows))
	for i, row := range rows {
		var b strings.Builder
		for j := 0; j < len(row); {
			k := j
			var run strings.Builder
			for k < len(row) && styleKey(row[k]) == styleKey(row[j]) {
				run.WriteRune(row[k].glyph)
				k++
			}
			b.WriteString(styles[styleKey(row[j])].Render(run.String()))
			j = k
		}
		out[i] = b.String()
	}
	return out
}

// styleKey: which of the four ink/paper pairs a cell uses.
func styleKey(c qrCell) int {
	k := 0
	if c.ink {
		k |= 1
	}
	if c.paper {
		k |= 2
	}
	return k
}

// qrStyles are the styles for the four style keys.
func qrStyles(p ui.Profile) [4]lipgloss.Style {
	var s [4]lipgloss.Style
	d, l, colour := qrColors(p)
	for k := range s {
		ink, paper := k&1 != 0, k&2 != 0
		st := lipgloss.NewStyle()
		if colour {
			pick := func(dark bool) color.Color {
				if dark {
					return d
				}
				return l
			}
			st = st.Foreground(pick(ink)).Background(pick(paper))
		} else if !paper {
			// Monochrome: the terminal's foreground is the light colour
			// on a dark theme, so a light paper is reverse video.
			st = st.Reverse(true)
		}
		s[k] = st
	}
	return s
}

// qrCache keeps the encoded QR code of the last URL, so that a View (every
// second while a code is shown) only draws it.
type qrCache struct {
	url  string
	code *QRCode
}

// draw is QRCode.Draw for url; nil when the code does not fit or url
// cannot be encoded (the code and URL are on screen as text anyway).
func (c *qrCache) draw(url string, p ui.Profile, w, h int) ([]string, int) {
	if c.url != url || c.code == nil {
		c.url = url
		c.code, _ = EncodeQR(url)
	}
	return c.code.Draw(p, w, h)
}
