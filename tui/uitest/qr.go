package uitest

import (
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nodeconsole/nodeconsole/testenv"
)

// DecodeQR reads a QR code drawn in terminal cells, as a person's phone
// would read it off the screen, and returns the text it holds. rows are the
// QR code's lines only: half blocks (█ ▀ ▄ and space, light on a dark
// terminal) or, with ascii, "##" per light module. The cells become a PNG
// (light modules white) inside a dark margin, as a terminal shows it, and
// zbarimg (Debian's zbar-tools) decodes it.
func DecodeQR(t testing.TB, rows []string, ascii bool) string {
	t.Helper()
	zbar := testenv.RequireCommand(t, "zbarimg")
	var mods [][]bool // true: light
	for _, r := range rows {
		cells := []rune(r)
		if ascii {
			var row []bool
			for i := 0; i+1 < len(cells); i += 2 {
				row = append(row, cells[i] == '#')
			}
			mods = append(mods, row)
			continue
		}
		top, bottom := make([]bool, len(cells)), make([]bool, len(cells))
		for i, c := range cells {
			switch c {
			case '█':
				top[i], bottom[i] = true, true
			case '▀':
				top[i] = true
			case '▄':
				bottom[i] = true
			case ' ':
			default:
				t.Fatalf("QR row %q holds %q, not a half block", r, c)
			}
		}
		mods = append(mods, top, bottom)
	}
	const px, margin = 6, 6 // pixels per module; dark modules around it
	w := 0
	for _, r := range mods {
		w = max(w, len(r))
	}
	img := image.NewGray(image.Rect(0, 0, (w+2*margin)*px, (len(mods)+2*margin)*px))
	for y, r := range mods {
		for x, light := range r {
			if !light {
				continue
			}
			for dy := range px {
				for dx := range px {
					img.SetGray((x+margin)*px+dx, (y+margin)*px+dy, color.Gray{Y: 255})
				}
			}
		}
	}
	path := filepath.Join(t.TempDir(), "qr.png")
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
		t.Fatalf("zbarimg found no QR code in the cells (%v):\n%s", err, strings.Join(rows, "\n"))
	}
	return strings.TrimRight(string(out), "\n")
}
