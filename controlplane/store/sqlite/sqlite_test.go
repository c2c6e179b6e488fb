package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/nodeconsole/nodeconsole/controlplane/store"
	"github.com/nodeconsole/nodeconsole/controlplane/store/sqlite"
)

func openStore(t *testing.T, path string) store.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func siteNames(t *testing.T, st store.Store) map[string]bool {
	t.Helper()
	names := map[string]bool{}
	err := st.View(context.Background(), func(tx store.Tx) error {
		sites, err := tx.Sites()
		for _, s := range sites {
			names[s.Name] = true
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return names
}

// Updates that queue up commit together, but each one that fails (its own
// error, an SQL error, a panic) is rolled back alone, and the others keep
// what they wrote, as if each ran in its own transaction.
func TestSQLiteUpdatesCommitTogetherAndFailAlone(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cp.db")
	st := openStore(t, path)
	ctx := context.Background()
	errMine := errors.New("mine")
	const n = 60
	var wg sync.WaitGroup
	results := make([]error, n)
	panics := make([]any, n)
	for i := range n {
		wg.Go(func() {
			defer func() { panics[i] = recover() }()
			results[i] = st.Update(ctx, func(tx store.Tx) error {
				name := fmt.Sprintf("site-%02d", i)
				if i%10 == 3 {
					name = "duplicate" // UNIQUE: only one of these may win
				}
				if err := tx.PutSite(store.Site{ID: fmt.Sprint("id-", i), Name: name}); err != nil {
					return err
				}
				switch i % 10 {
				case 5:
					return errMine // written, then refused: must not stay
				case 7:
					panic(fmt.Sprint("boom ", i))
				}
				return nil
			})
		})
	}
	wg.Wait()
	names := siteNames(t, st)
	dupWins := 0
	for i := range n {
		name := fmt.Sprintf("site-%02d", i)
		switch i % 10 {
		case 3:
			if results[i] == nil {
				dupWins++
			}
		case 5:
			if !errors.Is(results[i], errMine) || names[name] {
				t.Errorf("call %d: err %v, site kept %v; want its own error and nothing kept", i, results[i], names[name])
			}
		case 7:
			if panics[i] != fmt.Sprint("boom ", i) || names[name] {
				t.Errorf("call %d: panic %v, site kept %v; want its panic on the caller and nothing kept", i, panics[i], names[name])
			}
		default:
			if results[i] != nil || !names[name] {
				t.Errorf("call %d: err %v, site kept %v; want it committed", i, results[i], names[name])
			}
		}
	}
	if dupWins != 1 || !names["duplicate"] {
		t.Errorf("%d of the calls writing the same unique name succeeded, want 1", dupWins)
	}

	// What was committed is on disk.
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st = openStore(t, path)
	defer st.Close()
	if got := siteNames(t, st); len(got) != len(names) {
		t.Errorf("after reopening: %d sites, want %d", len(got), len(names))
	}
}

// A View that starts after an Update returned sees what it wrote (reads run
// on other connections than writes).
func TestSQLiteReadsSeeCommittedWrites(t *testing.T) {
	st := openStore(t, filepath.Join(t.TempDir(), "cp.db"))
	defer st.Close()
	ctx := context.Background()
	for i := range 50 {
		id := fmt.Sprint("s", i)
		if err := st.Update(ctx, func(tx store.Tx) error {
			return tx.PutSite(store.Site{ID: id, Name: id})
		}); err != nil {
			t.Fatal(err)
		}
		err := st.View(ctx, func(tx store.Tx) error {
			_, err := tx.Site(id)
			return err
		})
		if err != nil {
			t.Fatalf("View after Update %d: %v", i, err)
		}
	}
	// Views are read-only.
	err := st.View(ctx, func(tx store.Tx) error { return tx.PutSite(store.Site{ID: "x", Name: "x"}) })
	if err == nil {
		t.Error("a write inside View succeeded")
	}
}

// A call whose context is already done does not run; calls after Close
// fail instead of hanging.
func TestSQLiteCancelledAndClosed(t *testing.T) {
	st := openStore(t, filepath.Join(t.TempDir(), "cp.db"))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ran := false
	if err := st.Update(ctx, func(store.Tx) error { ran = true; return nil }); !errors.Is(err, context.Canceled) || ran {
		t.Errorf("Update with a cancelled context: err %v, ran %v", err, ran)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	noop := func(store.Tx) error { return nil }
	if err := st.Update(context.Background(), noop); err == nil {
		t.Error("Update after Close succeeded")
	}
	if err := st.View(context.Background(), noop); err == nil {
		t.Error("View after Close succeeded")
	}
}

// TestNewerSchemaRefused: a database from a newer controlplane (say, a
// restored backup) is refused with one sentence instead of being used.
func TestNewerSchemaRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "controlplane.db")
	openStore(t, path).Close()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("PRAGMA user_version = 9999"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err = sqlite.Open(context.Background(), path)
	if err == nil || !strings.Contains(err.Error(), "schema version 9999, newer than this controlplane knows") {
		t.Fatalf("Open on a newer schema: %v", err)
	}
}
