// Package access is who a control-plane request acts as (Principal) and
// what each role may do (Perm, RoleCan): the API's auth middleware and the
// portal's sessions both put a Principal on the request context.
package access

import (
	"context"
	"slices"

	"github.com/nodeconsole/nodeconsole/controlplane/store"
)

// PrincipalKind says what kind of credential a request carried.
type PrincipalKind string

// Principal kinds.
const (
	// KindUser: a portal session of a user.
	KindUser PrincipalKind = "user"
	// KindAPIToken: a user's personal API token (Bearer ncat_...).
	KindAPIToken PrincipalKind = "api-token"
	// KindAdminToken: DATA/admin-token, the break-glass admin (API bearer
	// or portal login as user "admin-token").
	KindAdminToken PrincipalKind = "admin-token"
	// KindNode: a node on the node API (enrollment, mutual TLS).
	KindNode PrincipalKind = "node"
	// KindCommandLine: the controlplane command's user subcommands, run
	// by the operating system user User on the server's machine.
	KindCommandLine PrincipalKind = "command-line"
)

// AdminTokenActor is the name of the admin-token principal, in the audit
// and as the portal user name that logs in with the admin token.
const AdminTokenActor = "admin-token"

// Principal is who a request acts as. The auth middleware puts it on the
// request context (PrincipalFrom); the rate limiter keys authenticated
// budgets on Key, and every event records Actor.
type Principal struct {
	Kind PrincipalKind
	// User is the user name (KindUser, KindAPIToken), "admin-token", or
	// the node ID (KindNode, when known).
	User  string
	Role  store.Role
	Sites []string // RoleSite: the sites the principal may register nodes at
	// TokenID and TokenLabel identify a personal API token.
	TokenID, TokenLabel string
	// SessionHash identifies a portal session (KindUser, KindAdminToken in
	// the portal).
	SessionHash string
}

// Actor is how events name the principal: "alice", "admin-token",
// "alice (token ci)", or "node".
func (p Principal) Actor() string {
	switch p.Kind {
	case KindAdminToken:
		return AdminTokenActor
	case KindAPIToken:
		return p.User + " (token " + p.TokenLabel + ")"
	case KindNode:
		return "node"
	case KindCommandLine:
		return "command line (" + p.User + ")"
	}
	return p.User
}

// Key identifies the credential for per-credential budgets (rate limits):
// one per user, one per personal token, one for the admin token.
func (p Principal) Key() string {
	switch p.Kind {
	case KindAPIToken:
		return "api-token:" + p.TokenID
	case KindAdminToken:
		return AdminTokenActor
	case KindNode:
		return "node:" + p.User
	}
	return "user:" + p.User
}

// Authenticated reports whether p is a person or automation with a role
// (not a node, not anonymous).
func (p Principal) Authenticated() bool { return p.Role != "" }

// MaySite reports whether p may register nodes at site (every site for
// operators and admins).
func (p Principal) MaySite(site string) bool {
	if RoleCan(p.Role, PermOperate) {
		return true
	}
	return RoleCan(p.Role, PermRegister) && slices.Contains(p.Sites, site)
}

type principalKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the principal on ctx, if any.
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}
