package storetest

import (
	"testing"
	"time"

	"github.com/nodeconsole/nodeconsole/controlplane/store"
)

// cert is a certificate of node issued at t0+age, valid for a day.
func cert(serial, node string, age time.Duration) store.NodeCert {
	return store.NodeCert{Serial: serial, NodeID: node, KeyFingerprint: "fp-" + node,
		Certificate: "-----BEGIN CERTIFICATE-----\n" + serial + "\n", IssuedAt: at(age), NotAfter: at(age + 24*time.Hour)}
}

var certCases = []testCase{
	{"RoundTrip", func(t *testing.T, st store.Store) {
		c := cert("0a01", "n1", 0)
		put(t, st, store.Tx.PutNodeCert, c)
		same(t, "NodeCert", get(t, st, func(tx store.Tx) (store.NodeCert, error) { return tx.NodeCert("0a01") }), c)
		c.GraceUntil, c.RevokedAt, c.Reason = at(time.Hour), at(2*time.Hour), 4
		put(t, st, store.Tx.PutNodeCert, c)
		same(t, "NodeCert replaced", get(t, st, func(tx store.Tx) (store.NodeCert, error) { return tx.NodeCert("0a01") }), c)
		notFound(t, st, "NodeCert", func(tx store.Tx) (store.NodeCert, error) { return tx.NodeCert("nope") })
	}},
	{"ForNodeNewestFirst", func(t *testing.T, st store.Store) {
		a, b, c := cert("01", "n1", 0), cert("02", "n1", 2*time.Hour), cert("03", "n2", time.Hour)
		put(t, st, store.Tx.PutNodeCert, a, b, c)
		same(t, "NodeCertsForNode", get(t, st, func(tx store.Tx) ([]store.NodeCert, error) { return tx.NodeCertsForNode("n1") }),
			[]store.NodeCert{b, a})
		if cs := get(t, st, func(tx store.Tx) ([]store.NodeCert, error) { return tx.NodeCertsForNode("nope") }); len(cs) != 0 {
			t.Errorf("NodeCertsForNode of an unknown node: %+v", cs)
		}
	}},
	{"LiveAndPruneByExpiry", func(t *testing.T, st store.Store) {
		a, b, c := cert("01", "n1", 0), cert("02", "n1", 2*time.Hour), cert("03", "n2", time.Hour)
		put(t, st, store.Tx.PutNodeCert, c, b, a)
		live := func(now time.Time) []store.NodeCert {
			return get(t, st, func(tx store.Tx) ([]store.NodeCert, error) { return tx.LiveNodeCerts(now) })
		}
		same(t, "LiveNodeCerts (oldest issued first)", live(t0), []store.NodeCert{a, c, b})
		same(t, "LiveNodeCerts when a expires (at NotAfter)", live(a.NotAfter), []store.NodeCert{c, b})
		n := change(t, st, func(tx store.Tx) (int64, error) { return tx.PruneNodeCerts(c.NotAfter) })
		if n != 1 {
			t.Errorf("PruneNodeCerts at c's expiry: %d, want 1 (a; c expires at that instant, not before)", n)
		}
		notFound(t, st, "pruned certificate", func(tx store.Tx) (store.NodeCert, error) { return tx.NodeCert("01") })
		same(t, "left after the prune", live(t0), []store.NodeCert{c, b})
	}},
}
