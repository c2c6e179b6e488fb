// Package notify holds Hub, the in-process half of the control plane's
// Notifier: waiters keyed by enrollment ID, woken by Publish. The
// PostgreSQL store's Notifier wraps one and feeds it from LISTEN/NOTIFY.
package notify

import "sync"

// Hub wakes the waiters of a key. It is safe for concurrent use.
type Hub struct {
	mu   sync.Mutex
	subs map[string]map[*chan struct{}]struct{}
}

// NewHub returns an empty Hub.
func NewHub() *Hub {
	return &Hub{subs: make(map[string]map[*chan struct{}]struct{})}
}

// Subscribe returns a channel closed at the next Publish(key) or
// PublishAll, and a function to call when no longer waiting.
func (h *Hub) Subscribe(key string) (<-chan struct{}, func()) {
	ch := make(chan struct{})
	p := &ch
	h.mu.Lock()
	if h.subs[key] == nil {
		h.subs[key] = make(map[*chan struct{}]struct{})
	}
	h.subs[key][p] = struct{}{}
	h.mu.Unlock()
	return ch, func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		if m, ok := h.subs[key]; ok {
			delete(m, p)
			if len(m) == 0 {
				delete(h.subs, key)
			}
		}
	}
}

// Publish wakes every current subscriber of key.
func (h *Hub) Publish(key string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for p := range h.subs[key] {
		close(*p)
	}
	delete(h.subs, key)
}

// PublishAll wakes every current subscriber of every key.
func (h *Hub) PublishAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, m := range h.subs {
		for p := range m {
			close(*p)
		}
	}
	clear(h.subs)
}
