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
	// Publish wakes every current subscriber of key.
	Publish(key string)
}

var _ Notifier = (*notify.Hub)(nil)
