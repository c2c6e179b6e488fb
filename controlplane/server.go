package controlplane

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nodeconsole/nodeconsole/api"
	"github.com/nodeconsole/nodeconsole/controlplane/access"
	"github.com/nodeconsole/nodeconsole/controlplane/ca"
	"github.com/nodeconsole/nodeconsole/controlplane/crl"
	"github.com/nodeconsole/nodeconsole/controlplane/notify"
	"github.com/nodeconsole/nodeconsole/controlplane/portal"
	"github.com/nodeconsole/nodeconsole/controlplane/ratelimit"
	"github.com/nodeconsole/nodeconsole/controlplane/secrets"
	"github.com/nodeconsole/nodeconsole/controlplane/servercert"
	"github.com/nodeconsole/nodeconsole/controlplane/store"
	"github.com/nodeconsole/nodeconsole/controlplane/store/sqlite"
)

// Options configures a Server. Only DataDir is required.
type Options struct {
	// DataDir holds the database, the CA (ca.pem, ca-key.pem), the admin
	// token (admin-token) and the server secret. Created if missing (0700).
	DataDir string
	// Hostnames are extra names or IP addresses for the server certificate,
	// which always also covers localhost, 127.0.0.1 and ::1. The first one,
	// if any, is used in URL.
	Hostnames []string
	// PublicURL overrides the base URL used in verification URLs and printed
	// at start (for a server behind a proxy or NAT).
	PublicURL string
	// CodeTTL is how long a user code works; default 15 minutes.
	CodeTTL time.Duration
	// PollInterval is the minimum time between polls (RFC 8628 interval);
	// default 5 s. Whole seconds are sent to the node.
	PollInterval time.Duration
	// LongPoll is how long a poll is held while pending; default 25 s.
	LongPoll time.Duration
	// UpdatesDir, if set, offers nodeconsole builds found there (see
	// PathUpdate in package api and updates.go).
	UpdatesDir string
	// RateLimits defaults to ratelimit.Defaults().
	RateLimits *ratelimit.Limits
	// Replicas is how many control planes share the store (PostgreSQL).
	// Rate-limit buckets live in each one's memory and an attacker can
	// spread attempts over all of them, so each keeps 1/Replicas of every
	// limit (Limit.Share), the login limits too: together they allow what
	// one server does. Default 1.
	Replicas int
	// Logger receives JSON logs; default discards. Secrets are never logged.
	Logger *slog.Logger
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Store overrides the default store, SQLite in DataDir/controlplane.db
	// (package sqlite).
	// The Server closes it.
	Store store.Store
	// Notifier overrides the in-process notifier (for replicated stores).
	Notifier Notifier
	// MaxPending caps live pending enrollments in all; past it new ones
	// get 429. Default DefaultMaxPending; negative means no cap.
	MaxPending int
	// MaxPendingPerSource caps live pending enrollments per source (see
	// ratelimit.SourceKey). Default DefaultMaxPendingPerSource; negative means no cap.
	MaxPendingPerSource int
	// MaxHeldPolls caps the long-polls held at once; past it a poll is
	// answered at once (authorization_pending). Default MaxPending (or
	// DefaultMaxPending when that is off); negative means no cap.
	MaxHeldPolls int
	// PendingRetention is how long expired, cancelled, denied and
	// superseded enrollments (with their CSRs) and never-licensed pending
	// nodes are kept. Default DefaultPendingRetention.
	PendingRetention time.Duration
	// EventRetention is how long events are kept. Default
	// DefaultEventRetention.
	EventRetention time.Duration
	// MaxEvents caps the events kept (the newest). Default DefaultMaxEvents.
	MaxEvents int
	// CertTTL is how long a node certificate is valid. Default
	// DefaultCertTTL.
	CertTTL time.Duration
	// TrustDomain is the SPIFFE trust domain of node certificates' URI SAN
	// (spiffe://TRUST-DOMAIN/node/NODE-ID). Default the first of
	// Hostnames, else "localhost".
	TrustDomain string
	// RenewGrace is how long the certificate a node renewed still works
	// when the new one is not used. Default DefaultRenewGrace.
	RenewGrace time.Duration
	// ReenrollGrace is how long after its certificate expired a node may
	// enroll again with its registered key and be registered again at once
	// under its old name. Default DefaultReenrollGrace.
	ReenrollGrace time.Duration
	// TLSCertFile and TLSKeyFile, if set, are the server certificate
	// (chain) and key, read again when they change. Without them the
	// server signs its own certificate with its CA, for a key kept in
	// DATA/server-key.pem.
	TLSCertFile, TLSKeyFile string
	// TrustedProxies are the peers whose X-Forwarded-For header gives the
	// client address (ops.go); without them the header is ignored.
	TrustedProxies []netip.Prefix
	// MetricsElsewhere leaves /metrics off the main handler (it is served
	// on its own listener with MetricsHandler). Otherwise /metrics needs an
	// admin credential.
	MetricsElsewhere bool
}

