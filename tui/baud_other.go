//go:build !linux

package tui

// Baud returns 0: line speed is only read on Linux.
func Baud(fd int) int { return 0 }
