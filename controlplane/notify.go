package controlplane

import "github.com/nodeconsole/nodeconsole/controlplane/notify"

// Notifier wakes long-polls when an enrollment changes. The in-process
// implementation (notify.Hub) is enough for one server; replicas on
// PostgreSQL use the store's Notifier, which carries a Publish to every
// replica with LISTEN/NOTIFY (package postgres).
type Notifier interface {
	// Subscribe returns a channel closed at the next Publish(key), and a
	// function to call when no longer waiting.
	Subscribe(key string) (<-chan struct{}, func())
	// SubscribeFunc has fn called once (on the publisher's goroutine; it
	// must not block) at the next Publish(key), unless cancel is called
	// first. A parked long-poll waits this way, without a goroutine.
	SubscribeFunc(key string, fn func()) (cancel func())
	// Publish wakes every current subscriber of key.
	Publish(key string)
}

var _ Notifier = (*notify.Hub)(nil)
