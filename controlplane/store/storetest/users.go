package storetest

import (
	"testing"
	"time"

	"github.com/nodeconsole/nodeconsole/controlplane/store"
)

// user is a site user with every field set.
func user(name string) store.User {
	return store.User{Name: name, Role: store.RoleSite, Sites: []string{"berlin", "bonn"}, PasswordHash: "$argon2id$" + name,
		MustChangePassword: true, TOTPSecret: "JBSWY3DPEHPK3PXP", TOTPLastStep: 59000000, CreatedAt: t0, LastLogin: at(time.Hour)}
}

// apiToken is a personal API token of u created at t0+age.
func apiToken(id, u string, age time.Duration) store.APIToken {
	return store.APIToken{ID: id, User: u, Label: "ci " + id, Hash: "h-" + id, CreatedAt: at(age), ExpiresAt: at(age + time.Hour), LastUsed: at(age + time.Minute)}
}

// session is a session of u last seen at t0+seen.
func session(hash, u string, seen time.Duration) store.Session {
	return store.Session{Hash: hash, User: u, CSRF: "csrf-" + hash, Stage: store.SessionActive, CreatedAt: t0, LastSeen: at(seen),
		SourceIP: "2001:db8::7", UserAgent: "Mozilla/5.0"}
}

var userCases = []testCase{
	{"RoundTrip", func(t *testing.T, st store.Store) {
		u := user("ana")
		put(t, st, store.Tx.PutUser, u)
		same(t, "User", get(t, st, func(tx store.Tx) (store.User, error) { return tx.User("ana") }), u)
		u.Role, u.Sites, u.Disabled, u.MustChangePassword, u.TOTPSecret, u.TOTPLastStep = store.RoleAdmin, nil, true, false, "", 0
		put(t, st, store.Tx.PutUser, u)
		same(t, "User replaced", get(t, st, func(tx store.Tx) (store.User, error) { return tx.User("ana") }), u)
		notFound(t, st, "User", func(tx store.Tx) (store.User, error) { return tx.User("nope") })
	}},
	{"ListedByName", func(t *testing.T, st store.Store) {
		put(t, st, store.Tx.PutUser, user("cem"), user("ana"), user("Bo"))
		var names []string
		for _, u := range get(t, st, store.Tx.Users) {
			names = append(names, u.Name)
		}
		same(t, "Users", names, []string{"Bo", "ana", "cem"})
	}},
	{"DeleteUserTakesTokensAndSessions", func(t *testing.T, st store.Store) {
		put(t, st, store.Tx.PutUser, user("ana"), user("bo"))
		put(t, st, store.Tx.PutAPIToken, apiToken("k1", "ana", 0), apiToken("k2", "bo", 0))
		put(t, st, store.Tx.PutSession, session("s1", "ana", 0), session("s2", "bo", 0))
		update(t, st, func(tx store.Tx) error { return tx.DeleteUser("ana") })
		notFound(t, st, "deleted user", func(tx store.Tx) (store.User, error) { return tx.User("ana") })
		notFound(t, st, "deleted user's token", func(tx store.Tx) (store.APIToken, error) { return tx.APIToken("k1") })
		notFound(t, st, "deleted user's session", func(tx store.Tx) (store.Session, error) { return tx.Session("s1") })
		if _, err := get2(t, st, func(tx store.Tx) (store.APIToken, error) { return tx.APIToken("k2") }); err != nil {
			t.Errorf("another user's token: %v", err)
		}
		if _, err := get2(t, st, func(tx store.Tx) (store.Session, error) { return tx.Session("s2") }); err != nil {
			t.Errorf("another user's session: %v", err)
		}
		update(t, st, func(tx store.Tx) error { return tx.DeleteUser("nope") })
	}},
	{"APITokens", func(t *testing.T, st store.Store) {
		a, b, c := apiToken("k1", "ana", 0), apiToken("k2", "ana", time.Minute), apiToken("k3", "bo", 0)
		a.ExpiresAt, a.LastUsed = time.Time{}, time.Time{} // never expires, never used
		put(t, st, store.Tx.PutAPIToken, a, b, c)
		same(t, "APIToken", get(t, st, func(tx store.Tx) (store.APIToken, error) { return tx.APIToken("k1") }), a)
		same(t, "APITokenByHash", get(t, st, func(tx store.Tx) (store.APIToken, error) { return tx.APITokenByHash("h-k2") }), b)
		same(t, "APITokensForUser (newest first)", get(t, st, func(tx store.Tx) ([]store.APIToken, error) { return tx.APITokensForUser("ana") }),
			[]store.APIToken{b, a})
		a.LastUsed = at(time.Hour)
		put(t, st, store.Tx.PutAPIToken, a)
		same(t, "APIToken replaced", get(t, st, func(tx store.Tx) (store.APIToken, error) { return tx.APIToken("k1") }), a)
		update(t, st, func(tx store.Tx) error { return tx.DeleteAPIToken("k1") })
		notFound(t, st, "deleted APIToken", func(tx store.Tx) (store.APIToken, error) { return tx.APIToken("k1") })
		notFound(t, st, "deleted APITokenByHash", func(tx store.Tx) (store.APIToken, error) { return tx.APITokenByHash("h-k1") })
		update(t, st, func(tx store.Tx) error { return tx.DeleteAPIToken("nope") })
		if ks := get(t, st, func(tx store.Tx) ([]store.APIToken, error) { return tx.APITokensForUser("nope") }); len(ks) != 0 {
			t.Errorf("APITokensForUser of an unknown user: %+v", ks)
		}
	}},
	{"APITokenHashIsUnique", func(t *testing.T, st store.Store) {
		put(t, st, store.Tx.PutAPIToken, apiToken("k1", "ana", 0))
		k := apiToken("k2", "bo", 0)
		k.Hash = "h-k1"
		conflict(t, st, "PutAPIToken with another's hash", func(tx store.Tx) error { return tx.PutAPIToken(k) })
	}},
}

