package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/nodeconsole/nodeconsole/controlplane/store"
)

// tx is a store.Tx on one PostgreSQL transaction.
type tx struct {
	ctx  context.Context
	conn *pgx.Conn // inside BEGIN ... COMMIT
	// conflict is the first serialization failure a statement met: the
	// transaction is aborted and runs again whatever fn returns.
	conflict error
	// write is set in an Update.
	write bool
	st    *Store
	// reserved are the pending_reservations rows of the places
	// ReservePending took; the first placed of them are named by pending
	// enrollments this transaction stored (budget.go).
	reserved []int64
	placed   int
}

var _ store.Tx = (*tx)(nil)

// note remembers a serialization failure and returns err.
func (t *tx) note(err error) error {
	if err != nil && t.conflict == nil && retryable(err) {
		t.conflict = err
	}
	return err
}

func (t *tx) queryRow(q string, args ...any) pgx.Row {
	return noteRow{t: t, row: t.conn.QueryRow(t.ctx, q, args...)}
}

type noteRow struct {
	t   *tx
	row pgx.Row
}

func (r noteRow) Scan(dest ...any) error { return r.t.note(r.row.Scan(dest...)) }

func (t *tx) exec(q string, args ...any) (int64, error) {
	tag, err := t.conn.Exec(t.ctx, q, args...)
	if err != nil {
		return 0, conflict(t.note(err))
	}
	return tag.RowsAffected(), nil
}

// conflict marks a unique violation (another record has that value) as
// store.ErrConflict.
func conflict(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" {
		return fmt.Errorf("%w: %w", store.ErrConflict, err)
	}
	return err
}

// list runs q and scans every row with scan.
func list[T any](t *tx, scan func(pgx.Row) (T, error), q string, args ...any) ([]T, error) {
	rows, err := t.conn.Query(t.ctx, q, args...)
	if err != nil {
		return nil, t.note(err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, t.note(err)
		}
		out = append(out, v)
	}
	return out, t.note(rows.Err())
}

func unixNano(tm time.Time) int64 {
	if tm.IsZero() {
		return 0
	}
	return tm.UnixNano()
}

func fromUnixNano(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

func notFound(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return store.ErrNotFound
	}
	return err
}

// upsert is INSERT INTO table (cols) VALUES (...) ON CONFLICT (key) DO
// UPDATE every other column but keep.
func upsert(table, cols, key string, keep ...string) string {
	var set []string
	for _, c := range strings.Split(cols, ",") {
		if c = strings.TrimSpace(c); c != key && !slices.Contains(keep, c) {
			set = append(set, c+" = EXCLUDED."+c)
		}
	}
	return "INSERT INTO " + table + " (" + cols + ") VALUES (" + params(cols) + ") ON CONFLICT (" +
		key + ") DO UPDATE SET " + strings.Join(set, ", ")
}

// params is "$1, $2, ..." for the comma-separated cols.
func params(cols string) string {
	ps := make([]string, strings.Count(cols, ",")+1)
	for i := range ps {
		ps[i] = fmt.Sprintf("$%d", i+1)
	}
	return strings.Join(ps, ", ")
}

const enrollmentCols = `id, node_id, make, model, version, csr, key_fingerprint, device_code_hash,
	user_code, state, source_ip, created_at, expires_at, last_poll_at, decided_at, delivered_at, certificate, source_key`

const nodeCols = `id, name, status, project, site, make, model, version, source_ip, tags, pre_added,
	key_fingerprint, cert_serial, cert_not_after, created_at, registered_at, last_seen, pairing_key_hash`

const tokenCols = `id, name, project, hash, single_use, revoked, uses, created_at, expires_at, allow_project_override`

const eventCols = `id, type, node_id, time, source_ip, message, actor`

const userCols = `name, role, sites, disabled, password_hash, must_change_password, totp_secret, totp_last_step,
	created_at, last_login`

const apiTokenCols = `id, "user", label, hash, created_at, expires_at, last_used`

const sessionCols = `hash, "user", csrf, stage, created_at, last_seen, source_ip, user_agent`

const nodeCertCols = `serial, node_id, key_fingerprint, certificate, issued_at, not_after, grace_until, revoked_at, reason`

