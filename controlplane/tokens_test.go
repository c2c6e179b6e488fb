package controlplane_test

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nodeconsole/nodeconsole/api"
	"github.com/nodeconsole/nodeconsole/controlplane"
	"github.com/nodeconsole/nodeconsole/controlplane/cptest"
)

func registerWithToken(t *testing.T, cp *cptest.Server, n *testNode, token string) (api.Registration, error) {
	t.Helper()
	var reg api.Registration
	_, err := call(t, cp.Client(), "POST", cp.URL+api.PathRegister,
		api.RegisterRequest{NodeID: n.id, Make: "Acme", Model: "E1", Version: "1", CSR: n.csr, Tags: map[string]string{"a": "b"}},
		&reg, "Authorization", "Bearer "+token)
	return reg, err
}

// lockedBuffer collects log output from concurrent handlers.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestTokenRegistration(t *testing.T) {
	clock := newFakeClock()
	var logs lockedBuffer
	cp := cptest.NewWith(t, controlplane.Options{Now: clock.Now,
		Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})

	reusable, err := cp.CreateToken("fleet", "retail", "1h", false)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(reusable.Token, "ncrt_") || reusable.ID == "" {
		t.Fatalf("token = %+v", reusable)
	}
	n1, n2 := newTestNode(t), newTestNode(t)
	reg, err := registerWithToken(t, cp, n1, reusable.Token)
	if err != nil {
		t.Fatal(err)
	}
	if reg.Project != "retail" || reg.NodeName != n1.id || reg.Tags["a"] != "b" {
		t.Fatalf("registration = %+v", reg)
	}
	verifyNodeCert(t, cp, reg.Certificate, n1.id)
	if _, err := registerWithToken(t, cp, n2, reusable.Token); err != nil {
		t.Fatalf("reusable token second use: %v", err)
	}
	if ok, _ := cp.HasEvent(api.EventRegistered, n1.id); !ok {
		t.Error("no registered event")
	}

	// Expiry.
	clock.Advance(time.Hour)
	_, err = registerWithToken(t, cp, newTestNode(t), reusable.Token)
	wantCode(t, err, api.CodeInvalidToken)

	// Revoke.
	tok, err := cp.CreateToken("revoke-me", "", "", false)
	if err != nil {
		t.Fatal(err)
	}
	if err := cp.RevokeToken(tok.ID); err != nil {
		t.Fatal(err)
	}
	_, err = registerWithToken(t, cp, newTestNode(t), tok.Token)
	wantCode(t, err, api.CodeInvalidToken)
	wantCode(t, cp.RevokeToken("nope"), api.CodeNotFound)

	// Unknown token, and no token.
	_, err = registerWithToken(t, cp, newTestNode(t), "ncrt_wrong")
	wantCode(t, err, api.CodeInvalidToken)
	_, err = call(t, cp.Client(), "POST", cp.URL+api.PathRegister, api.RegisterRequest{}, nil)
	wantCode(t, err, api.CodeInvalidToken)

	var list api.TokenList
	if err := cp.Admin("GET", api.PathTokens, nil, &list); err != nil {
		t.Fatal(err)
	}
	status := map[string]string{}
	for _, tk := range list.Tokens {
		status[tk.Name] = tk.Status
	}
	if status["fleet"] != "expired" || status["revoke-me"] != "revoked" {
		t.Fatalf("token statuses = %v", status)
	}
	_, err = cp.CreateToken("bad", "", "soon", false)
	wantCode(t, err, api.CodeInvalidRequest)

	// Token values never reach the log, nor does the admin token.
	for _, secret := range []string{reusable.Token, tok.Token, cp.AdminToken} {
		if strings.Contains(logs.String(), secret) {
			t.Fatalf("a secret is in the log")
		}
	}
}

