package storetest

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/nodeconsole/nodeconsole/controlplane/store"
)

// OpenShared returns two stores on one new, empty database, as two
// replicas (or a server and a command line tool) have.
type OpenShared func(t *testing.T) (a, b store.Store)

// RunShared runs the cases where a second store makes a difference
// (transactions, races, the pending cap, edges) on two stores that share
// one database: each case sees one store that sends its calls to a and b
// in turn, so every write is read back through the other store and every
// race is run by both at once.
func RunShared(t *testing.T, open OpenShared) {
	shared := []group{{"Transactions", transactionCases}, {"Races", raceCases}, {"PendingCap", pendingCapCases},
		{"Edges", edgeCases}}
	run(t, func(t *testing.T) store.Store {
		a, b := open(t)
		return &alternating{stores: [2]store.Store{a, b}}
	}, shared)
}

// alternating sends each call to the next of its stores.
type alternating struct {
	stores [2]store.Store
	next   atomic.Uint64
}

func (s *alternating) pick() store.Store { return s.stores[(s.next.Add(1)-1)%2] }

func (s *alternating) View(ctx context.Context, fn func(store.Tx) error) error {
	return s.pick().View(ctx, fn)
}

func (s *alternating) Update(ctx context.Context, fn func(store.Tx) error) error {
	return s.pick().Update(ctx, fn)
}

func (s *alternating) Close() error { return errors.Join(s.stores[0].Close(), s.stores[1].Close()) }
