// Package cptest runs the real control plane in-process on loopback for
// tests: a temporary data directory, a real CA and TLS, the real SQLite
// store.
//
//	cp := cptest.New(t)                  // stopped and cleaned up by t.Cleanup
//	client := cp.Client()                // *http.Client trusting cp's CA
//	resp := enroll(cp.URL, ...)          // the code under test talks to cp.URL
//	_, err := cp.License(resp.UserCode, "node-1", "")
//
// Helpers return errors; API errors are *api.Error, so a test can check the
// stable code with errors.As.
package cptest

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/nodeconsole/nodeconsole/api"
	"github.com/nodeconsole/nodeconsole/controlplane"
	"github.com/nodeconsole/nodeconsole/controlplane/access"
)

// Server is a running control plane.
type Server struct {
	// URL is the base URL, https://127.0.0.1:PORT.
	URL string
	// CAPEM is the CA certificate to trust, PEM.
	CAPEM []byte
	// CAPath is the file holding CAPEM (DataDir/ca.pem).
	CAPath string
	// AdminToken is the admin API bearer token and portal password.
	AdminToken string
	// DataDir is the server's data directory.
	DataDir string

	t    testing.TB
	opts controlplane.Options
	addr string

	mu     sync.Mutex
	cp     *controlplane.Server
	cancel context.CancelFunc
	done   chan error
}

// New starts a control plane with default options (15 min codes, 5 s
// interval, 25 s long-poll) in t.TempDir().
func New(t testing.TB) *Server { return NewWith(t, controlplane.Options{}) }

// NewWith starts a control plane with opts. DataDir defaults to t.TempDir();
// Logger to one that discards.
func NewWith(t testing.TB, opts controlplane.Options) *Server {
	t.Helper()
	if opts.DataDir == "" {
		opts.DataDir = t.TempDir()
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{t: t, opts: opts, addr: "127.0.0.1:0", DataDir: opts.DataDir}
	if err := s.start(); err != nil {
		t.Fatalf("cptest: %v", err)
	}
	t.Cleanup(s.Stop)
	return s
}

func (s *Server) start() error {
	cp, err := controlplane.Open(s.opts)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		cp.Close()
		return fmt.Errorf("listen %s: %w", s.addr, err)
	}
	s.addr = ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- cp.Serve(ctx, ln) }()
	s.mu.Lock()
	s.cp, s.cancel, s.done = cp, cancel, done
	s.mu.Unlock()
	s.URL = "https://" + s.addr
	s.CAPEM, s.CAPath, s.AdminToken = cp.CAPEM(), cp.CAPath(), cp.AdminToken()
	return nil
}

// Stop stops the server (requests in flight end, long-polls are released)
// and closes its store. Stopping twice is harmless.
func (s *Server) Stop() {
	s.mu.Lock()
	cp, cancel, done := s.cp, s.cancel, s.done
	s.cp = nil
	s.mu.Unlock()
	if cp == nil {
		return
	}
	cancel()
	if err := <-done; err != nil {
		s.t.Errorf("cptest: stop: %v", err)
	}
	if err := cp.Close(); err != nil {
		s.t.Errorf("cptest: close: %v", err)
	}
}

// Restart stops the server and starts it again on the same address with the
// same data directory, as a process restart would.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	if err := s.start(); err != nil {
		s.t.Fatalf("cptest: restart: %v", err)
	}
}

// Control is the running *controlplane.Server (nil while stopped).
func (s *Server) Control() *controlplane.Server {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cp
}

// CertPool is a pool holding the server's CA.
func (s *Server) CertPool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AppendCertsFromPEM(s.CAPEM)
	return p
}

// Client is an HTTP client that trusts the server's CA (no client
// certificate).
func (s *Server) Client() *http.Client {
	return &http.Client{
		Timeout: time.Minute,
		Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: s.CertPool()},
			Proxy:           nil,
		},
	}
}

// Admin calls the admin API: method, path (from package api), an optional
// JSON body, and out to decode a 2xx answer into (may be nil). Error answers
// come back as *api.Error.
func (s *Server) Admin(method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, s.URL+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+s.AdminToken)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := s.Client().Do(req)
	if err != nil {
		return fmt.Errorf("cptest: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("cptest: %s %s: read: %w", method, path, err)
	}
	if resp.StatusCode >= 300 {
		var e api.Error
		if json.Unmarshal(data, &e) != nil || e.Code == "" {
			return fmt.Errorf("cptest: %s %s: %s: %s", method, path, resp.Status, data)
		}
		return &e
	}
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("cptest: %s %s: decode: %w", method, path, err)
		}
	}
	return nil
}

