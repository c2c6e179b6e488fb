package postgres_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/nodeconsole/nodeconsole/controlplane/store"
	"github.com/nodeconsole/nodeconsole/controlplane/store/postgres"
	"github.com/nodeconsole/nodeconsole/controlplane/store/storetest"
	"github.com/nodeconsole/nodeconsole/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.RunPostgres(m)) }

func open(t *testing.T, dsn string) *postgres.Store {
	t.Helper()
	st, err := postgres.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// Read-modify-write Updates from two stores (two replicas) on one
// database never lose an update, and of competing claims exactly one wins.
func TestUpdatesSerializeAcrossReplicas(t *testing.T) {
	dsn := testenv.Postgres(t)
	a, b := open(t, dsn), open(t, dsn)
	ctx := context.Background()
	for _, id := range []string{"counter", "single"} {
		if err := a.Update(ctx, func(tx store.Tx) error {
			return tx.PutToken(store.Token{ID: id, Hash: id, SingleUse: id == "single"})
		}); err != nil {
			t.Fatal(err)
		}
	}
	const n = 24
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	errs := make(chan error, 2*n)
	for i := range n {
		st := a
		if i%2 == 1 {
			st = b
		}
		wg.Go(func() {
			errs <- st.Update(ctx, func(tx store.Tx) error {
				tok, err := tx.Token("counter")
				if err != nil {
					return err
				}
				tok.Uses++
				return tx.PutToken(tok)
			})
		})
		wg.Go(func() {
			won := false
			err := st.Update(ctx, func(tx store.Tx) error {
				won = false
				tok, err := tx.Token("single")
				if err != nil || tok.Uses > 0 {
					return err
				}
				tok.Uses, won = 1, true
				return tx.PutToken(tok)
			})
			if err == nil && won {
				mu.Lock()
				wins++
				mu.Unlock()
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	var tok store.Token
	if err := b.View(ctx, func(tx store.Tx) (err error) { tok, err = tx.Token("counter"); return err }); err != nil {
		t.Fatal(err)
	}
	if tok.Uses != n {
		t.Errorf("counter = %d after %d increments", tok.Uses, n)
	}
	if wins != 1 {
		t.Errorf("%d claims of a single-use token won, want 1", wins)
	}

	// A cap checked by counting (write skew without serializability):
	// many more than the cap try at once, every Update succeeds, exactly
	// the cap is stored.
	const cap, tries = 5, 64
	now := time.Unix(1_800_000_000, 0)
	var capWG sync.WaitGroup
	capErrs := make(chan error, tries)
	for i := range tries {
		st := []*postgres.Store{a, b}[i%2]
		capWG.Go(func() {
			capErrs <- st.Update(ctx, func(tx store.Tx) error {
				n, err := tx.CountPending(now, "")
				if err != nil || n >= cap {
					return err
				}
				return tx.PutEnrollment(store.Enrollment{ID: fmt.Sprint("cap-", i), NodeID: fmt.Sprint("node-", i),
					DeviceCodeHash: fmt.Sprint("dch-", i), UserCode: fmt.Sprint("uc-", i), State: store.EnrollPending, ExpiresAt: now.Add(time.Hour)})
			})
		})
	}
	capWG.Wait()
	close(capErrs)
	for err := range capErrs {
		if err != nil {
			t.Fatalf("an Update under contention failed: %v", err)
		}
	}
	var pending int
	if err := a.View(ctx, func(tx store.Tx) (err error) { pending, err = tx.CountPending(now, ""); return err }); err != nil {
		t.Fatal(err)
	}
	if pending != cap {
		t.Errorf("%d pending enrollments stored against a cap of %d", pending, cap)
	}
}

// Replicas starting together migrate once; a schema newer than the binary
// is refused with one clear line.
func TestMigrations(t *testing.T) {
	dsn := testenv.Postgres(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() {
			st, err := postgres.Open(ctx, dsn)
			if err == nil {
				st.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatalf("concurrent Open: %v", err)
		}
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n, top int
	if err := conn.QueryRow(ctx, "SELECT count(*), max(version) FROM schema_migrations").Scan(&n, &top); err != nil {
		t.Fatal(err)
	}
	if n != postgres.SchemaVersion() || top != postgres.SchemaVersion() {
		t.Fatalf("schema_migrations has %d rows up to %d, want %d", n, top, postgres.SchemaVersion())
	}
	newer := postgres.SchemaVersion() + 1
	if _, err := conn.Exec(ctx, "INSERT INTO schema_migrations VALUES ($1, 0)", newer); err != nil {
		t.Fatal(err)
	}
	_, err = postgres.Open(ctx, dsn)
	want := fmt.Sprintf("schema version %d, newer than this controlplane knows (%d)", newer, postgres.SchemaVersion())
	if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "\n") {
		t.Fatalf("Open on a newer schema: %v, want one line saying %q", err, want)
	}
}

// A bad URL is refused without repeating it (it may carry a password).
func TestOpenHidesDSN(t *testing.T) {
	_, err := postgres.Open(context.Background(), "postgres://u:s3cret@host:notaport/db")
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("Open with a bad URL: %v", err)
	}
}

// A Publish on one replica wakes a subscriber on another; after the
// listening connection is lost, every subscriber is woken to re-check and
// notifications arrive again.
func TestNotifierAcrossReplicas(t *testing.T) {
	dsn := testenv.Postgres(t)
	ctx := context.Background()
	a, b := open(t, dsn), open(t, dsn)
	na, err := a.Notifier(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	nb, err := b.Notifier(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	woken, done := na.Subscribe("e1")
	defer done()
	other, done2 := na.Subscribe("e2")
	defer done2()
	nb.Publish("e1")
	<-woken
	select {
	case <-other:
		t.Fatal("a Publish of e1 woke the subscriber of e2")
	default:
	}

	otherB, done3 := nb.Subscribe("e4")
	defer done3()
	// Cut both listening connections from the server side.
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var killed int
	if err := conn.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE query = 'LISTEN nodeconsole_enrollments' AND datname = current_database() AND pid <> pg_backend_pid()`).Scan(&killed); err != nil {
		t.Fatal(err)
	}
	if killed != 2 {
		t.Fatalf("terminated %d listening connections, want 2", killed)
	}
	// Each wakes every subscriber once it listens again.
	<-other
	<-otherB
	// Both listen again: a Publish from either reaches the other.
	for _, pair := range [][2]*postgres.Notifier{{na, nb}, {nb, na}} {
		ch, done := pair[1].Subscribe("e3")
		pair[0].Publish("e3")
		<-ch
		done()
	}
}

// TestConformance: the PostgreSQL store passes the store suite, alone and
// as two stores (replicas) on one database, each case in a schema of its
// own (search_path) of one database: creating a database per case took
// most of the suite's time.
func TestConformance(t *testing.T) {
	dsn := testenv.Postgres(t)
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var mu sync.Mutex
	n := 0
	// openIn opens count stores on a new schema.
	openIn := func(t *testing.T, count int) []store.Store {
		mu.Lock()
		n++
		schema := fmt.Sprintf("case_%d", n)
		_, err := conn.Exec(context.Background(), "CREATE SCHEMA "+schema)
		mu.Unlock()
		if err != nil {
			t.Fatal(err)
		}
		var out []store.Store
		for range count {
			st, err := postgres.Open(context.Background(), dsn+"&search_path="+schema)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, st)
		}
		return out
	}
	storetest.Run(t, func(t *testing.T) store.Store { return openIn(t, 1)[0] })
	t.Run("Shared", func(t *testing.T) {
		storetest.RunShared(t, func(t *testing.T) (store.Store, store.Store) {
			sts := openIn(t, 2)
			return sts[0], sts[1]
		})
	})
	var public int
	if err := conn.QueryRow(context.Background(), "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").Scan(&public); err != nil || public != 0 {
		t.Errorf("%d tables in schema public (%v): the cases shared one schema", public, err)
	}
}

// Migration 4 (pending user codes unique) ends an older pending enrollment
// sharing its code with a newer one (superseded at its expiry) instead of
// failing on it.
func TestPendingUserCodeMigration(t *testing.T) {
	dsn := testenv.Postgres(t)
	ctx := context.Background()
	open(t, dsn).Close()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	insert := `INSERT INTO enrollments (id, node_id, make, model, version, csr, key_fingerprint, device_code_hash,
		user_code, state, source_ip, created_at, expires_at, last_poll_at, decided_at, delivered_at, certificate)
		VALUES ($1, 'n', '', '', '', '', '', $2, $3, 'pending', '', $4, $5, 0, 0, 0, '')`
	// Back to the schema before it, with two pending enrollments sharing a
	// code (the older expired) and one of their own.
	for _, q := range []struct {
		q    string
		args []any
	}{
		{"DROP INDEX enrollments_pending_user_code", nil},
		{"DELETE FROM schema_migrations WHERE version >= 4", nil},
		{insert, []any{"old", "d-old", "SAME", 1, 100}},
		{insert, []any{"new", "d-new", "SAME", 200, 300}},
		{insert, []any{"other", "d-other", "OTHER", 1, 100}},
	} {
		if _, err := conn.Exec(ctx, q.q, q.args...); err != nil {
			t.Fatalf("%s: %v", q.q, err)
		}
	}
	open(t, dsn).Close()
	got := map[string]string{}
	rows, err := conn.Query(ctx, "SELECT id, state, decided_at FROM enrollments")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id, state string
		var decided int64
		if err := rows.Scan(&id, &state, &decided); err != nil {
			t.Fatal(err)
		}
		got[id] = fmt.Sprint(state, " ", decided)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"old": "superseded 100", "new": "pending 0", "other": "pending 0"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("after the migration: %v, want %v", got, want)
	}
	if _, err := conn.Exec(ctx, insert, "again", "d-again", "SAME", 400, 500); err == nil {
		t.Error("a second pending enrollment with a pending one's code was stored after the migration")
	}
}
