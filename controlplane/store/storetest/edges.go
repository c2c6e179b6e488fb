package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nodeconsole/nodeconsole/controlplane/store"
)

var edgeCases = []testCase{
	{"WideNumbers", func(t *testing.T, st store.Store) {
		// int64 fields keep 64 bits (counts such as Token.Uses need
		// only 32).
		u := user("ana")
		u.TOTPLastStep = 1<<40 + 3
		put(t, st, store.Tx.PutUser, u)
		same(t, "User with a wide TOTPLastStep", get(t, st, func(tx store.Tx) (store.User, error) { return tx.User("ana") }), u)
	}},
	{"UnicodeAndLongValues", func(t *testing.T, st store.Store) {
		n := node("n1", "Zürich Löwenstraße 東京 🛰")
		n.Tags = map[string]string{}
		for i := range 32 {
			n.Tags[fmt.Sprintf("k%02d-ß", i)] = strings.Repeat("v€", 127)
		}
		e := enrollment("e1", "n1", 0)
		e.CSR = strings.Repeat("MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA\n", 1500) // 66 KB
		put(t, st, store.Tx.PutNode, n)
		put(t, st, store.Tx.PutEnrollment, e)
		same(t, "Node", get(t, st, func(tx store.Tx) (store.Node, error) { return tx.Node("n1") }), n)
		same(t, "Enrollment", get(t, st, func(tx store.Tx) (store.Enrollment, error) { return tx.Enrollment("e1") }), e)
	}},
	{"TimesKeepMicroseconds", func(t *testing.T, st store.Store) {
		tm := time.Date(2031, 5, 6, 7, 8, 9, 123456789, time.FixedZone("CEST", 2*3600))
		put(t, st, store.Tx.PutSession, store.Session{Hash: "s1", User: "ana", CreatedAt: tm, LastSeen: tm})
		got := get(t, st, func(tx store.Tx) (store.Session, error) { return tx.Session("s1") })
		if d := got.CreatedAt.Sub(tm); d < -time.Microsecond || d > time.Microsecond {
			t.Errorf("time %v came back as %v (%v off), want within a microsecond", tm, got.CreatedAt, d)
		}
	}},
	{"DeletesSeenInTheirTransaction", func(t *testing.T, st store.Store) {
		put(t, st, store.Tx.PutNode, node("n1", "a"))
		put(t, st, store.Tx.PutUser, user("ana"))
		put(t, st, store.Tx.PutAPIToken, apiToken("k1", "ana", 0))
		update(t, st, func(tx store.Tx) error {
			if err := tx.DeleteNode("n1"); err != nil {
				return err
			}
			if _, err := tx.Node("n1"); !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("node after DeleteNode in one transaction: %v, want store.ErrNotFound", err)
			}
			if err := tx.DeleteUser("ana"); err != nil {
				return err
			}
			if ks, err := tx.APITokensForUser("ana"); err != nil || len(ks) != 0 {
				return fmt.Errorf("api tokens after DeleteUser in one transaction: %+v, %v", ks, err)
			}
			return nil
		})
	}},
	{"FailedUpdateAddsNoEvents", func(t *testing.T, st store.Store) {
		addEvents(t, st, 1)
		errMine := errors.New("mine")
		err := st.Update(context.Background(), func(tx store.Tx) error {
			if err := tx.AddEvent(store.Event{Type: "denied", Time: t0, Message: "rolled back"}); err != nil {
				return err
			}
			return errMine
		})
		if !errors.Is(err, errMine) {
			t.Fatalf("Update: %v, want its own error", err)
		}
		addEvents(t, st, 1)
		es := get(t, st, func(tx store.Tx) ([]store.Event, error) { return tx.Events(10) })
		same(t, "events", messages(es), []string{"event 0", "event 0"})
		if len(es) == 2 && es[0].ID <= es[1].ID {
			t.Errorf("event IDs after a rolled-back event: %d then %d, want growing", es[1].ID, es[0].ID)
		}
	}},
	{"PruneBoundaries", func(t *testing.T, st store.Store) {
		cut := at(time.Hour)
		atCut := enrollment("at-cut", "n1", cut.Sub(t0)-15*time.Minute) // expires at the cutoff
		decidedAtCut := enrollment("decided-at-cut", "n2", 0)
		decidedAtCut.State, decidedAtCut.DecidedAt = store.EnrollDenied, cut
		put(t, st, store.Tx.PutEnrollment, atCut, decidedAtCut)
		addEvents(t, st, 3)
		res := change(t, st, func(tx store.Tx) (store.PruneResult, error) {
			return tx.Prune(store.Prune{EnrollmentsBefore: cut, EventsBefore: t0, MaxEvents: 3})
		})
		if res != (store.PruneResult{}) {
			t.Errorf("Prune at the boundaries deleted %+v, want nothing (before means before; 3 events kept at MaxEvents 3)", res)
		}
	}},
	{"ViewDuringUpdate", func(t *testing.T, st store.Store) {
		// A View runs while an Update is under way, without waiting for
		// it and without seeing its writes.
		written, release := make(chan struct{}), make(chan struct{})
		done := make(chan error, 1)
		go func() {
			done <- st.Update(context.Background(), func(tx store.Tx) error {
				if err := tx.PutSite(store.Site{ID: "s1", Name: "one"}); err != nil {
					return err
				}
				close(written)
				<-release
				return nil
			})
		}()
		<-written
		notFound(t, st, "a site an unfinished Update wrote", func(tx store.Tx) (store.Site, error) { return tx.Site("s1") })
		close(release)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if _, err := get2(t, st, func(tx store.Tx) (store.Site, error) { return tx.Site("s1") }); err != nil {
			t.Errorf("after the Update: %v", err)
		}
	}},
	{"CloseWhileBusy", func(t *testing.T, st store.Store) {
		// Calls under way when Close comes each end (done or failed); no
		// call hangs, and every call after Close gets ErrClosed.
		var wg sync.WaitGroup
		started := make(chan struct{}, 8)
		for i := range 8 {
			wg.Go(func() {
				started <- struct{}{}
				for j := 0; ; j++ {
					var err error
					if j%2 == 0 {
						err = st.Update(context.Background(), func(tx store.Tx) error {
							return tx.PutSite(store.Site{ID: fmt.Sprint(i, "-", j), Name: fmt.Sprint(i, "-", j)})
						})
					} else {
						err = st.View(context.Background(), func(tx store.Tx) error { _, err := tx.Sites(); return err })
					}
					if err != nil {
						return
					}
				}
			})
		}
		for range 8 {
			<-started
		}
		if err := st.Close(); err != nil {
			t.Errorf("Close while busy: %v", err)
		}
		wg.Wait()
		if err := st.View(context.Background(), func(store.Tx) error { return nil }); !errors.Is(err, store.ErrClosed) {
			t.Errorf("View after a busy Close: %v, want store.ErrClosed", err)
		}
	}},
}
