package store

import "time"

// Role is what a portal user or personal API token may do (see package access).
type Role string

// Roles, from most to least allowed.
const (
	RoleAdmin    Role = "admin"
	RoleOperator Role = "operator"
	RoleSite     Role = "site"
	RoleViewer   Role = "viewer"
)

// User is a portal user. Only an argon2id hash of the password is stored
// (see package passwords), with its parameters.
type User struct {
	Name         string
	Role         Role
	Sites        []string // for RoleSite: the sites the user may register nodes at
	Disabled     bool
	PasswordHash string
	// MustChangePassword is set for one-time passwords (user add without
	// --password-stdin, reset-password): the first login must change it.
	MustChangePassword bool
	TOTPSecret         string // base32; empty without two-factor login
	TOTPLastStep       int64  // last accepted time step (no code works twice)
	CreatedAt          time.Time
	LastLogin          time.Time
}

// APIToken is a personal API token: it acts with its user's role. Only the
// SHA-256 of its value is stored.
type APIToken struct {
	ID        string
	User      string
	Label     string
	Hash      string
	CreatedAt time.Time
	ExpiresAt time.Time // zero: never
	LastUsed  time.Time
}

// Session is a portal login. Only the SHA-256 of the cookie value is kept.
type Session struct {
	Hash      string
	User      string // a user name, or adminTokenActor
	CSRF      string
	Stage     SessionStage
	CreatedAt time.Time
	LastSeen  time.Time
	SourceIP  string
	UserAgent string
}

// SessionStage is how far a login got.
type SessionStage string

// Session stages: only SessionActive sessions reach pages other than the
// second login step and the forced password change.
const (
	SessionTOTP     SessionStage = "totp"     // password right, code pending
	SessionPassword SessionStage = "password" // must change the password first
	SessionActive   SessionStage = "active"
)

// EventQuery selects a page of events, newest first.
type EventQuery struct {
	Before int64 // only events with a smaller ID; 0: from the newest
	Limit  int
	Actor  string // exact match, if set
	NodeID string // exact match, if set
	Type   string // exact match, if set
}

// userTx is the part of Tx for users, personal API tokens, sessions and
// paged lists (embedded in Tx).
type userTx interface {
	// User returns the user with that name.
	User(name string) (User, error)
	// Users returns every user sorted by Name.
	Users() ([]User, error)
	// PutUser inserts or replaces a user.
	PutUser(u User) error
	// DeleteUser removes the user with their tokens and sessions.
	DeleteUser(name string) error

	// APIToken returns the personal API token with that ID.
	APIToken(id string) (APIToken, error)
	// APITokenByHash returns the personal API token with that Hash.
	APITokenByHash(hash string) (APIToken, error)
	// APITokensForUser returns the user's API tokens, newest first.
	APITokensForUser(user string) ([]APIToken, error)
	// PutAPIToken inserts or replaces a personal API token.
	PutAPIToken(t APIToken) error
	// DeleteAPIToken deletes a personal API token.
	DeleteAPIToken(id string) error

	// Session returns the session with that Hash.
	Session(hash string) (Session, error)
	// SessionsForUser returns the user's sessions, last seen first.
	SessionsForUser(user string) ([]Session, error)
	// PutSession inserts or replaces a session.
	PutSession(s Session) error
	// DeleteSession deletes a session.
	DeleteSession(hash string) error
	// DeleteSessionsForUser deletes every session of the user.
	DeleteSessionsForUser(user string) error
	// DeleteSessionsBefore removes sessions last seen before t (idle).
	DeleteSessionsBefore(t time.Time) error

	// EventsPage returns up to q.Limit events matching q, newest first.
	EventsPage(q EventQuery) ([]Event, error)
	// NodesAfter returns up to limit nodes sorted by (name, id) after the
	// given pair (both empty: from the start).
	NodesAfter(name, id string, limit int) ([]Node, error)
}
