// Package store is the control plane's storage contract: the Store and Tx
// interfaces, the records they keep (Node, Enrollment, Token, User, ...)
// and the errors they return. Package controlplane holds the logic and
// knows only these interfaces; the implementations live in the packages
// below this one (sqlite, the embedded default) and all pass one
// conformance suite, package storetest.
package store

import (
	"context"
	"errors"
	"time"
)

// Errors every implementation returns (wrapped, so test with errors.Is).
var (
	// ErrNotFound is returned by Tx getters when the record does not exist.
	ErrNotFound = errors.New("controlplane: not found")
	// ErrConflict is returned by a Put that would give a second record a
	// value only one may have: an enrollment's DeviceCodeHash, a pending
	// enrollment's UserCode (among pending enrollments, expired ones
	// included), a token's or API token's Hash, a site's Name.
	ErrConflict = errors.New("controlplane: conflicts with another record")
	// ErrClosed is returned by View and Update after Close.
	ErrClosed = errors.New("controlplane: store is closed")
)

// Store keeps the control plane's state. Every read and write happens inside
// a transaction: View for reads, Update for writes, which the store runs one
// at a time (or as serializable transactions), so that the logic in package
// controlplane can check a state and change it atomically without knowing
// the database. Package sqlite is the embedded implementation; every
// implementation passes storetest.Run.
type Store interface {
	// View runs fn in a read-only transaction: it sees what committed
	// before it began, never part of an Update, and cannot write.
	View(ctx context.Context, fn func(Tx) error) error
	// Update runs fn in a read-write transaction, committed if fn returns
	// nil. If fn fails or panics (the panic goes on on the caller's
	// goroutine) nothing it wrote is kept. A store that detects a conflict
	// between concurrent transactions runs fn again rather than failing,
	// so fn may run more than once and must keep its effects inside the
	// transaction (or reset them when it starts).
	Update(ctx context.Context, fn func(Tx) error) error
	// Close releases the store; later calls get ErrClosed. Closing twice
	// is not an error.
	Close() error
}

// Tx is the set of record operations available inside a transaction.
// Getters return ErrNotFound for missing records; lists of nothing are
// empty, not an error. Put* insert or replace by primary key (ErrConflict:
// see there). Delete* of a missing record is not an error. Times keep at
// least microsecond precision, and a zero time stays zero; int64 fields
// keep 64 bits. Strings sort by byte order.
type Tx interface {
	userTx // users.go

	// Enrollment returns the enrollment with that ID.
	Enrollment(id string) (Enrollment, error)
	// EnrollmentByDeviceHash returns the enrollment whose device code has
	// that hash.
	EnrollmentByDeviceHash(hash string) (Enrollment, error)
	// EnrollmentByUserCode returns the newest enrollment with that code.
	EnrollmentByUserCode(code string) (Enrollment, error)
	// EnrollmentsForNode returns the node's enrollments, newest first.
	EnrollmentsForNode(nodeID string) ([]Enrollment, error)
	// PutEnrollment inserts or replaces an enrollment. A new one's
	// UserCode needs no lookup first: a code another pending enrollment
	// has is ErrConflict (in PostgreSQL the whole transaction then fails;
	// draw another code and run it again).
	PutEnrollment(e Enrollment) error
	// DeleteEnrollmentsForNode deletes every enrollment of the node.
	DeleteEnrollmentsForNode(nodeID string) error

	// Node returns the node with that ID.
	Node(id string) (Node, error)
	// Nodes returns every node sorted by (Name, ID).
	Nodes() ([]Node, error)
	// PutNode inserts or replaces a node.
	PutNode(n Node) error
	// CreateNode inserts n unless a node has its ID, and says whether it
	// did. It reads nothing: in a store that checks what transactions
	// read (PostgreSQL), looking up an ID no node has conflicts with
	// every concurrent insert of a nearby ID, so a new node's enrollment
	// creates it first and reads it only when it existed.
	CreateNode(n Node) (bool, error)
	// DeleteNode deletes a node (not its enrollments, certificates or
	// events).
	DeleteNode(id string) error

	// Token returns the registration token with that ID.
	Token(id string) (Token, error)
	// TokenByHash returns the registration token with that Hash.
	TokenByHash(hash string) (Token, error)
	// Tokens returns every registration token, newest first.
	Tokens() ([]Token, error)
	// PutToken inserts or replaces a registration token.
	PutToken(t Token) error

	// Site returns the site with that ID.
	Site(id string) (Site, error)
	// Sites returns every site sorted by Name.
	Sites() ([]Site, error)
	// PutSite inserts or replaces a site.
	PutSite(s Site) error
	// DeleteSite deletes a site.
	DeleteSite(id string) error

	// AddEvent appends an event; the store gives it an ID larger than
	// every earlier event's (e.ID is ignored).
	AddEvent(e Event) error
	// Events returns up to limit events, newest first.
	Events(limit int) ([]Event, error)

	// NodeCert returns the certificate with that serial (ca.SerialHex).
	NodeCert(serial string) (NodeCert, error)
	// NodeCertsForNode returns the node's certificates, newest first.
	NodeCertsForNode(nodeID string) ([]NodeCert, error)
	// LiveNodeCerts returns the certificates that are not expired at now
	// (NotAfter after now), oldest issued first.
	LiveNodeCerts(now time.Time) ([]NodeCert, error)
	// PutNodeCert inserts or replaces a certificate record.
	PutNodeCert(c NodeCert) error
	// PruneNodeCerts deletes the certificates that expired before t and
	// says how many.
	PruneNodeCerts(before time.Time) (int64, error)

	// CountPending counts live (pending, not expired at now) enrollments;
	// with sourceKey set, only those whose SourceKey it is.
	CountPending(now time.Time, sourceKey string) (int, error)
	// ReservePending is the cap on live pending enrollments in all
	// (--max-pending): it reserves a place for one more if fewer than
	// limit are live at now or reserved by transactions still running,
	// and returns that number (without this one) and whether it did. The
	// next PutEnrollment of a pending enrollment in this transaction takes
	// the place; if the transaction ends without one (or fails), the place
	// is given back. Replicas sharing a database share one bound: the live
	// pending enrollments never exceed limit. A place that leaves pending
	// (decided, expired) may be seen free only once a reservation is
	// refused (the PostgreSQL store then counts again). Update only.
	ReservePending(now time.Time, limit int) (n int, ok bool, err error)
	// Prune deletes what retention no longer keeps (see Prune).
	Prune(p Prune) (PruneResult, error)
}