// Defaults of the caps and retention in Options.
const (
	DefaultMaxPending          = 10000
	DefaultMaxPendingPerSource = 100
	DefaultPendingRetention    = 24 * time.Hour
	DefaultEventRetention      = 90 * 24 * time.Hour
	DefaultMaxEvents           = 200000
	DefaultCertTTL             = 90 * 24 * time.Hour
	DefaultRenewGrace          = time.Hour
	DefaultReenrollGrace       = 30 * 24 * time.Hour
)

const (
	defaultCodeTTL      = 15 * time.Minute
	defaultPollInterval = 5 * time.Second
	defaultLongPoll     = 25 * time.Second
	maxBodyBytes        = 64 << 10
)

// Server is a control plane. Create it with Open; it is safe for concurrent
// use.
type Server struct {
	ready      readyCache
	opts       Options
	log        *slog.Logger
	now        func() time.Time
	store      store.Store
	notify     Notifier
	ca         *ca.Authority
	tlsCert    tls.Certificate
	certFiles  *servercert.Files
	metrics    *metrics
	adminToken *adminTokenFileState
	secret     []byte
	// failSource, failTarget and enrollSource limit anonymous callers;
	// lookups limits authenticated ones per principal.
	failSource   *ratelimit.Limiter
	failTarget   *ratelimit.Limiter
	enrollSource *ratelimit.Limiter
	lookups      *ratelimit.Limiter
	audit        auditThrottle
	hashes       hashCache
	portal       *portal.Portal
	accounts     *Accounts
	crl          *crl.List
	handler      http.Handler
	mux          *routeMux
	// waiting counts polls being held right now (Waiting), parked ones
	// too; parked counts those, parkedTotal all ever parked (parked.go).
	waiting, parked, parkedTotal atomic.Int64
	// pollTurns are the turns at the store of polls that nothing woke
	// (pollturn.go); pollTurnWaits counts polls waiting for one.
	pollTurns     chan struct{}
	pollTurnWaits atomic.Int64

	mu  sync.Mutex
	url string
}

