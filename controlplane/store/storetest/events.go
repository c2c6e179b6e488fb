package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/nodeconsole/nodeconsole/controlplane/store"
)

// addEvents adds n events, one a minute from t0, of types, nodes and
// actors that cycle through two values each (event i: type ti%2, node
// ni%3, actor ai%2).
func addEvents(t *testing.T, st store.Store, n int) {
	t.Helper()
	update(t, st, func(tx store.Tx) error {
		for i := range n {
			e := store.Event{Type: fmt.Sprint("t", i%2), NodeID: fmt.Sprint("n", i%3), Time: at(time.Duration(i) * time.Minute),
				SourceIP: "192.0.2.7", Actor: fmt.Sprint("a", i%2), Message: fmt.Sprint("event ", i)}
			if err := tx.AddEvent(e); err != nil {
				return err
			}
		}
		return nil
	})
}

// messages lists the events' messages.
func messages(es []store.Event) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.Message)
	}
	return out
}

var eventCases = []testCase{
	{"AddAndListNewestFirst", func(t *testing.T, st store.Store) {
		addEvents(t, st, 5)
		es := get(t, st, func(tx store.Tx) ([]store.Event, error) { return tx.Events(3) })
		same(t, "Events(3)", messages(es), []string{"event 4", "event 3", "event 2"})
		if len(es) == 3 {
			want := store.Event{ID: es[0].ID, Type: "t0", NodeID: "n1", Time: at(4 * time.Minute), SourceIP: "192.0.2.7", Actor: "a0", Message: "event 4"}
			same(t, "newest event", es[0], want)
			if !(es[0].ID > es[1].ID && es[1].ID > es[2].ID && es[2].ID > 0) {
				t.Errorf("event IDs %d, %d, %d: want positive, growing with each event", es[0].ID, es[1].ID, es[2].ID)
			}
		}
		if es := get(t, st, func(tx store.Tx) ([]store.Event, error) { return tx.Events(100) }); len(es) != 5 {
			t.Errorf("Events(100): %d, want all 5", len(es))
		}
	}},
	{"IDsGrowAcrossTransactions", func(t *testing.T, st store.Store) {
		addEvents(t, st, 1)
		addEvents(t, st, 1)
		es := get(t, st, func(tx store.Tx) ([]store.Event, error) { return tx.Events(2) })
		if len(es) != 2 || es[0].ID <= es[1].ID {
			t.Errorf("two events of two Updates: %+v, want the later one with the larger ID", es)
		}
	}},
	{"Page", func(t *testing.T, st store.Store) {
		addEvents(t, st, 12)
		page := func(q store.EventQuery) []string {
			return messages(get(t, st, func(tx store.Tx) ([]store.Event, error) { return tx.EventsPage(q) }))
		}
		same(t, "first page", page(store.EventQuery{Limit: 2}), []string{"event 11", "event 10"})
		all := get(t, st, func(tx store.Tx) ([]store.Event, error) { return tx.EventsPage(store.EventQuery{Limit: 100}) })
		if len(all) != 12 {
			t.Fatalf("EventsPage limit 100: %d events, want 12", len(all))
		}
		same(t, "page before event 10", page(store.EventQuery{Limit: 3, Before: all[1].ID}), []string{"event 9", "event 8", "event 7"})
		same(t, "by type", page(store.EventQuery{Limit: 3, Type: "t1"}), []string{"event 11", "event 9", "event 7"})
		same(t, "by node", page(store.EventQuery{Limit: 3, NodeID: "n0"}), []string{"event 9", "event 6", "event 3"})
		same(t, "by actor and node", page(store.EventQuery{Limit: 10, Actor: "a0", NodeID: "n2"}), []string{"event 8", "event 2"})
		same(t, "by everything, before", page(store.EventQuery{Limit: 10, Actor: "a0", NodeID: "n2", Type: "t0", Before: all[3].ID}), []string{"event 2"})
		if got := page(store.EventQuery{Limit: 10, Actor: "nobody"}); len(got) != 0 {
			t.Errorf("unknown actor: %v", got)
		}
	}},
	{"PruneByAge", func(t *testing.T, st store.Store) {
		addEvents(t, st, 10)
		res := change(t, st, func(tx store.Tx) (store.PruneResult, error) {
			return tx.Prune(store.Prune{EventsBefore: at(4 * time.Minute)})
		})
		if res != (store.PruneResult{Events: 4}) {
			t.Errorf("Prune(EventsBefore 4 min): %+v, want 4 events", res)
		}
		es := get(t, st, func(tx store.Tx) ([]store.Event, error) { return tx.Events(100) })
		if len(es) != 6 || es[len(es)-1].Message != "event 4" {
			t.Errorf("after pruning by age: %v, want events 9 to 4", messages(es))
		}
	}},
	{"PruneToMaxEvents", func(t *testing.T, st store.Store) {
		addEvents(t, st, 10)
		change(t, st, func(tx store.Tx) (store.PruneResult, error) {
			return tx.Prune(store.Prune{EventsBefore: at(2 * time.Minute)})
		})
		res := change(t, st, func(tx store.Tx) (store.PruneResult, error) { return tx.Prune(store.Prune{MaxEvents: 3}) })
		if res != (store.PruneResult{Events: 5}) {
			t.Errorf("Prune(MaxEvents 3) of 8: %+v, want 5 events", res)
		}
		same(t, "after pruning to 3", messages(get(t, st, func(tx store.Tx) ([]store.Event, error) { return tx.Events(100) })),
			[]string{"event 9", "event 8", "event 7"})
		addEvents(t, st, 2) // retention keeps working after a prune
		res = change(t, st, func(tx store.Tx) (store.PruneResult, error) { return tx.Prune(store.Prune{MaxEvents: 3}) })
		if res.Events != 2 {
			t.Errorf("second Prune(MaxEvents 3) of 5: %+v, want 2 events", res)
		}
	}},
}
