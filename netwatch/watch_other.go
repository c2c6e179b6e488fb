//go:build !linux

package netwatch

import "errors"

// subscribeFunc is unused outside Linux.
type subscribeFunc func()

// New starts watching o.Sources; netlink and inotify need Linux, so with
// Netlink or Files it returns an error beside a Watcher that also polls
// every o.Fallback. The Watcher is never nil.
func New(o Options) (*Watcher, error) {
	w := newWatcher(o)
	for _, src := range o.Sources {
		w.forward(src)
	}
	if o.Netlink || len(o.Files) > 0 {
		w.poll()
		return w, errors.New("netwatch: netlink and inotify need Linux")
	}
	return w, nil
}