// Open prepares a Server: creates the data directory, the CA and admin token
// on first start, opens the store and applies migrations.
func Open(opts Options) (*Server, error) {
	if opts.DataDir == "" {
		return nil, errors.New("controlplane: open: DataDir is required")
	}
	if opts.CodeTTL <= 0 {
		opts.CodeTTL = defaultCodeTTL
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = defaultPollInterval
	}
	if opts.LongPoll <= 0 {
		opts.LongPoll = defaultLongPoll
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxPending == 0 {
		opts.MaxPending = DefaultMaxPending
	}
	if opts.MaxPendingPerSource == 0 {
		opts.MaxPendingPerSource = DefaultMaxPendingPerSource
	}
	if opts.MaxHeldPolls == 0 {
		opts.MaxHeldPolls = opts.MaxPending
		if opts.MaxHeldPolls < 0 {
			opts.MaxHeldPolls = DefaultMaxPending
		}
	}
	if opts.PendingRetention <= 0 {
		opts.PendingRetention = DefaultPendingRetention
	}
	if opts.EventRetention <= 0 {
		opts.EventRetention = DefaultEventRetention
	}
	if opts.MaxEvents <= 0 {
		opts.MaxEvents = DefaultMaxEvents
	}
	setCertDefaults(&opts)
	limits := ratelimit.Defaults()
	if opts.RateLimits != nil {
		limits = *opts.RateLimits
	}
	opts.Replicas = max(opts.Replicas, 1)
	limits = limits.Share(opts.Replicas)
	if err := os.MkdirAll(opts.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("controlplane: create data dir: %w", err)
	}
	s := &Server{
		opts:         opts,
		log:          opts.Logger,
		now:          opts.Now,
		notify:       opts.Notifier,
		failSource:   ratelimit.New(limits.FailPerIP),
		failTarget:   ratelimit.New(limits.FailPerTarget),
		enrollSource: ratelimit.New(limits.EnrollPerIP),
		lookups:      ratelimit.New(limits.LookupPerPrincipal),
		pollTurns:    make(chan struct{}, pollTurns),
	}
	if s.notify == nil {
		s.notify = notify.NewHub()
	}
	var err error
	if s.ca, err = ca.LoadOrCreate(opts.DataDir, s.now()); err != nil {
		return nil, err
	}
	if opts.TLSCertFile != "" || opts.TLSKeyFile != "" {
		if s.certFiles, err = servercert.OpenFiles(opts.TLSCertFile, opts.TLSKeyFile); err != nil {
			return nil, err
		}
	} else {
		key, err := servercert.LoadOrCreateKey(opts.DataDir)
		if err != nil {
			return nil, err
		}
		if s.tlsCert, err = s.ca.ServerCertificate(key, s.hostnames(), s.now()); err != nil {
			return nil, err
		}
	}
	if s.adminToken, err = newAdminTokenFileState(opts.DataDir); err != nil {
		return nil, err
	}
	secret, err := secrets.LoadOrCreate(opts.DataDir, secrets.ServerSecretFile)
	if err != nil {
		return nil, err
	}
	s.secret = []byte(secret)
	st := opts.Store
	if st == nil {
		if st, err = sqlite.OpenDir(context.Background(), opts.DataDir); err != nil {
			return nil, err
		}
	}
	s.metrics = newMetrics(s)
	s.metrics.countRetries(st)
	s.store = actorStore{metricsStore{Store: st, m: s.metrics}}
	s.crl = crl.New(s.ca, s.store)
	s.accounts = &Accounts{store: s.store, dataDir: opts.DataDir, now: s.now}
	if s.portal, err = s.newPortal(); err != nil {
		s.store.Close()
		return nil, err
	}
	s.handler = s.routes()
	return s, nil
}

// hostnames is the server certificate's name list.
func (s *Server) hostnames() []string {
	var out []string
	seen := map[string]bool{}
	for _, h := range append(append([]string{}, s.opts.Hostnames...), "localhost", "127.0.0.1", "::1") {
		h = strings.TrimSpace(h)
		if h != "" && !seen[h] {
			seen[h] = true
			out = append(out, h)
		}
	}
	return out
}

// Handler is the server's HTTP handler (node API, admin API and portal). It
// expects TLS from TLSConfig for the mutual-TLS node endpoints and Secure
// cookies.
func (s *Server) Handler() http.Handler { return s.handler }

// aeadSuites are the TLS 1.2 cipher suites offered: ECDHE with AEAD
// ciphers only (TLS 1.3 suites are all AEAD and not configurable).
var aeadSuites = []uint16{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
}

// TLSConfig is the server side TLS configuration: TLS 1.2 or newer with
// AEAD suites only, the server certificate, and client certificates
// requested but never verified in the handshake: a node whose certificate
// expired, was revoked or comes from another CA still connects (and can
// enroll again); the node endpoints check the certificate and answer JSON
// 401 certificate_expired, certificate_revoked or unknown_certificate.
func (s *Server) TLSConfig() *tls.Config {
	c := &tls.Config{
		MinVersion:   tls.VersionTLS12,
		CipherSuites: aeadSuites,
		ClientAuth:   tls.RequestClientCert,
		NextProtos:   []string{"h2", "http/1.1"},
	}
	if s.certFiles != nil {
		c.GetCertificate = s.certFiles.GetCertificate
	} else {
		c.Certificates = []tls.Certificate{s.tlsCert}
	}
	return c
}

// Serve answers HTTPS on ln until ctx is done, then stops gracefully
// (waiting up to 10 s for requests in flight; long-polls are released at
// once, parked ones answered). It returns nil after a graceful stop.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	s.SetListenAddr(ln.Addr())
	// ReadTimeout runs from the first byte of a request to the end of its
	// handler: over HTTP/1.1 net/http cancels a request still running when
	// it passes, so it must outlast a held poll, like WriteTimeout.
	// ReadHeaderTimeout and the 64 KiB body limit bound slow clients.
	// TLS session tickets are on (crypto/tls default; one TLSConfig, so one
	// ticket key), so a node that keeps a session cache resumes.
	hs := &http.Server{
		Handler:           s.handler,
		TLSConfig:         s.TLSConfig(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       s.opts.LongPoll + 30*time.Second,
		WriteTimeout:      s.opts.LongPoll + 30*time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    32 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	// HTTP/1.1 polls that wait are parked in lot (parked.go) and their
	// connections come back through hl.
	hl := newHandbackListener(tls.NewListener(ln, hs.TLSConfig))
	lot := newParkingLot(ctx, s, hl)
	hs.BaseContext = func(net.Listener) context.Context { return context.WithValue(ctx, parkingKey{}, lot) }
	hs.ConnState = hl.connState
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(hl) }()
	pctx, stopPruner := context.WithCancel(ctx)
	var pruning sync.WaitGroup
	pruning.Go(func() { s.pruner(pctx) })
	defer pruning.Wait()
	defer stopPruner()
	select {
	case err := <-errc:
		hl.Close()
		lot.close()
		return fmt.Errorf("controlplane: serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	lot.close()
	hl.Close()
	hl.closeWaiting()
	err := hs.Shutdown(sctx)
	<-errc
	if err != nil {
		return fmt.Errorf("controlplane: shutdown: %w", err)
	}
	return nil
}

// SetListenAddr records the address the server listens on, which URL is
// derived from. Serve calls it; call it first to know URL before Serve runs.
func (s *Server) SetListenAddr(addr net.Addr) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.opts.PublicURL != "" {
		s.url = strings.TrimRight(s.opts.PublicURL, "/")
		return
	}
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return
	}
	if len(s.opts.Hostnames) > 0 && s.opts.Hostnames[0] != "" {
		host = s.opts.Hostnames[0]
	} else if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "localhost"
	}
	s.url = "https://" + net.JoinHostPort(host, port)
}