var (
	// An enrollment keeps the reservation it was stored with.
	qPutEnrollment = upsert("enrollments", enrollmentCols+", reservation", "id", "reservation")
	qPutNode       = upsert("nodes", nodeCols, "id")
	qCreateNode    = "INSERT INTO nodes (" + nodeCols + ") VALUES (" + params(nodeCols) + ") ON CONFLICT (id) DO NOTHING"
	qPutToken      = upsert("tokens", tokenCols, "id")
	qPutSite       = upsert("sites", "id, name, project", "id")
	qPutUser       = upsert("users", userCols, "name")
	qPutAPIToken   = upsert("api_tokens", apiTokenCols, "id")
	qPutSession    = upsert("sessions", sessionCols, "hash")
	qPutNodeCert   = upsert("node_certs", nodeCertCols, "serial")
)

func scanEnrollment(row pgx.Row) (store.Enrollment, error) {
	var e store.Enrollment
	var state string
	var created, expires, lastPoll, decided, delivered int64
	err := row.Scan(&e.ID, &e.NodeID, &e.Make, &e.Model, &e.Version, &e.CSR, &e.KeyFingerprint,
		&e.DeviceCodeHash, &e.UserCode, &state, &e.SourceIP, &created, &expires, &lastPoll, &decided, &delivered,
		&e.Certificate, &e.SourceKey)
	if err != nil {
		return store.Enrollment{}, notFound(err)
	}
	e.State = store.EnrollmentState(state)
	e.CreatedAt, e.ExpiresAt = fromUnixNano(created), fromUnixNano(expires)
	e.LastPollAt, e.DecidedAt = fromUnixNano(lastPoll), fromUnixNano(decided)
	e.DeliveredAt = fromUnixNano(delivered)
	return e, nil
}

func (t *tx) Enrollment(id string) (store.Enrollment, error) {
	return scanEnrollment(t.queryRow(`SELECT `+enrollmentCols+` FROM enrollments WHERE id = $1`, id))
}

func (t *tx) EnrollmentByDeviceHash(hash string) (store.Enrollment, error) {
	return scanEnrollment(t.queryRow(`SELECT `+enrollmentCols+` FROM enrollments WHERE device_code_hash = $1`, hash))
}

func (t *tx) EnrollmentByUserCode(code string) (store.Enrollment, error) {
	return scanEnrollment(t.queryRow(`SELECT `+enrollmentCols+` FROM enrollments WHERE user_code = $1
		ORDER BY created_at DESC LIMIT 1`, code))
}

func (t *tx) EnrollmentsForNode(nodeID string) ([]store.Enrollment, error) {
	return list(t, scanEnrollment, `SELECT `+enrollmentCols+` FROM enrollments WHERE node_id = $1
		ORDER BY created_at DESC`, nodeID)
}

func (t *tx) PutEnrollment(e store.Enrollment) error {
	// A new pending enrollment takes the next place this transaction
	// reserved by naming its reservation (budget.go).
	var reservation int64
	if e.State == store.EnrollPending && t.placed < len(t.reserved) {
		reservation = t.reserved[t.placed]
		t.placed++
	}
	_, err := t.exec(qPutEnrollment,
		e.ID, e.NodeID, e.Make, e.Model, e.Version, e.CSR, e.KeyFingerprint, e.DeviceCodeHash, e.UserCode,
		string(e.State), e.SourceIP, unixNano(e.CreatedAt), unixNano(e.ExpiresAt), unixNano(e.LastPollAt),
		unixNano(e.DecidedAt), unixNano(e.DeliveredAt), e.Certificate, e.SourceKey, reservation)
	if err != nil {
		return fmt.Errorf("put enrollment %s: %w", e.ID, err)
	}
	return nil
}

func (t *tx) DeleteEnrollmentsForNode(nodeID string) error {
	if _, err := t.exec(`DELETE FROM enrollments WHERE node_id = $1`, nodeID); err != nil {
		return fmt.Errorf("delete enrollments of %s: %w", nodeID, err)
	}
	return nil
}

func scanNode(row pgx.Row) (store.Node, error) {
	var n store.Node
	var tags string
	var notAfter, created, registered, lastSeen int64
	err := row.Scan(&n.ID, &n.Name, &n.Status, &n.Project, &n.Site, &n.Make, &n.Model, &n.Version, &n.SourceIP,
		&tags, &n.PreAdded, &n.KeyFingerprint, &n.CertSerial, &notAfter, &created, &registered, &lastSeen,
		&n.PairingKeyHash)
	if err != nil {
		return store.Node{}, notFound(err)
	}
	if tags != "" {
		if err := json.Unmarshal([]byte(tags), &n.Tags); err != nil {
			return store.Node{}, fmt.Errorf("node %s: decode tags: %w", n.ID, err)
		}
	}
	n.CertNotAfter, n.CreatedAt = fromUnixNano(notAfter), fromUnixNano(created)
	n.RegisteredAt, n.LastSeen = fromUnixNano(registered), fromUnixNano(lastSeen)
	return n, nil
}

