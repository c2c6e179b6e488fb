package controlplane

import "sync"

// Notifier wakes long-polls when an enrollment changes. The in-process
// implementation is enough for one server; a replicated deployment would
// back it with the database's notifications (PostgreSQL LISTEN/NOTIFY) so a
// change reaches whichever replica holds the poll.
type Notifier interface {
	// Subscribe returns a channel closed at the next Publish(key), and a
	// function to call when no longer waiting.
	Subscribe(key string) (<-chan struct{}, func())
	// Publish wakes every current subscriber of key.
	Publish(key string)
}

// localNotifier is the in-process Notifier.
type localNotifier struct {
	mu   sync.Mutex
	subs map[string]map[*chan struct{}]struct{}
}

func newLocalNotifier() *localNotifier {
	return &localNotifier{subs: make(map[string]map[*chan struct{}]struct{})}
}

func (n *localNotifier) Subscribe(key string) (<-chan struct{}, func()) {
	ch := make(chan struct{})
	p := &ch
	n.mu.Lock()
	if n.subs[key] == nil {
		n.subs[key] = make(map[*chan struct{}]struct{})
	}
	n.subs[key][p] = struct{}{}
	n.mu.Unlock()
	return ch, func() {
		n.mu.Lock()
		defer n.mu.Unlock()
		if m, ok := n.subs[key]; ok {
			delete(m, p)
			if len(m) == 0 {
				delete(n.subs, key)
			}
		}
	}
}

func (n *localNotifier) Publish(key string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for p := range n.subs[key] {
		close(*p)
	}
	delete(n.subs, key)
}
