package api

import "time"

// EnrollRequest starts an enrollment (POST PathEnroll). Sending it again with
// the same NodeID and the same key in CSR resumes the same enrollment: the
// same device code, user code and expiry come back.
type EnrollRequest struct {
	// NodeID is "edge-" followed by 32 lowercase hex digits.
	NodeID string `json:"node_id"`
	// Make is the hardware vendor shown to the admin at Find.
	Make string `json:"make"`
	// Model is the hardware model shown to the admin at Find.
	Model string `json:"model"`
	// Version is the nodeconsole version of the node.
	Version string `json:"version"`
	// CSR is a PEM "CERTIFICATE REQUEST" signed by the node's key (ECDSA
	// P-256 or Ed25519). The server ignores its subject and extensions and
	// issues a certificate whose subject common name is NodeID.
	CSR string `json:"csr"`
	// PairingKey optionally proves that this node is the one an admin
	// pre-added with a pairing key (Add Edge Hosts); with a matching key the
	// enrollment is approved at once. It is a secret: never logged.
	PairingKey string `json:"pairing_key,omitempty"`
}

// EnrollResponse is the device authorization answer (RFC 8628 §3.2).
type EnrollResponse struct {
	// DeviceCode is the secret the node polls with. Keep it private.
	DeviceCode string `json:"device_code"`
	// UserCode is 8 letters from BCDFGHJKLMNPQRSTVWXZ shown as XXXX-XXXX.
	UserCode string `json:"user_code"`
	// VerificationURI is the portal page where the admin enters UserCode.
	VerificationURI string `json:"verification_uri"`
	// VerificationURIComplete is VerificationURI with the code filled in;
	// suitable for a QR code.
	VerificationURIComplete string `json:"verification_uri_complete"`
	// ExpiresIn is the number of seconds left before the codes expire.
	ExpiresIn int `json:"expires_in"`
	// Interval is the minimum number of seconds between polls.
	Interval int `json:"interval"`
	// Status is EnrollStatusPending, or EnrollStatusApproved when the
	// enrollment is approved already (the first poll then returns the
	// certificate).
	Status string `json:"status"`
	// ServerTime is the server's clock when it answered.
	ServerTime time.Time `json:"server_time"`
	// KeyFingerprint is KeyFingerprint of the CSR's public key as the server
	// saw it; the console shows it next to the code and Find shows the same.
	KeyFingerprint string `json:"key_fingerprint,omitempty"`
}

// PollRequest asks for the outcome of an enrollment (POST PathEnrollPoll).
// The server holds the request while the enrollment is pending, up to about
// 25 s (or Wait seconds if smaller), and answers as soon as it changes.
type PollRequest struct {
	// DeviceCode is EnrollResponse.DeviceCode.
	DeviceCode string `json:"device_code"`
	// Wait optionally shortens how long, in seconds, the server may hold the
	// request; 0 or absent means the server's default (about 25 s).
	Wait int `json:"wait,omitempty"`
	// GrantType, when present, must be RFC 8628's
	// urn:ietf:params:oauth:grant-type:device_code.
	GrantType string `json:"grant_type,omitempty"`
}

// CancelRequest abandons a pending enrollment (POST PathEnrollCancel).
// Cancelling an enrollment that is no longer pending is not an error.
type CancelRequest struct {
	// DeviceCode is EnrollResponse.DeviceCode.
	DeviceCode string `json:"device_code"`
}

// RegisterRequest registers a node with a registration token (POST
// PathRegister with "Authorization: Bearer <token>").
type RegisterRequest struct {
	// NodeID is "edge-" followed by 32 lowercase hex digits.
	NodeID string `json:"node_id"`
	// Make is the hardware vendor.
	Make string `json:"make"`
	// Model is the hardware model.
	Model string `json:"model"`
	// Version is the nodeconsole version of the node.
	Version string `json:"version"`
	// CSR is as in EnrollRequest.
	CSR string `json:"csr"`
	// Name optionally names the node; the default is NodeID.
	Name string `json:"name,omitempty"`
	// Project overrides the token's default project (config site.project).
	Project string `json:"project,omitempty"`
	// Tags are optional labels stored with the node.
	Tags map[string]string `json:"tags,omitempty"`
}