func (t *tx) Node(id string) (store.Node, error) {
	return scanNode(t.queryRow(`SELECT `+nodeCols+` FROM nodes WHERE id = $1`, id))
}

func (t *tx) Nodes() ([]store.Node, error) {
	return list(t, scanNode, `SELECT `+nodeCols+` FROM nodes ORDER BY name, id`)
}

func (t *tx) NodesAfter(name, id string, limit int) ([]store.Node, error) {
	return list(t, scanNode, `SELECT `+nodeCols+` FROM nodes WHERE (name, id) > ($1, $2)
		ORDER BY name, id LIMIT $3`, name, id, limit)
}

func (t *tx) PutNode(n store.Node) error {
	if _, err := t.writeNode(qPutNode, n); err != nil {
		return fmt.Errorf("put node %s: %w", n.ID, err)
	}
	return nil
}

// CreateNode inserts with ON CONFLICT DO NOTHING: PostgreSQL checks the
// key without a predicate lock (a concurrent insert of the same ID not in
// this snapshot is a serialization failure).
func (t *tx) CreateNode(n store.Node) (bool, error) {
	k, err := t.writeNode(qCreateNode, n)
	if err != nil {
		return false, fmt.Errorf("create node %s: %w", n.ID, err)
	}
	return k == 1, nil
}

// writeNode runs q (qPutNode, qCreateNode) on n's columns and says how
// many rows it changed.
func (t *tx) writeNode(q string, n store.Node) (int64, error) {
	tags := ""
	if len(n.Tags) > 0 {
		b, err := json.Marshal(n.Tags)
		if err != nil {
			return 0, fmt.Errorf("encode tags: %w", err)
		}
		tags = string(b)
	}
	return t.exec(q,
		n.ID, n.Name, n.Status, n.Project, n.Site, n.Make, n.Model, n.Version, n.SourceIP, tags, n.PreAdded,
		n.KeyFingerprint, n.CertSerial, unixNano(n.CertNotAfter), unixNano(n.CreatedAt), unixNano(n.RegisteredAt),
		unixNano(n.LastSeen), n.PairingKeyHash)
}

func (t *tx) DeleteNode(id string) error {
	if _, err := t.exec(`DELETE FROM nodes WHERE id = $1`, id); err != nil {
		return fmt.Errorf("delete node %s: %w", id, err)
	}
	return nil
}

func scanToken(row pgx.Row) (store.Token, error) {
	var tok store.Token
	var created, expires int64
	if err := row.Scan(&tok.ID, &tok.Name, &tok.Project, &tok.Hash, &tok.SingleUse, &tok.Revoked, &tok.Uses,
		&created, &expires, &tok.AllowProjectOverride); err != nil {
		return store.Token{}, notFound(err)
	}
	tok.CreatedAt, tok.ExpiresAt = fromUnixNano(created), fromUnixNano(expires)
	return tok, nil
}

func (t *tx) Token(id string) (store.Token, error) {
	return scanToken(t.queryRow(`SELECT `+tokenCols+` FROM tokens WHERE id = $1`, id))
}

func (t *tx) TokenByHash(hash string) (store.Token, error) {
	return scanToken(t.queryRow(`SELECT `+tokenCols+` FROM tokens WHERE hash = $1`, hash))
}

func (t *tx) Tokens() ([]store.Token, error) {
	return list(t, scanToken, `SELECT `+tokenCols+` FROM tokens ORDER BY created_at DESC`)
}

func (t *tx) PutToken(tok store.Token) error {
	_, err := t.exec(qPutToken, tok.ID, tok.Name, tok.Project, tok.Hash, tok.SingleUse, tok.Revoked, tok.Uses,
		unixNano(tok.CreatedAt), unixNano(tok.ExpiresAt), tok.AllowProjectOverride)
	if err != nil {
		return fmt.Errorf("put token %s: %w", tok.ID, err)
	}
	return nil
}

func scanSite(row pgx.Row) (store.Site, error) {
	var s store.Site
	err := row.Scan(&s.ID, &s.Name, &s.Project)
	return s, notFound(err)
}

