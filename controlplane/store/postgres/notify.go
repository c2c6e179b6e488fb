package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/nodeconsole/nodeconsole/controlplane/notify"
)

// channel is the LISTEN/NOTIFY channel of enrollment changes.
const channel = "nodeconsole_enrollments"

// Notifier is a controlplane.Notifier shared by every replica on the
// database: Publish wakes this replica's subscribers at once and tells the
// others with NOTIFY; a connection of its own LISTENs and wakes the
// subscribers here of what other replicas publish. After a lost connection
// it connects and LISTENs again, then wakes every subscriber to re-check
// (a change meanwhile would otherwise be missed).
type Notifier struct {
	s   *Store
	id  string // this replica's mark on its notifications
	log *slog.Logger
	hub *notify.Hub // this replica's subscribers

	stop context.CancelFunc
	done chan struct{}
}

// Notifier returns the store's Notifier, listening once it returns (the
// first LISTEN failing is an error); the store's Close stops it. Later
// calls return the same one.
func (s *Store) Notifier(ctx context.Context, log *slog.Logger) (*Notifier, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.notifier != nil {
		return s.notifier, nil
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	id := make([]byte, 8)
	rand.Read(id)
	n := &Notifier{s: s, id: hex.EncodeToString(id), log: log, hub: notify.NewHub(), done: make(chan struct{})}
	conn, err := n.listen(ctx)
	if err != nil {
		return nil, err
	}
	lctx, stop := context.WithCancel(context.Background())
	n.stop = stop
	go n.run(lctx, conn)
	s.notifier = n
	return n, nil
}

// listen opens the listening connection.
func (n *Notifier) listen(ctx context.Context) (*pgx.Conn, error) {
	cfg := n.s.pool.Config().ConnConfig.Copy()
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, errors.New("postgres: connect for notifications: " + err.Error())
	}
	if _, err := conn.Exec(ctx, "LISTEN "+channel); err != nil {
		conn.Close(context.Background())
		return nil, errors.New("postgres: listen for notifications: " + err.Error())
	}
	return conn, nil
}

// run receives notifications until stopped, reconnecting after a loss.
func (n *Notifier) run(ctx context.Context, conn *pgx.Conn) {
	defer close(n.done)
	backoff := 100 * time.Millisecond
	for {
		err := n.receive(ctx, conn)
		conn.Close(context.Background())
		if ctx.Err() != nil {
			return
		}
		n.log.Warn("lost the notification connection; reconnecting", "err", err)
		for {
			conn, err = n.listen(ctx)
			if err == nil {
				break
			}
			if ctx.Err() != nil {
				return
			}
			n.log.Warn("notification connection", "err", err)
			select {
			case <-time.After(backoff):
			case <-ctx.Done():
				return
			}
			backoff = min(2*backoff, 5*time.Second)
		}
		backoff = 100 * time.Millisecond
		n.log.Info("notification connection restored; every held poll re-checks")
		n.hub.PublishAll()
	}
}

// receive handles notifications on conn until it fails.
func (n *Notifier) receive(ctx context.Context, conn *pgx.Conn) error {
	for {
		msg, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		from, key, ok := strings.Cut(msg.Payload, " ")
		if ok && from != n.id {
			n.hub.Publish(key)
		}
	}
}

// Subscribe returns a channel closed at the next Publish(key) on any
// replica (or after a lost connection), and a function to call when no
// longer waiting.
func (n *Notifier) Subscribe(key string) (<-chan struct{}, func()) { return n.hub.Subscribe(key) }

// SubscribeFunc has fn called once at the next Publish(key) on any replica
// (or after a lost connection), unless cancel is called first
// (notify.Hub.SubscribeFunc).
func (n *Notifier) SubscribeFunc(key string, fn func()) (cancel func()) {
	return n.hub.SubscribeFunc(key, fn)
}

// Publish wakes the subscribers of key here and on every other replica.
// The NOTIFY failing (the database away) is logged: the other replicas'
// polls then see the change when they time out and the node polls again.
func (n *Notifier) Publish(key string) {
	n.hub.Publish(key)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := n.s.pool.Exec(ctx, "SELECT pg_notify($1, $2)", channel, n.id+" "+key); err != nil {
		n.log.Warn("notify other replicas", "err", err)
	}
}

// close stops listening.
func (n *Notifier) close() {
	n.stop()
	<-n.done
}
