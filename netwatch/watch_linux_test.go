//go:build linux

package netwatch

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"testing"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// fakeSub is a netlink subscription the test drives: unbuffered channels,
// so a send returns once the watcher took the notification.
type fakeSub struct {
	link     chan netlink.LinkUpdate
	addr     chan netlink.AddrUpdate
	route    chan netlink.RouteUpdate
	errs     chan error
	closeAll sync.Once
	closeErr sync.Once
}

// fail ends the subscription as a receive error does: netlink's reader
// reports the error and closes its channel.
func (f *fakeSub) fail() {
	f.errs <- errors.New("Receive failed: no buffer space available")
	f.closeErr.Do(func() { close(f.link) })
}

// fakeNetlink hands out fakeSubs and records each subscription.
type fakeNetlink struct {
	subs     chan *fakeSub // each new subscription
	failNext int           // attempts to fail before one succeeds
}

func (n *fakeNetlink) subscribe(_ *netns.NsHandle, _ func(error)) (subscription, error) {
	if n.failNext > 0 {
		n.failNext--
		return subscription{}, errors.New("no netlink today")
	}
	f := &fakeSub{link: make(chan netlink.LinkUpdate), addr: make(chan netlink.AddrUpdate),
		route: make(chan netlink.RouteUpdate), errs: make(chan error)}
	s := subscription{link: f.link, addr: f.addr, route: f.route, errs: f.errs, done: make(chan struct{})}
	go func() {
		<-s.done
		f.closeErr.Do(func() { close(f.link) })
		f.closeAll.Do(func() { close(f.addr); close(f.route) })
	}()
	n.subs <- f
	return s, nil
}

// startFake starts a Watcher on a fake netlink; handled counts the
// notifications the watcher's loop finished with.
func startFake(t *testing.T, n *fakeNetlink) (*Watcher, chan struct{}) {
	t.Helper()
	handled := make(chan struct{}, 100)
	w := newWatcher(Options{Netlink: true})
	w.handled = func() { handled <- struct{}{} }
	if _, err := start(w, n.subscribe); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Close)
	return w, handled
}

// pendingChange takes a pending change, if any.
func pendingChange(w *Watcher) bool {
	select {
	case <-w.changed:
		return true
	default:
		return false
	}
}

// TestBurstIsOneReading: notifications that arrive before the reader
// starts reading make one reading, not one each, including those that come
// after the first woke the reader (Drain at the start of the reading).
func TestBurstIsOneReading(t *testing.T) {
	n := &fakeNetlink{subs: make(chan *fakeSub, 1)}
	w, handled := startFake(t, n)
	f := <-n.subs
	// `ip addr add` then `ip link set down`: address, routes, link.
	f.addr <- netlink.AddrUpdate{NewAddr: true}
	f.route <- netlink.RouteUpdate{}
	<-handled
	<-handled
	readings := 0
	if !w.Wait() {
		t.Fatal("watcher closed")
	}
	// The reader woke; the rest of the burst lands before it reads.
	f.route <- netlink.RouteUpdate{}
	f.link <- netlink.LinkUpdate{}
	<-handled
	<-handled
	w.Drain() // the reading starts
	readings++
	if pendingChange(w) {
		readings++
	}
	if readings != 1 {
		t.Errorf("4 notifications made %d readings, want 1", readings)
	}
	// The next one, after the reading started, makes the next reading.
	f.addr <- netlink.AddrUpdate{}
	<-handled
	if !pendingChange(w) {
		t.Error("a notification after the reading signalled nothing")
	}
}

// TestErrorResubscribes: a subscription that fails (netlink's reader got a
// receive error and closed its channel) is replaced by a new one, and one
// full re-read is asked for; a failed attempt is retried.
func TestErrorResubscribes(t *testing.T) {
	n := &fakeNetlink{subs: make(chan *fakeSub, 2)}
	w, handled := startFake(t, n)
	first := <-n.subs
	w.o.Retry = 1 // the retry timer fires at once
	n.failNext = 1
	first.fail()
	<-handled // the error: re-read
	<-handled // the channel closed: resubscribed, re-read
	second := <-n.subs
	if !w.Wait() {
		t.Fatal("watcher closed")
	}
	w.Drain()
	if pendingChange(w) {
		t.Error("one failure asked for two readings")
	}
	second.route <- netlink.RouteUpdate{}
	<-handled
	if !pendingChange(w) {
		t.Error("the new subscription's notification signalled nothing")
	}
	select {
	case <-n.subs:
		t.Error("subscribed a third time")
	default:
	}
}

