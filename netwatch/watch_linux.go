//go:build linux

package netwatch

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
	"unsafe"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// New starts watching what o names. A source that cannot be set up is
// logged and returned as an error beside a working Watcher, which then
// also polls every o.Fallback; the Watcher is never nil.
func New(o Options) (*Watcher, error) {
	return start(newWatcher(o), netlinkSubscribe)
}

func start(w *Watcher, sub subscribeFunc) (*Watcher, error) {
	w.subscribe = sub
	var errs []error
	if w.o.Netlink {
		s, err := w.subscribe(w.o.Namespace, w.onError)
		if err != nil {
			errs = append(errs, fmt.Errorf("netwatch: subscribe to netlink: %w", err))
		} else {
			w.wg.Add(1)
			go w.netlinkLoop(s)
		}
	}
	if len(w.o.Files) > 0 {
		if err := w.watchFiles(w.o.Files); err != nil {
			errs = append(errs, err)
		}
	}
	for _, src := range w.o.Sources {
		w.forward(src)
	}
	err := errors.Join(errs...)
	if err != nil {
		w.o.Log.Warn("status changes: falling back to polling", "every", w.o.Fallback.String(), "err", err)
		w.poll()
	}
	return w, err
}

// subscription is one set of netlink link, address and route
// subscriptions. Each channel is closed by netlink when its subscription
// ends (a receive error, or stop).
type subscription struct {
	link  <-chan netlink.LinkUpdate
	addr  <-chan netlink.AddrUpdate
	route <-chan netlink.RouteUpdate
	errs  <-chan error  // ErrorCallback's errors (capacity 1, extra ones dropped)
	done  chan struct{} // closed by stop
}

// stop ends the subscriptions and waits until netlink closed every
// channel, so that none of its goroutines is left blocked on a send.
func (s subscription) stop() {
	close(s.done)
	for range s.link {
	}
	for range s.addr {
	}
	for range s.route {
	}
}

// subscribeFunc subscribes in ns (nil: the current namespace); onErr
// receives the errors netlink reports through ErrorCallback.
type subscribeFunc func(ns *netns.NsHandle, onErr func(error)) (subscription, error)

// netlinkSubscribe is the real subscribeFunc.
func netlinkSubscribe(ns *netns.NsHandle, onErr func(error)) (subscription, error) {
	link := make(chan netlink.LinkUpdate, 16)
	addr := make(chan netlink.AddrUpdate, 16)
	route := make(chan netlink.RouteUpdate, 16)
	errc := make(chan error, 1)
	s := subscription{link: link, addr: addr, route: route, errs: errc, done: make(chan struct{})}
	cb := func(err error) {
		select {
		case errc <- err:
		default:
		}
		onErr(err)
	}
	// Each subscription that started must be stopped, even if a later one
	// fails: close done, then wait for the started ones' channels.
	if err := netlink.LinkSubscribeWithOptions(link, s.done, netlink.LinkSubscribeOptions{Namespace: ns, ErrorCallback: cb}); err != nil {
		close(s.done)
		return subscription{}, fmt.Errorf("links: %w", err)
	}
	if err := netlink.AddrSubscribeWithOptions(addr, s.done, netlink.AddrSubscribeOptions{Namespace: ns, ErrorCallback: cb}); err != nil {
		close(s.done)
		for range link {
		}
		return subscription{}, fmt.Errorf("addresses: %w", err)
	}
	if err := netlink.RouteSubscribeWithOptions(route, s.done, netlink.RouteSubscribeOptions{Namespace: ns, ErrorCallback: cb}); err != nil {
		close(s.done)
		for range link {
		}
		for range addr {
		}
		return subscription{}, fmt.Errorf("routes: %w", err)
	}
	return s, nil
}

// onError is the subscriptions' ErrorCallback: it may run on netlink's
// goroutines at any time, including while they shut down.
func (w *Watcher) onError(err error) {
	select {
	case <-w.done:
		return // the watcher closed the sockets itself
	default:
	}
	w.errOnce.Do(func() { w.o.Log.Warn("status changes: netlink notification error (re-reading the status)", "err", err) })
}

