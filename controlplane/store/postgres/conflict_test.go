package postgres_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nodeconsole/nodeconsole/controlplane/store"
	"github.com/nodeconsole/nodeconsole/controlplane/store/postgres"
	"github.com/nodeconsole/nodeconsole/testenv"
)

// hexOf is a random-looking key for i (node IDs, device code hashes and
// user codes are random in the control plane).
func hexOf(kind string, i int) string {
	return fmt.Sprintf("%x", sha256.Sum256([]byte(fmt.Sprint(kind, i))))
}

// enrollLike runs the statements of one new enrollment from its own source
// (controlplane's enroll): the node, its enrollments, the caps on pending
// enrollments (the one in all when global), a free user code, the writes.
func enrollLike(st store.Store, now time.Time, i int, global bool) error {
	id, src := "edge-"+hexOf("n", i)[:16], fmt.Sprintf("src-%d", i)
	return st.Update(context.Background(), func(tx store.Tx) error {
		if _, err := tx.Node(id); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if _, err := tx.EnrollmentsForNode(id); err != nil {
			return err
		}
		if global {
			if _, err := tx.CountPending(now, ""); err != nil {
				return err
			}
		}
		if _, err := tx.CountPending(now, src); err != nil {
			return err
		}
		code := hexOf("c", i)[:8]
		if _, err := tx.EnrollmentByUserCode(code); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if err := tx.AddEvent(store.Event{Type: "enrollment_started", NodeID: id, Time: now}); err != nil {
			return err
		}
		if err := tx.PutNode(store.Node{ID: id, Name: id, Status: "pending", CreatedAt: now, LastSeen: now}); err != nil {
			return err
		}
		return tx.PutEnrollment(store.Enrollment{ID: hexOf("e", i)[:32], NodeID: id, DeviceCodeHash: hexOf("d", i),
			UserCode: code, State: store.EnrollPending, SourceIP: src, SourceKey: src, CreatedAt: now,
			ExpiresAt: now.Add(15 * time.Minute)})
	})
}

// The pending enrollments of one source are counted without reading the
// others': an enrollment that counts its source's and one from another
// source, interleaved on two replicas, both commit at the first try. (One
// statement for both counts, "$2 = ” OR source_key = $2", read every
// pending enrollment once PostgreSQL used its generic plan, and then every
// pair of concurrent enrollments conflicted.)
func TestSourceCountsDoNotConflict(t *testing.T) {
	dsn := testenv.Postgres(t)
	// One connection each, so the statements below run prepared on it
	// often enough for PostgreSQL to plan them generically.
	a, b := open(t, dsn+"&pool_max_conns=1"), open(t, dsn+"&pool_max_conns=1")
	now := time.Unix(1_800_000_000, 0)
	pending := func(i int, src string) store.Enrollment {
		return store.Enrollment{ID: fmt.Sprint("e", i), NodeID: fmt.Sprint("n", i), DeviceCodeHash: hexOf("d", i),
			UserCode: hexOf("c", i)[:8], State: store.EnrollPending, SourceKey: src, ExpiresAt: now.Add(time.Hour)}
	}
	if err := a.Update(context.Background(), func(tx store.Tx) error {
		for i := range 1000 {
			if err := tx.PutEnrollment(pending(i, fmt.Sprint("src-", i%100))); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, st := range []*postgres.Store{a, b} {
		for i := range 8 {
			if err := st.Update(context.Background(), func(tx store.Tx) error {
				_, err := tx.CountPending(now, fmt.Sprint("src-", i))
				return err
			}); err != nil {
				t.Fatal(err)
			}
		}
	}
	// The two sources' keys sort at either end of the index (its first
	// and last page): PostgreSQL's predicate locks cover index pages.
	counted, committed := make(chan struct{}), make(chan error, 1)
	first := true
	go func() {
		<-counted
		again := false
		committed <- b.Update(context.Background(), func(tx store.Tx) error {
			if again {
				// Not a third run, which would wait for the first
				// Update (holding writeLock) to end.
				return errors.New("the second enrollment met a conflict")
			}
			again = true
			if _, err := tx.CountPending(now, "z-source"); err != nil {
				return err
			}
			return tx.PutEnrollment(pending(1001, "z-source"))
		})
	}()
	err := a.Update(context.Background(), func(tx store.Tx) error {
		if _, err := tx.CountPending(now, "0-source"); err != nil {
			return err
		}
		if first {
			first = false
			close(counted)
			if err := <-committed; err != nil {
				return err
			}
		}
		return tx.PutEnrollment(pending(1000, "0-source"))
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := a.Retries() + b.Retries(); n != 0 {
		t.Errorf("enrollments from two sources, each counting its own: %d retries, want 0", n)
	}
}

// Enrollments that count all pending ones (--max-pending) do conflict:
// each read what the others add. They wait for each other instead of
// failing at their end again and again: at most one retry each.
func TestGlobalCountsWaitForEachOther(t *testing.T) {
	dsn := testenv.Postgres(t)
	a, b := open(t, dsn), open(t, dsn)
	now := time.Unix(1_800_000_000, 0)
	const n = 64
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		st := []*postgres.Store{a, b}[i%2]
		wg.Go(func() { errs <- enrollLike(st, now, i, true) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if retries := a.Retries() + b.Retries(); retries > n {
		t.Errorf("%d retries for %d enrollments that count all pending ones, want at most one each", retries, n)
	}
}