// FindCode is the portal's Find: what the node behind code reported.
func (s *Server) FindCode(code string) (api.Activation, error) {
	var a api.Activation
	err := s.Admin(http.MethodGet, api.PathActivations+url.PathEscape(code), nil, &a)
	return a, err
}

// License is License Node: approves code with name and project (may be
// empty). The node's poll then returns its certificate.
func (s *Server) License(code, name, project string) (api.LicenseResponse, error) {
	var r api.LicenseResponse
	err := s.Admin(http.MethodPost, api.PathActivations+url.PathEscape(code), api.LicenseRequest{Name: name, Project: project}, &r)
	return r, err
}

// Deny refuses code; the node's poll then gets access_denied.
func (s *Server) Deny(code string) error {
	return s.Admin(http.MethodPost, api.PathActivations+url.PathEscape(code)+"/deny", nil, nil)
}

// CreateToken creates a registration token; expiresIn is a Go duration
// ("24h", "" for the default).
func (s *Server) CreateToken(name, project, expiresIn string, singleUse bool) (api.CreateTokenResponse, error) {
	var r api.CreateTokenResponse
	err := s.Admin(http.MethodPost, api.PathTokens, api.CreateTokenRequest{Name: name, Project: project, ExpiresIn: expiresIn, SingleUse: singleUse}, &r)
	return r, err
}

// RevokeToken revokes the token with id.
func (s *Server) RevokeToken(id string) error {
	return s.Admin(http.MethodDelete, api.PathTokens+"/"+url.PathEscape(id), nil, nil)
}

// AddNodes pre-adds node IDs (Add Edge Hosts) with tags (may be nil).
func (s *Server) AddNodes(ids []string, tags map[string]string) ([]api.Node, error) {
	var r api.NodeList
	err := s.Admin(http.MethodPost, api.PathNodes, api.AddNodesRequest{IDs: ids, Tags: tags}, &r)
	return r.Nodes, err
}

// Nodes lists the nodes.
func (s *Server) Nodes() ([]api.Node, error) {
	var r api.NodeList
	err := s.Admin(http.MethodGet, api.PathNodes, nil, &r)
	return r.Nodes, err
}

// Node returns one node (an *api.Error with code not_found if missing).
func (s *Server) Node(id string) (api.Node, error) {
	var n api.Node
	err := s.Admin(http.MethodGet, api.PathNodes+"/"+url.PathEscape(id), nil, &n)
	return n, err
}

// DeleteNode deletes a node; its certificate is refused from then on.
func (s *Server) DeleteNode(id string) error {
	return s.Admin(http.MethodDelete, api.PathNodes+"/"+url.PathEscape(id), nil, nil)
}

// Events lists every event, newest first (following the pages).
func (s *Server) Events() ([]api.Event, error) {
	var all []api.Event
	cursor := ""
	for {
		var r api.EventList
		path := api.PathEvents + "?limit=1000"
		if cursor != "" {
			path += "&cursor=" + url.QueryEscape(cursor)
		}
		if err := s.Admin(http.MethodGet, path, nil, &r); err != nil {
			return all, err
		}
		all = append(all, r.Events...)
		if r.Next == "" {
			return all, nil
		}
		cursor = r.Next
	}
}

// AddUser creates a portal user with a password (at least 10 characters)
// and, for role "site", its sites (which must exist).
func (s *Server) AddUser(name, role, password string, sites ...string) error {
	cp := s.Control()
	r, err := access.ParseRole(role)
	if err != nil {
		return err
	}
	ctx := access.WithPrincipal(context.Background(), access.Principal{Kind: access.KindCommandLine, User: "cptest"})
	_, err = cp.Accounts().AddUser(ctx, name, r, sites, password)
	return err
}

// HasEvent reports whether an event of type typ for nodeID was recorded.
func (s *Server) HasEvent(typ, nodeID string) (bool, error) {
	evs, err := s.Events()
	if err != nil {
		return false, err
	}
	for _, e := range evs {
		if e.Type == typ && e.NodeID == nodeID {
			return true, nil
		}
	}
	return false, nil
}

// ErrorCode returns the api error code carried by err, or "".
func ErrorCode(err error) api.ErrorCode {
	var e *api.Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}
