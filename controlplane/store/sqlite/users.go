package sqlite

import (
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/nodeconsole/nodeconsole/controlplane/store"
)

// The SQLite side of store.Tx for users, API tokens, sessions and pages
// (store/users.go).

func scanEvent(row scanner) (store.Event, error) {
	var e store.Event
	var tm int64
	if err := row.Scan(&e.ID, &e.Type, &e.NodeID, &tm, &e.SourceIP, &e.Message, &e.Actor); err != nil {
		return store.Event{}, err
	}
	e.Time = fromUnixNano(tm)
	return e, nil
}

func scanEvents(rows *sql.Rows, err error) ([]store.Event, error) {
	return scanAll(rows, err, scanEvent)
}

func (t *sqliteTx) EventsPage(q store.EventQuery) ([]store.Event, error) {
	return scanEvents(t.query(qEventsPage, q.Before, q.Actor, q.NodeID, q.Type, q.Limit))
}

func (t *sqliteTx) NodesAfter(name, id string, limit int) ([]store.Node, error) {
	rows, err := t.query(qNodesAfter, name, id, limit)
	return scanAll(rows, err, scanNode)
}

// scanAll reads every row of rows with scan.
func scanAll[T any](rows *sql.Rows, err error, scan func(scanner) (T, error)) ([]T, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

func scanUser(row scanner) (store.User, error) {
	var u store.User
	var role, sites string
	var disabled, mustChange int
	var created, lastLogin int64
	err := row.Scan(&u.Name, &role, &sites, &disabled, &u.PasswordHash, &mustChange, &u.TOTPSecret, &u.TOTPLastStep,
		&created, &lastLogin)
	if err != nil {
		return store.User{}, notFound(err)
	}
	u.Role = store.Role(role)
	if sites != "" {
		u.Sites = strings.Split(sites, "\n")
	}
	u.Disabled, u.MustChangePassword = disabled != 0, mustChange != 0
	u.CreatedAt, u.LastLogin = fromUnixNano(created), fromUnixNano(lastLogin)
	return u, nil
}

func (t *sqliteTx) User(name string) (store.User, error) { return scanUser(t.queryRow(qUser, name)) }

func (t *sqliteTx) Users() ([]store.User, error) {
	rows, err := t.query(qUsers)
	return scanAll(rows, err, scanUser)
}

func (t *sqliteTx) PutUser(u store.User) error {
	err := t.exec(qPutUser, u.Name, string(u.Role), strings.Join(u.Sites, "\n"), b2i(u.Disabled), u.PasswordHash,
		b2i(u.MustChangePassword), u.TOTPSecret, u.TOTPLastStep, unixNano(u.CreatedAt), unixNano(u.LastLogin))
	if err != nil {
		return fmt.Errorf("put user %s: %w", u.Name, err)
	}
	return nil
}

func (t *sqliteTx) DeleteUser(name string) error {
	for _, q := range []int{qDeleteAPITokensForUser, qDeleteSessionsForUser, qDeleteUser} {
		if err := t.exec(q, name); err != nil {
			return fmt.Errorf("delete user %s: %w", name, err)
		}
	}
	return nil
}

func scanAPIToken(row scanner) (store.APIToken, error) {
	var a store.APIToken
	var created, expires, used int64
	if err := row.Scan(&a.ID, &a.User, &a.Label, &a.Hash, &created, &expires, &used); err != nil {
		return store.APIToken{}, notFound(err)
	}
	a.CreatedAt, a.ExpiresAt, a.LastUsed = fromUnixNano(created), fromUnixNano(expires), fromUnixNano(used)
	return a, nil
}

func (t *sqliteTx) APIToken(id string) (store.APIToken, error) {
	return scanAPIToken(t.queryRow(qAPIToken, id))
}

func (t *sqliteTx) APITokenByHash(hash string) (store.APIToken, error) {
	return scanAPIToken(t.queryRow(qAPITokenByHash, hash))
}

func (t *sqliteTx) APITokensForUser(user string) ([]store.APIToken, error) {
	rows, err := t.query(qAPITokensForUser, user)
	return scanAll(rows, err, scanAPIToken)
}

func (t *sqliteTx) PutAPIToken(a store.APIToken) error {
	err := t.exec(qPutAPIToken, a.ID, a.User, a.Label, a.Hash, unixNano(a.CreatedAt), unixNano(a.ExpiresAt),
		unixNano(a.LastUsed))
	if err != nil {
		return fmt.Errorf("put API token %s: %w", a.ID, err)
	}
	return nil
}

func (t *sqliteTx) DeleteAPIToken(id string) error {
	if err := t.exec(qDeleteAPIToken, id); err != nil {
		return fmt.Errorf("delete API token %s: %w", id, err)
	}
	return nil
}

func scanSession(row scanner) (store.Session, error) {
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

func (t *sqliteTx) Session(hash string) (store.Session, error) {
	return scanSession(t.queryRow(qSession, hash))
}

func (t *sqliteTx) SessionsForUser(user string) ([]store.Session, error) {
	rows, err := t.query(qSessionsForUser, user)
	return scanAll(rows, err, scanSession)
}

func (t *sqliteTx) PutSession(s store.Session) error {
	err := t.exec(qPutSession, s.Hash, s.User, s.CSRF, string(s.Stage), unixNano(s.CreatedAt), unixNano(s.LastSeen),
		s.SourceIP, s.UserAgent)
	if err != nil {
		return fmt.Errorf("put session: %w", err)
	}
	return nil
}

func (t *sqliteTx) DeleteSession(hash string) error {
	if err := t.exec(qDeleteSession, hash); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

func (t *sqliteTx) DeleteSessionsForUser(user string) error {
	if err := t.exec(qDeleteSessionsForUser, user); err != nil {
		return fmt.Errorf("delete sessions of %s: %w", user, err)
	}
	return nil
}

func (t *sqliteTx) DeleteSessionsBefore(tm time.Time) error {
	if err := t.exec(qDeleteSessionsBefore, unixNano(tm)); err != nil {
		return fmt.Errorf("delete idle sessions: %w", err)
	}
	return nil
}