// TestSingleUseTokenRace: many nodes racing on one single-use token; exactly
// one registers.
func TestSingleUseTokenRace(t *testing.T) {
	cp := cptest.New(t)
	tok, err := cp.CreateToken("once", "p", "", true)
	if err != nil {
		t.Fatal(err)
	}
	const racers = 8
	nodes := make([]*testNode, racers)
	for i := range nodes {
		nodes[i] = newTestNode(t)
	}
	errs := make([]error, racers)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, errs[i] = registerWithToken(t, cp, nodes[i], tok.Token)
		}()
	}
	close(start)
	wg.Wait()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
		} else {
			wantCode(t, err, api.CodeInvalidToken)
		}
	}
	if ok != 1 {
		t.Fatalf("%d registrations with a single-use token, want 1", ok)
	}
}

func TestRevokeRacesRegistration(t *testing.T) {
	cp := cptest.New(t)
	for range 5 {
		tok, err := cp.CreateToken("r", "", "", false)
		if err != nil {
			t.Fatal(err)
		}
		n := newTestNode(t)
		var wg sync.WaitGroup
		var regErr, revErr error
		wg.Add(2)
		go func() { defer wg.Done(); _, regErr = registerWithToken(t, cp, n, tok.Token) }()
		go func() { defer wg.Done(); revErr = cp.RevokeToken(tok.ID) }()
		wg.Wait()
		if revErr != nil {
			t.Fatal(revErr)
		}
		if regErr != nil {
			wantCode(t, regErr, api.CodeInvalidToken)
		}
		// Whatever the order, the token is dead now.
		_, err = registerWithToken(t, cp, newTestNode(t), tok.Token)
		wantCode(t, err, api.CodeInvalidToken)
	}
}

// TestSingleUseTokenRepeatSameKey: a node that registered with a
// single-use token and crashed before storing its certificate asks again
// with the same key and gets a new certificate (the old one stops working);
// the token is not charged again, and nobody else can use it: not another
// node, not the same node ID with another key, and not after a revoke.
func TestSingleUseTokenRepeatSameKey(t *testing.T) {
	cp := cptest.New(t)
	tok, err := cp.CreateToken("once", "retail", "1h", true)
	if err != nil {
		t.Fatal(err)
	}
	n := newTestNode(t)
	first, err := registerWithToken(t, cp, n, tok.Token)
	if err != nil {
		t.Fatal(err)
	}
	again, err := registerWithToken(t, cp, n, tok.Token)
	if err != nil {
		t.Fatalf("the same node and key asking again: %v", err)
	}
	verifyNodeCert(t, cp, again.Certificate, n.id)
	if again.Certificate == first.Certificate || again.Project != "retail" {
		t.Errorf("repeat: a new certificate in project retail expected, got project %q, same cert %v",
			again.Project, again.Certificate == first.Certificate)
	}
	_, err = call(t, n.mtlsClient(t, cp, first), "GET", cp.URL+api.PathNodeSelf, nil, nil)
	wantCode(t, err, api.CodeCertificateRevoked)
	if _, err := call(t, n.mtlsClient(t, cp, again), "GET", cp.URL+api.PathNodeSelf, nil, nil); err != nil {
		t.Errorf("the certificate issued again is refused: %v", err)
	}
	node, err := cp.Node(n.id)
	if err != nil || node.Status != api.StatusRegistered {
		t.Fatalf("node after repeat: %+v, %v", node, err)
	}
	var list api.TokenList
	if err := cp.Admin("GET", api.PathTokens, nil, &list); err != nil {
		t.Fatal(err)
	}
	for _, tk := range list.Tokens {
		if tk.ID == tok.ID && tk.Uses != 1 {
			t.Errorf("token uses = %d after a repeat, want 1", tk.Uses)
		}
	}
	_, err = registerWithToken(t, cp, newTestNode(t), tok.Token)
	wantCode(t, err, api.CodeInvalidToken)
	_, err = registerWithToken(t, cp, n.withNewKey(t), tok.Token)
	wantCode(t, err, api.CodeInvalidToken)
	if err := cp.RevokeToken(tok.ID); err != nil {
		t.Fatal(err)
	}
	_, err = registerWithToken(t, cp, n, tok.Token)
	wantCode(t, err, api.CodeInvalidToken)
}
