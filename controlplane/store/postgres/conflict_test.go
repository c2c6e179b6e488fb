package postgres_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/nodeconsole/nodeconsole/controlplane/store"
	"github.com/nodeconsole/nodeconsole/controlplane/store/postgres"
	"github.com/nodeconsole/nodeconsole/testenv"
)

// hexOf is a random-looking key for i (node IDs, device code hashes and
// user codes are random in the control plane).
func hexOf(kind string, i int) string {
	return fmt.Sprintf("%x", sha256.Sum256([]byte(fmt.Sprint(kind, i))))
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

// New nodes' capped enrollments (--max-pending) do not conflict: the node
// is created without a lookup (CreateNode), the user code is left to the
// unique index, and the cap in all is a place taken outside the transaction
// (ReservePending), so two interleaved on two replicas both commit at the
// first try. The old shape (look up the node, its enrollments and the code,
// count all pending ones) makes the second to commit run again.
func TestCappedEnrollmentsDoNotConflict(t *testing.T) {
	dsn := testenv.Postgres(t)
	a, b := open(t, dsn), open(t, dsn)
	now := time.Unix(1_800_000_000, 0)
	pending := func(i int) store.Enrollment {
		return store.Enrollment{ID: fmt.Sprint("e", i), NodeID: fmt.Sprint("n", i), DeviceCodeHash: hexOf("d", i),
			UserCode: hexOf("c", i)[:8], State: store.EnrollPending, SourceKey: fmt.Sprint("src-", i), ExpiresAt: now.Add(time.Hour)}
	}
	for _, counted := range []bool{false, true} {
		capped := func(tx store.Tx, i int) error {
			n := store.Node{ID: fmt.Sprint("n", i), Name: fmt.Sprint("n", i), Status: "pending", CreatedAt: now}
			if counted {
				if _, err := tx.Node(n.ID); !errors.Is(err, store.ErrNotFound) {
					return fmt.Errorf("node: %v", err)
				}
				if _, err := tx.EnrollmentsForNode(n.ID); err != nil {
					return err
				}
				if c, err := tx.CountPending(now, ""); err != nil || c >= 100 {
					return fmt.Errorf("count: %d, %v", c, err)
				}
				if _, err := tx.EnrollmentByUserCode(pending(i).UserCode); !errors.Is(err, store.ErrNotFound) {
					return fmt.Errorf("user code: %v", err)
				}
				if err := tx.PutNode(n); err != nil {
					return err
				}
			} else {
				if created, err := tx.CreateNode(n); err != nil || !created {
					return fmt.Errorf("create node: %v, %v", created, err)
				}
				if _, ok, err := tx.ReservePending(now, 100); err != nil || !ok {
					return fmt.Errorf("reserve: %v, %v", ok, err)
				}
			}
			if err := tx.AddEvent(store.Event{Type: "enrollment_started", NodeID: n.ID, Time: now}); err != nil {
				return err
			}
			return tx.PutEnrollment(pending(i))
		}
		base := 10
		if counted {
			base = 20
		}
		before := a.Retries() + b.Retries()
		reserved, committed := make(chan struct{}), make(chan error, 1)
		first := true
		go func() {
			<-reserved
			committed <- b.Update(context.Background(), func(tx store.Tx) error { return capped(tx, base+1) })
		}()
		err := a.Update(context.Background(), func(tx store.Tx) error {
			if err := capped(tx, base); err != nil || !first {
				return err
			}
			first = false
			close(reserved)
			return <-committed
		})
		if err != nil {
			t.Fatalf("counted %v: %v", counted, err)
		}
		retries := a.Retries() + b.Retries() - before
		if !counted && retries != 0 {
			t.Errorf("two capped enrollments interleaved: %d retries, want 0", retries)
		}
		if counted && retries == 0 {
			t.Errorf("two enrollments counting all pending ones interleaved: no retry; the test no longer shows a conflict")
		}
	}
}

// A replica that dies between its reservation and its commit holds its
// place until the reservation expires; then a recount gives it back.
func TestDeadReplicaPlacesExpire(t *testing.T) {
	dsn := testenv.Postgres(t)
	st := open(t, dsn)
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	now := time.Unix(1_800_000_000, 0)
	const limit = 3
	enroll := func(i int) (bool, error) {
		ok := false
		err := st.Update(context.Background(), func(tx store.Tx) (err error) {
			if _, ok, err = tx.ReservePending(now, limit); err != nil || !ok {
				return err
			}
			return tx.PutEnrollment(store.Enrollment{ID: fmt.Sprint("e", i), NodeID: fmt.Sprint("n", i),
				DeviceCodeHash: hexOf("d", i), UserCode: hexOf("c", i)[:8], State: store.EnrollPending, ExpiresAt: now.Add(time.Hour)})
		})
		return ok, err
	}
	if ok, err := enroll(0); !ok || err != nil {
		t.Fatalf("first enrollment: %v, %v", ok, err)
	}
	// Two places taken by a replica that died: one reservation still
	// within its time, one past it.
	if _, err := conn.Exec(context.Background(), `UPDATE pending_budget SET used = used + 2;
		INSERT INTO pending_reservations (expires_at) VALUES (now() + interval '1 hour'), (now() - interval '1 second')`); err != nil {
		t.Fatal(err)
	}
	for i, want := range []bool{true, false} {
		if ok, err := enroll(1 + i); ok != want || err != nil {
			t.Fatalf("enrollment %d with a dead replica's live reservation: %v, %v; want %v", 1+i, ok, err, want)
		}
	}
	if _, err := conn.Exec(context.Background(), `UPDATE pending_reservations SET expires_at = now() - interval '1 second'`); err != nil {
		t.Fatal(err)
	}
	if ok, err := enroll(3); !ok || err != nil {
		t.Fatalf("enrollment once the dead replica's reservation expired: %v, %v", ok, err)
	}
	var reservations int
	if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM pending_reservations`).Scan(&reservations); err != nil || reservations != 0 {
		t.Errorf("%d reservations left (%v), want 0", reservations, err)
	}
}
