package api

import "time"

// Node statuses used in Node.Status and NodeSelf.Status.
const (
	// StatusPending: the node is enrolling, or an admin pre-added its ID.
	StatusPending = "pending"
	// StatusRegistered: the node holds a valid certificate.
	StatusRegistered = "registered"
	// StatusDeregistered: the node deregistered; its certificate is refused.
	StatusDeregistered = "deregistered"
)

// Event types used in Event.Type.
const (
	// EventEnrollmentStarted: a node asked for a code.
	EventEnrollmentStarted = "enrollment_started"
	// EventActivated: an admin licensed a code, or a pre-added node enrolled.
	EventActivated = "activated"
	// EventDenied: an admin denied a code.
	EventDenied = "denied"
	// EventRegistered: a node received its certificate (poll or token).
	EventRegistered = "registered"
	// EventDeregistered: a node deregistered itself.
	EventDeregistered = "deregistered"
	// EventCancelled: a node cancelled its enrollment.
	EventCancelled = "enrollment_cancelled"
	// EventCodeLookupFailed: a wrong, expired or used code was looked up.
	EventCodeLookupFailed = "code_lookup_failed"
	// EventTokenRejected: a registration with a bad token was refused.
	EventTokenRejected = "token_rejected"
	// EventNodeAdded: an admin pre-added a node ID.
	EventNodeAdded = "node_added"
	// EventNodeDeleted: an admin deleted a node.
	EventNodeDeleted = "node_deleted"
	// EventTokenCreated: an admin created a registration token.
	EventTokenCreated = "token_created"
	// EventTokenRevoked: an admin revoked a registration token.
	EventTokenRevoked = "token_revoked"
	// EventPairingKeyRejected: an enrollment brought a pairing key that does
	// not match the node ID's; it was treated as an ordinary enrollment.
	EventPairingKeyRejected = "pairing_key_rejected"
	// EventPendingCapReached: new enrollments were refused because the
	// global or a per-source cap on pending enrollments was reached
	// (recorded at most once a minute).
	EventPendingCapReached = "pending_cap_reached"
	// EventAdminAuthFailed: a request to the admin API carried a wrong
	// bearer token (summarised per source when many).
	EventAdminAuthFailed = "admin_auth_failed"
	// EventLoginFailed: a portal login failed (summarised per source when
	// many).
	EventLoginFailed = "login_failed"
	// EventSiteCreated: a site was added.
	EventSiteCreated = "site_created"
	// EventSiteDeleted: a site was removed.
	EventSiteDeleted = "site_deleted"
	// EventLogin: a portal user logged in.
	EventLogin = "login"
	// EventTOTPFailed: a wrong two-factor code was entered.
	EventTOTPFailed = "totp_failed"
	// EventLogout: a portal session was ended by its user or an admin.
	EventLogout = "logout"
	// EventUserCreated, EventUserChanged, EventUserDeleted: user changes
	// (role, sites, disabled, password reset, TOTP).
	EventUserCreated = "user_created"
	EventUserChanged = "user_changed"
	EventUserDeleted = "user_deleted"
	// EventPasswordChanged: a user changed their password.
	EventPasswordChanged = "password_changed"
	// EventAPITokenCreated, EventAPITokenRevoked: personal API tokens.
	EventAPITokenCreated = "api_token_created"
	EventAPITokenRevoked = "api_token_revoked"
	// EventAdminTokenRotated: DATA/admin-token was replaced.
	EventAdminTokenRotated = "admin_token_rotated"
)

// PairingKeyGenerate, as the value of AddNodesRequest.PairingKeys, asks the
// server to generate the pairing key; it is returned once, in
// NodeList.PairingKeys.
const PairingKeyGenerate = "generate"

// Pairing key length bounds (bytes) for keys an admin chooses.
const (
	MinPairingKeyLen = 16
	MaxPairingKeyLen = 256
)