func (t *tx) Site(id string) (store.Site, error) {
	return scanSite(t.queryRow(`SELECT id, name, project FROM sites WHERE id = $1`, id))
}

func (t *tx) Sites() ([]store.Site, error) {
	return list(t, scanSite, `SELECT id, name, project FROM sites ORDER BY name`)
}

func (t *tx) PutSite(s store.Site) error {
	if _, err := t.exec(qPutSite, s.ID, s.Name, s.Project); err != nil {
		return fmt.Errorf("put site %s: %w", s.Name, err)
	}
	return nil
}

func (t *tx) DeleteSite(id string) error {
	if _, err := t.exec(`DELETE FROM sites WHERE id = $1`, id); err != nil {
		return fmt.Errorf("delete site %s: %w", id, err)
	}
	return nil
}

func scanEvent(row pgx.Row) (store.Event, error) {
	var e store.Event
	var tm int64
	if err := row.Scan(&e.ID, &e.Type, &e.NodeID, &tm, &e.SourceIP, &e.Message, &e.Actor); err != nil {
		return store.Event{}, err
	}
	e.Time = fromUnixNano(tm)
	return e, nil
}

func (t *tx) AddEvent(e store.Event) error {
	_, err := t.exec(`INSERT INTO events (type, node_id, time, source_ip, message, actor) VALUES ($1, $2, $3, $4, $5, $6)`,
		e.Type, e.NodeID, unixNano(e.Time), e.SourceIP, e.Message, e.Actor)
	if err != nil {
		return fmt.Errorf("add event %s: %w", e.Type, err)
	}
	return nil
}

func (t *tx) Events(limit int) ([]store.Event, error) {
	return list(t, scanEvent, `SELECT `+eventCols+` FROM events ORDER BY id DESC LIMIT $1`, limit)
}

func (t *tx) EventsPage(q store.EventQuery) ([]store.Event, error) {
	return list(t, scanEvent, `SELECT `+eventCols+` FROM events
		WHERE ($1::bigint = 0 OR id < $1) AND ($2::text = '' OR actor = $2) AND ($3::text = '' OR node_id = $3)
		AND ($4::text = '' OR type = $4)
		ORDER BY id DESC LIMIT $5`, q.Before, q.Actor, q.NodeID, q.Type, q.Limit)
}

func scanNodeCert(row pgx.Row) (store.NodeCert, error) {
	var c store.NodeCert
	var issued, notAfter, grace, revoked int64
	if err := row.Scan(&c.Serial, &c.NodeID, &c.KeyFingerprint, &c.Certificate, &issued, &notAfter, &grace,
		&revoked, &c.Reason); err != nil {
		return store.NodeCert{}, notFound(err)
	}
	c.IssuedAt, c.NotAfter = fromUnixNano(issued), fromUnixNano(notAfter)
	c.GraceUntil, c.RevokedAt = fromUnixNano(grace), fromUnixNano(revoked)
	return c, nil
}

func (t *tx) NodeCert(serial string) (store.NodeCert, error) {
	return scanNodeCert(t.queryRow(`SELECT `+nodeCertCols+` FROM node_certs WHERE serial = $1`, serial))
}

func (t *tx) NodeCertsForNode(nodeID string) ([]store.NodeCert, error) {
	out, err := list(t, scanNodeCert, `SELECT `+nodeCertCols+` FROM node_certs WHERE node_id = $1
		ORDER BY issued_at DESC`, nodeID)
	if err != nil {
		return nil, fmt.Errorf("certificates of %s: %w", nodeID, err)
	}
	return out, nil
}

func (t *tx) LiveNodeCerts(now time.Time) ([]store.NodeCert, error) {
	out, err := list(t, scanNodeCert, `SELECT `+nodeCertCols+` FROM node_certs WHERE not_after > $1
		ORDER BY issued_at`, unixNano(now))
	if err != nil {
		return nil, fmt.Errorf("live certificates: %w", err)
	}
	return out, nil
}

func (t *tx) PutNodeCert(c store.NodeCert) error {
	_, err := t.exec(qPutNodeCert, c.Serial, c.NodeID, c.KeyFingerprint, c.Certificate, unixNano(c.IssuedAt),
		unixNano(c.NotAfter), unixNano(c.GraceUntil), unixNano(c.RevokedAt), c.Reason)
	if err != nil {
		return fmt.Errorf("put certificate %s: %w", c.Serial, err)
	}
	return nil
}

