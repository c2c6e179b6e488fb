// Package sqlite is the control plane's embedded store: one SQLite file
// (modernc.org/sqlite, pure Go) in WAL mode, with its schema migrations,
// group commit and the online snapshot a backup takes. It implements
// store.Store; Open and OpenDir open one.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/nodeconsole/nodeconsole/controlplane/store"
)

// sqliteStore is the SQLite Store.
//
// Writes: one goroutine owns the only write connection and runs Update
// calls one after another. Calls that queue up while a transaction commits
// run together in the next one (group commit): each in its own SAVEPOINT,
// rolled back alone if its function fails, and one COMMIT (one fsync) for
// all; every caller gets its answer after that commit. This is the same
// as running them one at a time, minus most of the fsyncs.
//
// Reads: a few goroutines, each owning a read-only connection, run View
// calls; with WAL they read the last commit without waiting for the writer.
//
// Checkpoints (copying the WAL into the database file, with an fsync) run
// on a goroutine and connection of their own after commits, at most every
// checkpointEvery, instead of inside whichever commit crosses SQLite's
// automatic threshold, so writes don't wait for them. Such a checkpoint
// cannot finish while commits keep coming, and the WAL only restarts from
// its beginning after one that finished: when it passes walCatchUpFrames
// the writer runs one checkpoint itself between two batches.
//
// Every statement is prepared once per connection, and runs on the
// goroutine that owns the connection, so SQLite's deep call stacks stay
// off the request goroutines (a held long-poll then costs a small stack).
// Statements run without the caller's context: a request that goes away
// never interrupts a transaction shared with others. The caller's context
// is checked before its function runs.
type sqliteStore struct {
	wdb, rdb, cdb *sql.DB
	writes        chan *storeCall
	reads         chan *storeCall
	committed     chan struct{} // the checkpointer's doorbell
	catchUp       atomic.Bool   // the writer should checkpoint (WAL too long)
	quit          chan struct{}
	workers       sync.WaitGroup
	// mu guards closed: calls are handed over under RLock, so that after
	// Close has set closed no call can be left in a queue unanswered.
	mu       sync.RWMutex
	closed   bool
	close    sync.Once
	closeErr error
}

// storeCall is one View or Update waiting for its worker.
type storeCall struct {
	ctx   context.Context
	fn    func(store.Tx) error
	err   error
	panic any // re-raised on the caller's goroutine
	done  chan struct{}
}

const (
	// maxBatch bounds the Update calls committed together.
	maxBatch = 128
	// sqliteBusyMillis is how long a connection waits for a lock held by
	// another connection (checkpoints, another process) before failing.
	sqliteBusyMillis = 5000
	// checkpointEvery spaces WAL checkpoints.
	checkpointEvery = 250 * time.Millisecond
	// walCatchUpFrames is the WAL length (pages) at which the writer
	// checkpoints itself (16 MiB of 4 KiB pages).
	walCatchUpFrames = 4096
	// walSizeLimit is what the WAL file is truncated to when it restarts.
	walSizeLimit = 32 << 20
)

// Open opens (creating if needed) the SQLite database at path in WAL
// mode and applies pending migrations. path must be a file (":memory:"
// would give each connection its own database).
func Open(ctx context.Context, path string) (store.Store, error) {
	wdb, err := sql.Open("sqlite", sqliteDSN(path, false))
	if err != nil {
		return nil, fmt.Errorf("controlplane: open database %s: %w", path, err)
	}
	wdb.SetMaxOpenConns(1)
	wdb.SetConnMaxIdleTime(0)
	s := &sqliteStore{wdb: wdb, writes: make(chan *storeCall, maxBatch), reads: make(chan *storeCall),
		committed: make(chan struct{}, 1), quit: make(chan struct{})}
	if err := s.migrate(ctx); err != nil {
		wdb.Close()
		return nil, fmt.Errorf("controlplane: migrate %s: %w", path, err)
	}
	readers := max(2, runtime.GOMAXPROCS(0))
	if s.rdb, err = sql.Open("sqlite", sqliteDSN(path, true)); err != nil {
		wdb.Close()
		return nil, fmt.Errorf("controlplane: open database %s: %w", path, err)
	}
	s.rdb.SetMaxOpenConns(readers)
	s.rdb.SetMaxIdleConns(readers)
	s.rdb.SetConnMaxIdleTime(0)
	if s.cdb, err = sql.Open("sqlite", sqliteDSN(path, false)); err != nil {
		s.rdb.Close()
		wdb.Close()
		return nil, fmt.Errorf("controlplane: open database %s: %w", path, err)
	}
	s.cdb.SetMaxOpenConns(1)
	s.cdb.SetConnMaxIdleTime(0)
	w, err := newSQLiteConn(ctx, wdb, true)
	if err != nil {
		s.cdb.Close()
		s.rdb.Close()
		wdb.Close()
		return nil, fmt.Errorf("controlplane: open database %s: %w", path, err)
	}
	conns := []*sqliteConn{w}
	for range readers {
		r, err := newSQLiteConn(ctx, s.rdb, false)
		if err != nil {
			for _, c := range conns {
				c.close()
			}
			s.cdb.Close()
			s.rdb.Close()
			wdb.Close()
			return nil, fmt.Errorf("controlplane: open database %s: %w", path, err)
		}
		conns = append(conns, r)
	}
	s.workers.Go(func() { s.writer(w) })
	s.workers.Go(s.checkpointer)
	for _, r := range conns[1:] {
		s.workers.Go(func() { s.reader(r) })
	}
	return s, nil
}

