package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nodeconsole/nodeconsole/controlplane/store"
)

// racers is how many goroutines compete in each race.
const racers = 16

// errLost is what a racer's fn returns when it finds the race already won.
var errLost = errors.New("lost the race")

// race runs fn in an Update on racers goroutines at once and returns how
// many committed. Every other one must have failed with errLost (a store
// that detects a conflict retries the transaction instead of failing it).
func race(t *testing.T, st store.Store, fn func(tx store.Tx, i int) error) int {
	t.Helper()
	return raceN(t, st, racers, fn)
}

// raceN is race with n racers.
func raceN(t *testing.T, st store.Store, n int, fn func(tx store.Tx, i int) error) int {
	t.Helper()
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = st.Update(context.Background(), func(tx store.Tx) error { return fn(tx, i) })
		})
	}
	close(start)
	wg.Wait()
	won := 0
	for i, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, errLost):
			t.Errorf("racer %d: %v, want success or its own error", i, err)
		}
	}
	return won
}

var raceCases = []testCase{
	{"SingleUseTokenUsedOnce", func(t *testing.T, st store.Store) {
		tok := token("t1", 0)
		tok.Uses = 0
		put(t, st, store.Tx.PutToken, tok)
		won := race(t, st, func(tx store.Tx, i int) error {
			tok, err := tx.TokenByHash("h-t1")
			if err != nil {
				return err
			}
			if tok.SingleUse && tok.Uses > 0 {
				return errLost
			}
			tok.Uses++
			if err := tx.PutToken(tok); err != nil {
				return err
			}
			return tx.PutNode(store.Node{ID: fmt.Sprint("n", i), Name: fmt.Sprint("n", i), Status: "registered"})
		})
		nodes := get(t, st, store.Tx.Nodes)
		if uses := get(t, st, func(tx store.Tx) (store.Token, error) { return tx.Token("t1") }).Uses; won != 1 || uses != 1 || len(nodes) != 1 {
			t.Errorf("%d racers used a single-use token: uses %d, %d nodes registered; want 1, 1, 1", won, uses, len(nodes))
		}
	}},
	{"TokenUsesAllCounted", func(t *testing.T, st store.Store) {
		tok := token("t1", 0)
		tok.SingleUse, tok.Uses = false, 0
		put(t, st, store.Tx.PutToken, tok)
		won := race(t, st, func(tx store.Tx, _ int) error {
			tok, err := tx.Token("t1")
			if err != nil {
				return err
			}
			tok.Uses++
			return tx.PutToken(tok)
		})
		if uses := get(t, st, func(tx store.Tx) (store.Token, error) { return tx.Token("t1") }).Uses; won != racers || uses != racers {
			t.Errorf("%d racers used a token: uses %d, want %d (no lost update)", won, uses, racers)
		}
	}},
	{"OneLicensePerCode", func(t *testing.T, st store.Store) {
		put(t, st, store.Tx.PutEnrollment, enrollment("e1", "n1", 0))
		won := race(t, st, func(tx store.Tx, i int) error {
			e, err := tx.EnrollmentByUserCode("UCe1")
			if err != nil {
				return err
			}
			if e.State != store.EnrollPending {
				return errLost
			}
			e.State, e.DecidedAt, e.Certificate = store.EnrollApproved, at(time.Minute), fmt.Sprint("cert of racer ", i)
			if err := tx.PutEnrollment(e); err != nil {
				return err
			}
			if err := tx.PutNode(store.Node{ID: e.NodeID, Name: fmt.Sprint("name ", i), Status: "registered"}); err != nil {
				return err
			}
			return tx.AddEvent(store.Event{Type: "activated", NodeID: e.NodeID, Time: at(time.Minute), Message: fmt.Sprint("racer ", i)})
		})
		e := get(t, st, func(tx store.Tx) (store.Enrollment, error) { return tx.Enrollment("e1") })
		n := get(t, st, func(tx store.Tx) (store.Node, error) { return tx.Node("n1") })
		events := get(t, st, func(tx store.Tx) ([]store.Event, error) { return tx.Events(100) })
		if won != 1 || len(events) != 1 || e.Certificate != "cert of racer "+n.Name[len("name "):] {
			t.Errorf("%d racers licensed one code: %d events, certificate %q for node named %q; want 1 and one racer's both",
				won, len(events), e.Certificate, n.Name)
		}
	}},
	{"AtMostThreeCompetingEnrollments", func(t *testing.T, st store.Store) {
		const limit = 3
		now := at(time.Minute)
		won := race(t, st, func(tx store.Tx, i int) error {
			es, err := tx.EnrollmentsForNode("n1")
			if err != nil {
				return err
			}
			live := 0
			for _, e := range es {
				if e.State == store.EnrollPending && now.Before(e.ExpiresAt) {
					live++
				}
			}
			if live >= limit {
				return errLost
			}
			return tx.PutEnrollment(enrollment(fmt.Sprint("e", i), "n1", time.Duration(i)*time.Millisecond))
		})
		es := get(t, st, func(tx store.Tx) ([]store.Enrollment, error) { return tx.EnrollmentsForNode("n1") })
		pending := get(t, st, func(tx store.Tx) (int, error) { return tx.CountPending(now, "") })
		if won != limit || len(es) != limit || pending != limit {
			t.Errorf("%d racers enrolled one node ID: %d enrollments, %d pending; want %d", won, len(es), pending, limit)
		}
	}},
	{"NodeCreatedOnce", func(t *testing.T, st store.Store) {
		won := race(t, st, func(tx store.Tx, i int) error {
			created, err := tx.CreateNode(store.Node{ID: "n1", Name: fmt.Sprint("racer ", i), Status: "pending"})
			if err == nil && !created {
				err = errLost
			}
			return err
		})
		if ns := get(t, st, store.Tx.Nodes); won != 1 || len(ns) != 1 {
			t.Errorf("%d racers created one node ID; %d nodes, want 1 and 1", won, len(ns))
		}
	}},
	{"PairingKeyUsedOnce", func(t *testing.T, st store.Store) {
		n := node("n1", "n1")
		n.Status, n.PreAdded, n.PairingKeyHash = "pending", true, "pk"
		put(t, st, store.Tx.PutNode, n)
		won := race(t, st, func(tx store.Tx, i int) error {
			n, err := tx.Node("n1")
			if err != nil {
				return err
			}
			if n.PairingKeyHash != "pk" {
				return errLost
			}
			n.PairingKeyHash, n.Status, n.KeyFingerprint = "", "registered", fmt.Sprint("key of racer ", i)
			return tx.PutNode(n)
		})
		if got := get(t, st, func(tx store.Tx) (store.Node, error) { return tx.Node("n1") }); won != 1 || got.PairingKeyHash != "" {
			t.Errorf("%d racers registered with one pairing key; node %+v", won, got)
		}
	}},
	{"TOTPStepUsedOnce", func(t *testing.T, st store.Store) {
		put(t, st, store.Tx.PutUser, user("ana"))
		won := race(t, st, func(tx store.Tx, _ int) error {
			u, err := tx.User("ana")
			if err != nil {
				return err
			}
			if u.TOTPLastStep >= 59000001 {
				return errLost
			}
			u.TOTPLastStep = 59000001
			return tx.PutUser(u)
		})
		if won != 1 {
			t.Errorf("%d racers logged in with one TOTP code, want 1", won)
		}
	}},
	{"SessionUpgradedOnce", func(t *testing.T, st store.Store) {
		// The second login step replaces the session (a new hash): only
		// one of two requests with the old cookie gets the new one.
		s := session("old", "ana", 0)
		s.Stage = store.SessionTOTP
		put(t, st, store.Tx.PutSession, s)
		won := race(t, st, func(tx store.Tx, i int) error {
			s, err := tx.Session("old")
			if errors.Is(err, store.ErrNotFound) {
				return errLost
			}
			if err != nil {
				return err
			}
			if err := tx.DeleteSession("old"); err != nil {
				return err
			}
			s.Hash, s.Stage = fmt.Sprint("new-", i), store.SessionActive
			return tx.PutSession(s)
		})
		if ss := get(t, st, func(tx store.Tx) ([]store.Session, error) { return tx.SessionsForUser("ana") }); won != 1 || len(ss) != 1 {
			t.Errorf("%d racers upgraded one session; %d sessions left, want 1", won, len(ss))
		}
	}},
}