// Activation answers Find (GET PatternActivation): what the admin checks
// before licensing, against phishing.
type Activation struct {
	// NodeID is the enrolling node's ID.
	NodeID string `json:"nodeId"`
	// Make is the node's hardware vendor.
	Make string `json:"make"`
	// Model is the node's hardware model.
	Model string `json:"model"`
	// Version is the node's nodeconsole version.
	Version string `json:"version,omitempty"`
	// SourceIP is the address the enrollment came from.
	SourceIP string `json:"sourceIp"`
	// RequestedAt is when the node asked for the code.
	RequestedAt time.Time `json:"requestedAt"`
	// ExpiresAt is when the code stops working.
	ExpiresAt time.Time `json:"expiresAt"`
	// KeyFingerprint is KeyFingerprint of the enrolling key: the console
	// shows the same string next to the code, so the admin can check that
	// the key being licensed is the one on the node.
	KeyFingerprint string `json:"keyFingerprint"`
	// Competing lists the other live enrollments for the same node ID (other
	// keys, other codes), oldest first. More than one means someone else may
	// be trying to take this node ID: compare fingerprints with the console.
	// Licensing one ends the others.
	Competing []CompetingRequest `json:"competing,omitempty"`
}

// CompetingRequest is another live enrollment for the node ID of a Find.
type CompetingRequest struct {
	// KeyFingerprint is KeyFingerprint of its key.
	KeyFingerprint string `json:"keyFingerprint"`
	// SourceIP is the address it came from.
	SourceIP string `json:"sourceIp"`
	// RequestedAt is when it was made.
	RequestedAt time.Time `json:"requestedAt"`
}

// LicenseRequest is the body of License Node (POST PatternActivation).
type LicenseRequest struct {
	// Name is the node's name (required).
	Name string `json:"name"`
	// Project is optional.
	Project string `json:"project,omitempty"`
	// Site optionally names a site (see PathSites); its project is used
	// when Project is empty.
	Site string `json:"site,omitempty"`
	// KeyFingerprint, if set, must be the Activation.KeyFingerprint of the
	// code (what the admin saw at Find); otherwise the license is refused
	// with conflict, so the certificate is bound to the key that was shown.
	KeyFingerprint string `json:"keyFingerprint,omitempty"`
}

// LicenseResponse answers License Node.
type LicenseResponse struct {
	// NodeID is the licensed node.
	NodeID string `json:"nodeId"`
	// Name is its name.
	Name string `json:"name"`
}

// DenyResponse answers POST PatternActivationDeny.
type DenyResponse struct {
	// NodeID is the node whose code was denied.
	NodeID string `json:"nodeId"`
}

// CreateTokenRequest is the body of POST PathTokens.
type CreateTokenRequest struct {
	// Name labels the token (required).
	Name string `json:"name"`
	// Project is the default project of nodes registered with it.
	Project string `json:"project"`
	// ExpiresIn is a Go duration such as "24h"; empty means 24h.
	ExpiresIn string `json:"expiresIn,omitempty"`
	// SingleUse makes the token work for one registration only.
	SingleUse bool `json:"singleUse,omitempty"`
	// AllowProjectOverride lets a node registering with the token choose
	// another project (RegisterRequest.Project); without it such a
	// registration is refused.
	AllowProjectOverride bool `json:"allowProjectOverride,omitempty"`
}

// CreateTokenResponse answers POST PathTokens. Token is shown only here; the
// server keeps only its SHA-256.
type CreateTokenResponse struct {
	// ID identifies the token in lists and for revocation.
	ID string `json:"id"`
	// Token is the secret value nodes send as a bearer token.
	Token string `json:"token"`
}

// Token describes a registration token without its value.
type Token struct {
	// ID identifies the token.
	ID string `json:"id"`
	// Name labels the token.
	Name string `json:"name"`
	// Project is the default project.
	Project string `json:"project"`
	// SingleUse reports whether the token works once only.
	SingleUse bool `json:"singleUse"`
	// AllowProjectOverride reports whether nodes may choose another project.
	AllowProjectOverride bool `json:"allowProjectOverride,omitempty"`
	// Status is "active", "used", "expired" or "revoked".
	Status string `json:"status"`
	// Uses counts registrations made with the token.
	Uses int `json:"uses"`
	// CreatedAt is when it was created.
	CreatedAt time.Time `json:"createdAt"`
	// ExpiresAt is when it stops working.
	ExpiresAt time.Time `json:"expiresAt"`
}

// TokenList answers GET PathTokens.
type TokenList struct {
	// Tokens are newest first.
	Tokens []Token `json:"tokens"`
}

