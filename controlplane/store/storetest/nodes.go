package storetest

import (
	"testing"
	"time"

	"github.com/nodeconsole/nodeconsole/controlplane/store"
)

// node is a registered node with every field set.
func node(id, name string) store.Node {
	return store.Node{
		ID: id, Name: name, Status: "registered", Project: "retail", Site: "berlin", Make: "Acme", Model: "Edge 1",
		Version: "1.2.3", SourceIP: "192.0.2.7", Tags: map[string]string{"rack": "7", "row": "b"},
		PairingKeyHash: "pk-" + id, KeyFingerprint: "fp-" + id, CertSerial: "0a" + id, CertNotAfter: at(90 * 24 * time.Hour),
		CreatedAt: t0, RegisteredAt: at(time.Minute), LastSeen: at(2 * time.Minute),
	}
}

var nodeCases = []testCase{
	{"RoundTrip", func(t *testing.T, st store.Store) {
		n := node("n1", "store-1")
		put(t, st, store.Tx.PutNode, n)
		same(t, "Node", get(t, st, func(tx store.Tx) (store.Node, error) { return tx.Node("n1") }), n)
		n.Name, n.Status, n.Tags, n.PairingKeyHash, n.PreAdded = "store-2", "deregistered", nil, "", true
		put(t, st, store.Tx.PutNode, n)
		same(t, "Node replaced", get(t, st, func(tx store.Tx) (store.Node, error) { return tx.Node("n1") }), n)
	}},
	{"NotFoundAndDelete", func(t *testing.T, st store.Store) {
		notFound(t, st, "Node", func(tx store.Tx) (store.Node, error) { return tx.Node("nope") })
		update(t, st, func(tx store.Tx) error { return tx.DeleteNode("nope") }) // not an error
		put(t, st, store.Tx.PutNode, node("n1", "a"), node("n2", "b"))
		update(t, st, func(tx store.Tx) error { return tx.DeleteNode("n1") })
		notFound(t, st, "deleted node", func(tx store.Tx) (store.Node, error) { return tx.Node("n1") })
		if ns := get(t, st, store.Tx.Nodes); len(ns) != 1 || ns[0].ID != "n2" {
			t.Errorf("Nodes after deleting n1: %+v", ns)
		}
	}},
	{"CreateNodeKeepsAnExistingOne", func(t *testing.T, st store.Store) {
		n := node("n1", "store-1")
		if !change(t, st, func(tx store.Tx) (bool, error) { return tx.CreateNode(n) }) {
			t.Error("CreateNode of a new ID said it created nothing")
		}
		same(t, "created node", get(t, st, func(tx store.Tx) (store.Node, error) { return tx.Node("n1") }), n)
		other := node("n1", "store-2")
		if change(t, st, func(tx store.Tx) (bool, error) { return tx.CreateNode(other) }) {
			t.Error("CreateNode of an existing ID said it created it")
		}
		same(t, "node after a second CreateNode", get(t, st, func(tx store.Tx) (store.Node, error) { return tx.Node("n1") }), n)
	}},
	{"ListedByNameThenIDInByteOrder", func(t *testing.T, st store.Store) {
		// Byte order (upper case before lower case), the same in Nodes
		// and NodesAfter, so pages neither skip nor repeat a node.
		put(t, st, store.Tx.PutNode, node("n3", "b"), node("n1", "b"), node("n2", "a"), node("n4", "B"), node("n5", "Z"), node("n6", ""))
		want := []string{"n6", "n4", "n5", "n2", "n1", "n3"}
		var got []string
		for _, n := range get(t, st, store.Tx.Nodes) {
			got = append(got, n.ID)
		}
		same(t, "Nodes order", got, want)
		got = nil
		name, id := "", ""
		for range len(want) {
			page := get(t, st, func(tx store.Tx) ([]store.Node, error) { return tx.NodesAfter(name, id, 2) })
			if len(page) == 0 {
				break
			}
			if len(page) > 2 {
				t.Fatalf("NodesAfter with limit 2 returned %d", len(page))
			}
			for _, n := range page {
				got = append(got, n.ID)
			}
			name, id = page[len(page)-1].Name, page[len(page)-1].ID
		}
		same(t, "NodesAfter pages", got, want)
		if rest := get(t, st, func(tx store.Tx) ([]store.Node, error) { return tx.NodesAfter("b", "n3", 10) }); len(rest) != 0 {
			t.Errorf("NodesAfter the last node: %+v", rest)
		}
	}},
}
