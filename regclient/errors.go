package regclient

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nodeconsole/nodeconsole/api"
)

// Sentinel errors a screen or the CLI can test with errors.Is. Errors from
// the Client are *Error values that match these through Error.Is.
var (
	// ErrExpired: the activation code expired (expired_token). Start again;
	// the same key is reused.
	ErrExpired = errors.New("the activation code expired")
	// ErrDenied: an admin denied the activation code (access_denied).
	ErrDenied = errors.New("an admin denied the activation code")
	// ErrEnrollmentGone: the enrollment was cancelled or replaced by a newer
	// one (invalid_grant). Start again.
	ErrEnrollmentGone = errors.New("the enrollment was cancelled or replaced; start again")
	// ErrAlreadyRegistered: the control plane has this node ID registered
	// with another key (409 conflict). Deregister or delete it first.
	ErrAlreadyRegistered = errors.New("the control plane already has this node ID registered with another key; an admin must delete it first")
	// ErrKeyMismatch: the control plane's answer names another key than
	// this node's (EnrollResponse.KeyFingerprint): something on the network
	// replaced the request. The code is not shown or saved.
	ErrKeyMismatch = errors.New("the control plane saw a different key than this node's (a man-in-the-middle sign)")
	// ErrUnauthorized: credentials missing or wrong (401 unauthorized).
	ErrUnauthorized = errors.New("the control plane refused the credentials")
	// ErrRevoked: the node certificate was revoked (deregistered, deleted
	// or replaced).
	ErrRevoked = errors.New("the control plane revoked this node's certificate")
	// ErrCertificateExpired: the control plane refused this node's
	// certificate because it expired (certificate_expired, or the TLS alert
	// of an older server). Register again (Registrar.Reenroll).
	ErrCertificateExpired = errors.New("this node's certificate expired — register again")
	// ErrUnknownCertificate: the control plane does not know this node's
	// certificate (unknown_certificate, or a TLS "bad certificate" alert of
	// an older server): another control plane, or its CA changed. Register
	// again (Registrar.Reenroll).
	ErrUnknownCertificate = errors.New("the control plane does not know this node's certificate — register again")
	// ErrInvalidToken: the registration token is unknown, expired, revoked
	// or already used.
	ErrInvalidToken = errors.New("the registration token is unknown, expired, revoked or already used")
	// ErrRateLimited: too many attempts (429); retry after Error.RetryAfter.
	ErrRateLimited = errors.New("the control plane asks to slow down (too many attempts)")
	// ErrNotAPI: the answer was not the control plane's API (HTML,
	// garbage, truncated JSON).
	ErrNotAPI = errors.New("the answer is not the control plane API")
	// ErrUnreachable: no answer at all (DNS, refused, timeout, TLS).
	ErrUnreachable = errors.New("the control plane cannot be reached")
	// ErrRegistered: this node is already registered locally (see
	// Deregister).
	ErrRegistered = errors.New("this node is already registered; deregister it first to register again")
	// ErrNotRegistered: this node is not registered locally.
	ErrNotRegistered = errors.New("this node is not registered")
)

// Error is what every Client call returns on failure: the operation, the
// HTTP status (0 when no answer came), the API error code if any, and a
// sentence for people. It knows whether retrying may help.
type Error struct {
	// Op is the operation, e.g. "enroll", "poll", "deregister".
	Op string
	// Status is the HTTP status, or 0 when no answer came.
	Status int
	// Code is the api error code, or "" when the answer had none.
	Code api.ErrorCode
	// Message is one sentence saying what went wrong, for people.
	Message string
	// RetryAfter is the server's Retry-After, if any.
	RetryAfter time.Duration
	// Issuer names the issuer of the certificate the server presented when
	// TLS verification failed.
	Issuer string
	// Err is the underlying error (network, TLS, JSON), if any.
	Err error

	kind      error // one of the sentinels, or nil
	retryable bool
}

// Error implements error: "regclient: OP: MESSAGE[: CAUSE]".
//
// The underlying error follows when there is one (": CAUSE"), so that a log
// line keeps the detail; screens and the CLI show Sentence instead.
func (e *Error) Error() string {
	if e.Err != nil && !strings.Contains(e.Message, e.Err.Error()) {
		return fmt.Sprintf("regclient: %s: %s: %v", e.Op, e.Message, e.Err)
	}
	return fmt.Sprintf("regclient: %s: %s", e.Op, e.Message)
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// Is matches the sentinel errors (ErrExpired, ErrDenied, ...).
func (e *Error) Is(target error) bool { return e.kind != nil && e.kind == target }

// Retryable reports whether the same request may succeed later: rate
// limits, server errors and network errors are retryable; answers such as
// denied, expired or a bad token are not.
func (e *Error) Retryable() bool { return e.retryable }

// Retryable reports whether err (anywhere in its chain) is a retryable
// *Error.
func Retryable(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Retryable()
}

// Code returns the api error code carried by err, or "".
func Code(err error) api.ErrorCode {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// kindForCode maps an api error code to its sentinel.
func kindForCode(c api.ErrorCode) error {
	switch c {
	case api.CodeExpiredToken:
		return ErrExpired
	case api.CodeAccessDenied:
		return ErrDenied
	case api.CodeInvalidGrant:
		return ErrEnrollmentGone
	case api.CodeConflict:
		return ErrAlreadyRegistered
	case api.CodeUnauthorized:
		return ErrUnauthorized
	case api.CodeCertificateRevoked:
		return ErrRevoked
	case api.CodeCertificateExpired:
		return ErrCertificateExpired
	case api.CodeUnknownCertificate:
		return ErrUnknownCertificate
	case api.CodeInvalidToken:
		return ErrInvalidToken
	case api.CodeRateLimited:
		return ErrRateLimited
	}
	return nil
}

// messageForCode is the sentence shown for an api error code; the server's
// own message is kept in the log.
func messageForCode(c api.ErrorCode, serverMsg string) string {
	if k := kindForCode(c); k != nil {
		return k.Error()
	}
	if serverMsg != "" {
		return serverMsg
	}
	return string(c)
}

// StaleCertificate reports whether err says that the control plane no
// longer accepts this node's certificate: revoked, expired or unknown
// (as JSON from a current server, or as a TLS alert from an older one).
// The node cannot use its identity any more; Registrar.Reenroll lets it
// enroll again.
func StaleCertificate(err error) bool {
	return errors.Is(err, ErrRevoked) || errors.Is(err, ErrCertificateExpired) || errors.Is(err, ErrUnknownCertificate)
}

// Sentence is what a screen shows for err: the sentence of the *Error in its
// chain, capitalised and without the "regclient: op:" prefix (that, and the
// underlying cause, are for the log); err.Error() for any other error.
func Sentence(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if !errors.As(err, &e) || e.Message == "" {
		return err.Error()
	}
	s := strings.ToUpper(e.Message[:1]) + e.Message[1:]
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}
