package controlplane

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/nodeconsole/nodeconsole/api"
	"github.com/nodeconsole/nodeconsole/controlplane/access"
	"github.com/nodeconsole/nodeconsole/controlplane/ratelimit"
	"github.com/nodeconsole/nodeconsole/controlplane/secrets"
	"github.com/nodeconsole/nodeconsole/controlplane/store"
)

// routeMux is the server's ServeMux that also records, for every pattern
// registered, the permission it needs (routeRules; the role table test
// derives the route list from it and fails on a route without a rule).
type routeMux struct {
	*http.ServeMux
	rules    map[string]access.Perm
	patterns []string
}

func newRouteMux() *routeMux {
	return &routeMux{ServeMux: http.NewServeMux(), rules: map[string]access.Perm{}}
}

// Handle registers h for pattern (its rule is set with handle or ruleMux).
func (m *routeMux) Handle(pattern string, h http.Handler) {
	m.patterns = append(m.patterns, pattern)
	m.ServeMux.Handle(pattern, h)
}

// HandleFunc registers fn for pattern.
func (m *routeMux) HandleFunc(pattern string, fn func(http.ResponseWriter, *http.Request)) {
	m.Handle(pattern, http.HandlerFunc(fn))
}

// handle registers h for pattern with the permission it needs.
func (m *routeMux) handle(pattern string, perm access.Perm, h http.Handler) {
	m.rules[pattern] = perm
	m.Handle(pattern, h)
}

// registrar is what route-registering functions need of a mux.
type registrar interface {
	Handle(pattern string, h http.Handler)
	HandleFunc(pattern string, fn func(http.ResponseWriter, *http.Request))
}

// ruleMux registers every route on m with one permission, wrapping each
// handler with wrap.
type ruleMux struct {
	m    *routeMux
	perm access.Perm
	wrap func(http.Handler) http.Handler
}

func (r ruleMux) Handle(pattern string, h http.Handler) { r.m.handle(pattern, r.perm, r.wrap(h)) }

func (r ruleMux) HandleFunc(pattern string, fn func(http.ResponseWriter, *http.Request)) {
	r.Handle(pattern, http.HandlerFunc(fn))
}

// RouteRule is a registered route and the permission it needs ("" when
// it was registered without one).
type RouteRule struct {
	Pattern string
	Perm    access.Perm
}

// Routes lists every registered route with its rule, in registration order.
func (s *Server) Routes() []RouteRule {
	out := make([]RouteRule, 0, len(s.mux.patterns))
	for _, p := range s.mux.patterns {
		out = append(out, RouteRule{Pattern: p, Perm: s.mux.rules[p]})
	}
	return out
}

// asNode marks requests of the node API: their events are by "node".
func asNode(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(access.WithPrincipal(r.Context(), access.Principal{Kind: access.KindNode})))
	})
}

// requireAPI authenticates a bearer credential (the admin token or a
// personal API token), answers 401 without a valid one and 403 when its
// role lacks perm, and puts the principal on the request context.
func (s *Server) requireAPI(perm access.Perm, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok := bearer(r)
		p, err := s.authenticateBearer(r.Context(), tok)
		var ae *apiError
		if errors.As(err, &ae) && ae.code == api.CodeUnauthorized {
			// Failed credentials are limited per source: past the limit
			// they get 429. A valid credential is always accepted (256
			// bits: the limit is not what stops guessing), so failures
			// from an admin's own address cannot lock the admin out.
			ip, now := sourceIP(r), s.now()
			if wait := s.failSource.Wait(ratelimit.SourceKey(ip), now); wait > 0 {
				err = rateLimited(wait)
			} else {
				s.failSource.Charge(ratelimit.SourceKey(ip), now)
				if tok != "" {
					s.auditFailure(r.Context(), api.EventAdminAuthFailed, "", ip, "an admin API request with a wrong, expired or disabled bearer token was refused")
				}
			}
		}
		if err != nil {
			writeError(w, s.log, r, err)
			return
		}
		if !access.RoleCan(p.Role, perm) {
			writeError(w, s.log, r, errForbidden())
			return
		}
		h.ServeHTTP(w, r.WithContext(access.WithPrincipal(r.Context(), p)))
	})
}

func errForbidden() error {
	return errorf(api.CodeForbidden, "your role does not allow this")
}

// apiTokenTouchEvery spaces the writes of a personal token's LastUsed.
const apiTokenTouchEvery = time.Minute

