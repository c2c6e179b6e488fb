package testenv

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
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

// SendFrames sends frame (a whole Ethernet frame) out of the link ifname
// of ns every 50 ms, as a switch repeats its LLDP, until the test ends.
func SendFrames(t testing.TB, ns netns.NsHandle, ifname string, frame []byte) {
	t.Helper()
	var fd, index int
	if err := InNetns(ns, func() error {
		ifc, err := net.InterfaceByName(ifname)
		if err != nil {
			return err
		}
		index = ifc.Index
		fd, err = unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
		return err
	}); err != nil {
		t.Fatalf("send frames on %s: %v", ifname, err)
	}
	to := &unix.SockaddrLinklayer{Ifindex: index, Halen: 6}
	copy(to.Addr[:], frame[:6])
	stop, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		defer unix.Close(fd)
		for {
			unix.Sendto(fd, frame, 0, to)
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()
	t.Cleanup(func() { close(stop); <-stopped })
}
