// Package netwatch tells the console when the node's status may have
// changed, so that it reads the status then and only then: netlink link,
// address and route notifications, inotify on the files the status reads
// (resolv.conf, the state file), and other sources such as the simulated
// network of --demo. Notifications are coalesced: however many arrive
// before the reader starts its next reading, it reads once. While nothing
// changes, nothing in here wakes up.
//
// After a netlink subscription fails (a receive error: socket buffer
// overrun, the socket closed under it) the watcher subscribes again and
// asks for one full re-read, since notifications may have been lost. When
// a source cannot be set up at all, the watcher falls back to a slow poll
// (Options.Fallback) for as long as it runs.
package netwatch

import (
	"log/slog"
	"sync"
	"time"

	"github.com/vishvananda/netns"
)

// Options say what to watch.
type Options struct {
	// Netlink subscribes to link, address and route changes (Linux).
	Netlink bool
	// Namespace is the network namespace whose changes Netlink watches;
	// nil means the one the program runs in.
	Namespace *netns.NsHandle
	// Files are files the status reads (resolv.conf, the state file).
	// Their directories are watched, since atomic writes rename a new
	// file over the old one; a symlink's target is watched as well.
	Files []string
	// Sources are other change notifications (the simulated network's
	// Changed channel): each receive is a change.
	Sources []<-chan struct{}
	// LinkUp, when set, is called with a link's index each time netlink
	// says it is up with a carrier after it was not (or was not seen
	// before): a cable plugged in, a link set up. It runs on the
	// watcher's goroutine and must not block.
	LinkUp func(index int)
	// Fallback is the poll period while a source could not be set up
	// (default 30 s); the watcher signals a change that often then.
	Fallback time.Duration
	// Retry is the first wait before subscribing again after a failed
	// subscription attempt (default 1 s; it doubles up to 1 min).
	Retry time.Duration
	// Log receives one line per failure; nil discards.
	Log *slog.Logger
}

// Watcher signals changes; see the package comment. Close it when done:
// nothing it started outlives Close.
type Watcher struct {
	o       Options
	changed chan struct{} // capacity 1: a pending change
	done    chan struct{} // closed by Close
	closed  sync.Once
	wg      sync.WaitGroup
	// Polling reports whether a source could not be set up, so the watcher
	// polls every Options.Fallback (read-only after New).
	polling bool
	// errOnce logs the first netlink error only.
	errOnce sync.Once
	// closers run at Close, before waiting (they unblock readers).
	closers []func()
	// subscribe is netlink's (tests replace it).
	subscribe subscribeFunc
	// Test hooks, nil in production: handled runs after the netlink loop
	// handled a notification, filesRead after each batch of inotify events
	// (whether one named a watched file).
	handled   func()
	filesRead func(matched bool)
}

func newWatcher(o Options) *Watcher {
	if o.Fallback <= 0 {
		o.Fallback = 30 * time.Second
	}
	if o.Retry <= 0 {
		o.Retry = time.Second
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return &Watcher{o: o, changed: make(chan struct{}, 1), done: make(chan struct{})}
}

// Wait blocks until the status may have changed (true) or the watcher is
// closed (false).
func (w *Watcher) Wait() bool {
	select {
	case <-w.changed:
		return true
	case <-w.done:
		return false
	}
}

// Drain drops a change signalled but not yet waited for: call it just
// before a reading, which covers every change signalled up to then. This
// is what makes a burst of notifications one reading.
func (w *Watcher) Drain() {
	select {
	case <-w.changed:
	default:
	}
}

// Polling reports whether a source could not be set up, so the watcher
// also signals a change every Options.Fallback.
func (w *Watcher) Polling() bool { return w.polling }

// Notify signals a change (a listener filled in new data, for instance).
func (w *Watcher) Notify() {
	select {
	case w.changed <- struct{}{}:
	default: // one is pending already: the next reading covers both
	}
}

// Close stops watching and waits until everything the watcher started has
// stopped. Wait returns false from then on.
func (w *Watcher) Close() {
	w.closed.Do(func() {
		close(w.done)
		for _, c := range w.closers {
			c()
		}
	})
	w.wg.Wait()
}

// forward turns each receive on src into a change until src closes or the
// watcher does.
func (w *Watcher) forward(src <-chan struct{}) {
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		for {
			select {
			case _, ok := <-src:
				if !ok {
					return
				}
				w.Notify()
			case <-w.done:
				return
			}
		}
	}()
}

// poll signals a change every Fallback until Close.
func (w *Watcher) poll() {
	w.polling = true
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		t := time.NewTicker(w.o.Fallback)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				w.Notify()
			case <-w.done:
				return
			}
		}
	}()
}
