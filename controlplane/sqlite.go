package controlplane

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// migrations are applied in order; the index of the last one applied is kept
// in PRAGMA user_version. Never edit an entry: append a new one.
var migrations = []string{
	`CREATE TABLE enrollments (
		id TEXT PRIMARY KEY,
		node_id TEXT NOT NULL,
		make TEXT NOT NULL,
		model TEXT NOT NULL,
		version TEXT NOT NULL,
		csr TEXT NOT NULL,
		key_fingerprint TEXT NOT NULL,
		device_code_hash TEXT NOT NULL UNIQUE,
		user_code TEXT NOT NULL,
		state TEXT NOT NULL,
		source_ip TEXT NOT NULL,
		created_at INTEGER NOT NULL,
		expires_at INTEGER NOT NULL,
		last_poll_at INTEGER NOT NULL,
		decided_at INTEGER NOT NULL,
		delivered_at INTEGER NOT NULL,
		certificate TEXT NOT NULL
	);
	CREATE INDEX enrollments_node ON enrollments(node_id);
	CREATE INDEX enrollments_user_code ON enrollments(user_code);
	CREATE TABLE nodes (
		id TEXT PRIMARY KEY,
		name TEXT NOT NULL,
		status TEXT NOT NULL,
		project TEXT NOT NULL,
		site TEXT NOT NULL,
		make TEXT NOT NULL,
		model TEXT NOT NULL,
		version TEXT NOT NULL,
		source_ip TEXT NOT NULL,
		tags TEXT NOT NULL,
		pre_added INTEGER NOT NULL,
		key_fingerprint TEXT NOT NULL,
		cert_serial TEXT NOT NULL,
		cert_not_after INTEGER NOT NULL,
		created_at INTEGER NOT NULL,
		registered_at INTEGER NOT NULL,
		last_seen INTEGER NOT NULL
	);
	CREATE TABLE tokens (
		id TEXT PRIMARY KEY,
		name TEXT NOT NULL,
		project TEXT NOT NULL,
		hash TEXT NOT NULL UNIQUE,
		single_use INTEGER NOT NULL,
		revoked INTEGER NOT NULL,
		uses INTEGER NOT NULL,
		created_at INTEGER NOT NULL,
		expires_at INTEGER NOT NULL
	);
	CREATE TABLE sites (
		id TEXT PRIMARY KEY,
		name TEXT NOT NULL UNIQUE,
		project TEXT NOT NULL
	);
	CREATE TABLE events (
		id INTEGER PRIMARY KEY AUTOINCREMENT,
		type TEXT NOT NULL,
		node_id TEXT NOT NULL,
		time INTEGER NOT NULL,
		source_ip TEXT NOT NULL,
		message TEXT NOT NULL
	);`,
	// Issue 12: pairing keys, the source an enrollment is counted against
	// (per-source caps), token project override, indexes for the caps and
	// retention.
	`ALTER TABLE nodes ADD COLUMN pairing_key_hash TEXT NOT NULL DEFAULT '';
	ALTER TABLE enrollments ADD COLUMN source_key TEXT NOT NULL DEFAULT '';
	ALTER TABLE tokens ADD COLUMN allow_project_override INTEGER NOT NULL DEFAULT 0;
	CREATE INDEX enrollments_state_expires ON enrollments(state, expires_at);
	CREATE INDEX enrollments_source_state ON enrollments(source_key, state, expires_at);
	CREATE INDEX events_time ON events(time);`,
	// Issue 13: users, personal API tokens, portal sessions; who did each
	// event.
	`CREATE TABLE users (
		name TEXT PRIMARY KEY,
		role TEXT NOT NULL,
		sites TEXT NOT NULL,
		disabled INTEGER NOT NULL,
		password_hash TEXT NOT NULL,
		must_change_password INTEGER NOT NULL,
		totp_secret TEXT NOT NULL,
		totp_last_step INTEGER NOT NULL,
		created_at INTEGER NOT NULL,
		last_login INTEGER NOT NULL
	);
	CREATE TABLE api_tokens (
		id TEXT PRIMARY KEY,
		user TEXT NOT NULL,
		label TEXT NOT NULL,
		hash TEXT NOT NULL UNIQUE,
		created_at INTEGER NOT NULL,
		expires_at INTEGER NOT NULL,
		last_used INTEGER NOT NULL
	);
	CREATE INDEX api_tokens_user ON api_tokens(user);
	CREATE TABLE sessions (
		hash TEXT PRIMARY KEY,
		user TEXT NOT NULL,
		csrf TEXT NOT NULL,
		stage TEXT NOT NULL,
		created_at INTEGER NOT NULL,
		last_seen INTEGER NOT NULL,
		source_ip TEXT NOT NULL,
		user_agent TEXT NOT NULL
	);
	CREATE INDEX sessions_user ON sessions(user);
	ALTER TABLE events ADD COLUMN actor TEXT NOT NULL DEFAULT '';
	CREATE INDEX events_actor ON events(actor, id);
	CREATE INDEX events_node ON events(node_id, id);
	CREATE INDEX events_type ON events(type, id);`,
	// Issue 15: every node certificate issued, for renewal grace and the CRL.
	`CREATE TABLE node_certs (
		serial TEXT PRIMARY KEY,
		node_id TEXT NOT NULL,
		key_fingerprint TEXT NOT NULL,
		certificate TEXT NOT NULL,
		issued_at INTEGER NOT NULL,
		not_after INTEGER NOT NULL,
		grace_until INTEGER NOT NULL,
		revoked_at INTEGER NOT NULL,
		reason INTEGER NOT NULL
	);
	CREATE INDEX node_certs_node ON node_certs(node_id, issued_at);
	CREATE INDEX node_certs_not_after ON node_certs(not_after);`,
}

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
	fn    func(Tx) error
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

