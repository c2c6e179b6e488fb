//go:build !linux

package vtfont

import "errors"

// Read returns the Unicode map of the font loaded on the VT open on fd;
// only Linux has one.
func Read(fd int) (*Font, error) {
	return nil, errors.New("vtfont: console fonts are a Linux thing")
}
