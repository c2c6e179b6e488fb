// Package notify holds Hub, the in-process half of the control plane's
// Notifier: waiters keyed by enrollment ID, woken by Publish. The
// PostgreSQL store's Notifier wraps one and feeds it from LISTEN/NOTIFY.
package notify

import "sync"

// Hub wakes the waiters of a key. It is safe for concurrent use.
//
// A waiter is a function (SubscribeFunc), so a waiter needs no goroutine
// of its own: a parked long-poll costs a list entry here. Subscribe wraps
// one around a channel.
type Hub struct {
	mu   sync.Mutex
	subs map[string]*sub // the first waiter of each key; the rest follow it
}

// sub is one waiter, in its key's doubly linked list.
type sub struct {
	key        string
	fn         func()
	prev, next *sub
	gone       bool // woken or cancelled
}

// NewHub returns an empty Hub.
func NewHub() *Hub {
	return &Hub{subs: make(map[string]*sub)}
}

// Subscribe returns a channel closed at the next Publish(key) or
// PublishAll, and a function to call when no longer waiting.
func (h *Hub) Subscribe(key string) (<-chan struct{}, func()) {
	ch := make(chan struct{})
	return ch, h.SubscribeFunc(key, func() { close(ch) })
}

// SubscribeFunc has fn called once, at the next Publish(key) or
// PublishAll, unless cancel is called first. fn runs on the publisher's
// goroutine after the Hub's lock is released, so it must not block; it may
// still run when cancel races with a Publish.
func (h *Hub) SubscribeFunc(key string, fn func()) (cancel func()) {
	s := &sub{key: key, fn: fn}
	h.mu.Lock()
	if first := h.subs[key]; first != nil {
		s.next, first.prev = first, s
	}
	h.subs[key] = s
	h.mu.Unlock()
	return func() { h.cancel(s) }
}

func (h *Hub) cancel(s *sub) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if s.gone {
		return
	}
	s.gone = true
	if s.prev != nil {
		s.prev.next = s.next
	} else if s.next != nil {
		h.subs[s.key] = s.next
	} else {
		delete(h.subs, s.key)
	}
	if s.next != nil {
		s.next.prev = s.prev
	}
	s.prev, s.next = nil, nil
}

// take removes the list starting at first and returns its functions.
func take(first *sub, fns []func()) []func() {
	for s := first; s != nil; {
		next := s.next
		s.gone, s.prev, s.next = true, nil, nil
		fns = append(fns, s.fn)
		s = next
	}
	return fns
}

// Publish wakes every current subscriber of key.
func (h *Hub) Publish(key string) {
	h.mu.Lock()
	fns := take(h.subs[key], nil)
	delete(h.subs, key)
	h.mu.Unlock()
	for _, fn := range fns {
		fn()
	}
}

// PublishAll wakes every current subscriber of every key.
func (h *Hub) PublishAll() {
	h.mu.Lock()
	var fns []func()
	for _, first := range h.subs {
		fns = take(first, fns)
	}
	clear(h.subs)
	h.mu.Unlock()
	for _, fn := range fns {
		fn()
	}
}
