package controlplane_test

import (
	"context"
	"crypto/tls"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nodeconsole/nodeconsole/api"
	"github.com/nodeconsole/nodeconsole/controlplane"
	"github.com/nodeconsole/nodeconsole/controlplane/cptest"
	"github.com/nodeconsole/nodeconsole/controlplane/store"
	"github.com/nodeconsole/nodeconsole/controlplane/store/sqlite"
)

// While every poll turn is taken (a wave of re-polls), a License still
// answers the poll it wakes at once, and a new poll waits for a turn.
func TestWokenPollDoesNotWaitForATurn(t *testing.T) {
	cp := cptest.New(t)
	a, b := newTestNode(t), newTestNode(t)
	erA := a.enroll(t, cp)
	connA := rawPoll(t, cp, erA.DeviceCode, 0)
	until(func() bool { now, _ := parked(cp); return now == 1 })

	release := cp.Control().TakePollTurns()
	defer func() {
		if release != nil {
			release()
		}
	}()
	if _, err := cp.License(erA.UserCode, "a", ""); err != nil {
		t.Fatal(err)
	}
	if resp, e := answer(t, connA); resp.StatusCode != http.StatusOK {
		t.Fatalf("the woken poll answered %s %+v, want its certificate", resp.Status, e)
	}

	erB := b.enroll(t, cp)
	connB := rawPoll(t, cp, erB.DeviceCode, 1)
	until(func() bool { return cp.Control().PollTurnWaits() == 1 })
	if now, _ := parked(cp); now != 0 {
		t.Fatalf("a new poll parked without a turn")
	}
	release()
	release = nil
	if resp, e := answer(t, connB); resp.StatusCode != http.StatusBadRequest || e.Code != api.CodeAuthorizationPending {
		t.Fatalf("the new poll answered %s %+v after its turn, want authorization_pending", resp.Status, e)
	}
}

// countingStore counts the enrollment reads by device code (a poll's).
type countingStore struct {
	store.Store
	reads *atomic.Int64
}

type countingTx struct {
	store.Tx
	reads *atomic.Int64
}

func (t countingTx) EnrollmentByDeviceHash(hash string) (store.Enrollment, error) {
	t.reads.Add(1)
	return t.Tx.EnrollmentByDeviceHash(hash)
}

func (s countingStore) View(ctx context.Context, fn func(store.Tx) error) error {
	return s.Store.View(ctx, func(tx store.Tx) error { return fn(countingTx{tx, s.reads}) })
}

func (s countingStore) Update(ctx context.Context, fn func(store.Tx) error) error {
	return s.Store.Update(ctx, func(tx store.Tx) error { return fn(countingTx{tx, s.reads}) })
}

// At the end of the hold a poll answers authorization_pending without
// reading the store (the node's next poll reads it), parked or held on
// HTTP/2; when the code expires first, it reads and answers expired_token.
func TestPollHoldEndReadsNothing(t *testing.T) {
	dir := t.TempDir()
	st, err := sqlite.OpenDir(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	var reads atomic.Int64
	cp := cptest.NewWith(t, controlplane.Options{DataDir: dir, Store: countingStore{st, &reads}, CodeTTL: 3 * time.Second})
	t.Cleanup(func() { st.Close() })

	er := newTestNode(t).enroll(t, cp)
	conn := rawPoll(t, cp, er.DeviceCode, 1)
	until(func() bool { now, _ := parked(cp); return now == 1 })
	before := reads.Load()
	if resp, e := answer(t, conn); resp.StatusCode != http.StatusBadRequest || e.Code != api.CodeAuthorizationPending {
		t.Fatalf("at the hold's end: %s %+v, want authorization_pending", resp.Status, e)
	}
	if n := reads.Load() - before; n != 0 {
		t.Errorf("the hold's end read the enrollment %d times, want none", n)
	}

	// Held on HTTP/2 (its handler waits): the same.
	h2 := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: cp.CertPool()}, ForceAttemptHTTP2: true}}
	er2 := newTestNode(t).enroll(t, cp)
	before = reads.Load()
	resp, err := call(t, h2, "POST", cp.URL+api.PathEnrollPoll, api.PollRequest{DeviceCode: er2.DeviceCode, Wait: 1}, nil)
	wantCode(t, err, api.CodeAuthorizationPending)
	if resp.Proto != "HTTP/2.0" {
		t.Fatalf("held on %s, want HTTP/2.0", resp.Proto)
	}
	if n := reads.Load() - before; n != 2 {
		t.Errorf("a held poll read the enrollment %d times, want 2 (at its start only)", n)
	}

	// The code expires before the hold ends: the answer reads it.
	er3 := newTestNode(t).enroll(t, cp)
	_, total := parked(cp)
	conn = rawPoll(t, cp, er3.DeviceCode, 0)
	if resp, e := answer(t, conn); e.Code != api.CodeExpiredToken {
		t.Fatalf("at the code's expiry: %s %+v, want expired_token", resp.Status, e)
	}
	if _, after := parked(cp); after != total+1 {
		t.Errorf("the poll was not parked until the code expired")
	}
}
