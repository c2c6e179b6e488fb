package controlplane

import (
	"context"

	"github.com/nodeconsole/nodeconsole/controlplane/access"
	"github.com/nodeconsole/nodeconsole/controlplane/store"
)

// Principals and roles live in package access (the portal shares them);
// these names keep this package's code and its callers as they were.
type (
	// Principal is who a request acts as (access.Principal).
	Principal = access.Principal
	// PrincipalKind says what kind of credential a request carried.
	PrincipalKind = access.PrincipalKind
	// Perm is what a route needs (access.Perm).
	Perm = access.Perm
	// UserInfo describes a user without secrets (access.UserInfo).
	UserInfo = access.UserInfo
	// APITokenInfo describes a personal API token without its value.
	APITokenInfo = access.APITokenInfo
)

// Principal kinds and permissions (access).
const (
	KindUser        = access.KindUser
	KindAPIToken    = access.KindAPIToken
	KindAdminToken  = access.KindAdminToken
	KindNode        = access.KindNode
	KindCommandLine = access.KindCommandLine

	PermPublic   = access.PermPublic
	PermSelf     = access.PermSelf
	PermRead     = access.PermRead
	PermRegister = access.PermRegister
	PermOperate  = access.PermOperate
	PermAdmin    = access.PermAdmin

	adminTokenActor = access.AdminTokenActor
)

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return access.WithPrincipal(ctx, p)
}

// PrincipalFrom returns the principal on ctx, if any.
func PrincipalFrom(ctx context.Context) (Principal, bool) { return access.PrincipalFrom(ctx) }

// ParseRole reads a role name (admin, operator, site, viewer).
func ParseRole(s string) (store.Role, error) { return access.ParseRole(s) }

func roleCan(r store.Role, p Perm) bool { return access.RoleCan(r, p) }

// budgetKey is the key of the per-credential rate-limit budgets of the
// request with ctx (Principal.Key; "anonymous" without a principal).
func budgetKey(ctx context.Context) string {
	if p, ok := PrincipalFrom(ctx); ok {
		return p.Key()
	}
	return "anonymous"
}

// actorOf is the actor for events caused by a request with ctx: the
// principal's, or "anonymous".
func actorOf(ctx context.Context) string {
	if p, ok := PrincipalFrom(ctx); ok {
		return p.Actor()
	}
	return "anonymous"
}