// errStoreClosed answers calls after Close.
var errStoreClosed = errors.New("controlplane: store is closed")

// OpenSQLite opens (creating if needed) the SQLite database at path in WAL
// mode and applies pending migrations. path must be a file (":memory:"
// would give each connection its own database).
func OpenSQLite(ctx context.Context, path string) (Store, error) {
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

func (s *sqliteStore) migrate(ctx context.Context) error {
	var version int
	if err := s.wdb.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if version > len(migrations) {
		return fmt.Errorf("the database has schema version %d, newer than this controlplane knows (%d): run a newer controlplane", version, len(migrations))
	}
	for i := version; i < len(migrations); i++ {
		tx, err := s.wdb.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, migrations[i]); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", i+1)); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %d: set version: %w", i+1, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migration %d: commit: %w", i+1, err)
		}
	}
	return nil
}

func (s *sqliteStore) View(ctx context.Context, fn func(Tx) error) error {
	return s.do(ctx, s.reads, fn)
}

func (s *sqliteStore) Update(ctx context.Context, fn func(Tx) error) error {
	return s.do(ctx, s.writes, fn)
}

// do hands fn to a worker and waits for its answer. Once a worker has
// taken the call it runs to the end (the caller still waits: an Update
// that committed must not look like it failed).
func (s *sqliteStore) do(ctx context.Context, q chan *storeCall, fn func(Tx) error) error {
	c := &storeCall{ctx: ctx, fn: fn, done: make(chan struct{})}
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return errStoreClosed
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
					c.err = errStoreClosed
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

// sqliteConn is one connection with its prepared statements, used only by
// the goroutine that owns it.
type sqliteConn struct {
	conn *sql.Conn
	st   [numStatements]*sql.Stmt
}

// ctx is the context of every statement: never cancelled (see sqliteStore).
var sqliteCtx = context.Background()

// Statement names; the SQL is in statementSQL.
const (
	qBegin = iota
	qCommit
	qRollback
	qSavepoint
	qRelease
	qRollbackTo
	qCheckpoint
	qEnrollmentByID
	qEnrollmentByHash
	qEnrollmentByUserCode
	qEnrollmentsForNode
	qPutEnrollment
	qDeleteEnrollmentsForNode
	qNode
	qNodes
	qPutNode
	qDeleteNode
	qToken
	qTokenByHash
	qTokens
	qPutToken
	qSite
	qSites
	qPutSite
	qDeleteSite
	qAddEvent
	qEvents
	qCountPending
	qCountPendingFromSource
	qPruneEnrollments
	qPruneNodes
	qPruneEventsBefore
	qPruneEventsOver
	qUser
	qUsers
	qPutUser
	qDeleteUser
	qAPIToken
	qAPITokenByHash
	qAPITokensForUser
	qPutAPIToken
	qDeleteAPIToken
	qDeleteAPITokensForUser
	qSession
	qSessionsForUser
	qPutSession
	qDeleteSession
	qDeleteSessionsForUser
	qDeleteSessionsBefore
	qEventsPage
	qNodesAfter
	qNodeCert
	qNodeCertsForNode
	qLiveNodeCerts
	qPutNodeCert
	qPruneNodeCerts
	numStatements
)

const enrollmentCols = `id, node_id, make, model, version, csr, key_fingerprint, device_code_hash,
	user_code, state, source_ip, created_at, expires_at, last_poll_at, decided_at, delivered_at, certificate, source_key`

const nodeCols = `id, name, status, project, site, make, model, version, source_ip, tags, pre_added,
	key_fingerprint, cert_serial, cert_not_after, created_at, registered_at, last_seen, pairing_key_hash`

const tokenCols = `id, name, project, hash, single_use, revoked, uses, created_at, expires_at, allow_project_override`

// statementSQL is indexed by the q* constants. The writer begins with
// BEGIN IMMEDIATE (it takes the write lock at once); readers with BEGIN.
var statementSQL = [numStatements]string{
	qBegin:                `BEGIN`,
	qCommit:               `COMMIT`,
	qRollback:             `ROLLBACK`,
	qSavepoint:            `SAVEPOINT call`,
	qRelease:              `RELEASE call`,
	qRollbackTo:           `ROLLBACK TO call`,
	qCheckpoint:           `PRAGMA wal_checkpoint(PASSIVE)`,
	qEnrollmentByID:       `SELECT ` + enrollmentCols + ` FROM enrollments WHERE id = ? ORDER BY created_at DESC LIMIT 1`,
	qEnrollmentByHash:     `SELECT ` + enrollmentCols + ` FROM enrollments WHERE device_code_hash = ? ORDER BY created_at DESC LIMIT 1`,
	qEnrollmentByUserCode: `SELECT ` + enrollmentCols + ` FROM enrollments WHERE user_code = ? ORDER BY created_at DESC LIMIT 1`,
	qEnrollmentsForNode:   `SELECT ` + enrollmentCols + ` FROM enrollments WHERE node_id = ? ORDER BY created_at DESC`,
	qPutEnrollment: `INSERT INTO enrollments (` + enrollmentCols + `)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT(id) DO UPDATE SET node_id=excluded.node_id, make=excluded.make, model=excluded.model,
		version=excluded.version, csr=excluded.csr, key_fingerprint=excluded.key_fingerprint,
		device_code_hash=excluded.device_code_hash, user_code=excluded.user_code, state=excluded.state,
		source_ip=excluded.source_ip, created_at=excluded.created_at, expires_at=excluded.expires_at,
		last_poll_at=excluded.last_poll_at, decided_at=excluded.decided_at, delivered_at=excluded.delivered_at,
		certificate=excluded.certificate, source_key=excluded.source_key`,
	qDeleteEnrollmentsForNode: `DELETE FROM enrollments WHERE node_id = ?`,
	qNode:                     `SELECT ` + nodeCols + ` FROM nodes WHERE id = ?`,
	qNodes:                    `SELECT ` + nodeCols + ` FROM nodes ORDER BY name, id`,
	qPutNode: `INSERT INTO nodes (` + nodeCols + `)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT(id) DO UPDATE SET name=excluded.name, status=excluded.status, project=excluded.project,
		site=excluded.site, make=excluded.make, model=excluded.model, version=excluded.version,
		source_ip=excluded.source_ip, tags=excluded.tags, pre_added=excluded.pre_added,
		key_fingerprint=excluded.key_fingerprint, cert_serial=excluded.cert_serial,
		cert_not_after=excluded.cert_not_after, created_at=excluded.created_at,
		registered_at=excluded.registered_at, last_seen=excluded.last_seen, pairing_key_hash=excluded.pairing_key_hash`,
	qDeleteNode:  `DELETE FROM nodes WHERE id = ?`,
	qToken:       `SELECT ` + tokenCols + ` FROM tokens WHERE id = ?`,
	qTokenByHash: `SELECT ` + tokenCols + ` FROM tokens WHERE hash = ?`,
	qTokens:      `SELECT ` + tokenCols + ` FROM tokens ORDER BY created_at DESC`,
	qPutToken: `INSERT INTO tokens (` + tokenCols + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT(id) DO UPDATE SET name=excluded.name, project=excluded.project, hash=excluded.hash,
		single_use=excluded.single_use, revoked=excluded.revoked, uses=excluded.uses,
		created_at=excluded.created_at, expires_at=excluded.expires_at,
		allow_project_override=excluded.allow_project_override`,
	qSite:  `SELECT id, name, project FROM sites WHERE id = ?`,
	qSites: `SELECT id, name, project FROM sites ORDER BY name`,
	qPutSite: `INSERT INTO sites (id, name, project) VALUES (?, ?, ?)
		ON CONFLICT(id) DO UPDATE SET name=excluded.name, project=excluded.project`,
	qCountPending: `SELECT count(*) FROM enrollments WHERE state = 'pending' AND expires_at > ?`,
	qCountPendingFromSource: `SELECT count(*) FROM enrollments
		WHERE source_key = ? AND state = 'pending' AND expires_at > ?`,
	// Enrollments that are over (not approved: an approved one is how a
	// node that lost the answer gets its certificate again) and older
	// than the cutoff.
	qPruneEnrollments: `DELETE FROM enrollments WHERE
		(state = 'pending' AND expires_at < ?1) OR
		(state IN ('cancelled', 'denied', 'superseded') AND decided_at < ?1)`,
	// Nodes the server only heard of through enrollments that never led
	// anywhere: pending, not pre-added, never registered, no enrollment left.
	qPruneNodes: `DELETE FROM nodes WHERE status = 'pending' AND pre_added = 0 AND registered_at = 0
		AND last_seen < ? AND NOT EXISTS (SELECT 1 FROM enrollments WHERE enrollments.node_id = nodes.id)`,
	qPruneEventsBefore: `DELETE FROM events WHERE time < ?`,
	qPruneEventsOver:   `DELETE FROM events WHERE id <= (SELECT max(id) FROM events) - ?`,
	qDeleteSite:        `DELETE FROM sites WHERE id = ?`,
	qAddEvent:          `INSERT INTO events (type, node_id, time, source_ip, message, actor) VALUES (?, ?, ?, ?, ?, ?)`,
	qEvents:            `SELECT ` + eventCols + ` FROM events ORDER BY id DESC LIMIT ?`,
	qUser:              `SELECT ` + userCols + ` FROM users WHERE name = ?`,
	qUsers:             `SELECT ` + userCols + ` FROM users ORDER BY name`,
	qPutUser: `INSERT INTO users (` + userCols + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT(name) DO UPDATE SET role=excluded.role, sites=excluded.sites, disabled=excluded.disabled,
		password_hash=excluded.password_hash, must_change_password=excluded.must_change_password,
		totp_secret=excluded.totp_secret, totp_last_step=excluded.totp_last_step,
		created_at=excluded.created_at, last_login=excluded.last_login`,
	qDeleteUser:       `DELETE FROM users WHERE name = ?`,
	qAPIToken:         `SELECT ` + apiTokenCols + ` FROM api_tokens WHERE id = ?`,
	qAPITokenByHash:   `SELECT ` + apiTokenCols + ` FROM api_tokens WHERE hash = ?`,
	qAPITokensForUser: `SELECT ` + apiTokenCols + ` FROM api_tokens WHERE user = ? ORDER BY created_at DESC`,
	qPutAPIToken: `INSERT INTO api_tokens (` + apiTokenCols + `) VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT(id) DO UPDATE SET user=excluded.user, label=excluded.label, hash=excluded.hash,
		created_at=excluded.created_at, expires_at=excluded.expires_at, last_used=excluded.last_used`,
	qDeleteAPIToken:         `DELETE FROM api_tokens WHERE id = ?`,
	qDeleteAPITokensForUser: `DELETE FROM api_tokens WHERE user = ?`,
	qSession:                `SELECT ` + sessionCols + ` FROM sessions WHERE hash = ?`,
	qSessionsForUser:        `SELECT ` + sessionCols + ` FROM sessions WHERE user = ? ORDER BY last_seen DESC`,
	qPutSession: `INSERT INTO sessions (` + sessionCols + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT(hash) DO UPDATE SET user=excluded.user, csrf=excluded.csrf, stage=excluded.stage,
		created_at=excluded.created_at, last_seen=excluded.last_seen, source_ip=excluded.source_ip,
		user_agent=excluded.user_agent`,
	qDeleteSession:         `DELETE FROM sessions WHERE hash = ?`,
	qDeleteSessionsForUser: `DELETE FROM sessions WHERE user = ?`,
	qDeleteSessionsBefore:  `DELETE FROM sessions WHERE last_seen < ?`,
	qEventsPage: `SELECT ` + eventCols + ` FROM events
		WHERE (?1 = 0 OR id < ?1) AND (?2 = '' OR actor = ?2) AND (?3 = '' OR node_id = ?3) AND (?4 = '' OR type = ?4)
		ORDER BY id DESC LIMIT ?5`,
	qNodesAfter:       `SELECT ` + nodeCols + ` FROM nodes WHERE (name, id) > (?, ?) ORDER BY name, id LIMIT ?`,
	qNodeCert:         `SELECT ` + nodeCertCols + ` FROM node_certs WHERE serial = ?`,
	qNodeCertsForNode: `SELECT ` + nodeCertCols + ` FROM node_certs WHERE node_id = ? ORDER BY issued_at DESC`,
	qLiveNodeCerts:    `SELECT ` + nodeCertCols + ` FROM node_certs WHERE not_after > ? ORDER BY issued_at`,
	qPutNodeCert: `INSERT INTO node_certs (` + nodeCertCols + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT(serial) DO UPDATE SET node_id=excluded.node_id, key_fingerprint=excluded.key_fingerprint,
		certificate=excluded.certificate, issued_at=excluded.issued_at, not_after=excluded.not_after,
		grace_until=excluded.grace_until, revoked_at=excluded.revoked_at, reason=excluded.reason`,
	qPruneNodeCerts: `DELETE FROM node_certs WHERE not_after < ?`,
}

const eventCols = `id, type, node_id, time, source_ip, message, actor`

const userCols = `name, role, sites, disabled, password_hash, must_change_password, totp_secret, totp_last_step,
	created_at, last_login`

const apiTokenCols = `id, user, label, hash, created_at, expires_at, last_used`

const sessionCols = `hash, user, csrf, stage, created_at, last_seen, source_ip, user_agent`

// newSQLiteConn takes a connection of db and prepares every statement on
// it (the writer's BEGIN is BEGIN IMMEDIATE).
func newSQLiteConn(ctx context.Context, db *sql.DB, writer bool) (*sqliteConn, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	c := &sqliteConn{conn: conn}
	for i, q := range statementSQL {
		if i == qBegin && writer {
			q = `BEGIN IMMEDIATE`
		}
		st, err := conn.PrepareContext(ctx, q)
		if err != nil {
			c.close()
			return nil, fmt.Errorf("prepare %q: %w", q, err)
		}
		c.st[i] = st
	}
	return c, nil
}

func (c *sqliteConn) stmt(q int) *sql.Stmt { return c.st[q] }

func (c *sqliteConn) exec(q int) error {
	_, err := c.stmt(q).ExecContext(sqliteCtx)
	return err
}

func (c *sqliteConn) close() {
	for _, st := range c.st {
		if st != nil {
			st.Close()
		}
	}
	c.conn.Close()
}

// call runs call.fn, catching a panic for the caller's goroutine.
func (c *sqliteConn) call(call *storeCall) (err error) {
	defer func() {
		if p := recover(); p != nil {
			call.panic = p
			err = fmt.Errorf("controlplane: panic in a transaction: %v", p)
		}
	}()
	return call.fn(&sqliteTx{c: c})
}

// view runs one read transaction.
func (c *sqliteConn) view(call *storeCall) {
	if call.err = call.ctx.Err(); call.err != nil {
		return
	}
	if err := c.exec(qBegin); err != nil {
		call.err = fmt.Errorf("controlplane: begin transaction: %w", err)
		return
	}
	call.err = c.call(call)
	if err := c.exec(qCommit); err != nil {
		c.exec(qRollback)
		if call.err == nil {
			call.err = fmt.Errorf("controlplane: end read transaction: %w", err)
		}
	}
}

// commitBatch runs every call of batch in one write transaction, each in
// a savepoint, and commits once.
func (c *sqliteConn) commitBatch(batch []*storeCall) {
	fail := func(err error) {
		for _, call := range batch {
			if call.err == nil && call.panic == nil {
				call.err = err
			}
		}
	}
	if err := c.exec(qBegin); err != nil {
		fail(fmt.Errorf("controlplane: begin transaction: %w", err))
		return
	}
	ran := false
	for _, call := range batch {
		if call.err = call.ctx.Err(); call.err != nil {
			continue
		}
		if err := c.exec(qSavepoint); err != nil {
			c.exec(qRollback)
			fail(fmt.Errorf("controlplane: savepoint: %w", err))
			return
		}
		call.err = c.call(call)
		if call.err != nil {
			if err := c.exec(qRollbackTo); err != nil {
				c.exec(qRollback)
				fail(fmt.Errorf("controlplane: roll back to savepoint: %w", err))
				return
			}
		} else {
			ran = true
		}
		if err := c.exec(qRelease); err != nil {
			c.exec(qRollback)
			fail(fmt.Errorf("controlplane: release savepoint: %w", err))
			return
		}
	}
	if !ran {
		c.exec(qRollback)
		return
	}
	if err := c.exec(qCommit); err != nil {
		c.exec(qRollback)
		fail(fmt.Errorf("controlplane: commit: %w", err))
	}
}

type sqliteTx struct {
	c *sqliteConn
}

func (t *sqliteTx) queryRow(q int, args ...any) *sql.Row {
	return t.c.stmt(q).QueryRowContext(sqliteCtx, args...)
}

func (t *sqliteTx) query(q int, args ...any) (*sql.Rows, error) {
	return t.c.stmt(q).QueryContext(sqliteCtx, args...)
}

func (t *sqliteTx) exec(q int, args ...any) error {
	_, err := t.c.stmt(q).ExecContext(sqliteCtx, args...)
	return err
}

func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromUnixNano(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	return err
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

type scanner interface{ Scan(...any) error }

func scanEnrollment(row scanner) (Enrollment, error) {
	var e Enrollment
	var state string
	var created, expires, lastPoll, decided, delivered int64
	err := row.Scan(&e.ID, &e.NodeID, &e.Make, &e.Model, &e.Version, &e.CSR, &e.KeyFingerprint,
		&e.DeviceCodeHash, &e.UserCode, &state, &e.SourceIP, &created, &expires, &lastPoll, &decided, &delivered, &e.Certificate,
		&e.SourceKey)
	if err != nil {
		return Enrollment{}, notFound(err)
	}
	e.State = EnrollmentState(state)
	e.CreatedAt, e.ExpiresAt = fromUnixNano(created), fromUnixNano(expires)
	e.LastPollAt, e.DecidedAt = fromUnixNano(lastPoll), fromUnixNano(decided)
	e.DeliveredAt = fromUnixNano(delivered)
	return e, nil
}

func (t *sqliteTx) Enrollment(id string) (Enrollment, error) {
	return scanEnrollment(t.queryRow(qEnrollmentByID, id))
}

func (t *sqliteTx) EnrollmentByDeviceHash(hash string) (Enrollment, error) {
	return scanEnrollment(t.queryRow(qEnrollmentByHash, hash))
}

func (t *sqliteTx) EnrollmentByUserCode(code string) (Enrollment, error) {
	return scanEnrollment(t.queryRow(qEnrollmentByUserCode, code))
}

func (t *sqliteTx) EnrollmentsForNode(nodeID string) ([]Enrollment, error) {
	rows, err := t.query(qEnrollmentsForNode, nodeID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Enrollment
	for rows.Next() {
		e, err := scanEnrollment(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

func (t *sqliteTx) PutEnrollment(e Enrollment) error {
	err := t.exec(qPutEnrollment,
		e.ID, e.NodeID, e.Make, e.Model, e.Version, e.CSR, e.KeyFingerprint, e.DeviceCodeHash, e.UserCode,
		string(e.State), e.SourceIP, unixNano(e.CreatedAt), unixNano(e.ExpiresAt), unixNano(e.LastPollAt),
		unixNano(e.DecidedAt), unixNano(e.DeliveredAt), e.Certificate, e.SourceKey)
	if err != nil {
		return fmt.Errorf("put enrollment %s: %w", e.ID, err)
	}
	return nil
}

func (t *sqliteTx) DeleteEnrollmentsForNode(nodeID string) error {
	if err := t.exec(qDeleteEnrollmentsForNode, nodeID); err != nil {
		return fmt.Errorf("delete enrollments of %s: %w", nodeID, err)
	}
	return nil
}

func scanNode(row scanner) (Node, error) {
	var n Node
	var tags string
	var preAdded int
	var notAfter, created, registered, lastSeen int64
	err := row.Scan(&n.ID, &n.Name, &n.Status, &n.Project, &n.Site, &n.Make, &n.Model, &n.Version, &n.SourceIP,
		&tags, &preAdded, &n.KeyFingerprint, &n.CertSerial, &notAfter, &created, &registered, &lastSeen, &n.PairingKeyHash)
	if err != nil {
		return Node{}, notFound(err)
	}
	if tags != "" {
		if err := json.Unmarshal([]byte(tags), &n.Tags); err != nil {
			return Node{}, fmt.Errorf("node %s: decode tags: %w", n.ID, err)
		}
	}
	n.PreAdded = preAdded != 0
	n.CertNotAfter, n.CreatedAt = fromUnixNano(notAfter), fromUnixNano(created)
	n.RegisteredAt, n.LastSeen = fromUnixNano(registered), fromUnixNano(lastSeen)
	return n, nil
}

func (t *sqliteTx) Node(id string) (Node, error) {
	return scanNode(t.queryRow(qNode, id))
}

func (t *sqliteTx) Nodes() ([]Node, error) {
	rows, err := t.query(qNodes)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Node
	for rows.Next() {
		n, err := scanNode(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

func (t *sqliteTx) PutNode(n Node) error {
	tags := ""
	if len(n.Tags) > 0 {
		b, err := json.Marshal(n.Tags)
		if err != nil {
			return fmt.Errorf("node %s: encode tags: %w", n.ID, err)
		}
		tags = string(b)
	}
	err := t.exec(qPutNode,
		n.ID, n.Name, n.Status, n.Project, n.Site, n.Make, n.Model, n.Version, n.SourceIP, tags, b2i(n.PreAdded),
		n.KeyFingerprint, n.CertSerial, unixNano(n.CertNotAfter), unixNano(n.CreatedAt), unixNano(n.RegisteredAt),
		unixNano(n.LastSeen), n.PairingKeyHash)
	if err != nil {
		return fmt.Errorf("put node %s: %w", n.ID, err)
	}
	return nil
}

func (t *sqliteTx) DeleteNode(id string) error {
	if err := t.exec(qDeleteNode, id); err != nil {
		return fmt.Errorf("delete node %s: %w", id, err)
	}
	return nil
}

func scanToken(row scanner) (Token, error) {
	var tok Token
	var single, revoked, override int
	var created, expires int64
	if err := row.Scan(&tok.ID, &tok.Name, &tok.Project, &tok.Hash, &single, &revoked, &tok.Uses, &created, &expires, &override); err != nil {
		return Token{}, notFound(err)
	}
	tok.SingleUse, tok.Revoked, tok.AllowProjectOverride = single != 0, revoked != 0, override != 0
	tok.CreatedAt, tok.ExpiresAt = fromUnixNano(created), fromUnixNano(expires)
	return tok, nil
}

func (t *sqliteTx) Token(id string) (Token, error) {
	return scanToken(t.queryRow(qToken, id))
}

func (t *sqliteTx) TokenByHash(hash string) (Token, error) {
	return scanToken(t.queryRow(qTokenByHash, hash))
}

func (t *sqliteTx) Tokens() ([]Token, error) {
	rows, err := t.query(qTokens)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Token
	for rows.Next() {
		tok, err := scanToken(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, tok)
	}
	return out, rows.Err()
}

func (t *sqliteTx) PutToken(tok Token) error {
	err := t.exec(qPutToken,
		tok.ID, tok.Name, tok.Project, tok.Hash, b2i(tok.SingleUse), b2i(tok.Revoked), tok.Uses,
		unixNano(tok.CreatedAt), unixNano(tok.ExpiresAt), b2i(tok.AllowProjectOverride))
	if err != nil {
		return fmt.Errorf("put token %s: %w", tok.ID, err)
	}
	return nil
}

func (t *sqliteTx) Site(id string) (Site, error) {
	var s Site
	err := t.queryRow(qSite, id).Scan(&s.ID, &s.Name, &s.Project)
	return s, notFound(err)
}

func (t *sqliteTx) Sites() ([]Site, error) {
	rows, err := t.query(qSites)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Site
	for rows.Next() {
		var s Site
		if err := rows.Scan(&s.ID, &s.Name, &s.Project); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

func (t *sqliteTx) PutSite(s Site) error {
	if err := t.exec(qPutSite, s.ID, s.Name, s.Project); err != nil {
		return fmt.Errorf("put site %s: %w", s.Name, err)
	}
	return nil
}

func (t *sqliteTx) DeleteSite(id string) error {
	if err := t.exec(qDeleteSite, id); err != nil {
		return fmt.Errorf("delete site %s: %w", id, err)
	}
	return nil
}

func (t *sqliteTx) AddEvent(e Event) error {
	if err := t.exec(qAddEvent, e.Type, e.NodeID, unixNano(e.Time), e.SourceIP, e.Message, e.Actor); err != nil {
		return fmt.Errorf("add event %s: %w", e.Type, err)
	}
	return nil
}

func (t *sqliteTx) Events(limit int) ([]Event, error) {
	return scanEvents(t.query(qEvents, limit))
}

func (t *sqliteTx) CountPending(now time.Time, sourceKey string) (int, error) {
	var n int
	var err error
	if sourceKey == "" {
		err = t.queryRow(qCountPending, unixNano(now)).Scan(&n)
	} else {
		err = t.queryRow(qCountPendingFromSource, sourceKey, unixNano(now)).Scan(&n)
	}
	if err != nil {
		return 0, fmt.Errorf("count pending enrollments: %w", err)
	}
	return n, nil
}

func (t *sqliteTx) Prune(p Prune) (PruneResult, error) {
	var out PruneResult
	run := func(q int, n *int64, args ...any) error {
		res, err := t.c.stmt(q).ExecContext(sqliteCtx, args...)
		if err != nil {
			return fmt.Errorf("prune: %w", err)
		}
		k, _ := res.RowsAffected()
		*n += k
		return nil
	}
	if !p.EnrollmentsBefore.IsZero() {
		if err := run(qPruneEnrollments, &out.Enrollments, unixNano(p.EnrollmentsBefore)); err != nil {
			return out, err
		}
		if err := run(qPruneNodes, &out.Nodes, unixNano(p.EnrollmentsBefore)); err != nil {
			return out, err
		}
	}
	if !p.EventsBefore.IsZero() {
		if err := run(qPruneEventsBefore, &out.Events, unixNano(p.EventsBefore)); err != nil {
			return out, err
		}
	}
	if p.MaxEvents > 0 {
		if err := run(qPruneEventsOver, &out.Events, p.MaxEvents); err != nil {
			return out, err
		}
	}
	return out, nil
}