// authenticateBearer resolves a bearer token to its principal.
func (s *Server) authenticateBearer(ctx context.Context, tok string) (access.Principal, error) {
	if tok == "" {
		return access.Principal{}, errorf(api.CodeUnauthorized, "Authorization: Bearer <token> is required (the admin token or a personal API token)")
	}
	if s.isAdmin(tok) {
		return access.Principal{Kind: access.KindAdminToken, User: access.AdminTokenActor, Role: store.RoleAdmin}, nil
	}
	bad := errorf(api.CodeUnauthorized, "the bearer token is not valid")
	if !strings.HasPrefix(tok, apiTokenPrefix) {
		return access.Principal{}, bad
	}
	var t store.APIToken
	var u store.User
	now := s.now()
	err := s.store.View(ctx, func(tx store.Tx) error {
		var err error
		if t, err = tx.APITokenByHash(secrets.Hash(tok)); err != nil {
			return err
		}
		u, err = tx.User(t.User)
		return err
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return access.Principal{}, bad
	case err != nil:
		return access.Principal{}, err
	case !t.ExpiresAt.IsZero() && !now.Before(t.ExpiresAt):
		return access.Principal{}, errorf(api.CodeUnauthorized, "the personal API token expired; create a new one")
	case u.Disabled:
		return access.Principal{}, errorf(api.CodeUnauthorized, "the token's user is disabled")
	}
	if now.Sub(t.LastUsed) >= apiTokenTouchEvery {
		err := s.store.Update(ctx, func(tx store.Tx) error {
			cur, err := tx.APIToken(t.ID)
			if err != nil {
				return err
			}
			cur.LastUsed = now
			return tx.PutAPIToken(cur)
		})
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			s.log.Warn("record API token use", "id", t.ID, "err", err)
		}
	}
	return access.Principal{Kind: access.KindAPIToken, User: u.Name, Role: u.Role, Sites: u.Sites, TokenID: t.ID, TokenLabel: t.Label}, nil
}

// adminTokenFile holds the admin token in the data directory.
const adminTokenFile = "admin-token"

// adminTokenFileState re-reads DATA/admin-token when the file changes, so
// `controlplane admin-token rotate` takes effect on the running server.
type adminTokenFileState struct {
	path string

	mu    sync.Mutex
	value string
	mod   time.Time
	size  int64
}

func newAdminTokenFileState(dir string) (*adminTokenFileState, error) {
	v, err := secrets.LoadOrCreate(dir, adminTokenFile)
	if err != nil {
		return nil, err
	}
	a := &adminTokenFileState{path: filepath.Join(dir, adminTokenFile), value: v}
	if fi, err := os.Stat(a.path); err == nil {
		a.mod, a.size = fi.ModTime(), fi.Size()
	}
	return a, nil
}

// current is the admin token, re-read if the file changed. If the file
// is unreadable or empty, the last value stays.
func (a *adminTokenFileState) current() string {
	fi, err := os.Stat(a.path)
	a.mu.Lock()
	defer a.mu.Unlock()
	if err == nil && (!fi.ModTime().Equal(a.mod) || fi.Size() != a.size) {
		if b, err := os.ReadFile(a.path); err == nil {
			if v := strings.TrimSpace(string(b)); v != "" {
				a.value, a.mod, a.size = v, fi.ModTime(), fi.Size()
			}
		}
	}
	return a.value
}

// isAdmin reports whether tok is the admin token (constant time).
func (s *Server) isAdmin(tok string) bool {
	return tok != "" && subtle.ConstantTimeCompare([]byte(tok), []byte(s.adminToken.current())) == 1
}

// actorStore records the request's principal (actorOf) on every event
// added without an actor.
type actorStore struct{ store.Store }

func (s actorStore) Update(ctx context.Context, fn func(store.Tx) error) error {
	actor := actorOf(ctx)
	return s.Store.Update(ctx, func(tx store.Tx) error { return fn(actorTx{Tx: tx, actor: actor}) })
}

type actorTx struct {
	store.Tx

	actor string
}

func (t actorTx) AddEvent(e store.Event) error {
	if e.Actor == "" {
		e.Actor = t.actor
	}
	return t.Tx.AddEvent(e)
}

// budgetKey is the key of the per-credential rate-limit budgets of the
// request with ctx (access.Principal.Key; "anonymous" without a principal).
func budgetKey(ctx context.Context) string {
	if p, ok := access.PrincipalFrom(ctx); ok {
		return p.Key()
	}
	return "anonymous"
}

// actorOf is the actor for events caused by a request with ctx: the
// principal's, or "anonymous".
func actorOf(ctx context.Context) string {
	if p, ok := access.PrincipalFrom(ctx); ok {
		return p.Actor()
	}
	return "anonymous"
}
