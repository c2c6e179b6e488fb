package controlplane

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/nodeconsole/nodeconsole/api"
)

// apiError is an error with a stable code for the client. Anything else that
// reaches writeError is an internal error: logged, and answered with a
// generic message.
type apiError struct {
	code       api.ErrorCode
	msg        string
	retryAfter time.Duration // for rate_limited
}

func (e *apiError) Error() string { return string(e.code) + ": " + e.msg }

// IsInputError reports whether err is about the input (invalid, not
// found, conflicting) rather than the server failing.
func IsInputError(err error) bool {
	var ae *apiError
	return errors.As(err, &ae) && (ae.code == api.CodeInvalidRequest || ae.code == api.CodeNotFound || ae.code == api.CodeConflict)
}

// ErrorMessage is the sentence for people carried by err (without the
// stable code), or err's text.
func ErrorMessage(err error) string {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae.msg
	}
	return err.Error()
}

func errorf(code api.ErrorCode, format string, args ...any) *apiError {
	return &apiError{code: code, msg: fmt.Sprintf(format, args...)}
}

func rateLimited(wait time.Duration) *apiError {
	return &apiError{code: api.CodeRateLimited, msg: "too many attempts; try again later", retryAfter: wait}
}

// retryAfterSeconds rounds a wait up to whole seconds, at least 1.
func retryAfterSeconds(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}

// wwwAuthenticate is the WWW-Authenticate header of a 401 with code (RFC
// 6750 §3 for bearer tokens; the node endpoints authenticate with a TLS
// client certificate, which has no registered HTTP scheme, so their
// challenge names one, ClientCertificate, with the error code in the same
// form).
func wwwAuthenticate(code api.ErrorCode) string {
	switch code {
	case api.CodeInvalidToken:
		return `Bearer realm="nodeconsole", error="invalid_token"`
	case api.CodeCertificateExpired, api.CodeCertificateRevoked, api.CodeUnknownCertificate:
		return `ClientCertificate realm="nodeconsole", error="` + string(code) + `"`
	}
	return `Bearer realm="nodeconsole"`
}

// writeJSON answers v with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// writeError answers err as an api.Error with the status of its code.
func writeError(w http.ResponseWriter, log *slog.Logger, r *http.Request, err error) {
	var ae *apiError
	if !errors.As(err, &ae) {
		log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		ae = errorf(api.CodeInternal, "the server failed; try again later")
	}
	if ae.code == api.CodeRateLimited {
		w.Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds(ae.retryAfter)))
	}
	if ae.code.Status() == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", wwwAuthenticate(ae.code))
	}
	writeJSON(w, ae.code.Status(), api.Error{Code: ae.code, Message: ae.msg, Description: ae.msg})
}

// decodeJSON reads a JSON body into v (the body size is already limited).
func decodeJSON(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return errorf(api.CodeTooLarge, "request body is larger than %d bytes", mbe.Limit)
		}
		return errorf(api.CodeInvalidRequest, "request body is not valid JSON: %v", err)
	}
	return nil
}