var sessionCases = []testCase{
	{"RoundTrip", func(t *testing.T, st store.Store) {
		s := session("s1", "ana", time.Minute)
		s.Stage = store.SessionTOTP
		put(t, st, store.Tx.PutSession, s)
		same(t, "Session", get(t, st, func(tx store.Tx) (store.Session, error) { return tx.Session("s1") }), s)
		s.Stage, s.LastSeen, s.CSRF = store.SessionActive, at(5*time.Minute), "new"
		put(t, st, store.Tx.PutSession, s)
		same(t, "Session replaced", get(t, st, func(tx store.Tx) (store.Session, error) { return tx.Session("s1") }), s)
		update(t, st, func(tx store.Tx) error { return tx.DeleteSession("s1") })
		notFound(t, st, "deleted Session", func(tx store.Tx) (store.Session, error) { return tx.Session("s1") })
		update(t, st, func(tx store.Tx) error { return tx.DeleteSession("nope") })
	}},
	{"ForUserByLastSeen", func(t *testing.T, st store.Store) {
		a, b, c := session("s1", "ana", time.Minute), session("s2", "ana", 3*time.Minute), session("s3", "bo", 0)
		put(t, st, store.Tx.PutSession, a, b, c)
		same(t, "SessionsForUser (last seen first)", get(t, st, func(tx store.Tx) ([]store.Session, error) { return tx.SessionsForUser("ana") }),
			[]store.Session{b, a})
		update(t, st, func(tx store.Tx) error { return tx.DeleteSessionsForUser("ana") })
		if ss := get(t, st, func(tx store.Tx) ([]store.Session, error) { return tx.SessionsForUser("ana") }); len(ss) != 0 {
			t.Errorf("after DeleteSessionsForUser: %+v", ss)
		}
		same(t, "another user's session", get(t, st, func(tx store.Tx) (store.Session, error) { return tx.Session("s3") }), c)
	}},
	{"DeleteIdle", func(t *testing.T, st store.Store) {
		put(t, st, store.Tx.PutSession, session("s1", "ana", time.Minute), session("s2", "ana", 30*time.Minute), session("s3", "bo", 31*time.Minute))
		update(t, st, func(tx store.Tx) error { return tx.DeleteSessionsBefore(at(30 * time.Minute)) })
		notFound(t, st, "idle session", func(tx store.Tx) (store.Session, error) { return tx.Session("s1") })
		for _, h := range []string{"s2", "s3"} {
			if _, err := get2(t, st, func(tx store.Tx) (store.Session, error) { return tx.Session(h) }); err != nil {
				t.Errorf("session %s seen at or after the cutoff: %v, want it kept", h, err)
			}
		}
	}},
}
