//go:build !linux

package vtfont

import "errors"

var errNotLinux = errors.New("vtfont: console fonts are a Linux thing")

// Read returns the Unicode map of the font loaded on the VT open on fd;
// only Linux has one.
func Read(fd int) (*Font, error) {
	return nil, errNotLinux
}

// LoadHalfBlocks adds half blocks to a VT's font; only Linux has one.
func LoadHalfBlocks(fd int) (restore func() error, err error) {
	return nil, errNotLinux
}
