package controlplane

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/nodeconsole/nodeconsole/controlplane/store"
	"github.com/nodeconsole/nodeconsole/controlplane/store/sqlite"
)

// countingStore counts read transactions.
type countingStore struct {
	store.Store

	views int
}

func (c *countingStore) View(ctx context.Context, fn func(store.Tx) error) error {
	c.views++
	return c.Store.View(ctx, fn)
}

// TestReadyzIsCheap: /readyz is anonymous, so a flood of it must not become
// a flood of store work: within one period the store is asked once.
func TestReadyzIsCheap(t *testing.T) {
	st, err := sqlite.Open(context.Background(), t.TempDir()+"/cp.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cs := &countingStore{Store: st}
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	s := &Server{store: cs, now: func() time.Time { return now }, log: slog.New(slog.DiscardHandler)}
	for range 20 {
		if err := s.readyCached(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if cs.views != 1 {
		t.Errorf("20 /readyz in one period ran %d store reads, want 1", cs.views)
	}
	now = now.Add(readyCacheFor)
	if err := s.readyCached(context.Background()); err != nil || cs.views != 2 {
		t.Errorf("after a period: err %v, %d store reads, want 2", err, cs.views)
	}
}