// Registration is what a node receives when it is registered: the answer to
// a successful poll (200) or token registration (201).
type Registration struct {
	// NodeID is the node's ID, also the certificate's subject common name.
	NodeID string `json:"node_id"`
	// NodeName is the name the admin (or token registration) gave the node.
	NodeName string `json:"node_name"`
	// Project is the node's project, possibly empty.
	Project string `json:"project,omitempty"`
	// Site is the site chosen on the QR registration page, possibly empty.
	Site string `json:"site,omitempty"`
	// Tags are the node's labels.
	Tags map[string]string `json:"tags,omitempty"`
	// Certificate is the PEM node certificate (client authentication).
	Certificate string `json:"certificate"`
	// CABundle is the PEM CA certificate(s) to trust for the control plane.
	CABundle string `json:"ca_bundle"`
	// ServerTime is the server's clock when it answered.
	ServerTime time.Time `json:"server_time"`
	// AccessToken, in the answer to a successful poll (RFC 6749 §5.1), is
	// an opaque bearer token for this node's API (Authorization: Bearer)
	// where mutual TLS cannot pass; it is revoked with the certificate and
	// expires with it (ExpiresIn seconds). A secret: never logged.
	AccessToken string `json:"access_token,omitempty"`
	// TokenType is "Bearer" with AccessToken.
	TokenType string `json:"token_type,omitempty"`
	// ExpiresIn is AccessToken's lifetime in seconds.
	ExpiresIn int `json:"expires_in,omitempty"`
}

// NodeSelf answers GET PathNodeSelf.
type NodeSelf struct {
	// NodeID is the caller's node ID.
	NodeID string `json:"node_id"`
	// Name is the node's name.
	Name string `json:"name"`
	// Project is the node's project.
	Project string `json:"project,omitempty"`
	// Site is the node's site.
	Site string `json:"site,omitempty"`
	// Status is always "registered" here (other nodes are refused).
	Status string `json:"status"`
	// Tags are the node's labels.
	Tags map[string]string `json:"tags,omitempty"`
	// RegisteredAt is when the certificate was issued.
	RegisteredAt time.Time `json:"registered_at"`
	// CertificateNotAfter is when the presented certificate expires.
	CertificateNotAfter time.Time `json:"certificate_not_after"`
	// ServerTime is the server's clock when it answered.
	ServerTime time.Time `json:"server_time"`
}

// DeregisterRequest is the body of POST PathNodeDeregister.
type DeregisterRequest struct {
	// Reason is optional free text recorded in the event.
	Reason string `json:"reason,omitempty"`
}

// DeregisterResponse answers POST PathNodeDeregister.
type DeregisterResponse struct {
	// NodeID is the node that was deregistered.
	NodeID string `json:"node_id"`
	// Status is "deregistered".
	Status string `json:"status"`
}

// TimeResponse answers GET PathTime.
type TimeResponse struct {
	// ServerTime is the server's clock.
	ServerTime time.Time `json:"server_time"`
}

// UpdateOffer answers GET PathUpdate when a newer build is offered.
type UpdateOffer struct {
	// Version is the offered version.
	Version string `json:"version"`
	// URL is where to download it (absolute, on the control plane).
	URL string `json:"url"`
	// SHA256 is the lowercase hex SHA-256 of the download.
	SHA256 string `json:"sha256"`
}

// The statuses of EnrollResponse.Status.
const (
	// EnrollStatusPending: the code waits for an admin.
	EnrollStatusPending = "pending"
	// EnrollStatusApproved: approved at once (a pairing key, a redelivery).
	EnrollStatusApproved = "approved"
)