func (t *tx) PruneNodeCerts(before time.Time) (int64, error) {
	n, err := t.exec(`DELETE FROM node_certs WHERE not_after < $1`, unixNano(before))
	if err != nil {
		return 0, fmt.Errorf("prune certificates: %w", err)
	}
	return n, nil
}

func (t *tx) CountPending(now time.Time, sourceKey string) (int, error) {
	// One source's count must read that source's entries of
	// enrollments_source_state only: read through enrollments_state_expires
	// it covers every live pending enrollment, and under SERIALIZABLE that
	// read conflicts with every other source's new enrollment. Hence two
	// statements, not one with "$2 = '' OR source_key = $2" (its generic
	// plan cannot use the source index), and "state || ''", which the
	// planner cannot match to enrollments_state_expires (it chose that
	// index while the table had no statistics yet).
	var n int
	var err error
	if sourceKey == "" {
		// In an Update, every new enrollment conflicts with this count
		// (the cap in all uses ReservePending instead). One source's
		// count conflicts only with the same source's.
		err = t.queryRow(`SELECT count(*) FROM enrollments WHERE state = 'pending' AND expires_at > $1`,
			unixNano(now)).Scan(&n)
	} else {
		err = t.queryRow(`SELECT count(*) FROM enrollments
			WHERE source_key = $2 AND state || '' = 'pending' AND expires_at > $1`,
			unixNano(now), sourceKey).Scan(&n)
	}
	if err != nil {
		return 0, fmt.Errorf("count pending enrollments: %w", err)
	}
	return n, nil
}

func (t *tx) Prune(p store.Prune) (store.PruneResult, error) {
	var out store.PruneResult
	run := func(n *int64, q string, args ...any) error {
		k, err := t.exec(q, args...)
		if err != nil {
			return fmt.Errorf("prune: %w", err)
		}
		*n += k
		return nil
	}
	if !p.EnrollmentsBefore.IsZero() {
		before := unixNano(p.EnrollmentsBefore)
		// Enrollments that are over (not approved: an approved one is how
		// a node that lost the answer gets its certificate again).
		if err := run(&out.Enrollments, `DELETE FROM enrollments WHERE
			(state = 'pending' AND expires_at < $1) OR
			(state IN ('cancelled', 'denied', 'superseded') AND decided_at < $1)`, before); err != nil {
			return out, err
		}
		// Nodes the server only heard of through enrollments that never
		// led anywhere.
		if err := run(&out.Nodes, `DELETE FROM nodes WHERE status = 'pending' AND NOT pre_added AND registered_at = 0
			AND last_seen < $1 AND NOT EXISTS (SELECT 1 FROM enrollments WHERE enrollments.node_id = nodes.id)`,
			before); err != nil {
			return out, err
		}
	}
	if !p.EventsBefore.IsZero() {
		if err := run(&out.Events, `DELETE FROM events WHERE time < $1`, unixNano(p.EventsBefore)); err != nil {
			return out, err
		}
	}
	if p.MaxEvents > 0 {
		// Identity values have gaps (rolled back inserts): keep the newest
		// MaxEvents rows by rank, not by arithmetic on ids.
		if err := run(&out.Events, `DELETE FROM events WHERE id <
			(SELECT id FROM events ORDER BY id DESC LIMIT 1 OFFSET $1)`, p.MaxEvents-1); err != nil {
			return out, err
		}
	}
	return out, nil
}

func scanUser(row pgx.Row) (store.User, error) {
	var u store.User
	var role, sites string
	var created, lastLogin int64
	err := row.Scan(&u.Name, &role, &sites, &u.Disabled, &u.PasswordHash, &u.MustChangePassword, &u.TOTPSecret,
		&u.TOTPLastStep, &created, &lastLogin)
	if err != nil {
		return store.User{}, notFound(err)
	}
	u.Role = store.Role(role)
	if sites != "" {
		u.Sites = strings.Split(sites, "\n")
	}
	u.CreatedAt, u.LastLogin = fromUnixNano(created), fromUnixNano(lastLogin)
	return u, nil
}

func (t *tx) User(name string) (store.User, error) {
	return scanUser(t.queryRow(`SELECT `+userCols+` FROM users WHERE name = $1`, name))
}

func (t *tx) Users() ([]store.User, error) {
	return list(t, scanUser, `SELECT `+userCols+` FROM users ORDER BY name`)
}

