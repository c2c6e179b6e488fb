package access

import (
	"fmt"

	"github.com/nodeconsole/nodeconsole/controlplane/store"
)

// Perm is what a route needs (see RoleCan).
type Perm string

// Permissions, checked on API calls and portal pages alike.
const (
	// PermPublic: no credential (health, CA, the node API).
	PermPublic Perm = "public"
	// PermSelf: any logged-in user (log out, own sessions, own password).
	PermSelf Perm = "self"
	// PermRead: read nodes, events, sites.
	PermRead Perm = "read"
	// PermRegister: the QR registration page (site users: their sites).
	PermRegister Perm = "register"
	// PermOperate: Find, License, Deny, Add Edge Hosts, delete nodes.
	PermOperate Perm = "operate"
	// PermAdmin: registration tokens, sites, users.
	PermAdmin Perm = "admin"
)

// roleGrants lists what each role may do.
var roleGrants = map[store.Role][]Perm{store.RoleAdmin: {PermSelf, PermRead, PermRegister, PermOperate, PermAdmin}, store.RoleOperator: {PermSelf, PermRead, PermRegister, PermOperate}, store.RoleSite: {PermSelf, PermRegister}, store.RoleViewer: {PermSelf, PermRead}}

// RoleCan reports whether r grants p. PermPublic needs no role.
func RoleCan(r store.Role, p Perm) bool {
	if p == PermPublic {
		return true
	}
	for _, g := range roleGrants[r] {
		if g == p {
			return true
		}
	}
	return false
}

// ParseRole reads a role name (admin, operator, site, viewer).
func ParseRole(s string) (store.Role, error) {
	r := store.Role(s)
	if _, ok := roleGrants[r]; !ok {
		return "", fmt.Errorf("role %q is not one of admin, operator, site, viewer", s)
	}
	return r, nil
}
