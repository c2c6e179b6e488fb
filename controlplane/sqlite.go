package controlplane

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
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
}

// sqliteStore is the SQLite Store. It uses one connection, so transactions
// run one at a time; nothing waits on the database while it holds it.
type sqliteStore struct {
	db *sql.DB
}

// OpenSQLite opens (creating if needed) the SQLite database at path in WAL
// mode and applies pending migrations.
func OpenSQLite(ctx context.Context, path string) (Store, error) {
	dsn := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)&_pragma=synchronous(FULL)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("controlplane: open database %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	db.SetConnMaxIdleTime(0)
	s := &sqliteStore{db: db}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("controlplane: migrate %s: %w", path, err)
	}
	return s, nil
}

func (s *sqliteStore) migrate(ctx context.Context) error {
	var version int
	if err := s.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	for i := version; i < len(migrations); i++ {
		tx, err := s.db.BeginTx(ctx, nil)
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
	return s.run(ctx, true, fn)
}

func (s *sqliteStore) Update(ctx context.Context, fn func(Tx) error) error {
	return s.run(ctx, false, fn)
}

func (s *sqliteStore) run(ctx context.Context, readOnly bool, fn func(Tx) error) error {
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: readOnly})
	if err != nil {
		return fmt.Errorf("controlplane: begin transaction: %w", err)
	}
	if err := fn(&sqliteTx{ctx: ctx, tx: tx}); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("controlplane: commit: %w", err)
	}
	return nil
}

func (s *sqliteStore) Close() error { return s.db.Close() }

