package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/nodeconsole/nodeconsole/controlplane/store"
)

// capEnroll is the shape of a capped enrollment (controlplane's enroll):
// a place below limit, then the node and its pending enrollment from a
// source of its own. It returns errLost when refused.
func capEnroll(tx store.Tx, now time.Time, limit int, id string) error {
	if _, ok, err := tx.ReservePending(now, limit); err != nil || !ok {
		if err == nil {
			err = errLost
		}
		return err
	}
	if err := tx.PutNode(store.Node{ID: "n-" + id, Name: "n-" + id, Status: "pending", CreatedAt: now}); err != nil {
		return err
	}
	e := enrollment(id, "n-"+id, now.Sub(t0))
	e.SourceIP, e.SourceKey = "src-"+id, "src-"+id
	return tx.PutEnrollment(e)
}

// pendingCapCases: the cap on pending enrollments in all
// (Tx.ReservePending) holds exactly under a race of many sources, also
// across stores on one database, and a place comes back when it is not
// used, when its enrollment is decided and when it expires.
var pendingCapCases = []testCase{
	{"PendingCapHolds", func(t *testing.T, st store.Store) {
		const limit, tries = 10, 64
		now := at(time.Minute)
		won := raceN(t, st, tries, func(tx store.Tx, i int) error { return capEnroll(tx, now, limit, fmt.Sprint("e", i)) })
		if n := get(t, st, func(tx store.Tx) (int, error) { return tx.CountPending(now, "") }); won != limit || n != limit {
			t.Errorf("%d of %d enrollments from distinct sources stored against a cap of %d; %d pending, want %d",
				won, tries, limit, n, limit)
		}
	}},
	{"PendingPlacesComeBack", func(t *testing.T, st store.Store) {
		const limit = 3
		now := at(time.Minute)
		enroll := func(id string) error {
			return st.Update(context.Background(), func(tx store.Tx) error { return capEnroll(tx, now, limit, id) })
		}
		// Places reserved by an Update that fails, or commits without a
		// pending enrollment, come back.
		failed := errors.New("failed after reserving")
		for range limit + 1 {
			if err := st.Update(context.Background(), func(tx store.Tx) error {
				if _, ok, err := tx.ReservePending(now, limit); err != nil || !ok {
					return fmt.Errorf("refused (%v) with nothing pending", err)
				}
				return failed
			}); !errors.Is(err, failed) {
				t.Fatalf("Update that reserved and failed: %v", err)
			}
			update(t, st, func(tx store.Tx) error {
				_, ok, err := tx.ReservePending(now, limit)
				if err == nil && !ok {
					err = errors.New("refused with nothing pending")
				}
				return err
			})
		}
		for _, id := range []string{"a", "b", "c"} {
			if err := enroll(id); err != nil {
				t.Fatalf("enrollment %s below the cap: %v", id, err)
			}
		}
		if err := enroll("d"); !errors.Is(err, errLost) {
			t.Fatalf("enrollment past the cap: %v, want refused", err)
		}
		// A decided enrollment frees its place.
		e := get(t, st, func(tx store.Tx) (store.Enrollment, error) { return tx.Enrollment("a") })
		e.State, e.DecidedAt = store.EnrollApproved, now
		put(t, st, store.Tx.PutEnrollment, e)
		if err := enroll("d"); err != nil {
			t.Fatalf("enrollment after one was decided: %v", err)
		}
		if err := enroll("e"); !errors.Is(err, errLost) {
			t.Fatalf("enrollment past the cap again: %v, want refused", err)
		}
		// Expired enrollments free theirs.
		later := now.Add(15 * time.Minute)
		for _, id := range []string{"f", "g", "h"} {
			if err := st.Update(context.Background(), func(tx store.Tx) error { return capEnroll(tx, later, limit, id) }); err != nil {
				t.Fatalf("enrollment %s once the others expired: %v", id, err)
			}
		}
		if n := get(t, st, func(tx store.Tx) (int, error) { return tx.CountPending(later, "") }); n != limit {
			t.Errorf("%d pending once the first ones expired, want %d", n, limit)
		}
	}},
}
