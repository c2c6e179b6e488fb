package controlplane

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/nodeconsole/nodeconsole/api"
	"github.com/nodeconsole/nodeconsole/controlplane/ca"
	"github.com/nodeconsole/nodeconsole/controlplane/store"
)

// RFC 8628 on the wire: form-encoded enroll and poll bodies, the access
// token of a successful poll, and RFC 8414 metadata (docs/protocol.md).

// isForm reports whether r has an application/x-www-form-urlencoded body.
func isForm(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "application/x-www-form-urlencoded"
}

// parseForm reads a form body (size already limited).
func parseForm(r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return errorf(api.CodeTooLarge, "request body is larger than %d bytes", mbe.Limit)
		}
		return errorf(api.CodeInvalidRequest, "request body is not a valid form: %v", err)
	}
	return nil
}

// decodeEnroll reads an enrollment from a JSON body or, as RFC 8628 §3.1,
// a form (client_id, scope; node_id, csr, make, model, version and
// pairing_key as extra parameters).
func decodeEnroll(r *http.Request, req *api.EnrollRequest) error {
	if !isForm(r) {
		return decodeJSON(r, req)
	}
	if err := parseForm(r); err != nil {
		return err
	}
	f := r.PostForm
	*req = api.EnrollRequest{NodeID: f.Get("node_id"), Make: f.Get("make"), Model: f.Get("model"),
		Version: f.Get("version"), CSR: f.Get("csr"), PairingKey: f.Get("pairing_key")}
	return nil
}

// grantDeviceCode is RFC 8628's grant_type.
const grantDeviceCode = "urn:ietf:params:oauth:grant-type:device_code"

// decodePoll reads a poll from a JSON body or, as RFC 8628 §3.4, a form
// (grant_type, device_code, client_id; wait as an extra parameter). held
// reports whether the poll may be held: a form poll only when it asks with
// wait; a JSON poll as before (the server's default when wait is absent).
func decodePoll(r *http.Request, req *api.PollRequest) (held bool, err error) {
	if !isForm(r) {
		if err := decodeJSON(r, req); err != nil {
			return false, err
		}
		if req.GrantType != "" && req.GrantType != grantDeviceCode {
			return false, errorf(api.CodeUnsupportedGrantType, "grant_type must be %s", grantDeviceCode)
		}
		return true, nil
	}
	if err := parseForm(r); err != nil {
		return false, err
	}
	f := r.PostForm
	if g := f.Get("grant_type"); g != grantDeviceCode {
		return false, errorf(api.CodeUnsupportedGrantType, "grant_type must be %s", grantDeviceCode)
	}
	req.DeviceCode = f.Get("device_code")
	if w := f.Get("wait"); w != "" {
		n, err := strconv.Atoi(w)
		if err != nil || n < 0 {
			return false, errorf(api.CodeInvalidRequest, "wait must be a number of seconds")
		}
		req.Wait = n
	}
	return req.Wait > 0, nil
}

// Access tokens: "nc1." + base64url(node ID "|" certificate serial "|"
// expiry in Unix seconds) + "." + base64url(HMAC-SHA256 with the server
// secret). Nothing is stored: a token works while the certificate it names
// is accepted (checkCert), so it is revoked with it, and until its expiry,
// which is the certificate's.
const accessTokenPrefix = "nc1."

func (s *Server) accessTokenMAC(payload string) []byte {
	m := hmac.New(sha256.New, s.secret)
	m.Write([]byte("access-token\x00" + payload))
	return m.Sum(nil)
}

// accessToken issues the bearer token for nodeID's certificate.
func (s *Server) accessToken(nodeID string, cert *x509.Certificate) string {
	payload := nodeID + "|" + ca.SerialHex(cert.SerialNumber) + "|" + strconv.FormatInt(cert.NotAfter.Unix(), 10)
	enc := base64.RawURLEncoding
	return accessTokenPrefix + enc.EncodeToString([]byte(payload)) + "." + enc.EncodeToString(s.accessTokenMAC(payload))
}

// withAccessToken adds the RFC 6749 §5.1 fields to a registration.
func (s *Server) withAccessToken(reg api.Registration, now time.Time) api.Registration {
	b, _ := pem.Decode([]byte(reg.Certificate))
	if b == nil {
		return reg
	}
	cert, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		return reg
	}
	reg.AccessToken, reg.TokenType = s.accessToken(reg.NodeID, cert), "Bearer"
	reg.ExpiresIn = max(1, int(cert.NotAfter.Sub(now).Seconds()))
	return reg
}

// authNodeToken authenticates a node by its access token; the certificate
// returned is the one the token names.
func (s *Server) authNodeToken(ctx context.Context, tok string) (store.Node, *x509.Certificate, error) {
	bad := errorf(api.CodeUnauthorized, "the access token is not valid")
	rest, ok := strings.CutPrefix(tok, accessTokenPrefix)
	p64, m64, ok2 := strings.Cut(rest, ".")
	if !ok || !ok2 {
		return store.Node{}, nil, bad
	}
	payload, err1 := base64.RawURLEncoding.DecodeString(p64)
	mac, err2 := base64.RawURLEncoding.DecodeString(m64)
	if err1 != nil || err2 != nil || !hmac.Equal(mac, s.accessTokenMAC(string(payload))) {
		return store.Node{}, nil, bad
	}
	parts := strings.Split(string(payload), "|")
	if len(parts) != 3 {
		return store.Node{}, nil, bad
	}
	exp, err := strconv.ParseInt(parts[2], 10, 64)
	now := s.now()
	if err != nil || !now.Before(time.Unix(exp, 0)) {
		return store.Node{}, nil, errorf(api.CodeUnauthorized, "the access token expired with its certificate; enroll again")
	}
	var n store.Node
	var c store.NodeCert
	err = s.store.View(ctx, func(tx store.Tx) error {
		var err error
		if n, err = tx.Node(parts[0]); err != nil {
			return err
		}
		c, err = tx.NodeCert(parts[1])
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return store.Node{}, nil, errorf(api.CodeCertificateRevoked, "the certificate of this access token was revoked")
	}
	if err != nil {
		return store.Node{}, nil, fmt.Errorf("authenticate node %s by token: %w", parts[0], err)
	}
	if err := s.checkCert(ctx, n, parts[1], now); err != nil {
		return store.Node{}, nil, err
	}
	b, _ := pem.Decode([]byte(c.Certificate))
	if b == nil {
		return store.Node{}, nil, fmt.Errorf("authenticate node %s by token: stored certificate is not PEM", n.ID)
	}
	cert, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		return store.Node{}, nil, fmt.Errorf("authenticate node %s by token: %w", n.ID, err)
	}
	return n, cert, nil
}

// PathOAuthMetadata is the RFC 8414 authorization server metadata.
const PathOAuthMetadata = "/.well-known/oauth-authorization-server"

func (s *Server) handleOAuthMetadata(w http.ResponseWriter, r *http.Request) {
	base := s.baseURL(r)
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                base,
		"device_authorization_endpoint":         base + api.PathEnroll,
		"token_endpoint":                        base + api.PathEnrollPoll,
		"grant_types_supported":                 []string{grantDeviceCode},
		"response_types_supported":              []string{},
		"token_endpoint_auth_methods_supported": []string{"none"},
	})
}