// Prune says what Tx.Prune deletes. Zero fields delete nothing.
type Prune struct {
	// EnrollmentsBefore: enrollments that expired (pending) or ended
	// (cancelled, denied, superseded) before it, then nodes that are
	// pending, not pre-added, never registered, not seen since it and left
	// without enrollments. Approved enrollments are kept.
	EnrollmentsBefore time.Time
	// EventsBefore: events older than it.
	EventsBefore time.Time
	// MaxEvents: keep only the newest MaxEvents events.
	MaxEvents int
}

// PruneResult counts what Prune deleted.
type PruneResult struct {
	Enrollments, Nodes, Events int64
}

// EnrollmentState is the server-side state of an enrollment.
type EnrollmentState string

// Enrollment states. Only pending enrollments change state.
const (
	EnrollPending    EnrollmentState = "pending"
	EnrollApproved   EnrollmentState = "approved"
	EnrollDenied     EnrollmentState = "denied"
	EnrollCancelled  EnrollmentState = "cancelled"
	EnrollSuperseded EnrollmentState = "superseded"
)

// Enrollment is one device authorization: a node's request for a certificate
// that waits for an admin.
type Enrollment struct {
	ID             string
	NodeID         string
	Make           string
	Model          string
	Version        string
	CSR            string // PEM
	KeyFingerprint string // hex SHA-256 of the CSR's SubjectPublicKeyInfo (api.FingerprintDER shows its start)
	DeviceCodeHash string // hex SHA-256 of the device code
	UserCode       string // normalised, without dash
	State          EnrollmentState
	SourceIP       string
	SourceKey      string // the source it counts against (IPv4 address, IPv6 /64)
	CreatedAt      time.Time
	ExpiresAt      time.Time
	LastPollAt     time.Time
	DecidedAt      time.Time
	DeliveredAt    time.Time // first time a poll returned the certificate; set at creation for a re-enrollment (no access token)
	Certificate    string    // PEM, set when approved
}

// Node is the server's record of a node.
type Node struct {
	ID             string
	Name           string
	Status         string // api.StatusPending, api.StatusRegistered, api.StatusDeregistered
	Project        string
	Site           string
	Make           string
	Model          string
	Version        string
	SourceIP       string
	Tags           map[string]string
	PreAdded       bool
	PairingKeyHash string // pairingKeyHash of the pairing key Add Edge Hosts gave, or ""
	KeyFingerprint string // of the registered key
	CertSerial     string // hex serial of the only certificate accepted for mTLS
	CertNotAfter   time.Time
	CreatedAt      time.Time
	RegisteredAt   time.Time
	LastSeen       time.Time
}

// Token is a registration token. Only the SHA-256 of its value is stored.
type Token struct {
	ID        string
	Name      string
	Project   string
	Hash      string
	SingleUse bool
	Revoked   bool
	// AllowProjectOverride lets a node registering with it choose another
	// project.
	AllowProjectOverride bool
	Uses                 int
	CreatedAt            time.Time
	ExpiresAt            time.Time
}

// Site is a place a node can be registered under from the QR page.
type Site struct {
	ID      string
	Name    string
	Project string
}

// Event is an entry of the events log.
type Event struct {
	ID       int64
	Type     string
	NodeID   string
	Time     time.Time
	SourceIP string
	// Actor is who caused it (Principal.Actor); set from the request's
	// principal when empty (see actorStore).
	Actor   string
	Message string
}

// NodeCert is a certificate issued to a node. The node's current one is
// Node.CertSerial; a predecessor is accepted until GraceUntil (renewal);
// every other one that has not expired is revoked and listed in the CRL.
type NodeCert struct {
	Serial         string // ca.SerialHex
	NodeID         string
	KeyFingerprint string
	Certificate    string // PEM
	IssuedAt       time.Time
	NotAfter       time.Time
	// GraceUntil, on a certificate a renewal replaced, is when it stops
	// working if the new one is not used before.
	GraceUntil time.Time
	// RevokedAt is when the server first found it revoked (zero: not
	// yet); Reason is its CRL reason code.
	RevokedAt time.Time
	Reason    int
}
