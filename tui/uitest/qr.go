package uitest

import (
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/nodeconsole/nodeconsole/testenv"
)

// Theme is a terminal's default colours: what cells without an explicit
// colour show.
type Theme struct {
	Name   string
	FG, BG color.RGBA
}

// DarkTheme and LightTheme are the two kinds of terminal a QR code must
// scan on: a console or dark-theme emulator, and a light-theme emulator
// or a browser's serial console with a white background.
var (
	DarkTheme  = Theme{Name: "dark", FG: color.RGBA{0xcc, 0xcc, 0xcc, 0xff}, BG: color.RGBA{0, 0, 0, 0xff}}
	LightTheme = Theme{Name: "light", FG: color.RGBA{0x20, 0x20, 0x20, 0xff}, BG: color.RGBA{0xff, 0xff, 0xff, 0xff}}
)

// Cell geometry of the test's bitmap font, as a VGA console font's.
const cellW, cellH = 8, 16

// glyphPixel reports whether pixel (x, y) of a cell belongs to the glyph
// of r, in a tiny bitmap font that draws glyphs as glyphs: block elements
// as the blocks they are, "#" as a hash with gaps, anything else as an
// outline box (no character but a block fills its cell).
func glyphPixel(r rune, x, y int) bool {
	switch r {
	case ' ', 0:
		return false
	case '█':
		return true
	case '▀':
		return y < cellH/2
	case '▄':
		return y >= cellH/2
	case '#':
		return (x == 2 || x == 5) && y >= 3 && y <= 12 || (y == 6 || y == 10) && x >= 1 && x <= 6
	}
	return (x == 1 || x == 6) && y >= 3 && y <= 12 || (y == 3 || y == 12) && x >= 1 && x <= 6
}

// ansi16 is the xterm palette for SGR colours 0-15.
var ansi16 = [16]color.RGBA{
	{0, 0, 0, 255}, {205, 0, 0, 255}, {0, 205, 0, 255}, {205, 205, 0, 255},
	{0, 0, 238, 255}, {205, 0, 205, 255}, {0, 205, 205, 255}, {229, 229, 229, 255},
	{127, 127, 127, 255}, {255, 0, 0, 255}, {0, 255, 0, 255}, {255, 255, 0, 255},
	{92, 92, 255, 255}, {255, 0, 255, 255}, {0, 255, 255, 255}, {255, 255, 255, 255},
}

func color256(n int) color.RGBA {
	switch {
	case n < 16:
		return ansi16[n]
	case n < 232:
		n -= 16
		v := func(i int) uint8 {
			if i == 0 {
				return 0
			}
			return uint8(55 + 40*i)
		}
		return color.RGBA{v(n / 36), v(n / 6 % 6), v(n % 6), 255}
	}
	g := uint8(8 + 10*(n-232))
	return color.RGBA{g, g, g, 255}
}

// pen is the SGR state: nil colours are the theme's defaults.
type pen struct {
	fg, bg  *color.RGBA
	reverse bool
}

// sgr applies one SGR sequence's parameters.
func (p *pen) sgr(params string) {
	ps := strings.Split(params, ";")
	num := func(i int) int {
		if i >= len(ps) {
			return 0
		}
		n, _ := strconv.Atoi(ps[i])
		return n
	}
	set := func(c color.RGBA) *color.RGBA { return &c }
	for i := 0; i < len(ps); i++ {
		n := num(i)
		switch {
		case n == 0:
			*p = pen{}
		case n == 7:
			p.reverse = true
		case n == 27:
			p.reverse = false
		case n >= 30 && n <= 37:
			p.fg = set(ansi16[n-30])
		case n >= 90 && n <= 97:
			p.fg = set(ansi16[n-90+8])
		case n >= 40 && n <= 47:
			p.bg = set(ansi16[n-40])
		case n >= 100 && n <= 107:
			p.bg = set(ansi16[n-100+8])
		case n == 39:
			p.fg = nil
		case n == 49:
			p.bg = nil
		case n == 38 || n == 48:
			var c color.RGBA
			switch num(i + 1) {
			case 5:
				c = color256(num(i + 2))
				i += 2
			case 2:
				c = color.RGBA{uint8(num(i + 2)), uint8(num(i + 3)), uint8(num(i + 4)), 255}
				i += 4
			default:
				continue
			}
			if n == 38 {
				p.fg = &c
			} else {
				p.bg = &c
			}
		}
	}
}

