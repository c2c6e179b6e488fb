package testenv

import (
	"fmt"
	"runtime"

	"github.com/vishvananda/netns"
)

// InNetns runs f on a locked OS thread inside ns and returns to the
// original namespace; sockets f creates stay in ns. If the thread cannot be
// put back it is left locked and InNetns panics: the runtime then discards
// the thread with its goroutine instead of reusing it in the wrong
// namespace.
func InNetns(ns netns.NsHandle, f func() error) error {
	runtime.LockOSThread()
	orig, err := netns.Get()
	if err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("testenv: current netns: %w", err)
	}
	defer orig.Close()
	if err := netns.Set(ns); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("testenv: enter netns: %w", err)
	}
	ferr := f()
	if err := netns.Set(orig); err != nil {
		panic(fmt.Sprintf("testenv: restore netns: %v", err))
	}
	runtime.UnlockOSThread()
	return ferr
}