// AddNodesRequest is the body of Add Edge Hosts (POST PathNodes). A node
// whose ID was added is approved as soon as it enrolls with the ID's pairing
// key (EnrollRequest.PairingKey) or registers with a registration token; an
// enrollment without that proof gets a user code like any other, and takes
// the admin's project and tags when licensed.
type AddNodesRequest struct {
	// IDs are node IDs ("edge-" + 32 lowercase hex).
	IDs []string `json:"ids"`
	// Tags are labels given to every added node.
	Tags map[string]string `json:"tags,omitempty"`
	// Project is optional.
	Project string `json:"project,omitempty"`
	// PairingKeys optionally gives node IDs (each also in IDs) a pairing
	// key: the key itself (MinPairingKeyLen to MaxPairingKeyLen printable
	// characters, no spaces), or PairingKeyGenerate. Keys are stored hashed;
	// generated ones are returned once in NodeList.PairingKeys.
	PairingKeys map[string]string `json:"pairingKeys,omitempty"`
}

// Node is a row of the Nodes table.
type Node struct {
	// ID is the node ID.
	ID string `json:"id"`
	// Name is the node's name (the ID until one is given).
	Name string `json:"name"`
	// Status is StatusPending, StatusRegistered or StatusDeregistered.
	Status string `json:"status"`
	// Project is the node's project.
	Project string `json:"project"`
	// Site is the node's site.
	Site string `json:"site,omitempty"`
	// Make is the hardware vendor the node reported.
	Make string `json:"make,omitempty"`
	// Model is the hardware model the node reported.
	Model string `json:"model,omitempty"`
	// Version is the nodeconsole version the node reported.
	Version string `json:"version,omitempty"`
	// SourceIP is the address of the node's last request.
	SourceIP string `json:"sourceIp,omitempty"`
	// Tags are labels.
	Tags map[string]string `json:"tags,omitempty"`
	// PreAdded reports that an admin added the ID (Add Edge Hosts).
	PreAdded bool `json:"preAdded,omitempty"`
	// PairingKey reports that the ID has a pairing key (its value is never
	// shown again).
	PairingKey bool `json:"pairingKey,omitempty"`
	// CreatedAt is when the server first heard of the node.
	CreatedAt time.Time `json:"createdAt"`
	// RegisteredAt is when its certificate was issued (zero if never).
	RegisteredAt time.Time `json:"registeredAt,omitzero"`
	// LastSeen is the last time the node called the server (zero if never).
	LastSeen time.Time `json:"lastSeen,omitzero"`
}

// NodeList answers GET PathNodes and POST PathNodes.
type NodeList struct {
	// Nodes are sorted by name.
	Nodes []Node `json:"nodes"`
	// PairingKeys holds, in the answer to POST PathNodes only, the pairing
	// keys the server generated, by node ID. They are shown only here.
	PairingKeys map[string]string `json:"pairingKeys,omitempty"`
	// Next is the cursor of the next page (GET PathNodes with limit);
	// empty on the last.
	Next string `json:"next,omitempty"`
}

// Event is an entry of the events log.
type Event struct {
	// ID increases with time.
	ID int64 `json:"id"`
	// Type is one of the Event* constants.
	Type string `json:"type"`
	// NodeID is the node concerned, if any.
	NodeID string `json:"nodeId,omitempty"`
	// Time is when it happened.
	Time time.Time `json:"time"`
	// SourceIP is the address of the request that caused it, if any.
	SourceIP string `json:"sourceIp,omitempty"`
	// Actor is who did it: a user name, "admin-token", a personal token
	// ("alice (token ci)"), or "node" for the node itself.
	Actor string `json:"actor,omitempty"`
	// NodeName is the node's name when the event concerns a known node.
	NodeName string `json:"nodeName,omitempty"`
	// Message is a sentence for people (never holds a secret).
	Message string `json:"message,omitempty"`
}

// EventList answers GET PathEvents.
type EventList struct {
	// Events are newest first.
	Events []Event `json:"events"`
	// Next is the cursor of the next (older) page; empty on the last.
	Next string `json:"next,omitempty"`
}

// Site is a place nodes can be registered under on the QR registration page.
type Site struct {
	// ID identifies the site.
	ID string `json:"id"`
	// Name is shown on the registration page.
	Name string `json:"name"`
	// Project is the project nodes registered under the site get.
	Project string `json:"project,omitempty"`
}

// CreateSiteRequest is the body of POST PathSites.
type CreateSiteRequest struct {
	// Name is required and unique.
	Name string `json:"name"`
	// Project is optional.
	Project string `json:"project,omitempty"`
}

// SiteList answers GET PathSites.
type SiteList struct {
	// Sites are sorted by name.
	Sites []Site `json:"sites"`
}
