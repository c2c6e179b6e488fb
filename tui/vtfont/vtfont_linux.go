package vtfont

import (
	"fmt"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// From linux/kd.h.
const gioUnimap = 0x4B66

type unipair struct {
	unicode, _ uint16 // and the font position
}

type unimapdesc struct {
	count   uint16 // Go aligns the pointer as C does, on 32 and 64 bits
	entries *unipair
}

// Read returns the Unicode map of the font loaded on the VT open on fd
// (GIO_UNIMAP; any user that can open the VT may read it).
func Read(fd int) (*Font, error) {
	size := 512
	for range 4 {
		entries := make([]unipair, size)
		d := unimapdesc{count: uint16(size), entries: &entries[0]}
		_, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), gioUnimap, uintptr(unsafe.Pointer(&d)))
		runtime.KeepAlive(entries)
		if errno == unix.ENOMEM && int(d.count) > size {
			size = int(d.count) // the kernel says how many there are
			continue
		}
		if errno != 0 {
			return nil, fmt.Errorf("vtfont: GIO_UNIMAP: %w", errno)
		}
		f := New()
		for _, e := range entries[:d.count] {
			f.runes[rune(e.unicode)] = struct{}{}
		}
		return f, nil
	}
	return nil, fmt.Errorf("vtfont: GIO_UNIMAP: the map kept growing")
}
