package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/nodeconsole/nodeconsole/controlplane/store"
)

var transactionCases = []testCase{
	{"UpdateSeesItsOwnWrites", func(t *testing.T, st store.Store) {
		update(t, st, func(tx store.Tx) error {
			if err := tx.PutSite(store.Site{ID: "s1", Name: "one"}); err != nil {
				return err
			}
			s, err := tx.Site("s1")
			if err != nil || s.Name != "one" {
				return fmt.Errorf("read back inside the transaction: %+v, %v", s, err)
			}
			return nil
		})
	}},
	{"ViewSeesCommittedWrites", func(t *testing.T, st store.Store) {
		for i := range 20 {
			id := fmt.Sprint("s", i)
			put(t, st, store.Tx.PutSite, store.Site{ID: id, Name: id})
			if _, err := get2(t, st, func(tx store.Tx) (store.Site, error) { return tx.Site(id) }); err != nil {
				t.Fatalf("View after Update %d: %v", i, err)
			}
		}
	}},
	{"ViewIsReadOnly", func(t *testing.T, st store.Store) {
		err := st.View(context.Background(), func(tx store.Tx) error { return tx.PutSite(store.Site{ID: "x", Name: "x"}) })
		if err == nil {
			t.Error("a write inside View succeeded")
		}
		if sites := get(t, st, store.Tx.Sites); len(sites) != 0 {
			t.Errorf("after a write inside View: sites %+v, want none", sites)
		}
	}},
	{"FailedUpdateLeavesNothing", func(t *testing.T, st store.Store) {
		errMine := errors.New("mine")
		err := st.Update(context.Background(), func(tx store.Tx) error {
			if err := tx.PutSite(store.Site{ID: "s1", Name: "one"}); err != nil {
				return err
			}
			return errMine
		})
		if !errors.Is(err, errMine) {
			t.Errorf("Update: err %v, want fn's own error", err)
		}
		notFound(t, st, "site of a failed Update", func(tx store.Tx) (store.Site, error) { return tx.Site("s1") })
	}},
	{"PanicLeavesNothing", func(t *testing.T, st store.Store) {
		func() {
			defer func() {
				if p := recover(); p != "boom" {
					t.Errorf("panic in fn: caller recovered %v, want boom", p)
				}
			}()
			st.Update(context.Background(), func(tx store.Tx) error {
				if err := tx.PutSite(store.Site{ID: "s1", Name: "one"}); err != nil {
					return err
				}
				panic("boom")
			})
		}()
		notFound(t, st, "site of a panicking Update", func(tx store.Tx) (store.Site, error) { return tx.Site("s1") })
		put(t, st, store.Tx.PutSite, store.Site{ID: "s2", Name: "two"}) // still usable
	}},
	{"ConcurrentUpdatesFailAlone", func(t *testing.T, st store.Store) {
		// Updates running at once: each one that fails (its own error, a
		// conflict, a panic) is undone alone; the others keep theirs.
		errMine := errors.New("mine")
		const n = 40
		results, panics := make([]error, n), make([]any, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				defer func() { panics[i] = recover() }()
				results[i] = st.Update(context.Background(), func(tx store.Tx) error {
					name := fmt.Sprintf("site-%02d", i)
					if i%10 == 3 {
						name = "duplicate" // unique: only one may win
					}
					if err := tx.PutSite(store.Site{ID: fmt.Sprint("id-", i), Name: name}); err != nil {
						return err
					}
					switch i % 10 {
					case 5:
						return errMine
					case 7:
						panic(fmt.Sprint("boom ", i))
					}
					return nil
				})
			})
		}
		wg.Wait()
		names := map[string]bool{}
		for _, s := range get(t, st, store.Tx.Sites) {
			names[s.Name] = true
		}
		dupWins := 0
		for i := range n {
			name := fmt.Sprintf("site-%02d", i)
			switch i % 10 {
			case 3:
				if results[i] == nil {
					dupWins++
				} else if !errors.Is(results[i], store.ErrConflict) {
					t.Errorf("call %d: err %v, want nil or store.ErrConflict", i, results[i])
				}
			case 5:
				if !errors.Is(results[i], errMine) || names[name] {
					t.Errorf("call %d: err %v, kept %v; want its own error and nothing kept", i, results[i], names[name])
				}
			case 7:
				if panics[i] != fmt.Sprint("boom ", i) || names[name] {
					t.Errorf("call %d: panic %v, kept %v; want its panic on the caller and nothing kept", i, panics[i], names[name])
				}
			default:
				if results[i] != nil || !names[name] {
					t.Errorf("call %d: err %v, kept %v; want it committed", i, results[i], names[name])
				}
			}
		}
		if dupWins != 1 || !names["duplicate"] {
			t.Errorf("%d of the calls writing one unique name succeeded, want 1", dupWins)
		}
	}},
	{"ViewsSeeWholeUpdates", func(t *testing.T, st store.Store) {
		// Each Update moves a use from one token to another; a View never
		// sees one half of it.
		put(t, st, store.Tx.PutToken, store.Token{ID: "a", Hash: "ha", Uses: 100}, store.Token{ID: "b", Hash: "hb"})
		var wg sync.WaitGroup
		wg.Go(func() {
			for range 30 {
				st.Update(context.Background(), func(tx store.Tx) error {
					a, b, err := tokenPair(tx)
					if err != nil {
						return err
					}
					a.Uses, b.Uses = a.Uses-1, b.Uses+1
					if err := tx.PutToken(a); err != nil {
						return err
					}
					return tx.PutToken(b)
				})
			}
		})
		for range 30 {
			view(t, st, func(tx store.Tx) error {
				a, b, err := tokenPair(tx)
				if err != nil {
					return err
				}
				if a.Uses+b.Uses != 100 {
					t.Errorf("a View saw half an Update: uses %d + %d", a.Uses, b.Uses)
				}
				return nil
			})
		}
		wg.Wait()
		if b := get(t, st, func(tx store.Tx) (store.Token, error) { return tx.Token("b") }); b.Uses != 30 {
			t.Errorf("after 30 Updates: b.Uses %d, want 30", b.Uses)
		}
	}},
	{"CancelledContext", func(t *testing.T, st store.Store) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		ran := false
		if err := st.Update(ctx, func(store.Tx) error { ran = true; return nil }); !errors.Is(err, context.Canceled) || ran {
			t.Errorf("Update with a cancelled context: err %v, ran %v; want context.Canceled, not run", err, ran)
		}
		if err := st.View(ctx, func(store.Tx) error { ran = true; return nil }); !errors.Is(err, context.Canceled) || ran {
			t.Errorf("View with a cancelled context: err %v, ran %v; want context.Canceled, not run", err, ran)
		}
	}},
	{"Closed", func(t *testing.T, st store.Store) {
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
		if err := st.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
		ran := false
		noop := func(store.Tx) error { ran = true; return nil }
		if err := st.Update(context.Background(), noop); !errors.Is(err, store.ErrClosed) {
			t.Errorf("Update after Close: %v, want store.ErrClosed", err)
		}
		if err := st.View(context.Background(), noop); !errors.Is(err, store.ErrClosed) {
			t.Errorf("View after Close: %v, want store.ErrClosed", err)
		}
		if ran {
			t.Error("a function ran after Close")
		}
	}},
}

// tokenPair reads tokens a and b.
func tokenPair(tx store.Tx) (a, b store.Token, err error) {
	if a, err = tx.Token("a"); err != nil {
		return a, b, err
	}
	b, err = tx.Token("b")
	return a, b, err
}
