// Package controlplane is the reference control plane that nodes register
// with: its HTTP API and the assembly of a Server from the parts below.
// The API is the node API and the admin API of package api (enrollment
// and long-poll, also as RFC 8628 forms; activation; registration tokens;
// users and personal API tokens; renewal), each route with the permission
// it needs (package access), plus health, readiness and metrics.
// Handlers know the store only through its interface (package store);
// the web portal (package portal) is mounted beside them.
//
// Open builds a Server from Options; Serve runs it on a listener. The same
// Server backs cmd/controlplane, `nodeconsole --demo` and the tests of
// every package that talks to a control plane (package cptest).
//
// # Files
//
//	server.go                 Options, Open (assembly), Serve, TLS configuration
//	auth.go                   bearer and mutual-TLS authentication, route permissions
//	enroll.go, nodeapi.go     the node API: enroll, long-poll, self, deregister
//	parked.go                 long-polls that wait without a goroutine (HTTP/1.1)
//	pollturn.go               the few turns at the store of polls nothing woke
//	renew.go, certs.go        certificate renewal, issuing and checking; /ca, /ca/crl
//	activate.go, adminapi.go  the admin API: find, license, deny; nodes, sites, events
//	tokens.go                 registration tokens and registration with one
//	users.go                  Accounts: users, personal API tokens, the admin token
//	oauth.go                  RFC 8628 forms, access tokens, RFC 8414 metadata
//	portal.go                 what the portal is handed of the server
//	ops.go, metrics.go        /healthz, /readyz, /metrics, trusted proxies
//	audit.go, retention.go    failure events (throttled), retention passes
//	updates.go                nodeconsole builds offered to nodes
//	httperr.go, paging.go     API errors, pagination
//	notify.go                 Notifier, which wakes long-polls
//
// # The control plane's packages
//
//	controlplane/store        the storage contract: Store, Tx, records, errors
//	  store/sqlite            the embedded default store (one file under --data)
//	  store/postgres          the store of several replicas (--db postgres://...)
//	  store/storetest         the conformance suite every store passes
//	controlplane/ca           the certificate authority: CSR checks, node and server certificates
//	controlplane/crl          which node certificates are revoked; the signed CRL
//	controlplane/servercert   the HTTPS server's key, or its certificate files
//	controlplane/access       principals, roles and permissions (shared with the portal)
//	controlplane/portal       the server-rendered web portal
//	controlplane/notify       wakes long-polls within one process
//	controlplane/ratelimit    token buckets: the limits against guessing and load
//	controlplane/forwarded    the client behind trusted proxies (X-Forwarded-For)
//	controlplane/secrets      random tokens and codes, their hashes, secret files
//	controlplane/passwords    password hashing (argon2id)
//	controlplane/totp         two-factor codes (RFC 6238)
//	controlplane/backup       backup and restore of a SQLite data directory
//	controlplane/cptest       a real control plane on loopback for tests
//
// The command line (flags, backup, restore, user and admin-token
// commands) is cmd/controlplane.
package controlplane
