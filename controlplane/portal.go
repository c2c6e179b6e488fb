package controlplane

import (
	"context"
	"errors"
	"net/url"
	"time"

	"github.com/nodeconsole/nodeconsole/api"
	"github.com/nodeconsole/nodeconsole/controlplane/portal"
	"github.com/nodeconsole/nodeconsole/controlplane/ratelimit"
	"github.com/nodeconsole/nodeconsole/controlplane/store"
)

// newPortal hands the portal what it needs of the server: the store, the
// shared failure budgets and audit, and the operations its pages call
// (the same the admin API serves).
func (s *Server) newPortal() (*portal.Portal, error) {
	return portal.New(portal.Deps{
		Store:        s.store,
		Log:          s.log,
		Now:          s.now,
		Secret:       s.secret,
		IsAdminToken: s.isAdmin,
		SourceIP:     sourceIP,
		FailSource:   bySource{s.failSource},
		NewLimiter:   s.portalLimiter,
		AuditFailure: s.auditFailureOf,
		Explain:      explain,
		Accounts:     s.accounts,
		Fleet: portal.Fleet{
			Nodes:      s.nodes,
			DeleteNode: s.deleteNode,
			AddNodes:   s.addNodes,
			Find:       s.find,
			Lookup: func(ctx context.Context, code, nodeID, ip string) (api.Activation, error) {
				e, err := s.lookup(ctx, code, nodeID, ip)
				if err != nil {
					return api.Activation{}, err
				}
				return s.activation(ctx, e)
			},
			License:     s.license,
			Deny:        s.deny,
			Tokens:      s.tokens,
			CreateToken: s.createToken,
			RevokeToken: s.revokeToken,
			Sites:       s.sites,
			CreateSite:  s.createSite,
			DeleteSite:  s.deleteSite,
			Events: func(ctx context.Context, q url.Values, def int) (store.EventQuery, api.EventList, error) {
				eq, err := eventQuery(q, def)
				if err != nil {
					return store.EventQuery{}, api.EventList{}, err
				}
				list, err := s.eventPage(ctx, eq)
				return eq, list, err
			},
		},
	})
}

// portalLimiter is a portal failure budget: this replica's share of burst
// attempts refilled one per every (ratelimit.Limit.Share).
func (s *Server) portalLimiter(burst int, every time.Duration) portal.Limiter {
	return ratelimit.New(ratelimit.Limit{Burst: burst, Every: every}.Share(s.opts.Replicas))
}

// bySource keys a limiter by the source of a client address
// (ratelimit.SourceKey).
type bySource struct{ l *ratelimit.Limiter }

func (b bySource) Wait(ip string, now time.Time) time.Duration {
	return b.l.Wait(ratelimit.SourceKey(ip), now)
}
func (b bySource) Charge(ip string, now time.Time) { b.l.Charge(ratelimit.SourceKey(ip), now) }

// explain is the sentence and status of an error made for people.
func explain(err error) (string, int, bool) {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae.msg, ae.code.Status(), true
	}
	return "", 0, false
}
