// Package postgres is the control plane's PostgreSQL store: several
// control-plane replicas share one database, and LISTEN/NOTIFY (Notifier)
// carries a change to whichever replica holds a node's long-poll.
//
// Updates run as SERIALIZABLE transactions, retried from the start when
// PostgreSQL reports a serialization failure or a deadlock, so the control
// plane's check-then-change logic (single-use tokens, one License per code,
// competing enrollments) holds across replicas as it does in the SQLite
// store, where writes run one at a time. Views run as REPEATABLE READ, READ
// ONLY (one snapshot).
//
// Two enrollments at once need not conflict: a new node is created without
// looking its ID up (Tx.CreateNode), its user code is left to a unique
// index, and the cap on pending enrollments in all is a budget outside the
// transaction (budget.go), exact across replicas.
//
// The schema is versioned: Open applies the embedded migrations it lacks
// under an advisory lock (two replicas starting together do not race) and
// refuses a database whose schema is newer than it knows.
//
// Event IDs come from an identity column: each is larger than those of the
// events committed before its transaction began, but two transactions
// committing at the same time may commit their events out of ID order, so
// a page of EventsPage read at that moment can miss the one committed
// second with the smaller ID (SQLite, with one writer, cannot). Readers
// page newest first, from the top again to see what is new, so such an
// event is missed only as one that arrived while the reader paged, and is
// listed in its place on the next read; nothing follows events upward by
// ID (no "after" cursor), which it would break.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/nodeconsole/nodeconsole/controlplane/store"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrationLock is the pg_advisory_lock key migrations run under (any
// constant that other applications sharing the database do not use).
const migrationLock = 0x6e6f6465636f6e73 // "nodecons"

const (
	// maxAttempts bounds the tries of an Update that keeps losing
	// serialization conflicts.
	maxAttempts = 20
	// txTimeout bounds one transaction's statements (they run without the
	// caller's cancellation, see Update).
	txTimeout = 30 * time.Second
	// defaultPoolSize is the least connections a replica keeps (unless
	// the URL sets pool_max_conns).
	defaultPoolSize = 16
	// budgetPoolSize is the size of Store.budget's pool.
	budgetPoolSize = 4
)

// Store is the PostgreSQL store.Store. Close it when done.
type Store struct {
	pool *pgxpool.Pool
	// budget runs the statements of ReservePending, outside the
	// transaction that asks for a place (see budget.go): a pool of its
	// own, so that Updates holding every connection of pool cannot wait
	// for each other's reservations.
	budget *pgxpool.Pool
	dsn    string

	closed   atomic.Bool
	retries  atomic.Int64
	mu       sync.Mutex
	notifier *Notifier
}

var _ store.Store = (*Store)(nil)

// Open connects to the database at dsn (a postgres:// URL or key=value
// string, as pgx takes it; pool_max_conns sets the pool size) and applies
// the migrations it lacks. Errors never include the DSN (it may carry a
// password).
func Open(ctx context.Context, dsn string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, errors.New("postgres: the database URL is not valid (see --db)")
	}
	// A replica that dies or is cut off must not hold its locks (a lone
	// Update holds writeLock, which every write needs) until TCP notices
	// after hours: the server drops a session idle in a transaction after
	// a minute and probes an idle connection after a minute. The URL may
	// set other values.
	for k, v := range map[string]string{"idle_in_transaction_session_timeout": "60s",
		"tcp_keepalives_idle": "60", "tcp_keepalives_interval": "10", "tcp_keepalives_count": "3"} {
		if _, ok := cfg.ConnConfig.RuntimeParams[k]; !ok {
			cfg.ConnConfig.RuntimeParams[k] = v
		}
	}
	if !strings.Contains(dsn, "pool_max_conns") {
		// pgx's default, max(4, CPUs), keeps a License waiting for a
		// connection behind the polls' short transactions.
		cfg.MaxConns = int32(max(defaultPoolSize, 2*runtime.NumCPU()))
	}
	bcfg := cfg.Copy()
	bcfg.MaxConns = budgetPoolSize
	// The budget's statements rely on READ COMMITTED (a row lock waited
	// for, then the row's new version), whatever the database's default.
	bcfg.ConnConfig.RuntimeParams["default_transaction_isolation"] = "read committed"
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	budget, err := pgxpool.NewWithConfig(ctx, bcfg)
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	s := &Store{pool: pool, budget: budget, dsn: dsn}
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		budget.Close()
		return nil, err
	}
	return s, nil
}

