package controlplane

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/nodeconsole/nodeconsole/controlplane/ratelimit"
	"github.com/nodeconsole/nodeconsole/controlplane/store"
)

// auditWindow is how often one kind of failure from one source is written
// to the events log; the ones in between are counted and summarised in the
// next one.
const auditWindow = time.Minute

// auditThrottle decides which repeated events are written (at most one per
// key per auditWindow) and counts the others.
type auditThrottle struct {
	mu sync.Mutex
	m  map[string]*auditEntry
}

type auditEntry struct {
	last       time.Time
	suppressed int
}

// note reports whether an event for key at now is to be written, and how
// many were left out since the last one written.
func (a *auditThrottle) note(key string, now time.Time) (write bool, suppressed int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.m == nil || len(a.m) > 100000 { // bound memory: forget everyone
		a.m = map[string]*auditEntry{}
	}
	e, ok := a.m[key]
	if !ok {
		a.m[key] = &auditEntry{last: now}
		return true, 0
	}
	if now.Sub(e.last) < auditWindow {
		e.suppressed++
		return false, 0
	}
	suppressed, e.last, e.suppressed = e.suppressed, now, 0
	return true, suppressed
}

// auditFailure records a failure (typ, e.g. api.EventAdminAuthFailed) from
// ip: the first one per type, source and minute is written, later ones are
// summarised in the next one written.
func (s *Server) auditFailure(ctx context.Context, typ, nodeID, ip, msg string) {
	s.auditFailureOf(ctx, typ, "", nodeID, ip, msg)
}

// auditFailureOf is auditFailure counted per source and subject (e.g. the
// user name of a failed login), so failures against different users from
// one source each get their event.
func (s *Server) auditFailureOf(ctx context.Context, typ, subject, nodeID, ip, msg string) {
	now := s.now()
	src := ratelimit.SourceKey(ip)
	write, n := s.audit.note(typ+" "+src+" "+subject, now)
	if !write {
		return
	}
	if n > 0 {
		msg += fmt.Sprintf(" (%d more from %s in the minute before, not listed one by one)", n, src)
	}
	s.event(ctx, store.Event{Type: typ, NodeID: nodeID, Time: now, SourceIP: ip, Message: msg})
}
