package api

import "fmt"

// ErrorCode is a stable, machine-readable error string carried in Error.Code.
// Clients switch on it; the message is for people.
type ErrorCode string

// Error codes. The HTTP status each one travels with is given by
// ErrorCode.Status.
const (
	// CodeInvalidRequest: the body or a parameter is malformed (400).
	CodeInvalidRequest ErrorCode = "invalid_request"
	// CodeInvalidCSR: the CSR is unparsable, badly signed, too large, asks
	// to be a CA, or uses a key type other than ECDSA P-256 or Ed25519 (400).
	CodeInvalidCSR ErrorCode = "invalid_csr"
	// CodeAuthorizationPending: RFC 8628 §3.5, nobody has answered the code
	// yet; poll again after the interval (400).
	CodeAuthorizationPending ErrorCode = "authorization_pending"
	// CodeSlowDown: RFC 8628 §3.5, the poll came sooner than the interval
	// after the previous one; keep polling and add 5 s to the interval (400).
	CodeSlowDown ErrorCode = "slow_down"
	// CodeExpiredToken: RFC 8628 §3.5, the enrollment expired; stop polling
	// and start a new enrollment (the same key may be reused) (400).
	CodeExpiredToken ErrorCode = "expired_token"
	// CodeAccessDenied: RFC 8628 §3.5, an admin denied the code; stop (400).
	CodeAccessDenied ErrorCode = "access_denied"
	// CodeInvalidGrant: the device code is unknown, cancelled or replaced by
	// a newer enrollment; stop and start again (400).
	CodeInvalidGrant ErrorCode = "invalid_grant"
	// CodeUnsupportedGrantType: RFC 6749 §5.2, a poll's grant_type is not
	// urn:ietf:params:oauth:grant-type:device_code (400).
	CodeUnsupportedGrantType ErrorCode = "unsupported_grant_type"
	// CodeInvalidCode: a user code lookup found nothing usable. Wrong,
	// expired and already used codes all get this same answer (404).
	CodeInvalidCode ErrorCode = "invalid_code"
	// CodeInvalidToken: a registration token is unknown, expired, revoked or
	// already used (401).
	CodeInvalidToken ErrorCode = "invalid_token"
	// CodeUnauthorized: the admin token or client certificate is missing or
	// wrong (401).
	CodeUnauthorized ErrorCode = "unauthorized"
	// CodeCertificateRevoked: the client certificate belongs to a node that
	// was deregistered or deleted, or has been replaced (401).
	CodeCertificateRevoked ErrorCode = "certificate_revoked"
	// CodeCertificateExpired: the client certificate is past its notAfter
	// (or not yet valid); enroll again or renew (401).
	CodeCertificateExpired ErrorCode = "certificate_expired"
	// CodeUnknownCertificate: the client certificate was not issued by this
	// control plane, or is not a node certificate (401).
	CodeUnknownCertificate ErrorCode = "unknown_certificate"
	// CodeNotFound: the node, token or site does not exist (404).
	CodeNotFound ErrorCode = "not_found"
	// CodeConflict: the request contradicts current state, for example a new
	// key for a node ID that is registered (409). Delete or deregister the
	// node first.
	CodeConflict ErrorCode = "conflict"
	// CodeTooLarge: the request body is over the limit (413).
	CodeTooLarge ErrorCode = "payload_too_large"
	// CodeRateLimited: too many attempts, too many live enrollments for a
	// node ID or source, or the server's cap on pending enrollments; retry
	// after the number of seconds in the Retry-After header (429).
	CodeRateLimited ErrorCode = "rate_limited"
	// CodeInternal: the server failed; retrying later may work (500).
	CodeInternal ErrorCode = "internal_error"
	// CodeForbidden: the credential is valid but its role does not allow
	// the call.
	CodeForbidden ErrorCode = "forbidden"
	// CodeMethodNotAllowed: the path exists but not with this method; the
	// Allow header lists the methods it has (405).
	CodeMethodNotAllowed ErrorCode = "method_not_allowed"
)

// Status is the HTTP status code that travels with c. Unknown codes map to
// 500.
func (c ErrorCode) Status() int {
	switch c {
	case CodeInvalidRequest, CodeInvalidCSR, CodeAuthorizationPending, CodeSlowDown,
		CodeExpiredToken, CodeAccessDenied, CodeInvalidGrant, CodeUnsupportedGrantType:
		return 400
	case CodeInvalidToken, CodeUnauthorized, CodeCertificateRevoked, CodeCertificateExpired, CodeUnknownCertificate:
		return 401
	case CodeInvalidCode, CodeNotFound:
		return 404
	case CodeForbidden:
		return 403
	case CodeMethodNotAllowed:
		return 405
	case CodeConflict:
		return 409
	case CodeTooLarge:
		return 413
	case CodeRateLimited:
		return 429
	default:
		return 500
	}
}

// Error is the JSON body of every error answer:
// {"error": "<stable code>", "message": "<sentence for people>"}.
type Error struct {
	// Code is the stable error code.
	Code ErrorCode `json:"error"`
	// Message explains the error to a person; do not parse it.
	Message string `json:"message"`
	// Description is Message again under its RFC 6749 §5.2 name, for
	// OAuth clients.
	Description string `json:"error_description,omitempty"`
}

// Error implements the error interface.
func (e *Error) Error() string {
	if e.Message == "" {
		return string(e.Code)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}
