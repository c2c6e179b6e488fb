package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nodeconsole/nodeconsole/controlplane"
	"github.com/nodeconsole/nodeconsole/controlplane/cptest"
	"github.com/nodeconsole/nodeconsole/controlplane/store/postgres"
	"github.com/nodeconsole/nodeconsole/regclient"
	"github.com/nodeconsole/nodeconsole/testenv"
)

// The PostgreSQL tests share one throwaway cluster.
func TestMain(m *testing.M) { os.Exit(testenv.RunPostgres(m)) }

// TestBinaryReplicas runs two built control planes on one PostgreSQL
// database, sharing the key files of one data directory. A node
// long-polls on A and an admin licenses it on B: the held poll answers
// with the certificate. A second node waits on A, A is killed (SIGKILL)
// mid-wait, and the node finishes through B. The database URL's password
// never reaches the log.
func TestBinaryReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary")
	}
	dsn := testenv.Postgres(t)
	// Trust authentication ignores the password; it is there to be looked
	// for in the output.
	const password = "pw-must-not-leak"
	dsn = strings.Replace(dsn, "postgres://postgres@", "postgres://postgres:"+password+"@", 1)
	dir := t.TempDir()
	bin := buildBinary(t, dir)
	data := filepath.Join(dir, "data")
	a := startBinary(t, bin, data, "127.0.0.1:0", "--db", dsn)
	b := startBinary(t, bin, data, "127.0.0.1:0", "--db", dsn)

	caPEM, roots, admin := dataCredentials(t, data)
	license := func(code, name string) {
		t.Helper()
		var out struct{ NodeID, Name string }
		if st, ec := post(t, httpClient(roots), b.url+"/api/v1/activations/"+code, admin, map[string]string{"name": name}, &out); st != 200 {
			t.Fatalf("License on B: %d %s", st, ec)
		}
	}

	r := binaryNode(t, "node-1", a.url, caPEM)
	p, err := r.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	done := nextAsync(r)
	untilHeldOn(t, a.url, admin, roots)
	license(p.UserCode, "store-1")
	if out := <-done; out.Kind != regclient.OutcomeRegistered || out.Registration.Name != "store-1" {
		t.Fatalf("the poll held on A answered %+v after License on B", out)
	}
	verifyNodeCert(t, r, roots)

	r2 := binaryNode(t, "node-2", a.url, caPEM)
	p2, err := r2.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	done = nextAsync(r2)
	untilHeldOn(t, a.url, admin, roots)
	if err := a.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	a.cmd.Wait()
	if out := <-done; out.Kind == regclient.OutcomeRegistered {
		t.Fatalf("outcome %+v before anyone licensed the node", out)
	}
	r2.Client = nodeClient(t, b.url, caPEM) // the next poll lands on B
	license(p2.UserCode, "store-2")
	out := <-nextAsync(r2)
	for out.Kind == regclient.OutcomeWaiting || out.Kind == regclient.OutcomeRetrying {
		out = <-nextAsync(r2)
	}
	if out.Kind != regclient.OutcomeRegistered || out.Registration.Name != "store-2" {
		t.Fatalf("outcome through B = %+v", out)
	}
	verifyNodeCert(t, r2, roots)

	logs, _ := os.ReadFile(filepath.Join(dir, "log.json"))
	if !strings.Contains(string(logs), `"store":"postgresql"`) || strings.Contains(string(logs), password) {
		t.Errorf("the log does not say the store, or has the database password:\n%s", logs)
	}
}

func httpClient(roots *x509.CertPool) *http.Client {
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
}

// untilHeldOn waits until the control plane at url holds one poll
// (controlplane_held_long_polls in /metrics).
func untilHeldOn(t *testing.T, url, admin string, roots *x509.CertPool) {
	t.Helper()
	c := httpClient(roots)
	for {
		req, _ := http.NewRequest("GET", url+"/metrics", nil)
		req.Header.Set("Authorization", "Bearer "+admin)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(resp.Body)
		held, retries := false, false
		for sc.Scan() {
			held = held || sc.Text() == "controlplane_held_long_polls 1"
			retries = retries || strings.HasPrefix(sc.Text(), "controlplane_store_retries_total ")
		}
		resp.Body.Close()
		if !retries {
			t.Fatal("/metrics on PostgreSQL lacks controlplane_store_retries_total")
		}
		if held {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func nodeClient(t *testing.T, url string, caPEM []byte) *regclient.Client {
	t.Helper()
	c, err := regclient.New(regclient.Options{Endpoint: url, CAPEMs: [][]byte{caPEM}, Version: "1.0.0",
		Timeout: 10 * time.Second, LongPoll: 10 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// binaryNode is a registering node with its own state dir talking to url.
func binaryNode(t *testing.T, name, url string, caPEM []byte) *regclient.Registrar {
	t.Helper()
	store := regclient.Store{Dir: t.TempDir()}
	id, _, err := store.EnsureNodeID(regclient.IDSources{ConfigName: name})
	if err != nil {
		t.Fatal(err)
	}
	return &regclient.Registrar{Client: nodeClient(t, url, caPEM), Store: store, NodeID: id, Make: "Acme",
		Model: "EdgeBox", Version: "1.0.0", Jitter: func(d time.Duration) time.Duration { return 0 },
		Sleep: func(ctx context.Context, d time.Duration) error { return ctx.Err() }}
}

func nextAsync(r *regclient.Registrar) <-chan regclient.Outcome {
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

func verifyNodeCert(t *testing.T, r *regclient.Registrar, roots *x509.CertPool) {
	t.Helper()
	c, err := r.Store.NodeCertificate()
	if err != nil {
		t.Fatal(err)
	}
	if c.Subject.CommonName != r.NodeID {
		t.Errorf("certificate for %q, want %s", c.Subject.CommonName, r.NodeID)
	}
	if _, err := c.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("the node's certificate does not verify against DATA/ca.pem: %v", err)
	}
}

// TestUserCommandsOnPostgres: with --db the user commands work on the
// shared database (a replica serving from it honours the token they make
// at once); backup refuses it.
func TestUserCommandsOnPostgres(t *testing.T) {
	dsn := testenv.Postgres(t)
	st, err := postgres.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	cp := cptest.NewWith(t, controlplane.Options{Store: st})
	if _, err := cli(t, cp.DataDir, "op-password-1\n", "--db", dsn, "user", "add", "olga", "--role", "operator", "--password-stdin"); err != nil {
		t.Fatal(err)
	}
	out, err := cli(t, cp.DataDir, "", "--db", dsn, "user", "token", "olga", "--name", "ci")
	if err != nil {
		t.Fatal(err)
	}
	tok := regexp.MustCompile(`ncat_[A-Za-z0-9_-]{43}`).FindString(out)
	if tok == "" {
		t.Fatalf("user token printed %q", out)
	}
	if got := status(t, cp, "GET", "/api/v1/nodes", tok); got != http.StatusOK {
		t.Errorf("the token made with --db: GET /api/v1/nodes answered %d, want 200", got)
	}
	_, err = cli(t, cp.DataDir, "", "--db", dsn, "backup", "--out", filepath.Join(t.TempDir(), "b.tgz"))
	var ue usageError
	if !errors.As(err, &ue) {
		t.Errorf("backup with --db: %v, want a usage error", err)
	}
}
