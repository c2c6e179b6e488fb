package postgres_test

import (
	"context"
	"errors"
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

// Records come back as they were put; missing ones are ErrNotFound; a
// failing or panicking Update leaves nothing behind.
func TestRoundTrip(t *testing.T) {
	st := open(t, testenv.Postgres(t))
	ctx := context.Background()
	now := time.Unix(1_800_000_000, 123456789).UTC()
	node := store.Node{ID: "n1", Name: "edge-1", Status: "registered", Tags: map[string]string{"rack": "7"},
		PreAdded: true, CreatedAt: now, LastSeen: now.Add(time.Second)}
	enr := store.Enrollment{ID: "e1", NodeID: "n1", DeviceCodeHash: "d1", UserCode: "ABCD", State: store.EnrollPending,
		CreatedAt: now, ExpiresAt: now.Add(time.Hour), SourceKey: "192.0.2.1"}
	tok := store.Token{ID: "t1", Hash: "h1", SingleUse: true, AllowProjectOverride: true, Uses: 2, CreatedAt: now}
	user := store.User{Name: "ann", Role: store.RoleSite, Sites: []string{"a", "b"}, MustChangePassword: true, CreatedAt: now}
	err := st.Update(ctx, func(tx store.Tx) error {
		return errors.Join(tx.PutNode(node), tx.PutEnrollment(enr), tx.PutToken(tok), tx.PutUser(user),
			tx.PutSite(store.Site{ID: "s1", Name: "berlin"}),
			tx.AddEvent(store.Event{Type: "activated", NodeID: "n1", Time: now, Actor: "ann"}),
			tx.AddEvent(store.Event{Type: "registered", NodeID: "n1", Time: now}))
	})
	if err != nil {
		t.Fatal(err)
	}
	errBoom := errors.New("boom")
	if err := st.Update(ctx, func(tx store.Tx) error {
		if err := tx.PutSite(store.Site{ID: "s2", Name: "paris"}); err != nil {
			return err
		}
		return errBoom
	}); !errors.Is(err, errBoom) {
		t.Fatalf("Update returned %v, want its function's error", err)
	}
	func() {
		defer func() { recover() }()
		st.Update(ctx, func(tx store.Tx) error {
			tx.PutSite(store.Site{ID: "s3", Name: "rome"})
			panic("in a transaction")
		})
	}()
	// A UNIQUE violation is an error, not a silent replace.
	if err := st.Update(ctx, func(tx store.Tx) error {
		return tx.PutSite(store.Site{ID: "s4", Name: "berlin"})
	}); err == nil {
		t.Fatal("a second site named berlin was stored")
	}
	err = st.View(ctx, func(tx store.Tx) error {
		n, err := tx.Node("n1")
		if err != nil || n.Name != "edge-1" || n.Tags["rack"] != "7" || !n.PreAdded || !n.CreatedAt.Equal(now) || !n.RegisteredAt.IsZero() {
			t.Errorf("Node = %+v, %v", n, err)
		}
		e, err := tx.EnrollmentByUserCode("ABCD")
		if err != nil || e.ID != "e1" || e.State != store.EnrollPending || !e.ExpiresAt.Equal(now.Add(time.Hour)) {
			t.Errorf("EnrollmentByUserCode = %+v, %v", e, err)
		}
		if k, err := tx.CountPending(now, "192.0.2.1"); k != 1 || err != nil {
			t.Errorf("CountPending = %d, %v", k, err)
		}
		if k, err := tx.CountPending(now, "192.0.2.2"); k != 0 || err != nil {
			t.Errorf("CountPending(other source) = %d, %v", k, err)
		}
		tk, err := tx.TokenByHash("h1")
		if err != nil || tk != tok {
			t.Errorf("TokenByHash = %+v, %v; want %+v", tk, err, tok)
		}
		u, err := tx.User("ann")
		if err != nil || strings.Join(u.Sites, ",") != "a,b" || !u.MustChangePassword || u.Role != store.RoleSite {
			t.Errorf("User = %+v, %v", u, err)
		}
		sites, err := tx.Sites()
		if err != nil || len(sites) != 1 || sites[0].Name != "berlin" {
			t.Errorf("Sites = %+v, %v (the failed Updates must leave nothing)", sites, err)
		}
		ev, err := tx.EventsPage(store.EventQuery{Limit: 10, Actor: "ann"})
		if err != nil || len(ev) != 1 || ev[0].Type != "activated" {
			t.Errorf("EventsPage(actor) = %+v, %v", ev, err)
		}
		for name, get := range map[string]func() error{
			"Node":        func() error { _, err := tx.Node("nope"); return err },
			"Enrollment":  func() error { _, err := tx.Enrollment("nope"); return err },
			"Token":       func() error { _, err := tx.Token("nope"); return err },
			"User":        func() error { _, err := tx.User("nope"); return err },
			"Session":     func() error { _, err := tx.Session("nope"); return err },
			"APIToken":    func() error { _, err := tx.APIToken("nope"); return err },
			"NodeCert":    func() error { _, err := tx.NodeCert("nope"); return err },
			"Site":        func() error { _, err := tx.Site("nope"); return err },
			"ByUserCode":  func() error { _, err := tx.EnrollmentByUserCode("nope"); return err },
			"ByHash":      func() error { _, err := tx.EnrollmentByDeviceHash("nope"); return err },
			"TokenByHash": func() error { _, err := tx.TokenByHash("nope"); return err },
		} {
			if err := get(); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("%s of a missing record: %v, want ErrNotFound", name, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// MaxEvents keeps the newest, whatever gaps the ids have.
	var res store.PruneResult
	if err := st.Update(ctx, func(tx store.Tx) (err error) {
		res, err = tx.Prune(store.Prune{MaxEvents: 1})
		return err
	}); err != nil || res.Events != 1 {
		t.Fatalf("Prune(MaxEvents 1) = %+v, %v", res, err)
	}
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
					DeviceCodeHash: fmt.Sprint("dch-", i), State: store.EnrollPending, ExpiresAt: now.Add(time.Hour)})
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
		WHERE query = 'LISTEN nodeconsole_enrollments' AND pid <> pg_backend_pid()`).Scan(&killed); err != nil {
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

// TestConformance: the PostgreSQL store passes the store suite, each case
// on a database of its own.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		st, err := postgres.Open(context.Background(), testenv.Postgres(t))
		if err != nil {
			t.Fatal(err)
		}
		return st
	})
}