func (t *tx) PutUser(u store.User) error {
	_, err := t.exec(qPutUser, u.Name, string(u.Role), strings.Join(u.Sites, "\n"), u.Disabled, u.PasswordHash,
		u.MustChangePassword, u.TOTPSecret, u.TOTPLastStep, unixNano(u.CreatedAt), unixNano(u.LastLogin))
	if err != nil {
		return fmt.Errorf("put user %s: %w", u.Name, err)
	}
	return nil
}

func (t *tx) DeleteUser(name string) error {
	for _, q := range []string{`DELETE FROM api_tokens WHERE "user" = $1`, `DELETE FROM sessions WHERE "user" = $1`,
		`DELETE FROM users WHERE name = $1`} {
		if _, err := t.exec(q, name); err != nil {
			return fmt.Errorf("delete user %s: %w", name, err)
		}
	}
	return nil
}

func scanAPIToken(row pgx.Row) (store.APIToken, error) {
	var a store.APIToken
	var created, expires, used int64
	if err := row.Scan(&a.ID, &a.User, &a.Label, &a.Hash, &created, &expires, &used); err != nil {
		return store.APIToken{}, notFound(err)
	}
	a.CreatedAt, a.ExpiresAt, a.LastUsed = fromUnixNano(created), fromUnixNano(expires), fromUnixNano(used)
	return a, nil
}

func (t *tx) APIToken(id string) (store.APIToken, error) {
	return scanAPIToken(t.queryRow(`SELECT `+apiTokenCols+` FROM api_tokens WHERE id = $1`, id))
}

func (t *tx) APITokenByHash(hash string) (store.APIToken, error) {
	return scanAPIToken(t.queryRow(`SELECT `+apiTokenCols+` FROM api_tokens WHERE hash = $1`, hash))
}

func (t *tx) APITokensForUser(user string) ([]store.APIToken, error) {
	return list(t, scanAPIToken, `SELECT `+apiTokenCols+` FROM api_tokens WHERE "user" = $1
		ORDER BY created_at DESC`, user)
}

func (t *tx) PutAPIToken(a store.APIToken) error {
	_, err := t.exec(qPutAPIToken, a.ID, a.User, a.Label, a.Hash, unixNano(a.CreatedAt), unixNano(a.ExpiresAt),
		unixNano(a.LastUsed))
	if err != nil {
		return fmt.Errorf("put API token %s: %w", a.ID, err)
	}
	return nil
}

func (t *tx) DeleteAPIToken(id string) error {
	if _, err := t.exec(`DELETE FROM api_tokens WHERE id = $1`, id); err != nil {
		return fmt.Errorf("delete API token %s: %w", id, err)
	}
	return nil
}

func scanSession(row pgx.Row) (store.Session, error) {
	var s store.Session
	var stage string
	var created, seen int64
	if err := row.Scan(&s.Hash, &s.User, &s.CSRF, &stage, &created, &seen, &s.SourceIP, &s.UserAgent); err != nil {
		return store.Session{}, notFound(err)
	}
	s.Stage = store.SessionStage(stage)
	s.CreatedAt, s.LastSeen = fromUnixNano(created), fromUnixNano(seen)
	return s, nil
}

func (t *tx) Session(hash string) (store.Session, error) {
	return scanSession(t.queryRow(`SELECT `+sessionCols+` FROM sessions WHERE hash = $1`, hash))
}

func (t *tx) SessionsForUser(user string) ([]store.Session, error) {
	return list(t, scanSession, `SELECT `+sessionCols+` FROM sessions WHERE "user" = $1 ORDER BY last_seen DESC`, user)
}

func (t *tx) PutSession(s store.Session) error {
	_, err := t.exec(qPutSession, s.Hash, s.User, s.CSRF, string(s.Stage), unixNano(s.CreatedAt), unixNano(s.LastSeen),
		s.SourceIP, s.UserAgent)
	if err != nil {
		return fmt.Errorf("put session: %w", err)
	}
	return nil
}

func (t *tx) DeleteSession(hash string) error {
	if _, err := t.exec(`DELETE FROM sessions WHERE hash = $1`, hash); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

func (t *tx) DeleteSessionsForUser(user string) error {
	if _, err := t.exec(`DELETE FROM sessions WHERE "user" = $1`, user); err != nil {
		return fmt.Errorf("delete sessions of %s: %w", user, err)
	}
	return nil
}

func (t *tx) DeleteSessionsBefore(tm time.Time) error {
	if _, err := t.exec(`DELETE FROM sessions WHERE last_seen < $1`, unixNano(tm)); err != nil {
		return fmt.Errorf("delete idle sessions: %w", err)
	}
	return nil
}
