package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
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

// NamedNetns creates a network namespace with ip(8) (lo up), named after
// tag, and returns its name (/run/netns/NAME); it is deleted when the test
// ends. It skips or fails without root or ip.
func NamedNetns(t testing.TB, tag string) string {
	t.Helper()
	RequireRoot(t)
	ip := RequireCommand(t, "ip")
	name := fmt.Sprintf("nc-%s-%d-%d", tag, os.Getpid(), time.Now().UnixNano()%1e6)
	if out, err := exec.Command(ip, "netns", "add", name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command(ip, "netns", "del", name).Run() })
	if out, err := exec.Command(ip, "-n", name, "link", "set", "lo", "up").CombinedOutput(); err != nil {
		t.Fatalf("lo up: %v %s", err, out)
	}
	return name
}

// NetnsHandle opens the named namespace (NamedNetns) and a netlink handle
// bound to it, both closed when the test ends.
func NetnsHandle(t testing.TB, name string) (netns.NsHandle, *netlink.Handle) {
	t.Helper()
	ns, err := netns.GetFromName(name)
	if err != nil {
		t.Fatalf("open netns %s: %v", name, err)
	}
	t.Cleanup(func() { ns.Close() })
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		t.Fatalf("netlink handle in %s: %v", name, err)
	}
	t.Cleanup(h.Close)
	return ns, h
}