// TestCloseStopsEverything: after Close, Wait returns false and no goroutine
// of the watcher (or of netlink's subscriptions, for a real one) is left.
func TestCloseStopsEverything(t *testing.T) {
	before := runtime.NumGoroutine()
	dir := t.TempDir()
	src := make(chan struct{})
	w, err := New(Options{Netlink: true, Files: []string{filepath.Join(dir, "state.json")}, Sources: []<-chan struct{}{src}})
	if err != nil {
		t.Fatal(err)
	}
	if w.Polling() {
		t.Error("polling although every source was set up")
	}
	w.Close()
	w.Close() // twice is fine
	if w.Wait() {
		t.Error("Wait after Close reported a change")
	}
	// netlink closes its sockets from goroutines of its own, which end
	// just after our channels close: give the scheduler a moment.
	for i := 0; runtime.NumGoroutine() > before; i++ {
		if i == 1000 {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines left after Close (%d before):\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
		runtime.Gosched()
	}
}

// TestFiles: a write to a watched file, or a new file renamed over it (as
// atomicfile writes), is a change; a write to another file in the same
// directory (the log) is not; a symlinked resolv.conf is watched at its
// target as well.
func TestFiles(t *testing.T) {
	dir, run := t.TempDir(), t.TempDir()
	state, log := filepath.Join(dir, "state.json"), filepath.Join(dir, "nodeconsole.log")
	target, resolv := filepath.Join(run, "stub-resolv.conf"), filepath.Join(dir, "resolv.conf")
	for _, f := range []string{state, log, target} {
		if err := os.WriteFile(f, []byte("x\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(target, resolv); err != nil {
		t.Fatal(err)
	}
	batches := make(chan bool, 100)
	w := newWatcher(Options{Files: []string{state, resolv}})
	w.filesRead = func(m bool) { batches <- m }
	if _, err := start(w, nil); err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	untilMatch := func(what string, change func() error) {
		t.Helper()
		if err := change(); err != nil {
			t.Fatal(err)
		}
		for !<-batches {
		}
		if !pendingChange(w) {
			t.Errorf("%s: no change signalled", what)
		}
	}
	// The log: appended to (no event in the mask), then closed.
	f, err := os.OpenFile(log, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("{\"msg\":\"start\"}\n")
	f.Close()
	if <-batches || pendingChange(w) {
		t.Error("a write to the log signalled a change")
	}
	untilMatch("atomic write of state.json", func() error {
		tmp := state + ".tmp-1"
		if err := os.WriteFile(tmp, []byte("{}\n"), 0o600); err != nil {
			return err
		}
		return os.Rename(tmp, state)
	})
	untilMatch("resolv.conf's target rewritten", func() error {
		return os.WriteFile(target, []byte("nameserver 192.0.2.53\n"), 0o644)
	})
	untilMatch("state.json removed", func() error { return os.Remove(state) })
}

// TestLinkUp: LinkUp is called when a link comes up with a carrier, not
// again while it stays up, and again after it went down.
func TestLinkUp(t *testing.T) {
	n := &fakeNetlink{subs: make(chan *fakeSub, 1)}
	var ups []int
	handled := make(chan struct{}, 100)
	w := newWatcher(Options{Netlink: true, LinkUp: func(i int) { ups = append(ups, i) }})
	w.handled = func() { handled <- struct{}{} }
	if _, err := start(w, n.subscribe); err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	f := <-n.subs
	link := func(index int32, flags uint32) {
		var u netlink.LinkUpdate
		u.Index, u.Flags = index, flags
		u.Header.Type = unix.RTM_NEWLINK
		f.link <- u
		<-handled
	}
	upc := uint32(unix.IFF_UP | unix.IFF_LOWER_UP)
	link(3, unix.IFF_UP) // up, no carrier
	link(3, upc)         // cable plugged in
	link(3, upc)         // an MTU change, say
	link(4, upc)         // a new VLAN link
	link(3, unix.IFF_UP) // cable pulled
	link(3, upc)         // plugged in again
	if want := []int{3, 4, 3}; !slices.Equal(ups, want) {
		t.Errorf("LinkUp calls %v, want %v", ups, want)
	}
}
