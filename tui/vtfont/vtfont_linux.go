package vtfont

import (
	"fmt"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// From linux/kd.h.
const (
	gioUnimap    = 0x4B66
	pioUnimap    = 0x4B67
	pioUnimapClr = 0x4B68
	kdFontOp     = 0x4B72
	kdFontOpSet  = 0
	kdFontOpGet  = 1
)

type unipair struct {
	unicode, fontpos uint16
}

type unimapdesc struct {
	count   uint16 // Go aligns the pointer as C does, on 32 and 64 bits
	entries *unipair
}

type unimapinit struct {
	hashsize, hashstep, hashlevel uint16
}

type consoleFontOp struct {
	op, flags, width, height, charcount uint32
	data                                *byte
}

func ioctl(fd int, req uintptr, arg unsafe.Pointer) unix.Errno {
	_, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), req, uintptr(arg))
	return errno
}

// Read returns the Unicode map of the font loaded on the VT open on fd
// (GIO_UNIMAP; any user that can open the VT may read it).
func Read(fd int) (*Font, error) {
	m, err := ReadMap(fd)
	if err != nil {
		return nil, err
	}
	return FromMap(m), nil
}

// ReadMap returns the Unicode map of the font loaded on the VT open on fd,
// with glyph positions (GIO_UNIMAP).
func ReadMap(fd int) ([]Entry, error) {
	size := 512
	for range 4 {
		entries := make([]unipair, size)
		d := unimapdesc{count: uint16(size), entries: &entries[0]}
		errno := ioctl(fd, gioUnimap, unsafe.Pointer(&d))
		runtime.KeepAlive(entries)
		if errno == unix.ENOMEM && int(d.count) > size {
			size = int(d.count) // the kernel says how many there are
			continue
		}
		if errno != 0 {
			return nil, fmt.Errorf("vtfont: GIO_UNIMAP: %w", errno)
		}
		m := make([]Entry, 0, d.count)
		for _, e := range entries[:d.count] {
			m = append(m, Entry{Rune: rune(e.unicode), Pos: int(e.fontpos)})
		}
		return m, nil
	}
	return nil, fmt.Errorf("vtfont: GIO_UNIMAP: the map kept growing")
}

// SetMap replaces the Unicode map of the VT open on fd with m
// (PIO_UNIMAPCLR, PIO_UNIMAP): the owner of the VT (its controlling
// terminal) or CAP_SYS_TTY_CONFIG. Only this VT's map changes.
func SetMap(fd int, m []Entry) error {
	if len(m) == 0 || len(m) > 0xFFFF {
		return fmt.Errorf("vtfont: a Unicode map of %d entries", len(m))
	}
	pairs := make([]unipair, len(m))
	for i, e := range m {
		if e.Rune > 0xFFFF || e.Pos < 0 || e.Pos > 0xFFFF {
			return fmt.Errorf("vtfont: map entry U+%04X at %d is out of range", e.Rune, e.Pos)
		}
		pairs[i] = unipair{unicode: uint16(e.Rune), fontpos: uint16(e.Pos)}
	}
	if errno := ioctl(fd, pioUnimapClr, unsafe.Pointer(&unimapinit{})); errno != 0 {
		return fmt.Errorf("vtfont: PIO_UNIMAPCLR: %w", errno)
	}
	d := unimapdesc{count: uint16(len(pairs)), entries: &pairs[0]}
	errno := ioctl(fd, pioUnimap, unsafe.Pointer(&d))
	runtime.KeepAlive(pairs)
	if errno != 0 {
		return fmt.Errorf("vtfont: PIO_UNIMAP: %w", errno)
	}
	return nil
}

// GetBitmap returns the glyphs of the font loaded on the VT open on fd
// (KDFONTOP, KD_FONT_OP_GET).
func GetBitmap(fd int) (*Bitmap, error) {
	const maxW, maxCount = 32, 512
	data := make([]byte, (maxW+7)/8*Pitch*maxCount)
	op := consoleFontOp{op: kdFontOpGet, width: maxW, height: Pitch, charcount: maxCount, data: &data[0]}
	errno := ioctl(fd, kdFontOp, unsafe.Pointer(&op))
	runtime.KeepAlive(data)
	if errno != 0 {
		return nil, fmt.Errorf("vtfont: KDFONTOP get: %w", errno)
	}
	b := &Bitmap{Width: int(op.width), Height: int(op.height), Count: int(op.charcount), Data: data}
	if err := b.check(); err != nil {
		return nil, err
	}
	b.Data = data[:b.Count*b.rowBytes()*Pitch]
	return b, nil
}

// SetBitmap loads b as the font of the VT open on fd (KDFONTOP,
// KD_FONT_OP_SET): the owner of the VT or CAP_SYS_TTY_CONFIG.
func SetBitmap(fd int, b *Bitmap) error {
	if err := b.check(); err != nil {
		return err
	}
	op := consoleFontOp{op: kdFontOpSet, width: uint32(b.Width), height: uint32(b.Height), charcount: uint32(b.Count), data: &b.Data[0]}
	errno := ioctl(fd, kdFontOp, unsafe.Pointer(&op))
	runtime.KeepAlive(b.Data)
	if errno != 0 {
		return fmt.Errorf("vtfont: KDFONTOP set: %w", errno)
	}
	return nil
}

// LoadHalfBlocks draws UpperHalf (and LowerHalf) in spare positions of the
// font of the VT open on fd when it maps neither (AddHalfBlocks), and
// returns what puts the font and map back; nil, nil when the font has a
// half block already. On an error nothing is changed.
func LoadHalfBlocks(fd int) (restore func() error, err error) {
	m, err := ReadMap(fd)
	if err != nil {
		return nil, err
	}
	if !NeedsHalfBlocks(m) {
		return nil, nil
	}
	b, err := GetBitmap(fd)
	if err != nil {
		return nil, err
	}
	nb, nm, err := AddHalfBlocks(b, m)
	if err != nil {
		return nil, err
	}
	// The map first: the characters of a reused position move to its
	// identical twin, so nothing on screen changes until the glyph does.
	if err := SetMap(fd, nm); err != nil {
		SetMap(fd, m)
		return nil, err
	}
	if err := SetBitmap(fd, nb); err != nil {
		if rerr := SetMap(fd, m); rerr != nil {
			return nil, fmt.Errorf("%w (and restoring the map: %v)", err, rerr)
		}
		return nil, err
	}
	return func() error {
		// The map first: if it cannot be restored (the VT was hung up),
		// the patched font and map stay together and draw every
		// character as before, and the half blocks as half blocks.
		if err := SetMap(fd, m); err != nil {
			return err
		}
		return SetBitmap(fd, b)
	}, nil
}