type sqliteTx struct {
	ctx context.Context
	tx  *sql.Tx
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

const enrollmentCols = `id, node_id, make, model, version, csr, key_fingerprint, device_code_hash,
	user_code, state, source_ip, created_at, expires_at, last_poll_at, decided_at, delivered_at, certificate`

type scanner interface{ Scan(...any) error }

func scanEnrollment(row scanner) (Enrollment, error) {
	var e Enrollment
	var state string
	var created, expires, lastPoll, decided, delivered int64
	err := row.Scan(&e.ID, &e.NodeID, &e.Make, &e.Model, &e.Version, &e.CSR, &e.KeyFingerprint,
		&e.DeviceCodeHash, &e.UserCode, &state, &e.SourceIP, &created, &expires, &lastPoll, &decided, &delivered, &e.Certificate)
	if err != nil {
		return Enrollment{}, notFound(err)
	}
	e.State = EnrollmentState(state)
	e.CreatedAt, e.ExpiresAt = fromUnixNano(created), fromUnixNano(expires)
	e.LastPollAt, e.DecidedAt = fromUnixNano(lastPoll), fromUnixNano(decided)
	e.DeliveredAt = fromUnixNano(delivered)
	return e, nil
}

func (t *sqliteTx) enrollmentWhere(where string, arg any) (Enrollment, error) {
	row := t.tx.QueryRowContext(t.ctx, "SELECT "+enrollmentCols+" FROM enrollments WHERE "+where+" ORDER BY created_at DESC LIMIT 1", arg)
	return scanEnrollment(row)
}

func (t *sqliteTx) Enrollment(id string) (Enrollment, error) { return t.enrollmentWhere("id = ?", id) }

func (t *sqliteTx) EnrollmentByDeviceHash(hash string) (Enrollment, error) {
	return t.enrollmentWhere("device_code_hash = ?", hash)
}

func (t *sqliteTx) EnrollmentByUserCode(code string) (Enrollment, error) {
	return t.enrollmentWhere("user_code = ?", code)
}

func (t *sqliteTx) EnrollmentsForNode(nodeID string) ([]Enrollment, error) {
	rows, err := t.tx.QueryContext(t.ctx, "SELECT "+enrollmentCols+" FROM enrollments WHERE node_id = ? ORDER BY created_at DESC", nodeID)
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
	_, err := t.tx.ExecContext(t.ctx, `INSERT INTO enrollments (`+enrollmentCols+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT(id) DO UPDATE SET node_id=excluded.node_id, make=excluded.make, model=excluded.model,
		version=excluded.version, csr=excluded.csr, key_fingerprint=excluded.key_fingerprint,
		device_code_hash=excluded.device_code_hash, user_code=excluded.user_code, state=excluded.state,
		source_ip=excluded.source_ip, created_at=excluded.created_at, expires_at=excluded.expires_at,
		last_poll_at=excluded.last_poll_at, decided_at=excluded.decided_at, delivered_at=excluded.delivered_at,
		certificate=excluded.certificate`,
		e.ID, e.NodeID, e.Make, e.Model, e.Version, e.CSR, e.KeyFingerprint, e.DeviceCodeHash, e.UserCode,
		string(e.State), e.SourceIP, unixNano(e.CreatedAt), unixNano(e.ExpiresAt), unixNano(e.LastPollAt),
		unixNano(e.DecidedAt), unixNano(e.DeliveredAt), e.Certificate)
	if err != nil {
		return fmt.Errorf("put enrollment %s: %w", e.ID, err)
	}
	return nil
}

func (t *sqliteTx) DeleteEnrollmentsForNode(nodeID string) error {
	if _, err := t.tx.ExecContext(t.ctx, "DELETE FROM enrollments WHERE node_id = ?", nodeID); err != nil {
		return fmt.Errorf("delete enrollments of %s: %w", nodeID, err)
	}
	return nil
}

const nodeCols = `id, name, status, project, site, make, model, version, source_ip, tags, pre_added,
	key_fingerprint, cert_serial, cert_not_after, created_at, registered_at, last_seen`

func scanNode(row scanner) (Node, error) {
	var n Node
	var tags string
	var preAdded int
	var notAfter, created, registered, lastSeen int64
	err := row.Scan(&n.ID, &n.Name, &n.Status, &n.Project, &n.Site, &n.Make, &n.Model, &n.Version, &n.SourceIP,
		&tags, &preAdded, &n.KeyFingerprint, &n.CertSerial, &notAfter, &created, &registered, &lastSeen)
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
	return scanNode(t.tx.QueryRowContext(t.ctx, "SELECT "+nodeCols+" FROM nodes WHERE id = ?", id))
}

func (t *sqliteTx) Nodes() ([]Node, error) {
	rows, err := t.tx.QueryContext(t.ctx, "SELECT "+nodeCols+" FROM nodes ORDER BY name, id")
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
	_, err := t.tx.ExecContext(t.ctx, `INSERT INTO nodes (`+nodeCols+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT(id) DO UPDATE SET name=excluded.name, status=excluded.status, project=excluded.project,
		site=excluded.site, make=excluded.make, model=excluded.model, version=excluded.version,
		source_ip=excluded.source_ip, tags=excluded.tags, pre_added=excluded.pre_added,
		key_fingerprint=excluded.key_fingerprint, cert_serial=excluded.cert_serial,
		cert_not_after=excluded.cert_not_after, created_at=excluded.created_at,
		registered_at=excluded.registered_at, last_seen=excluded.last_seen`,
		n.ID, n.Name, n.Status, n.Project, n.Site, n.Make, n.Model, n.Version, n.SourceIP, tags, b2i(n.PreAdded),
		n.KeyFingerprint, n.CertSerial, unixNano(n.CertNotAfter), unixNano(n.CreatedAt), unixNano(n.RegisteredAt),
		unixNano(n.LastSeen))
	if err != nil {
		return fmt.Errorf("put node %s: %w", n.ID, err)
	}
	return nil
}

func (t *sqliteTx) DeleteNode(id string) error {
	if _, err := t.tx.ExecContext(t.ctx, "DELETE FROM nodes WHERE id = ?", id); err != nil {
		return fmt.Errorf("delete node %s: %w", id, err)
	}
	return nil
}

const tokenCols = `id, name, project, hash, single_use, revoked, uses, created_at, expires_at`

func scanToken(row scanner) (Token, error) {
	var tok Token
	var single, revoked int
	var created, expires int64
	if err := row.Scan(&tok.ID, &tok.Name, &tok.Project, &tok.Hash, &single, &revoked, &tok.Uses, &created, &expires); err != nil {
		return Token{}, notFound(err)
	}
	tok.SingleUse, tok.Revoked = single != 0, revoked != 0
	tok.CreatedAt, tok.ExpiresAt = fromUnixNano(created), fromUnixNano(expires)
	return tok, nil
}

func (t *sqliteTx) Token(id string) (Token, error) {
	return scanToken(t.tx.QueryRowContext(t.ctx, "SELECT "+tokenCols+" FROM tokens WHERE id = ?", id))
}

func (t *sqliteTx) TokenByHash(hash string) (Token, error) {
	return scanToken(t.tx.QueryRowContext(t.ctx, "SELECT "+tokenCols+" FROM tokens WHERE hash = ?", hash))
}

func (t *sqliteTx) Tokens() ([]Token, error) {
	rows, err := t.tx.QueryContext(t.ctx, "SELECT "+tokenCols+" FROM tokens ORDER BY created_at DESC")
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
	_, err := t.tx.ExecContext(t.ctx, `INSERT INTO tokens (`+tokenCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT(id) DO UPDATE SET name=excluded.name, project=excluded.project, hash=excluded.hash,
		single_use=excluded.single_use, revoked=excluded.revoked, uses=excluded.uses,
		created_at=excluded.created_at, expires_at=excluded.expires_at`,
		tok.ID, tok.Name, tok.Project, tok.Hash, b2i(tok.SingleUse), b2i(tok.Revoked), tok.Uses,
		unixNano(tok.CreatedAt), unixNano(tok.ExpiresAt))
	if err != nil {
		return fmt.Errorf("put token %s: %w", tok.ID, err)
	}
	return nil
}

func (t *sqliteTx) Site(id string) (Site, error) {
	var s Site
	err := t.tx.QueryRowContext(t.ctx, "SELECT id, name, project FROM sites WHERE id = ?", id).Scan(&s.ID, &s.Name, &s.Project)
	return s, notFound(err)
}

func (t *sqliteTx) Sites() ([]Site, error) {
	rows, err := t.tx.QueryContext(t.ctx, "SELECT id, name, project FROM sites ORDER BY name")
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
	_, err := t.tx.ExecContext(t.ctx, `INSERT INTO sites (id, name, project) VALUES (?, ?, ?)
		ON CONFLICT(id) DO UPDATE SET name=excluded.name, project=excluded.project`, s.ID, s.Name, s.Project)
	if err != nil {
		return fmt.Errorf("put site %s: %w", s.Name, err)
	}
	return nil
}

func (t *sqliteTx) DeleteSite(id string) error {
	if _, err := t.tx.ExecContext(t.ctx, "DELETE FROM sites WHERE id = ?", id); err != nil {
		return fmt.Errorf("delete site %s: %w", id, err)
	}
	return nil
}

func (t *sqliteTx) AddEvent(e Event) error {
	_, err := t.tx.ExecContext(t.ctx, "INSERT INTO events (type, node_id, time, source_ip, message) VALUES (?, ?, ?, ?, ?)",
		e.Type, e.NodeID, unixNano(e.Time), e.SourceIP, e.Message)
	if err != nil {
		return fmt.Errorf("add event %s: %w", e.Type, err)
	}
	return nil
}

func (t *sqliteTx) Events(limit int) ([]Event, error) {
	rows, err := t.tx.QueryContext(t.ctx, "SELECT id, type, node_id, time, source_ip, message FROM events ORDER BY id DESC LIMIT ?", limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var e Event
		var tm int64
		if err := rows.Scan(&e.ID, &e.Type, &e.NodeID, &tm, &e.SourceIP, &e.Message); err != nil {
			return nil, err
		}
		e.Time = fromUnixNano(tm)
		out = append(out, e)
	}
	return out, rows.Err()
}
