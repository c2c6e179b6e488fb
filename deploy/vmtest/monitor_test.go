package vmtest

import (
	"bufio"
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// monitor is QEMU's human monitor on a unix socket.
type monitor struct {
	conn net.Conn
	r    *bufio.Reader
}

func dialMonitor(path string) (*monitor, error) {
	c, err := net.Dial("unix", path)
	if err != nil {
		return nil, fmt.Errorf("monitor: %w", err)
	}
	m := &monitor{conn: c, r: bufio.NewReader(c)}
	if _, err := m.prompt(); err != nil {
		c.Close()
		return nil, err
	}
	return m, nil
}

// prompt reads up to the next "(qemu) " prompt.
func (m *monitor) prompt() (string, error) {
	var b bytes.Buffer
	for !bytes.HasSuffix(b.Bytes(), []byte("(qemu) ")) {
		c, err := m.r.ReadByte()
		if err != nil {
			return b.String(), fmt.Errorf("monitor: %w", err)
		}
		b.WriteByte(c)
	}
	return b.String(), nil
}

// do runs one monitor command and returns what it printed.
func (m *monitor) do(cmd string) (string, error) {
	if _, err := io.WriteString(m.conn, cmd+"\n"); err != nil {
		return "", fmt.Errorf("monitor %s: %w", cmd, err)
	}
	out, err := m.prompt()
	if err != nil {
		return out, fmt.Errorf("monitor %s: %w", cmd, err)
	}
	// The echo of the command comes back with line-editing escapes; what
	// the command printed follows the last "\r\n" of the echo.
	if i := strings.Index(out, "\r\n"); i >= 0 {
		out = out[i+2:]
	}
	return strings.TrimSuffix(out, "(qemu) "), nil
}

// keyNames are QEMU sendkey names for the characters type sends.
var keyNames = map[rune]string{' ': "spc", '-': "minus", '.': "dot", '/': "slash", '\n': "ret", '=': "equal"}

// typeText types s on the VM's keyboard (what tty1 reads).
func (m *monitor) typeText(s string) error {
	for _, r := range s {
		var k string
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			k = string(r)
		case r >= 'A' && r <= 'Z':
			k = "shift-" + strings.ToLower(string(r))
		default:
			k = keyNames[r]
		}
		if k == "" {
			return fmt.Errorf("monitor: no key for %q", r)
		}
		if err := m.key(k); err != nil {
			return err
		}
	}
	return nil
}

// key presses one key ("ret", "esc", "1", "ctrl-l").
func (m *monitor) key(name string) error {
	out, err := m.do("sendkey " + name)
	if err == nil && strings.TrimSpace(out) != "" {
		err = fmt.Errorf("monitor: sendkey %s: %s", name, strings.TrimSpace(out))
	}
	return err
}

// screendump saves what the VGA display shows (tty1) as PNG at path.
func (m *monitor) screendump(path string) error {
	ppm := path + ".ppm"
	if out, err := m.do("screendump " + ppm); err != nil || strings.TrimSpace(out) != "" {
		return fmt.Errorf("monitor: screendump: %v %s", err, out)
	}
	defer os.Remove(ppm)
	img, err := readPPM(ppm)
	if err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// readPPM reads the binary PPM (P6, maxval 255) that screendump writes.
func readPPM(path string) (image.Image, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	f := bytes.Fields(b[:min(len(b), 64)])
	if len(f) < 4 || string(f[0]) != "P6" || string(f[3]) != "255" {
		return nil, fmt.Errorf("%s: not a P6 PPM with maxval 255", path)
	}
	w, _ := strconv.Atoi(string(f[1]))
	h, _ := strconv.Atoi(string(f[2]))
	// The pixels start after the fourth field and one whitespace byte.
	off := 0
	for i := 0; i < 4; i++ {
		off = bytes.Index(b[off:], f[i]) + off + len(f[i])
	}
	px := b[off+1:]
	if w <= 0 || h <= 0 || len(px) < w*h*3 {
		return nil, fmt.Errorf("%s: %dx%d but %d pixel bytes", path, w, h, len(px))
	}
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range w * h {
		img.SetRGBA(i%w, i/w, color.RGBA{px[3*i], px[3*i+1], px[3*i+2], 255})
	}
	return img, nil
}

// vtText turns a dump of a VT's screen (the guest's vtdump service: the 4
// header bytes of /dev/vcsa1, rows, cols, x, y, then /dev/vcsu1, one
// UTF-32 code point per cell) into lines of text.
func vtText(hdr [4]byte, cells []byte) []string {
	rows, cols := int(hdr[0]), int(hdr[1])
	var lines []string
	for y := range rows {
		var b strings.Builder
		for x := range cols {
			i := 4 * (y*cols + x)
			if i+4 > len(cells) {
				break
			}
			r := rune(uint32(cells[i]) | uint32(cells[i+1])<<8 | uint32(cells[i+2])<<16 | uint32(cells[i+3])<<24)
			if r == 0 || !utf8.ValidRune(r) {
				r = ' '
			}
			b.WriteRune(r)
		}
		lines = append(lines, strings.TrimRight(b.String(), " "))
	}
	return lines
}

// pngCell is the size in pixels of a character cell of a screendump of a
// VT of cols x rows that fills the display.
func pngCell(t *testing.T, path string, cols, rows int) (w, h int) {
	t.Helper()
	img := readPNG(t, path)
	b := img.Bounds()
	if cols == 0 || rows == 0 || b.Dx()%cols != 0 || b.Dy()%rows != 0 {
		t.Fatalf("%s: %dx%d pixels are not a grid of %dx%d cells", path, b.Dx(), b.Dy(), cols, rows)
	}
	return b.Dx() / cols, b.Dy() / rows
}

// cropPNG writes the top-left w x h pixels of the PNG from to the PNG to.
func cropPNG(t *testing.T, from, to string, w, h int) {
	t.Helper()
	img := readPNG(t, from)
	out := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(out, out.Bounds(), img, image.Point{}, draw.Src)
	f, err := os.Create(to)
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(f, out); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func readPNG(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return img
}