// migrations returns the embedded migrations in order: the file
// NNNN_name.sql is version NNNN, numbered from 1 without gaps.
func migrations() ([]string, error) {
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	out := make([]string, 0, len(names))
	for i, name := range names {
		base := strings.TrimPrefix(name, "migrations/")
		n, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
		if err != nil || n != i+1 {
			return nil, fmt.Errorf("postgres: migration %s is out of sequence", base)
		}
		b, err := migrationFiles.ReadFile(name)
		if err != nil {
			return nil, err
		}
		out = append(out, string(b))
	}
	return out, nil
}

// SchemaVersion is the schema version this binary knows (its last
// migration).
func SchemaVersion() int {
	m, _ := migrations()
	return len(m)
}

// migrate applies the missing migrations, each in its own transaction,
// holding a session advisory lock meanwhile.
func (s *Store) migrate(ctx context.Context) error {
	steps, err := migrations()
	if err != nil {
		return err
	}
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("postgres: connect: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", int64(migrationLock)); err != nil {
		return fmt.Errorf("postgres: lock for migrations: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", int64(migrationLock))
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)`); err != nil {
		return fmt.Errorf("postgres: create schema_migrations: %w", err)
	}
	var version int
	if err := conn.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM schema_migrations").Scan(&version); err != nil {
		return fmt.Errorf("postgres: read schema version: %w", err)
	}
	if version > len(steps) {
		return fmt.Errorf("postgres: the database has schema version %d, newer than this controlplane knows (%d): run a newer controlplane", version, len(steps))
	}
	for i := version; i < len(steps); i++ {
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, steps[i]); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)",
				i+1, time.Now().UnixNano())
			return err
		})
		if err != nil {
			return fmt.Errorf("postgres: migration %d: %w", i+1, err)
		}
	}
	return nil
}

// View runs fn in a read-only transaction on one snapshot.
func (s *Store) View(ctx context.Context, fn func(store.Tx) error) error {
	return s.run(ctx, false, fn)
}

// Update runs fn in a serializable transaction, committed if fn returns
// nil. When PostgreSQL cannot serialize it with concurrent ones (another
// replica changed what fn read, or two transactions touched the same index
// pages), the transaction is rolled back and fn runs again from the start;
// fn must not keep state across runs other than what it resets. Once fn
// runs, its statements and the commit go on even if ctx is cancelled (as
// in the SQLite store: a committed Update must not look failed), bounded
// by txTimeout.
//
// Progress under contention: every Update holds the advisory lock
// writeLock shared; after exclusiveAfter conflicts in a row an Update
// takes it exclusively before it begins, so it runs while no other
// serializable transaction does and cannot conflict again.
//
// Retries counts the retried transactions; TestSourceCountsDoNotConflict
// and TestCappedEnrollmentsDoNotConflict hold it down where conflicts were
// not inherent.
func (s *Store) Update(ctx context.Context, fn func(store.Tx) error) error {
	return s.run(ctx, true, fn)
}

const (
	// writeLock is the advisory lock key every Update holds shared, and
	// a lone one exclusively ("nodeconsole-write").
	writeLock = 0x6e6f6465636f7772
	// exclusiveAfter is how many serialization failures in a row make an
	// Update run alone.
	exclusiveAfter = 3
)

// Transaction starts (one round trip each). Updates take writeLock shared
// in the same round trip, unless they hold it exclusively already.
const (
	beginView      = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
	beginExclusive = "BEGIN ISOLATION LEVEL SERIALIZABLE READ WRITE"
)

var beginUpdate = fmt.Sprintf("%s; SELECT pg_advisory_xact_lock_shared(%d)", beginExclusive, writeLock)

func (s *Store) run(ctx context.Context, write bool, fn func(store.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := s.attempt(ctx, write, write && attempt > exclusiveAfter, fn)
		if err == nil || !retryable(err) || attempt == maxAttempts {
			return err
		}
		s.retries.Add(1)
		// Back off a little, randomly, so the conflicting transactions
		// do not meet again at once.
		d := time.Duration(rand.Int64N(int64(attempt) * int64(time.Millisecond)))
		select {
		case <-time.After(d):
		case <-ctx.Done():
			return err
		}
	}
}

// attempt runs fn once in a transaction; alone holds writeLock
// exclusively around it.
func (s *Store) attempt(ctx context.Context, write, alone bool, fn func(store.Tx) error) (err error) {
	if s.closed.Load() {
		return store.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	pc, err := s.pool.Acquire(ctx)
	if err != nil {
		if s.closed.Load() {
			return store.ErrClosed
		}
		return fmt.Errorf("postgres: connect: %w", err)
	}
	defer pc.Release()
	conn := pc.Conn()
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), txTimeout)
	defer cancel()
	// A connection left in an unknown state (a failed ROLLBACK or unlock)
	// is closed, which ends its transaction and releases its locks; the
	// pool then drops it.
	discard := func() { conn.Close(sctx) }
	begin := beginView
	if write {
		begin = beginUpdate
	}
	if alone {
		if _, err := conn.Exec(sctx, "SELECT pg_advisory_lock($1)", int64(writeLock)); err != nil {
			discard()
			return fmt.Errorf("postgres: lock for a lone update: %w", err)
		}
		defer func() {
			if _, err := conn.Exec(sctx, "SELECT pg_advisory_unlock($1)", int64(writeLock)); err != nil {
				discard()
			}
		}()
		begin = beginExclusive
	}
	if _, err := conn.Exec(sctx, begin); err != nil {
		discard()
		return fmt.Errorf("postgres: begin transaction: %w", err)
	}
	rollback := func() {
		if _, err := conn.Exec(sctx, "ROLLBACK"); err != nil {
			discard()
		}
	}
	t := &tx{ctx: sctx, conn: conn, write: write, st: s}
	// Once the transaction is over, each place ReservePending took is
	// settled: kept by the enrollment that committed with it, or given
	// back.
	defer func() {
		for _, id := range t.reserved {
			s.settle(sctx, id)
		}
	}()
	defer func() {
		if p := recover(); p != nil {
			rollback()
			panic(p)
		}
	}()
	if err := fn(t); err != nil {
		rollback()
		// A serialization failure fn saw but did not pass on (wrapped
		// into another error, or ignored) still means: run it again.
		if t.conflict != nil {
			return t.conflict
		}
		return err
	}
	if t.conflict != nil {
		rollback()
		return t.conflict
	}
	tag, err := conn.Exec(sctx, "COMMIT")
	if err != nil {
		if !retryable(err) {
			discard() // not known whether it committed; the connection goes
		}
		return fmt.Errorf("postgres: commit: %w", err)
	}
	if tag.String() != "COMMIT" {
		// A statement failed and fn went on without returning its error.
		return errors.New("postgres: commit: the transaction had failed and was rolled back")
	}
	return nil
}

// Retries reports how many transactions were run again after a
// serialization failure or a deadlock since Open (a measure of contention).
func (s *Store) Retries() int64 { return s.retries.Load() }

// retryable reports a serialization failure or a deadlock: the
// transaction did nothing and may run again.
func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01")
}

// Close stops the notifier, if any, and closes the connections. Later
// calls fail (store.ErrClosed).
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	s.mu.Lock()
	n := s.notifier
	s.mu.Unlock()
	if n != nil {
		n.close()
	}
	s.pool.Close()
	s.budget.Close()
	return nil
}
