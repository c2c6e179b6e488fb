package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nodeconsole/nodeconsole/controlplane/store"
	"github.com/nodeconsole/nodeconsole/controlplane/store/sqlite"
	"github.com/nodeconsole/nodeconsole/controlplane/store/storetest"
)

func openStore(t *testing.T, path string) store.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// TestConformance: the SQLite store passes the store suite.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return openStore(t, filepath.Join(t.TempDir(), "cp.db"))
	})
}

// TestConformanceShared: two stores on one file (cmd/controlplane's user
// commands open one while the server runs) pass the suite together.
func TestConformanceShared(t *testing.T) {
	storetest.RunShared(t, func(t *testing.T) (store.Store, store.Store) {
		path := filepath.Join(t.TempDir(), "cp.db")
		return openStore(t, path), openStore(t, path)
	})
}

// What committed is on disk: a store opened again on the file has it.
func TestReopenKeepsCommits(t *testing.T) {
	dir := t.TempDir()
	st, err := sqlite.OpenDir(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if err := st.Update(context.Background(), func(tx store.Tx) error {
			return tx.PutSite(store.Site{ID: fmt.Sprint(i), Name: fmt.Sprint("site ", i)})
		}); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st = openStore(t, filepath.Join(dir, sqlite.File))
	defer st.Close()
	var sites []store.Site
	if err := st.View(context.Background(), func(tx store.Tx) (err error) { sites, err = tx.Sites(); return err }); err != nil || len(sites) != 5 {
		t.Errorf("after reopening: %d sites, %v; want 5", len(sites), err)
	}
	for _, name := range []string{sqlite.File, sqlite.File + "-wal"} {
		if fi, err := os.Stat(filepath.Join(dir, name)); err == nil && fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", name, fi.Mode().Perm())
		}
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

// The migration that makes pending user codes unique ends an older pending
// enrollment sharing its code with a newer one (superseded at its expiry)
// instead of failing on it.
func TestPendingUserCodeMigration(t *testing.T) {
	path := filepath.Join(t.TempDir(), "controlplane.db")
	openStore(t, path).Close()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var version int
	if err := db.QueryRow("PRAGMA user_version").Scan(&version); err != nil {
		t.Fatal(err)
	}
	// Back to the schema before it, with two pending enrollments sharing a
	// code (the older expired) and one of their own.
	insert := `INSERT INTO enrollments (id, node_id, make, model, version, csr, key_fingerprint, device_code_hash,
		user_code, state, source_ip, created_at, expires_at, last_poll_at, decided_at, delivered_at, certificate)
		VALUES (?, 'n', '', '', '', '', '', ?, ?, 'pending', '', ?, ?, 0, 0, 0, '')`
	for _, q := range []struct {
		q    string
		args []any
	}{
		{"DROP INDEX enrollments_pending_user_code", nil},
		{insert, []any{"old", "d-old", "SAME", 1, 100}},
		{insert, []any{"new", "d-new", "SAME", 200, 300}},
		{insert, []any{"other", "d-other", "OTHER", 1, 100}},
		{fmt.Sprintf("PRAGMA user_version = %d", version-1), nil},
	} {
		if _, err := db.Exec(q.q, q.args...); err != nil {
			t.Fatalf("%s: %v", q.q, err)
		}
	}
	openStore(t, path).Close()
	got := map[string]string{}
	rows, err := db.Query("SELECT id, state, decided_at FROM enrollments")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, state string
		var decided int64
		if err := rows.Scan(&id, &state, &decided); err != nil {
			t.Fatal(err)
		}
		got[id] = fmt.Sprint(state, " ", decided)
	}
	want := map[string]string{"old": "superseded 100", "new": "pending 0", "other": "pending 0"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("after the migration: %v, want %v", got, want)
	}
	if _, err := db.Exec(insert, "again", "d-again", "SAME", 400, 500); err == nil {
		t.Error("a second pending enrollment with a pending one's code was stored after the migration")
	}
}