// URL is the base URL (https://host:port) once Serve has started, or
// PublicURL; empty before.
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.url == "" && s.opts.PublicURL != "" {
		return strings.TrimRight(s.opts.PublicURL, "/")
	}
	return s.url
}

// baseURL is the base URL for links in answers to r.
func (s *Server) baseURL(r *http.Request) string {
	if u := s.URL(); u != "" {
		return u
	}
	return "https://" + r.Host
}

// Waiting is the number of long-polls the server is holding right now
// (nodes waiting for an admin), for monitoring and load tests.
func (s *Server) Waiting() int { return int(s.waiting.Load()) }

// AdminToken is the admin API bearer token (also the portal password of
// the user name "admin-token").
func (s *Server) AdminToken() string { return s.adminToken.current() }

// Accounts manages the server's users and personal API tokens.
func (s *Server) Accounts() *Accounts { return s.accounts }

// AdminTokenPath is the file holding the admin token.
func (s *Server) AdminTokenPath() string { return filepath.Join(s.opts.DataDir, adminTokenFile) }

// CAPEM is the PEM CA certificate clients must trust.
func (s *Server) CAPEM() []byte { return append([]byte(nil), s.ca.PEM()...) }

// CAPath is the file holding CAPEM.
func (s *Server) CAPath() string { return filepath.Join(s.opts.DataDir, ca.CertFile) }

// Close releases the store. Call it after Serve has returned.
func (s *Server) Close() error { return s.store.Close() }

// routes builds the handler tree.
func (s *Server) routes() http.Handler {
	mux := newRouteMux()
	s.mux = mux
	s.nodeRoutes(ruleMux{m: mux, perm: access.PermPublic, wrap: asNode})
	s.certRoutes(ruleMux{m: mux, perm: access.PermPublic, wrap: asNode})
	s.adminRoutes(mux)
	s.opsRoutes(mux)
	s.portal.Routes(mux.handle)
	mux.handle("/api/", access.PermPublic, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if allow := s.allowedMethods(r); allow != "" {
			w.Header().Set("Allow", allow)
			writeError(w, s.log, r, errorf(api.CodeMethodNotAllowed, "%s does not take %s (only %s)", r.URL.Path, r.Method, allow))
			return
		}
		writeError(w, s.log, r, errorf(api.CodeNotFound, "no such endpoint: %s %s", r.Method, r.URL.Path))
	}))
	return s.fromProxies(s.metrics.observe(s.logRequests(limitBody(mux))))
}

// hstsMaxAge is the Strict-Transport-Security max-age (one year).
const hstsMaxAge = 365 * 24 * 60 * 60

// limitBody bounds request bodies and sets Strict-Transport-Security on
// every answer (the server speaks only HTTPS; browsers then never try the
// portal over plain HTTP).
func limitBody(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		secureHeaders(w.Header())
		r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
		h.ServeHTTP(w, r)
	})
}

// secureHeaders sets the headers of every answer (limitBody; a parked
// poll's answer).
func secureHeaders(h http.Header) {
	h.Set("Strict-Transport-Security", hstsValue)
}

var hstsValue = fmt.Sprintf("max-age=%d", hstsMaxAge)

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// logRequests logs method, path (never the query, which may hold a code),
// status and duration. Headers are never logged.
func (s *Server) logRequests(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := s.now()
		sw := &statusWriter{ResponseWriter: w}
		h.ServeHTTP(sw, r)
		// Not r itself: a parked poll keeps this function, and r keeps
		// net/http's connection buffers.
		method, path, remote := r.Method, r.URL.Path, sourceIP(r)
		afterAnswer(r, sw.status, func(status int) {
			s.log.Debug("http", "method", method, "path", path, "status", status,
				"remote", remote, "duration", s.now().Sub(start))
		})
	})
}

// sourceIP is the peer address of r without the port: the TCP peer, or the
// X-Forwarded-For client when the peer is a trusted proxy (fromProxies).
func sourceIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// bearer extracts the token of "Authorization: Bearer <token>".
func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	const prefix = "bearer "
	if len(h) > len(prefix) && strings.EqualFold(h[:len(prefix)], prefix) {
		return strings.TrimSpace(h[len(prefix):])
	}
	return ""
}
