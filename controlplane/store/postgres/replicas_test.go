package postgres_test

import (
	"context"
	"crypto/x509"
	"testing"
	"time"

	"github.com/nodeconsole/nodeconsole/controlplane"
	"github.com/nodeconsole/nodeconsole/controlplane/cptest"
	"github.com/nodeconsole/nodeconsole/regclient"
	"github.com/nodeconsole/nodeconsole/testenv"
)

// longPoll is long enough that a test relying on it instead of a wake-up
// would hang (and fail at the test timeout) rather than pass slowly.
const longPoll = 10 * time.Minute

// replica starts a control plane on the database at dsn with the key
// files in dataDir (shared by every replica).
func replica(t *testing.T, dsn, dataDir string) *cptest.Server {
	t.Helper()
	st := open(t, dsn)
	n, err := st.Notifier(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return cptest.NewWith(t, controlplane.Options{DataDir: dataDir, Store: st, Notifier: n,
		PollInterval: time.Millisecond, LongPoll: longPoll})
}

// node is a registering node with its own state dir, talking to cp.
func node(t *testing.T, cp *cptest.Server, id string) *regclient.Registrar {
	t.Helper()
	store := regclient.Store{Dir: t.TempDir()}
	nodeID, _, err := store.EnsureNodeID(regclient.IDSources{ConfigName: id})
	if err != nil {
		t.Fatal(err)
	}
	return &regclient.Registrar{Client: client(t, cp), Store: store, NodeID: nodeID, Make: "Acme", Model: "EdgeBox",
		Version: "1.0.0", Jitter: func(d time.Duration) time.Duration { return 0 },
		// The test waits on the servers, never on the node's interval.
		Sleep: func(ctx context.Context, d time.Duration) error { return ctx.Err() }}
}

func client(t *testing.T, cp *cptest.Server) *regclient.Client {
	t.Helper()
	c, err := regclient.New(regclient.Options{Endpoint: cp.URL, CAPEMs: [][]byte{cp.CAPEM}, Version: "1.0.0",
		Timeout: 10 * time.Second, LongPoll: longPoll})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// next runs r.Next in a goroutine.
func next(r *regclient.Registrar) <-chan regclient.Outcome {
	ch := make(chan regclient.Outcome, 1)
	go func() {
		out, err := r.Next(context.Background())
		if err != nil {
			out.Err, out.Kind = err, -1
		}
		ch <- out
	}()
	return ch
}

// untilHeld waits until cp holds n polls.
func untilHeld(cp *cptest.Server, n int) {
	for cp.Control().Waiting() != n {
		time.Sleep(time.Millisecond)
	}
}

// Two control planes on one database: a node long-polling on A is
// answered when an admin licenses it on B; when A goes away mid-wait the
// node finishes through B.
func TestReplicas(t *testing.T) {
	dsn, dir := testenv.Postgres(t), t.TempDir()
	a := replica(t, dsn, dir)
	b := replica(t, dsn, dir)
	if string(a.CAPEM) != string(b.CAPEM) {
		t.Fatal("the replicas made different CAs from one data directory")
	}

	r := node(t, a, "node-a")
	p, err := r.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	done := next(r)
	untilHeld(a, 1)
	if _, err := b.License(p.UserCode, "store-1", ""); err != nil {
		t.Fatal(err)
	}
	if out := <-done; out.Kind != regclient.OutcomeRegistered || out.Registration.Name != "store-1" {
		t.Fatalf("the poll held on A answered %+v after License on B", out)
	}
	checkCertificate(t, r, b)

	// A second node waits on A; A goes away; its next poll lands on B.
	r2 := node(t, a, "node-b")
	p2, err := r2.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	done = next(r2)
	untilHeld(a, 1)
	a.Stop()
	if out := <-done; out.Kind == regclient.OutcomeRegistered {
		t.Fatalf("outcome %+v before anyone licensed the node", out)
	}
	r2.Client = client(t, b)
	done = next(r2)
	untilHeld(b, 1)
	if _, err := b.License(p2.UserCode, "store-2", ""); err != nil {
		t.Fatal(err)
	}
	out := <-done
	for out.Kind == regclient.OutcomeWaiting || out.Kind == regclient.OutcomeRetrying {
		out = <-next(r2)
	}
	if out.Kind != regclient.OutcomeRegistered || out.Registration.Name != "store-2" {
		t.Fatalf("outcome through B = %+v", out)
	}
	checkCertificate(t, r2, b)
}

// checkCertificate checks that r holds a certificate for its node ID that
// cp's CA verifies.
func checkCertificate(t *testing.T, r *regclient.Registrar, cp *cptest.Server) {
	t.Helper()
	c, err := r.Store.NodeCertificate()
	if err != nil {
		t.Fatal(err)
	}
	if c.Subject.CommonName != r.NodeID {
		t.Errorf("certificate for %q, want %s", c.Subject.CommonName, r.NodeID)
	}
	if _, err := c.Verify(x509.VerifyOptions{Roots: cp.CertPool(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("the node's certificate does not verify against the CA: %v", err)
	}
}
