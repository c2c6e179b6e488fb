package controlplane

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/nodeconsole/nodeconsole/controlplane/access"
	"github.com/nodeconsole/nodeconsole/controlplane/forwarded"
	"github.com/nodeconsole/nodeconsole/controlplane/store"
)

// readyTimeout bounds the store check of /readyz.
const readyTimeout = 2 * time.Second

// readyCacheFor is how long a /readyz answer is reused: anyone may ask it
// as often as they like, the store is asked at most once per period, and a
// failing store is logged at most once per period.
const readyCacheFor = time.Second

// readyCache holds the last store check of /readyz.
type readyCache struct {
	mu  sync.Mutex
	at  time.Time
	err error
}

// opsRoutes registers the health checks and, unless it has its own
// listener, /metrics (admin credential).
func (s *Server) opsRoutes(mux *routeMux) {
	mux.handle("GET /healthz", access.PermPublic, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		plain(w, http.StatusOK, "ok")
	}))
	mux.handle("GET /readyz", access.PermPublic, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := s.readyCached(r.Context()); err != nil {
			plain(w, http.StatusServiceUnavailable, "not ready")
			return
		}
		plain(w, http.StatusOK, "ready")
	}))
	if !s.opts.MetricsElsewhere {
		mux.handle("GET /metrics", access.PermAdmin, s.requireAPI(access.PermAdmin, s.metrics.handler()))
	}
}

func plain(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	fmt.Fprintln(w, msg)
}

// readyCached is Ready, asked at most once per readyCacheFor; callers in
// between get the last answer.
func (s *Server) readyCached(ctx context.Context) error {
	c := &s.ready
	c.mu.Lock()
	defer c.mu.Unlock()
	now := s.now()
	if !c.at.IsZero() && now.Sub(c.at) < readyCacheFor && now.Sub(c.at) >= 0 {
		return c.err
	}
	c.err, c.at = s.Ready(ctx), now
	if c.err != nil {
		s.log.Warn("not ready", "err", c.err)
	}
	return c.err
}

// Ready reports whether the store answers (its migrations are applied
// before Open returns) with one point lookup: it costs the same however
// many nodes are pending.
func (s *Server) Ready(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	return s.store.View(ctx, func(tx store.Tx) error {
		_, err := tx.Node("edge-00000000000000000000000000000000")
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		return err
	})
}

// MetricsHandler serves the Prometheus metrics without authentication,
// for a separate listener (--metrics-listen).
func (s *Server) MetricsHandler() http.Handler { return s.metrics.handler() }

// fromProxies makes the X-Forwarded-For client the request's RemoteAddr
// (so sourceIP, the per-source limits and events see it) when the peer is
// a trusted proxy. Without trusted proxies the header is ignored.
func (s *Server) fromProxies(h http.Handler) http.Handler {
	if len(s.opts.TrustedProxies) == 0 {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c := forwarded.Client(s.opts.TrustedProxies, r.RemoteAddr, r.Header.Values("X-Forwarded-For")); c != "" {
			r2 := r.WithContext(r.Context())
			r2.RemoteAddr = net.JoinHostPort(c, "0")
			r = r2
		}
		h.ServeHTTP(w, r)
	})
}

// allowedMethods lists the methods r's path is registered with, for the
// Allow header of a 405 ("" when the path has no route but the catch-all).
func (s *Server) allowedMethods(r *http.Request) string {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		if m == r.Method {
			continue
		}
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := s.mux.Handler(probe); pattern != "" && pattern != "/api/" {
			allow = append(allow, m)
		}
	}
	return strings.Join(allow, ", ")
}