// sqliteDSN is the data source name of every connection to path.
//
// synchronous=FULL: a commit is on disk before any caller is told it
// succeeded (an approval the server forgot after a power cut would leave a
// node with a certificate the server refuses). Group commit keeps the
// fsyncs few. No connection checkpoints by itself (the checkpointer does).
func sqliteDSN(path string, readOnly bool) string {
	dsn := fmt.Sprintf("file:%s?_pragma=journal_mode(WAL)&_pragma=busy_timeout(%d)&_pragma=foreign_keys(1)&_pragma=synchronous(FULL)"+
		"&_pragma=wal_autocheckpoint(0)&_pragma=journal_size_limit(%d)", path, sqliteBusyMillis, walSizeLimit)
	if readOnly {
		dsn += "&_pragma=query_only(1)"
	}
	return dsn
}

func (s *sqliteStore) View(ctx context.Context, fn func(store.Tx) error) error {
	return s.do(ctx, s.reads, fn)
}

func (s *sqliteStore) Update(ctx context.Context, fn func(store.Tx) error) error {
	return s.do(ctx, s.writes, fn)
}

// do hands fn to a worker and waits for its answer. Once a worker has
// taken the call it runs to the end (the caller still waits: an Update
// that committed must not look like it failed).
func (s *sqliteStore) do(ctx context.Context, q chan *storeCall, fn func(store.Tx) error) error {
	c := &storeCall{ctx: ctx, fn: fn, done: make(chan struct{})}
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return store.ErrClosed
	}
	select {
	case q <- c:
	case <-ctx.Done():
		s.mu.RUnlock()
		return ctx.Err()
	}
	s.mu.RUnlock()
	<-c.done
	if c.panic != nil {
		panic(c.panic)
	}
	return c.err
}

// writer runs Update calls on the write connection, committing the calls
// that queued up meanwhile together.
func (s *sqliteStore) writer(c *sqliteConn) {
	defer c.close()
	batch := make([]*storeCall, 0, maxBatch)
	for {
		select {
		case first := <-s.writes:
			batch = append(batch[:0], first)
		case <-s.quit:
			return
		}
	more:
		for len(batch) < maxBatch {
			select {
			case next := <-s.writes:
				batch = append(batch, next)
			default:
				break more
			}
		}
		c.commitBatch(batch)
		for _, call := range batch {
			close(call.done)
		}
		if s.catchUp.Swap(false) {
			// Nothing writes meanwhile, so this one completes (unless a
			// reader still needs old pages) and the next commit restarts
			// the WAL. Errors: see checkpointer.
			_ = c.exec(qCheckpoint)
		}
		select {
		case s.committed <- struct{}{}:
		default:
		}
	}
}

// checkpointer copies committed WAL frames into the database file after
// commits, at most every checkpointEvery. PASSIVE never waits for readers
// or the writer; what it cannot copy yet is copied the next time. On Close
// the last connection checkpoints what is left.
func (s *sqliteStore) checkpointer() {
	t := time.NewTimer(checkpointEvery)
	defer t.Stop()
	for {
		select {
		case <-s.committed:
		case <-s.quit:
			return
		}
		// A failed checkpoint (disk full, I/O error) is retried after the
		// next commit; that commit's own fsync reports the disk's state.
		// frames counts the WAL since it last restarted: all copied or not,
		// a long WAL means commits never left a gap for a restart.
		var busy, frames, copied int
		err := s.cdb.QueryRowContext(sqliteCtx, statementSQL[qCheckpoint]).Scan(&busy, &frames, &copied)
		if err == nil && frames >= walCatchUpFrames {
			s.catchUp.Store(true)
		}
		t.Reset(checkpointEvery)
		select {
		case <-t.C:
		case <-s.quit:
			return
		}
	}
}

// reader runs View calls on a read-only connection.
func (s *sqliteStore) reader(c *sqliteConn) {
	defer c.close()
	for {
		select {
		case call := <-s.reads:
			c.view(call)
			close(call.done)
		case <-s.quit:
			return
		}
	}
}

func (s *sqliteStore) Close() error {
	s.close.Do(func() {
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		close(s.quit)
		s.workers.Wait()
		for _, q := range []chan *storeCall{s.writes, s.reads} {
		drain:
			for {
				select {
				case c := <-q:
					c.err = store.ErrClosed
					close(c.done)
				default:
					break drain
				}
			}
		}
		s.closeErr = errors.Join(s.cdb.Close(), s.rdb.Close(), s.wdb.Close())
	})
	return s.closeErr
}
