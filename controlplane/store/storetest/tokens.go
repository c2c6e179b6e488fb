package storetest

import (
	"testing"
	"time"

	"github.com/nodeconsole/nodeconsole/controlplane/store"
)

// token is a registration token created at t0+age.
func token(id string, age time.Duration) store.Token {
	return store.Token{ID: id, Name: "token " + id, Project: "retail", Hash: "h-" + id, SingleUse: true,
		AllowProjectOverride: true, Uses: 2, CreatedAt: at(age), ExpiresAt: at(age + 24*time.Hour)}
}

var tokenCases = []testCase{
	{"RoundTrip", func(t *testing.T, st store.Store) {
		tok := token("t1", 0)
		put(t, st, store.Tx.PutToken, tok)
		same(t, "Token", get(t, st, func(tx store.Tx) (store.Token, error) { return tx.Token("t1") }), tok)
		same(t, "TokenByHash", get(t, st, func(tx store.Tx) (store.Token, error) { return tx.TokenByHash("h-t1") }), tok)
		tok.Revoked, tok.SingleUse, tok.AllowProjectOverride, tok.ExpiresAt = true, false, false, time.Time{}
		put(t, st, store.Tx.PutToken, tok)
		same(t, "Token replaced", get(t, st, func(tx store.Tx) (store.Token, error) { return tx.Token("t1") }), tok)
	}},
	{"NotFound", func(t *testing.T, st store.Store) {
		notFound(t, st, "Token", func(tx store.Tx) (store.Token, error) { return tx.Token("nope") })
		notFound(t, st, "TokenByHash", func(tx store.Tx) (store.Token, error) { return tx.TokenByHash("nope") })
		if ts := get(t, st, store.Tx.Tokens); len(ts) != 0 {
			t.Errorf("Tokens of an empty store: %+v", ts)
		}
	}},
	{"HashIsUnique", func(t *testing.T, st store.Store) {
		put(t, st, store.Tx.PutToken, token("t1", 0))
		tok := token("t2", 0)
		tok.Hash = "h-t1"
		conflict(t, st, "PutToken with another's hash", func(tx store.Tx) error { return tx.PutToken(tok) })
	}},
	{"ListedNewestFirst", func(t *testing.T, st store.Store) {
		a, b, c := token("a", time.Minute), token("b", 3*time.Minute), token("c", 2*time.Minute)
		put(t, st, store.Tx.PutToken, a, b, c)
		same(t, "Tokens", get(t, st, store.Tx.Tokens), []store.Token{b, c, a})
	}},
}

var siteCases = []testCase{
	{"RoundTripListDelete", func(t *testing.T, st store.Store) {
		b, a := store.Site{ID: "s1", Name: "berlin", Project: "retail"}, store.Site{ID: "s2", Name: "aachen"}
		put(t, st, store.Tx.PutSite, b, a)
		same(t, "Site", get(t, st, func(tx store.Tx) (store.Site, error) { return tx.Site("s1") }), b)
		same(t, "Sites (by name)", get(t, st, store.Tx.Sites), []store.Site{a, b})
		b.Name, b.Project = "bonn", "depots"
		put(t, st, store.Tx.PutSite, b)
		same(t, "Site replaced", get(t, st, func(tx store.Tx) (store.Site, error) { return tx.Site("s1") }), b)
		update(t, st, func(tx store.Tx) error { return tx.DeleteSite("s2") })
		same(t, "Sites after delete", get(t, st, store.Tx.Sites), []store.Site{b})
	}},
	{"NotFound", func(t *testing.T, st store.Store) {
		notFound(t, st, "Site", func(tx store.Tx) (store.Site, error) { return tx.Site("nope") })
		update(t, st, func(tx store.Tx) error { return tx.DeleteSite("nope") })
	}},
	{"NameIsUnique", func(t *testing.T, st store.Store) {
		put(t, st, store.Tx.PutSite, store.Site{ID: "s1", Name: "berlin"})
		conflict(t, st, "PutSite with another's name", func(tx store.Tx) error {
			return tx.PutSite(store.Site{ID: "s2", Name: "berlin"})
		})
		// A name freed by a rename or delete can be taken.
		put(t, st, store.Tx.PutSite, store.Site{ID: "s1", Name: "bonn"}, store.Site{ID: "s2", Name: "berlin"})
	}},
}
