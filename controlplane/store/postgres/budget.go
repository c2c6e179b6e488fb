package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// The cap on live pending enrollments in all (Tx.ReservePending), shared by
// the replicas, without serializing their enrollments. Counting them inside
// each enrollment's SERIALIZABLE transaction made every two concurrent
// enrollments conflict (each read what the other added), so they ran one
// at a time. Instead a one-row table, pending_budget, keeps
//
//	used >= live pending enrollments + reservations no enrollment names
//
// A place is taken outside the enrollment's transaction, on Store.budget,
// by one statement that increments used while it is below the cap and
// inserts a pending_reservations row (qReserve); the row lock lasts that
// statement. The pending enrollment the transaction then stores names the
// reservation (enrollments.reservation), so at its commit the place passes
// from the reservation to the enrollment at once. When the transaction is
// over (committed, rolled back, or its outcome unknown), settle deletes the
// reservation and, if no enrollment names it, decrements used in the same
// statement: an attempt that stored no enrollment gives its place back.
//
// Nothing decrements used when an enrollment leaves pending (decided,
// expired): a refused reservation recounts (recount: under the row lock,
// used = live pending + reservations no enrollment names, in one snapshot,
// so an enrollment committing meanwhile is counted once) and tries once
// more. A reservation also recounts first when the last recount is older
// than recountEvery, which counts pending enrollments stored without a
// reservation (by a replica running with the cap off, or an older version).
//
// Crashes: a replica that dies between its reservation and settle leaves
// the row and its unit of used; the row expires after reservationTTL and
// the next recount drops it. Until then it only makes the cap stricter. A
// transaction never outlives its reservation: an attempt is bounded by
// txTimeout, half of reservationTTL.
//
// Bound: at most the cap of live pending enrollments, exactly, across
// replicas (TestCappedEnrollmentsDoNotConflict, TestDeadReplicaPlacesExpire,
// storetest's PendingCap cases), as long as every replica enforcing the cap
// runs this code: an enrollment stored without a reservation is counted
// from the next recount on (within recountEvery).
const (
	reservationTTL = 2 * txTimeout
	recountEvery   = 10 * time.Second
)

// qReserve takes a place if used is below $1 and the last recount is
// younger than $2 microseconds, with a reservation row that expires after
// $3 microseconds. It returns the reservation (0: refused), used (after the
// increment; as it was when refused) and the database's clock.
const qReserve = `WITH b AS (
		UPDATE pending_budget SET used = used + 1
		WHERE id = 1 AND used < $1 AND recounted_at > clock_timestamp() - $2::bigint * interval '1 microsecond'
		RETURNING used),
	r AS (INSERT INTO pending_reservations (expires_at)
		SELECT clock_timestamp() + $3::bigint * interval '1 microsecond' FROM b RETURNING id)
	SELECT coalesce((SELECT id FROM r), 0), coalesce((SELECT used FROM b), (SELECT used FROM pending_budget WHERE id = 1)),
		clock_timestamp()`

// reserve takes a place below limit (recounting once if refused) and
// returns its reservation (0: refused) and how many places are used
// without it.
func (s *Store) reserve(ctx context.Context, now time.Time, limit int) (id int64, n int, err error) {
	for try := 0; ; try++ {
		var used int64
		var at time.Time
		if err := s.budget.QueryRow(ctx, qReserve, limit, recountEvery.Microseconds(),
			reservationTTL.Microseconds()).Scan(&id, &used, &at); err != nil {
			return 0, 0, fmt.Errorf("reserve a place for a pending enrollment: %w", err)
		}
		if id != 0 {
			return id, int(used) - 1, nil
		}
		if try == 1 {
			return 0, int(used), nil
		}
		if err := s.recount(ctx, now, at); err != nil {
			return 0, 0, err
		}
	}
}

// recount sets used to the live pending enrollments at now plus the
// reservations, unless a recount began after refusedAt (the database's
// clock when a reservation was refused): that one saw every change before.
func (s *Store) recount(ctx context.Context, now, refusedAt time.Time) error {
	// Reservations of replicas that died, before the row lock: settle
	// holds a reservation's row and then waits for that lock.
	if _, err := s.budget.Exec(ctx, `DELETE FROM pending_reservations WHERE expires_at < clock_timestamp()`); err != nil {
		return fmt.Errorf("drop expired reservations of pending enrollments: %w", err)
	}
	err := pgx.BeginFunc(ctx, s.budget, func(tx pgx.Tx) error {
		var last time.Time
		if err := tx.QueryRow(ctx, `SELECT recounted_at FROM pending_budget WHERE id = 1 FOR UPDATE`).Scan(&last); err != nil {
			return err
		}
		if last.After(refusedAt) {
			return nil
		}
		// READ COMMITTED: this statement's snapshot is newer than the
		// lock, so every reservation made before is in it.
		_, err := tx.Exec(ctx, `UPDATE pending_budget SET recounted_at = statement_timestamp(), used =
			(SELECT count(*) FROM enrollments WHERE state = 'pending' AND expires_at > $1) +
			(SELECT count(*) FROM pending_reservations r
				WHERE NOT EXISTS (SELECT 1 FROM enrollments WHERE reservation = r.id AND reservation <> 0)) WHERE id = 1`,
			unixNano(now))
		return err
	})
	if err != nil {
		return fmt.Errorf("count pending enrollments: %w", err)
	}
	return nil
}

// settle ends the reservation id once its transaction is over: the
// enrollment that names it keeps its place, else it goes back. Best
// effort: one not settled (the database unreachable) expires.
//
// "reservation <> 0" lets the plan use the partial index
// enrollments_reservation (a generic plan cannot know $1 <> 0; without it,
// every settle read the whole table).
func (s *Store) settle(ctx context.Context, id int64) {
	s.budget.Exec(ctx, `WITH d AS (DELETE FROM pending_reservations WHERE id = $1 RETURNING 1)
		UPDATE pending_budget SET used = used - 1 WHERE id = 1 AND EXISTS (SELECT 1 FROM d)
		AND NOT EXISTS (SELECT 1 FROM enrollments WHERE reservation = $1 AND reservation <> 0)`, id)
}

// ReservePending takes a place below limit for the next pending enrollment
// this transaction stores (see budget.go).
func (t *tx) ReservePending(now time.Time, limit int) (int, bool, error) {
	if !t.write {
		return 0, false, errors.New("reserve a place for a pending enrollment: not in an Update")
	}
	id, n, err := t.st.reserve(t.ctx, now, limit)
	if err != nil || id == 0 {
		return n, false, err
	}
	t.reserved = append(t.reserved, id)
	return n, true, nil
}
