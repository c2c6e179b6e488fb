package sqlite

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	driver "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/nodeconsole/nodeconsole/controlplane/store"
)

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
	return conflict(err)
}

// conflict marks a UNIQUE constraint failure as store.ErrConflict.
func conflict(err error) error {
	var se *driver.Error
	if errors.As(err, &se) && se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE {
		return fmt.Errorf("%w: %w", store.ErrConflict, err)
	}
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
		return store.ErrNotFound
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

func scanEnrollment(row scanner) (store.Enrollment, error) {
	var e store.Enrollment
	var state string
	var created, expires, lastPoll, decided, delivered int64
	err := row.Scan(&e.ID, &e.NodeID, &e.Make, &e.Model, &e.Version, &e.CSR, &e.KeyFingerprint,
		&e.DeviceCodeHash, &e.UserCode, &state, &e.SourceIP, &created, &expires, &lastPoll, &decided, &delivered, &e.Certificate,
		&e.SourceKey)
	if err != nil {
		return store.Enrollment{}, notFound(err)
	}
	e.State = store.EnrollmentState(state)
	e.CreatedAt, e.ExpiresAt = fromUnixNano(created), fromUnixNano(expires)
	e.LastPollAt, e.DecidedAt = fromUnixNano(lastPoll), fromUnixNano(decided)
	e.DeliveredAt = fromUnixNano(delivered)
	return e, nil
}

func (t *sqliteTx) Enrollment(id string) (store.Enrollment, error) {
	return scanEnrollment(t.queryRow(qEnrollmentByID, id))
}

func (t *sqliteTx) EnrollmentByDeviceHash(hash string) (store.Enrollment, error) {
	return scanEnrollment(t.queryRow(qEnrollmentByHash, hash))
}

func (t *sqliteTx) EnrollmentByUserCode(code string) (store.Enrollment, error) {
	return scanEnrollment(t.queryRow(qEnrollmentByUserCode, code))
}

func (t *sqliteTx) EnrollmentsForNode(nodeID string) ([]store.Enrollment, error) {
	rows, err := t.query(qEnrollmentsForNode, nodeID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Enrollment
	for rows.Next() {
		e, err := scanEnrollment(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

func (t *sqliteTx) PutEnrollment(e store.Enrollment) error {
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

func scanNode(row scanner) (store.Node, error) {
	var n store.Node
	var tags string
	var preAdded int
	var notAfter, created, registered, lastSeen int64
	err := row.Scan(&n.ID, &n.Name, &n.Status, &n.Project, &n.Site, &n.Make, &n.Model, &n.Version, &n.SourceIP,
		&tags, &preAdded, &n.KeyFingerprint, &n.CertSerial, &notAfter, &created, &registered, &lastSeen, &n.PairingKeyHash)
	if err != nil {
		return store.Node{}, notFound(err)
	}
	if tags != "" {
		if err := json.Unmarshal([]byte(tags), &n.Tags); err != nil {
			return store.Node{}, fmt.Errorf("node %s: decode tags: %w", n.ID, err)
		}
	}
	n.PreAdded = preAdded != 0
	n.CertNotAfter, n.CreatedAt = fromUnixNano(notAfter), fromUnixNano(created)
	n.RegisteredAt, n.LastSeen = fromUnixNano(registered), fromUnixNano(lastSeen)
	return n, nil
}

func (t *sqliteTx) Node(id string) (store.Node, error) {
	return scanNode(t.queryRow(qNode, id))
}

func (t *sqliteTx) Nodes() ([]store.Node, error) {
	rows, err := t.query(qNodes)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Node
	for rows.Next() {
		n, err := scanNode(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

func (t *sqliteTx) PutNode(n store.Node) error {
	if _, err := t.writeNode(qPutNode, n); err != nil {
		return fmt.Errorf("put node %s: %w", n.ID, err)
	}
	return nil
}

func (t *sqliteTx) CreateNode(n store.Node) (bool, error) {
	k, err := t.writeNode(qCreateNode, n)
	if err != nil {
		return false, fmt.Errorf("create node %s: %w", n.ID, err)
	}
	return k == 1, nil
}

// writeNode runs q (qPutNode, qCreateNode) on n's columns and says how
// many rows it changed.
func (t *sqliteTx) writeNode(q int, n store.Node) (int64, error) {
	tags := ""
	if len(n.Tags) > 0 {
		b, err := json.Marshal(n.Tags)
		if err != nil {
			return 0, fmt.Errorf("encode tags: %w", err)
		}
		tags = string(b)
	}
	res, err := t.c.stmt(q).ExecContext(sqliteCtx,
		n.ID, n.Name, n.Status, n.Project, n.Site, n.Make, n.Model, n.Version, n.SourceIP, tags, b2i(n.PreAdded),
		n.KeyFingerprint, n.CertSerial, unixNano(n.CertNotAfter), unixNano(n.CreatedAt), unixNano(n.RegisteredAt),
		unixNano(n.LastSeen), n.PairingKeyHash)
	if err != nil {
		return 0, conflict(err)
	}
	return res.RowsAffected()
}

func (t *sqliteTx) DeleteNode(id string) error {
	if err := t.exec(qDeleteNode, id); err != nil {
		return fmt.Errorf("delete node %s: %w", id, err)
	}
	return nil
}

func scanToken(row scanner) (store.Token, error) {
	var tok store.Token
	var single, revoked, override int
	var created, expires int64
	if err := row.Scan(&tok.ID, &tok.Name, &tok.Project, &tok.Hash, &single, &revoked, &tok.Uses, &created, &expires, &override); err != nil {
		return store.Token{}, notFound(err)
	}
	tok.SingleUse, tok.Revoked, tok.AllowProjectOverride = single != 0, revoked != 0, override != 0
	tok.CreatedAt, tok.ExpiresAt = fromUnixNano(created), fromUnixNano(expires)
	return tok, nil
}

func (t *sqliteTx) Token(id string) (store.Token, error) {
	return scanToken(t.queryRow(qToken, id))
}

func (t *sqliteTx) TokenByHash(hash string) (store.Token, error) {
	return scanToken(t.queryRow(qTokenByHash, hash))
}

func (t *sqliteTx) Tokens() ([]store.Token, error) {
	rows, err := t.query(qTokens)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Token
	for rows.Next() {
		tok, err := scanToken(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, tok)
	}
	return out, rows.Err()
}

func (t *sqliteTx) PutToken(tok store.Token) error {
	err := t.exec(qPutToken,
		tok.ID, tok.Name, tok.Project, tok.Hash, b2i(tok.SingleUse), b2i(tok.Revoked), tok.Uses,
		unixNano(tok.CreatedAt), unixNano(tok.ExpiresAt), b2i(tok.AllowProjectOverride))
	if err != nil {
		return fmt.Errorf("put token %s: %w", tok.ID, err)
	}
	return nil
}

func (t *sqliteTx) Site(id string) (store.Site, error) {
	var s store.Site
	err := t.queryRow(qSite, id).Scan(&s.ID, &s.Name, &s.Project)
	return s, notFound(err)
}

func (t *sqliteTx) Sites() ([]store.Site, error) {
	rows, err := t.query(qSites)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Site
	for rows.Next() {
		var s store.Site
		if err := rows.Scan(&s.ID, &s.Name, &s.Project); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

func (t *sqliteTx) PutSite(s store.Site) error {
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

func (t *sqliteTx) AddEvent(e store.Event) error {
	if err := t.exec(qAddEvent, e.Type, e.NodeID, unixNano(e.Time), e.SourceIP, e.Message, e.Actor); err != nil {
		return fmt.Errorf("add event %s: %w", e.Type, err)
	}
	return nil
}

func (t *sqliteTx) Events(limit int) ([]store.Event, error) {
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

// ReservePending counts: Updates run one at a time, so nothing else can
// add a pending enrollment before this transaction commits.
func (t *sqliteTx) ReservePending(now time.Time, limit int) (int, bool, error) {
	n, err := t.CountPending(now, "")
	return n, err == nil && n < limit, err
}

func (t *sqliteTx) Prune(p store.Prune) (store.PruneResult, error) {
	var out store.PruneResult
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