// RenderScreen draws lines of styled terminal output (SGR colours and
// reverse video; other escape sequences are skipped) as a terminal with
// theme th shows them, each glyph drawn as a glyph (see glyphPixel).
func RenderScreen(lines []string, th Theme) *image.RGBA {
	type cell struct {
		r      rune
		fg, bg color.RGBA
	}
	var grid [][]cell
	w := 0
	for _, l := range lines {
		var row []cell
		var p pen
		rs := []rune(l)
		for i := 0; i < len(rs); i++ {
			if rs[i] == 0x1b && i+1 < len(rs) {
				switch rs[i+1] {
				case '[':
					j := i + 2
					for j < len(rs) && (rs[j] < 0x40 || rs[j] > 0x7e) {
						j++
					}
					if j < len(rs) && rs[j] == 'm' {
						p.sgr(string(rs[i+2 : j]))
					}
					i = j
				case ']': // OSC, up to BEL or ST
					j := i + 2
					for j < len(rs) && rs[j] != 0x07 && !(rs[j] == 0x1b && j+1 < len(rs) && rs[j+1] == '\\') {
						j++
					}
					if j < len(rs) && rs[j] == 0x1b {
						j++
					}
					i = j
				default:
					i++
				}
				continue
			}
			fg, bg := th.FG, th.BG
			if p.fg != nil {
				fg = *p.fg
			}
			if p.bg != nil {
				bg = *p.bg
			}
			if p.reverse {
				fg, bg = bg, fg
			}
			row = append(row, cell{r: rs[i], fg: fg, bg: bg})
		}
		grid = append(grid, row)
		w = max(w, len(row))
	}
	img := image.NewRGBA(image.Rect(0, 0, w*cellW, len(grid)*cellH))
	for y := range img.Bounds().Dy() {
		for x := range img.Bounds().Dx() {
			img.SetRGBA(x, y, th.BG)
		}
	}
	for cy, row := range grid {
		for cx, c := range row {
			for y := range cellH {
				for x := range cellW {
					px := c.bg
					if glyphPixel(c.r, x, y) {
						px = c.fg
					}
					img.SetRGBA(cx*cellW+x, cy*cellH+y, px)
				}
			}
		}
	}
	return img
}

// DecodeQR reads a QR code drawn in terminal cells, as a phone would read
// it off a terminal with theme th, and returns the text it holds. lines
// are styled terminal output holding the code (and possibly more); they
// are drawn with RenderScreen inside a margin of the theme's background,
// and zbarimg (Debian's zbar-tools) decodes the picture. The picture is
// kept as DIR/qr-THEME.png when NODECONSOLE_ARTIFACTS=DIR.
func DecodeQR(t testing.TB, lines []string, th Theme) string {
	t.Helper()
	zbar := testenv.RequireCommand(t, "zbarimg")
	src := RenderScreen(lines, th)
	const margin = 4 * cellW
	b := src.Bounds()
	img := image.NewRGBA(image.Rect(0, 0, b.Dx()+2*margin, b.Dy()+2*margin))
	for y := range img.Bounds().Dy() {
		for x := range img.Bounds().Dx() {
			img.SetRGBA(x, y, th.BG)
		}
	}
	for y := range b.Dy() {
		for x := range b.Dx() {
			img.SetRGBA(x+margin, y+margin, src.RGBAAt(x, y))
		}
	}
	dir := t.TempDir()
	if d := os.Getenv("NODECONSOLE_ARTIFACTS"); d != "" {
		dir = d
	}
	path := filepath.Join(dir, "qr-"+th.Name+".png")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	f.Close()
	out, err := exec.Command(zbar, "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", path).Output()
	if err != nil {
		t.Fatalf("zbarimg found no QR code on a %s-theme terminal (%v):\n%s", th.Name, err, strings.Join(lines, "\n"))
	}
	return strings.TrimRight(string(out), "\n")
}
