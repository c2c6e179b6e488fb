package tui

import "golang.org/x/sys/unix"

var bauds = map[uint32]int{
	unix.B1200: 1200, unix.B2400: 2400, unix.B4800: 4800, unix.B9600: 9600, unix.B19200: 19200,
	unix.B38400: 38400, unix.B57600: 57600, unix.B115200: 115200, unix.B230400: 230400,
	unix.B460800: 460800, unix.B921600: 921600,
}

// Baud returns the output line speed of the terminal on fd, 0 if unknown.
// Pseudo-terminals always report 38400, so callers show it only for real
// serial devices.
func Baud(fd int) int {
	t, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return 0
	}
	return bauds[t.Cflag&unix.CBAUD]
}
