package storetest

import (
	"testing"
	"time"

	"github.com/nodeconsole/nodeconsole/controlplane/store"
)

// enrollment is a pending enrollment of node created at t0+age, live for
// 15 minutes.
func enrollment(id, node string, age time.Duration) store.Enrollment {
	return store.Enrollment{
		ID: id, NodeID: node, Make: "Acme", Model: "Edge 1", Version: "1.2.3",
		CSR: "-----BEGIN CERTIFICATE REQUEST-----\n" + id + "\n", KeyFingerprint: "fp-" + id,
		DeviceCodeHash: "dc-" + id, UserCode: "UC" + id, State: store.EnrollPending,
		SourceIP: "192.0.2.7", SourceKey: "192.0.2.7",
		CreatedAt: at(age), ExpiresAt: at(age + 15*time.Minute),
	}
}

var enrollmentCases = []testCase{
	{"RoundTrip", func(t *testing.T, st store.Store) {
		e := enrollment("e1", "n1", 0)
		e.LastPollAt, e.DecidedAt, e.DeliveredAt = at(time.Second), at(2*time.Second), at(3*time.Second)
		e.State, e.Certificate = store.EnrollApproved, "-----BEGIN CERTIFICATE-----\n"
		put(t, st, store.Tx.PutEnrollment, e)
		same(t, "Enrollment", get(t, st, func(tx store.Tx) (store.Enrollment, error) { return tx.Enrollment("e1") }), e)
		same(t, "EnrollmentByDeviceHash", get(t, st, func(tx store.Tx) (store.Enrollment, error) { return tx.EnrollmentByDeviceHash("dc-e1") }), e)
		same(t, "EnrollmentByUserCode", get(t, st, func(tx store.Tx) (store.Enrollment, error) { return tx.EnrollmentByUserCode("UCe1") }), e)
		e.State, e.DecidedAt, e.Certificate = store.EnrollDenied, at(time.Minute), ""
		put(t, st, store.Tx.PutEnrollment, e)
		same(t, "Enrollment replaced", get(t, st, func(tx store.Tx) (store.Enrollment, error) { return tx.Enrollment("e1") }), e)
	}},
	{"ZeroTimesStayZero", func(t *testing.T, st store.Store) {
		e := enrollment("e1", "n1", 0)
		put(t, st, store.Tx.PutEnrollment, e)
		got := get(t, st, func(tx store.Tx) (store.Enrollment, error) { return tx.Enrollment("e1") })
		if !got.LastPollAt.IsZero() || !got.DecidedAt.IsZero() || !got.DeliveredAt.IsZero() {
			t.Errorf("unset times came back set: %+v", got)
		}
	}},
	{"NotFound", func(t *testing.T, st store.Store) {
		notFound(t, st, "Enrollment", func(tx store.Tx) (store.Enrollment, error) { return tx.Enrollment("nope") })
		notFound(t, st, "EnrollmentByDeviceHash", func(tx store.Tx) (store.Enrollment, error) { return tx.EnrollmentByDeviceHash("nope") })
		notFound(t, st, "EnrollmentByUserCode", func(tx store.Tx) (store.Enrollment, error) { return tx.EnrollmentByUserCode("nope") })
		if es := get(t, st, func(tx store.Tx) ([]store.Enrollment, error) { return tx.EnrollmentsForNode("nope") }); len(es) != 0 {
			t.Errorf("EnrollmentsForNode of an unknown node: %+v", es)
		}
		update(t, st, func(tx store.Tx) error { return tx.DeleteEnrollmentsForNode("nope") })
	}},
	{"DeviceCodeHashIsUnique", func(t *testing.T, st store.Store) {
		put(t, st, store.Tx.PutEnrollment, enrollment("e1", "n1", 0))
		e := enrollment("e2", "n2", 0)
		e.DeviceCodeHash = "dc-e1"
		conflict(t, st, "PutEnrollment with another's device code hash", func(tx store.Tx) error { return tx.PutEnrollment(e) })
		notFound(t, st, "the refused enrollment", func(tx store.Tx) (store.Enrollment, error) { return tx.Enrollment("e2") })
	}},
	{"PendingUserCodeIsUnique", func(t *testing.T, st store.Store) {
		put(t, st, store.Tx.PutEnrollment, enrollment("e1", "n1", 0))
		e := enrollment("e2", "n2", time.Minute)
		e.UserCode = "UCe1"
		conflict(t, st, "PutEnrollment of a pending enrollment with another pending one's user code", func(tx store.Tx) error {
			if err := tx.PutNode(node("n2", "n2")); err != nil {
				return err
			}
			return tx.PutEnrollment(e)
		})
		notFound(t, st, "the refused enrollment's node", func(tx store.Tx) (store.Node, error) { return tx.Node("n2") })
		// Once the first is no longer pending, or the second is not, the
		// code may be used again.
		e.State = store.EnrollApproved
		put(t, st, store.Tx.PutEnrollment, e)
		first := enrollment("e1", "n1", 0)
		first.State = store.EnrollCancelled
		e.State = store.EnrollPending
		put(t, st, store.Tx.PutEnrollment, first, e)
		same(t, "EnrollmentByUserCode", get(t, st, func(tx store.Tx) (store.Enrollment, error) { return tx.EnrollmentByUserCode("UCe1") }), e)
	}},
	{"NewestByUserCodeAndForNode", func(t *testing.T, st store.Store) {
		old, mid, newest := enrollment("e1", "n1", 0), enrollment("e2", "n1", time.Minute), enrollment("e3", "n1", 2*time.Minute)
		old.UserCode, newest.UserCode = "SAME", "SAME"
		old.State = store.EnrollCancelled // two pending ones cannot share a code
		put(t, st, store.Tx.PutEnrollment, newest, old, mid, enrollment("e4", "n2", 0))
		same(t, "EnrollmentByUserCode (the newest)", get(t, st, func(tx store.Tx) (store.Enrollment, error) { return tx.EnrollmentByUserCode("SAME") }), newest)
		same(t, "EnrollmentsForNode (newest first)", get(t, st, func(tx store.Tx) ([]store.Enrollment, error) { return tx.EnrollmentsForNode("n1") }),
			[]store.Enrollment{newest, mid, old})
		update(t, st, func(tx store.Tx) error { return tx.DeleteEnrollmentsForNode("n1") })
		if es := get(t, st, func(tx store.Tx) ([]store.Enrollment, error) { return tx.EnrollmentsForNode("n1") }); len(es) != 0 {
			t.Errorf("after DeleteEnrollmentsForNode: %d left", len(es))
		}
		if _, err := get2(t, st, func(tx store.Tx) (store.Enrollment, error) { return tx.Enrollment("e4") }); err != nil {
			t.Errorf("another node's enrollment went too: %v", err)
		}
	}},
	{"CountPendingSkipsExpiredAndDecided", func(t *testing.T, st store.Store) {
		a, b, c, d := enrollment("a", "n1", 0), enrollment("b", "n2", 0), enrollment("c", "n3", 0), enrollment("d", "n4", 10*time.Minute)
		b.SourceKey = "2001:db8:1:2::/64"
		c.State = store.EnrollApproved
		put(t, st, store.Tx.PutEnrollment, a, b, c, d)
		count := func(now time.Time, src string) int {
			return get(t, st, func(tx store.Tx) (int, error) { return tx.CountPending(now, src) })
		}
		if n := count(at(time.Minute), ""); n != 3 {
			t.Errorf("CountPending at 1 min: %d, want 3 (a, b, d)", n)
		}
		if n := count(at(time.Minute), "192.0.2.7"); n != 2 {
			t.Errorf("CountPending at 1 min from 192.0.2.7: %d, want 2 (a, d)", n)
		}
		if n := count(at(time.Minute), "2001:db8:1:2::/64"); n != 1 {
			t.Errorf("CountPending at 1 min from the /64: %d, want 1", n)
		}
		if n := count(at(15*time.Minute), ""); n != 1 {
			t.Errorf("CountPending when a and b expire (at ExpiresAt): %d, want 1 (d)", n)
		}
		if n := count(at(time.Hour), ""); n != 0 {
			t.Errorf("CountPending after every expiry: %d, want 0", n)
		}
	}},
	{"PruneEnrollmentsAndNodes", func(t *testing.T, st store.Store) {
		expired := enrollment("expired", "lost", 0) // expires at 15 min
		live := enrollment("live", "waiting", 50*time.Minute)
		denied := enrollment("denied", "refused", 0)
		denied.State, denied.DecidedAt = store.EnrollDenied, at(time.Minute)
		deniedLate := enrollment("denied-late", "kept", 0)
		deniedLate.State, deniedLate.DecidedAt = store.EnrollCancelled, at(45*time.Minute)
		superseded := enrollment("superseded", "waiting", 0)
		superseded.State, superseded.DecidedAt = store.EnrollSuperseded, at(time.Minute)
		approved := enrollment("approved", "registered", 0)
		approved.State, approved.DecidedAt = store.EnrollApproved, at(time.Minute)
		put(t, st, store.Tx.PutEnrollment, expired, live, denied, deniedLate, superseded, approved)
		pending := func(id string) store.Node {
			return store.Node{ID: id, Name: id, Status: "pending", CreatedAt: t0, LastSeen: at(time.Minute)}
		}
		pre := pending("preadded")
		pre.PreAdded = true
		reg := pending("registered")
		reg.Status, reg.RegisteredAt = "registered", at(time.Minute)
		wasReg := pending("was-registered")
		wasReg.RegisteredAt = at(time.Minute)
		seen := pending("seen-late")
		seen.LastSeen = at(50 * time.Minute)
		put(t, st, store.Tx.PutNode, pending("lost"), pending("refused"), pending("kept"), pending("waiting"), pre, reg, wasReg, seen)

		res := change(t, st, func(tx store.Tx) (store.PruneResult, error) {
			return tx.Prune(store.Prune{EnrollmentsBefore: at(30 * time.Minute)})
		})
		if res.Enrollments != 3 || res.Nodes != 2 || res.Events != 0 {
			t.Errorf("Prune: %+v, want 3 enrollments (expired, denied, superseded), 2 nodes (lost, refused)", res)
		}
		for _, id := range []string{"expired", "denied", "superseded"} {
			notFound(t, st, "pruned enrollment "+id, func(tx store.Tx) (store.Enrollment, error) { return tx.Enrollment(id) })
		}
		for _, id := range []string{"live", "denied-late", "approved"} {
			if _, err := get2(t, st, func(tx store.Tx) (store.Enrollment, error) { return tx.Enrollment(id) }); err != nil {
				t.Errorf("enrollment %s: %v, want it kept", id, err)
			}
		}
		for _, id := range []string{"lost", "refused"} {
			notFound(t, st, "pruned node "+id, func(tx store.Tx) (store.Node, error) { return tx.Node(id) })
		}
		for _, id := range []string{"kept", "waiting", "preadded", "registered", "was-registered", "seen-late"} {
			if _, err := get2(t, st, func(tx store.Tx) (store.Node, error) { return tx.Node(id) }); err != nil {
				t.Errorf("node %s: %v, want it kept", id, err)
			}
		}
		if res := change(t, st, func(tx store.Tx) (store.PruneResult, error) { return tx.Prune(store.Prune{}) }); res != (store.PruneResult{}) {
			t.Errorf("an empty Prune deleted %+v", res)
		}
	}},
}

// get2 is get that returns the error instead of failing the test.
func get2[T any](t *testing.T, st store.Store, fn func(store.Tx) (T, error)) (T, error) {
	t.Helper()
	var v T
	err := st.View(t.Context(), func(tx store.Tx) (err error) { v, err = fn(tx); return err })
	return v, err
}