// netlinkLoop turns notifications into changes. When a subscription ends
// by itself (a receive error), it subscribes again and signals one change:
// notifications may have been lost, so the whole status is read again.
func (w *Watcher) netlinkLoop(s subscription) {
	defer w.wg.Done()
	up := map[int32]bool{} // link index -> up with a carrier, as last seen
	for {
		lost := false
		select {
		case <-w.done:
			s.stop()
			return
		case u, ok := <-s.link:
			lost = !ok
			if ok {
				w.linkSeen(up, u)
			}
		case _, ok := <-s.addr:
			lost = !ok
		case _, ok := <-s.route:
			lost = !ok
		case <-s.errs:
			// A notification may be missing (a dump interrupted, a
			// message that did not parse): read everything again.
		}
		if lost {
			s.stop()
			var ok bool
			if s, ok = w.resubscribe(); !ok {
				return
			}
		}
		w.Notify()
		if w.handled != nil {
			w.handled()
		}
	}
}

// linkSeen tracks whether each link is up with a carrier and calls
// Options.LinkUp when one comes up.
func (w *Watcher) linkSeen(up map[int32]bool, u netlink.LinkUpdate) {
	idx := u.Index
	if u.Header.Type == unix.RTM_DELLINK {
		delete(up, idx)
		return
	}
	now := u.Flags&unix.IFF_UP != 0 && u.Flags&unix.IFF_LOWER_UP != 0
	was, seen := up[idx]
	up[idx] = now
	if now && (!seen || !was) && w.o.LinkUp != nil {
		w.o.LinkUp(int(idx))
	}
}

// resubscribe subscribes again, retrying with a doubling wait while it
// fails; false when the watcher closed meanwhile.
func (w *Watcher) resubscribe() (subscription, bool) {
	wait := w.o.Retry
	for {
		s, err := w.subscribe(w.o.Namespace, w.onError)
		if err == nil {
			w.o.Log.Info("status changes: netlink subscribed again")
			return s, true
		}
		w.o.Log.Warn("status changes: subscribe to netlink again", "err", err, "retry", wait.String())
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-w.done:
			t.Stop()
			return subscription{}, false
		}
		wait = min(2*wait, time.Minute)
	}
}

// fileMask is what changes a watched file: written and closed, renamed
// over or away, created (a symlink), deleted.
const fileMask = unix.IN_CLOSE_WRITE | unix.IN_MOVED_TO | unix.IN_MOVED_FROM | unix.IN_CREATE | unix.IN_DELETE

// watchFiles watches the directories of files (and of their symlinks'
// targets) for events that name them. A file whose directory does not
// exist is an error; the others are still watched.
func (w *Watcher) watchFiles(files []string) error {
	fd, err := unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC)
	if err != nil {
		return fmt.Errorf("netwatch: inotify: %w", err)
	}
	names := map[int32]map[string]bool{} // watch descriptor -> file names in its directory
	var errs []error
	for _, f := range files {
		paths := []string{f}
		if t, err := filepath.EvalSymlinks(f); err == nil && t != f {
			paths = append(paths, t)
		}
		for _, p := range paths {
			dir, name := filepath.Split(filepath.Clean(p))
			if dir == "" {
				dir = "."
			}
			wd, err := unix.InotifyAddWatch(fd, dir, fileMask)
			if err != nil {
				errs = append(errs, fmt.Errorf("netwatch: watch %s: %w", dir, err))
				continue
			}
			if names[int32(wd)] == nil {
				names[int32(wd)] = map[string]bool{}
			}
			names[int32(wd)][name] = true
		}
	}
	// Non-blocking, so the runtime's poller waits for it: no thread is
	// parked, and Close unblocks the read.
	file := os.NewFile(uintptr(fd), "inotify")
	w.closers = append(w.closers, func() { file.Close() })
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		buf := make([]byte, 16*(unix.SizeofInotifyEvent+unix.NAME_MAX+1))
		for {
			n, err := file.Read(buf)
			if err != nil {
				return // closed
			}
			matched := inotifyMatches(buf[:n], names)
			if matched {
				w.Notify()
			}
			if w.filesRead != nil {
				w.filesRead(matched)
			}
		}
	}()
	return errors.Join(errs...)
}

// inotifyMatches reports whether the events in buf name a watched file (or
// the queue overflowed, which may have hidden one).
func inotifyMatches(buf []byte, names map[int32]map[string]bool) bool {
	for off := 0; off+unix.SizeofInotifyEvent <= len(buf); {
		ev := (*unix.InotifyEvent)(unsafe.Pointer(&buf[off]))
		end := off + unix.SizeofInotifyEvent + int(ev.Len)
		if end > len(buf) {
			return true // truncated: be safe
		}
		name := string(bytes.TrimRight(buf[off+unix.SizeofInotifyEvent:end], "\x00"))
		if ev.Mask&unix.IN_Q_OVERFLOW != 0 || names[ev.Wd][name] {
			return true
		}
		off = end
	}
	return false
}
