package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"

	"github.com/nodeconsole/nodeconsole/controlplane/store"
)

// commitBatch, driven directly so the batch is known: one failing call in
// the middle of a batch is rolled back alone, the calls around it commit,
// and a call whose context is done does not run.
func TestCommitBatchSavepoints(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "cp.db")
	st, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	// A write connection of our own; the store's writer stays idle
	// meanwhile.
	db, err := sql.Open("sqlite", sqliteDSN(path, false))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	c, err := newSQLiteConn(ctx, db, true)
	if err != nil {
		t.Fatal(err)
	}
	errRefused := errors.New("refused")
	put := func(id string, err error) func(store.Tx) error {
		return func(tx store.Tx) error {
			if perr := tx.PutSite(store.Site{ID: id, Name: id}); perr != nil {
				return perr
			}
			return err
		}
	}
	done, cancel := context.WithCancel(ctx)
	cancel()
	ranCancelled := false
	batch := []*storeCall{
		{ctx: ctx, fn: put("a", nil)},
		{ctx: ctx, fn: put("b", errRefused)},
		{ctx: ctx, fn: put("a", nil)}, // sees a: replaces it, fine
		{ctx: done, fn: func(store.Tx) error { ranCancelled = true; return nil }},
		{ctx: ctx, fn: func(tx store.Tx) error {
			if _, err := tx.Site("b"); !errors.Is(err, store.ErrNotFound) {
				return errors.New("sees the rolled-back write of b")
			}
			return tx.PutSite(store.Site{ID: "c", Name: "c"})
		}},
	}
	c.commitBatch(batch)
	c.close()
	for i, want := range []error{nil, errRefused, nil, context.Canceled, nil} {
		if !errors.Is(batch[i].err, want) {
			t.Errorf("call %d: err %v, want %v", i, batch[i].err, want)
		}
	}
	if ranCancelled {
		t.Error("a call with a cancelled context ran")
	}
	err = st.View(ctx, func(tx store.Tx) error {
		sites, err := tx.Sites()
		if err != nil {
			return err
		}
		if len(sites) != 2 || sites[0].ID != "a" || sites[1].ID != "c" {
			t.Errorf("sites after the batch: %+v, want a and c", sites)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
