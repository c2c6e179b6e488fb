package controlplane_test

import (
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nodeconsole/nodeconsole/api"
	"github.com/nodeconsole/nodeconsole/controlplane"
	"github.com/nodeconsole/nodeconsole/controlplane/cptest"
	"github.com/nodeconsole/nodeconsole/controlplane/ratelimit"
)

// clientFrom is a client of cp whose connections come from ip (an address
// of 127.0.0.0/8: every one of them is on the loopback interface).
func clientFrom(cp *cptest.Server, ip string) *http.Client {
	c := cp.Client()
	tr := c.Transport.(*http.Transport)
	tr.DialContext = (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}).DialContext
	return c
}

// enrollWith enrolls n with a pairing key (may be empty) from client c.
func (n *testNode) enrollWith(t testing.TB, cp *cptest.Server, c *http.Client, pairingKey string) (api.EnrollResponse, error) {
	t.Helper()
	req := n.enrollRequest()
	req.PairingKey = pairingKey
	var r api.EnrollResponse
	_, err := call(t, c, "POST", cp.URL+api.PathEnroll, req, &r)
	return r, err
}

func (n *testNode) fingerprint(t testing.TB) string {
	t.Helper()
	fp, err := api.KeyFingerprint(n.key.Public())
	if err != nil {
		t.Fatal(err)
	}
	return fp
}

func addNodes(t testing.TB, cp *cptest.Server, req api.AddNodesRequest) api.NodeList {
	t.Helper()
	var out api.NodeList
	if err := cp.Admin("POST", api.PathNodes, req, &out); err != nil {
		t.Fatalf("add nodes: %v", err)
	}
	return out
}

// An admin pre-adding a node ID, before or after an attacker who read the ID
// off the QR code enrolls, never gives the attacker a certificate: without
// the pairing key the enrollment needs a code like any other.
func TestPreAddedIDIsNotACredential(t *testing.T) {
	cp := cptest.New(t)
	attacker := clientFrom(cp, "127.0.0.9")

	// Admin first, no pairing key.
	real := newTestNode(t)
	addNodes(t, cp, api.AddNodesRequest{IDs: []string{real.id}, Tags: map[string]string{"rack": "7"}, Project: "retail"})
	thief := real.withNewKey(t)
	ter, err := thief.enrollWith(t, cp, attacker, "")
	if err != nil || ter.Status != api.StatusPending {
		t.Fatalf("attacker enroll of a pre-added ID = %+v, %v (want pending)", ter, err)
	}
	if ter.KeyFingerprint != thief.fingerprint(t) {
		t.Errorf("EnrollResponse.KeyFingerprint = %q, want %q", ter.KeyFingerprint, thief.fingerprint(t))
	}
	_, err = poll(t, cp, ter.DeviceCode, 1)
	wantCode(t, err, api.CodeAuthorizationPending)
	// The real node enrolls too: the admin compares fingerprints and
	// licenses the real one, which keeps the admin's project and tags.
	rer := real.enroll(t, cp)
	a, err := cp.FindCode(rer.UserCode)
	if err != nil {
		t.Fatal(err)
	}
	if a.KeyFingerprint != real.fingerprint(t) || len(a.Competing) != 1 || a.Competing[0].KeyFingerprint != thief.fingerprint(t) ||
		a.Competing[0].SourceIP != "127.0.0.9" {
		t.Fatalf("Find = %+v", a)
	}
	// Licensing binds to the key shown: a fingerprint that is not the
	// code's is refused.
	var lr api.LicenseResponse
	err = cp.Admin("POST", api.PathActivations+rer.UserCode, api.LicenseRequest{Name: "n1", KeyFingerprint: thief.fingerprint(t)}, &lr)
	wantCode(t, err, api.CodeConflict)
	if err := cp.Admin("POST", api.PathActivations+rer.UserCode, api.LicenseRequest{Name: "n1", KeyFingerprint: a.KeyFingerprint}, &lr); err != nil {
		t.Fatal(err)
	}
	reg, err := poll(t, cp, rer.DeviceCode, 0)
	if err != nil || reg.Project != "retail" || reg.Tags["rack"] != "7" {
		t.Fatalf("registration = %+v, %v", reg, err)
	}
	_, err = poll(t, cp, ter.DeviceCode, 0)
	wantCode(t, err, api.CodeInvalidGrant)

	// Attacker first, admin pre-adds afterwards: still nothing approved.
	real2 := newTestNode(t)
	thief2 := real2.withNewKey(t)
	ter2, err := thief2.enrollWith(t, cp, attacker, "")
	if err != nil {
		t.Fatal(err)
	}
	addNodes(t, cp, api.AddNodesRequest{IDs: []string{real2.id}})
	_, err = poll(t, cp, ter2.DeviceCode, 1)
	wantCode(t, err, api.CodeAuthorizationPending)
	if n, _ := cp.Node(real2.id); n.Status != api.StatusPending {
		t.Fatalf("node after pre-add = %+v", n)
	}
}

// With a pairing key the real node is approved at once, whichever came
// first; an enrollment without it, or with a wrong one, is not.
func TestPairingKeyApprovesAtOnce(t *testing.T) {
	cp := cptest.New(t)
	attacker := clientFrom(cp, "127.0.0.9")

	// Generated key, admin first.
	real := newTestNode(t)
	out := addNodes(t, cp, api.AddNodesRequest{IDs: []string{real.id}, Tags: map[string]string{"rack": "7"},
		PairingKeys: map[string]string{real.id: api.PairingKeyGenerate}})
	key := out.PairingKeys[real.id]
	if !strings.HasPrefix(key, "ncpk_") || len(key) < api.MinPairingKeyLen || !out.Nodes[0].PairingKey {
		t.Fatalf("AddNodes = %+v", out)
	}
	var list api.NodeList
	if err := cp.Admin("GET", api.PathNodes, nil, &list); err != nil || list.PairingKeys != nil || !list.Nodes[0].PairingKey {
		t.Fatalf("the generated key is shown again, or lost: %+v, %v", list, err)
	}
	thief := real.withNewKey(t)
	ter, err := thief.enrollWith(t, cp, attacker, "")
	if err != nil || ter.Status != api.StatusPending {
		t.Fatalf("attacker without key = %+v, %v", ter, err)
	}
	wrong, err := newTestNode(t).withID(real.id).enrollWith(t, cp, attacker, "ncpk_wrongwrongwrongwrongwrongwrong")
	if err != nil || wrong.Status != api.StatusPending {
		t.Fatalf("attacker with a wrong key = %+v, %v", wrong, err)
	}
	if ok, _ := cp.HasEvent(api.EventPairingKeyRejected, real.id); !ok {
		t.Error("no pairing_key_rejected event")
	}
	rer, err := real.enrollWith(t, cp, cp.Client(), key)
	if err != nil || rer.Status != "approved" {
		t.Fatalf("real node with its key = %+v, %v", rer, err)
	}
	reg, err := poll(t, cp, rer.DeviceCode, 0)
	if err != nil || reg.Tags["rack"] != "7" {
		t.Fatalf("registration = %+v, %v", reg, err)
	}
	verifyNodeCert(t, cp, reg.Certificate, real.id)
	for _, dc := range []string{ter.DeviceCode, wrong.DeviceCode} {
		_, err = poll(t, cp, dc, 0)
		wantCode(t, err, api.CodeInvalidGrant)
	}

	// Attacker first, then the admin adds the ID with a chosen key, then
	// the real node comes with it.
	real2 := newTestNode(t)
	ter2, err := real2.withNewKey(t).enrollWith(t, cp, attacker, "")
	if err != nil {
		t.Fatal(err)
	}
	chosen := "correct-horse-battery-staple"
	out = addNodes(t, cp, api.AddNodesRequest{IDs: []string{real2.id}, PairingKeys: map[string]string{real2.id: chosen}})
	if out.PairingKeys != nil {
		t.Errorf("a chosen key is echoed: %+v", out.PairingKeys)
	}
	_, err = poll(t, cp, ter2.DeviceCode, 1)
	wantCode(t, err, api.CodeAuthorizationPending)
	if rer2, err := real2.enrollWith(t, cp, cp.Client(), chosen); err != nil || rer2.Status != "approved" {
		t.Fatalf("real node with the chosen key = %+v, %v", rer2, err)
	}
	_, err = poll(t, cp, ter2.DeviceCode, 0)
	wantCode(t, err, api.CodeInvalidGrant)

	// Bad pairing keys are refused at Add Edge Hosts.
	for _, k := range []string{"short", "has a space in it!!", "bad\x00control-character"} {
		err := cp.Admin("POST", api.PathNodes, api.AddNodesRequest{IDs: []string{real2.id}, PairingKeys: map[string]string{real2.id: k}}, nil)
		wantCode(t, err, api.CodeInvalidRequest)
	}
	err = cp.Admin("POST", api.PathNodes, api.AddNodesRequest{IDs: []string{real2.id}, PairingKeys: map[string]string{newTestNode(t).id: "generate"}}, nil)
	wantCode(t, err, api.CodeInvalidRequest)
}

// withID is n with another node ID (same key).
func (n *testNode) withID(id string) *testNode {
	m := *n
	m.id = id
	return &m
}

// A second key for a pending node ID competes: the first stays valid, Find
// of either lists the other, licensing one ends the others, and at most 3
// are live at once.
func TestCompetingEnrollments(t *testing.T) {
	cp := cptest.New(t)
	real := newTestNode(t)
	rer := real.enroll(t, cp)
	var others []api.EnrollResponse
	for i := range 2 {
		er, err := real.withNewKey(t).enrollWith(t, cp, clientFrom(cp, "127.0.0.2"), "")
		if err != nil {
			t.Fatalf("competing enrollment %d: %v", i, err)
		}
		others = append(others, er)
	}
	resp, err := real.withNewKey(t).enrollWith(t, cp, clientFrom(cp, "127.0.0.3"), "")
	wantCode(t, err, api.CodeRateLimited)
	_ = resp
	// The real node's enrollment is untouched: resuming gives the same code.
	if again := real.enroll(t, cp); again.UserCode != rer.UserCode {
		t.Fatal("the real node's enrollment was replaced")
	}
	a, err := cp.FindCode(rer.UserCode)
	if err != nil || len(a.Competing) != 2 || a.Competing[0].SourceIP != "127.0.0.2" || a.Competing[0].RequestedAt.IsZero() {
		t.Fatalf("Find of the real code = %+v, %v", a, err)
	}
	b, err := cp.FindCode(others[0].UserCode)
	if err != nil || len(b.Competing) != 2 || b.Competing[0].KeyFingerprint != real.fingerprint(t) {
		t.Fatalf("Find of a competing code = %+v, %v", b, err)
	}
	if _, err := cp.License(rer.UserCode, "real", ""); err != nil {
		t.Fatal(err)
	}
	for _, o := range others {
		_, err := poll(t, cp, o.DeviceCode, 0)
		wantCode(t, err, api.CodeInvalidGrant)
		_, err = cp.FindCode(o.UserCode)
		wantCode(t, err, api.CodeInvalidCode)
	}
	if _, err := poll(t, cp, rer.DeviceCode, 0); err != nil {
		t.Fatal(err)
	}
}

// Anonymous failures (bad tokens, a spent token reused, from the admin's own
// address and from 9 others) never spend the admin's budget.
func TestAnonymousFailuresDoNotLockOutAdmin(t *testing.T) {
	cp := cptest.New(t)
	n := newTestNode(t)
	er := n.enroll(t, cp)
	spent, err := cp.CreateToken("once", "p", "", true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := registerWithToken(t, cp, newTestNode(t), spent.Token); err != nil {
		t.Fatal(err)
	}
	limited := 0
	for i := range 13 {
		c := clientFrom(cp, "127.0.0."+string(rune('1'+i%9))+"0") // 127.0.0.10 ... 127.0.0.90
		if i%9 == 0 {
			c = cp.Client() // the admin's address too
		}
		for range 12 {
			for _, tok := range []string{"ncrt_wrong", spent.Token} {
				var reg api.Registration
				_, err := call(t, c, "POST", cp.URL+api.PathRegister, api.RegisterRequest{NodeID: newTestNode(t).id, CSR: n.csr}, &reg,
					"Authorization", "Bearer "+tok)
				if cptest.ErrorCode(err) == api.CodeRateLimited {
					limited++
				} else if c := cptest.ErrorCode(err); c != api.CodeInvalidToken {
					t.Fatalf("bad token: %v", err)
				}
			}
		}
	}
	if limited == 0 {
		t.Error("no anonymous failure was ever rate limited")
	}
	if _, err := cp.FindCode(er.UserCode); err != nil {
		t.Fatalf("admin Find after anonymous failures: %v", err)
	}
	if _, err := cp.License(er.UserCode, "n", ""); err != nil {
		t.Fatalf("admin License after anonymous failures: %v", err)
	}
}

// Wrong admin bearer tokens are limited per source (429), recorded as
// events (summarised), and never keep the right token out.
func TestFailedAdminTokensLimitedPerSource(t *testing.T) {
	cp := cptest.New(t)
	c := clientFrom(cp, "127.0.0.5")
	var last error
	for range 20 {
		_, last = call(t, c, "GET", cp.URL+api.PathNodes, nil, nil, "Authorization", "Bearer wrong")
		if cptest.ErrorCode(last) == api.CodeRateLimited {
			break
		}
		wantCode(t, last, api.CodeUnauthorized)
	}
	wantCode(t, last, api.CodeRateLimited)
	if _, err := call(t, c, "GET", cp.URL+api.PathNodes, nil, nil, "Authorization", "Bearer "+cp.AdminToken); err != nil {
		t.Fatalf("the admin token from the same source: %v", err)
	}
	evs, err := cp.Events()
	if err != nil {
		t.Fatal(err)
	}
	var failed []api.Event
	for _, e := range evs {
		if e.Type == api.EventAdminAuthFailed {
			failed = append(failed, e)
		}
	}
	if len(failed) != 1 || failed[0].SourceIP != "127.0.0.5" {
		t.Fatalf("admin_auth_failed events = %+v, want one (the rest summarised)", failed)
	}
}

// The admin's failed code lookups are limited per admin credential (RFC
// 8628 §5.1), and a limited admin does not limit the nodes.
func TestLookupLimitPerPrincipal(t *testing.T) {
	limits := ratelimit.Defaults()
	limits.LookupPerPrincipal = ratelimit.Limit{Burst: 3, Every: time.Hour}
	cp := cptest.NewWith(t, controlplane.Options{RateLimits: &limits})
	for range 3 {
		_, err := cp.FindCode("BBBB-BBBB")
		wantCode(t, err, api.CodeInvalidCode)
	}
	_, err := cp.FindCode("BBBB-BBBB")
	wantCode(t, err, api.CodeRateLimited)
	n := newTestNode(t)
	n.enroll(t, cp)
}

// Pending enrollments are capped in all and per source: past a cap, 429
// with Retry-After and one pending_cap_reached event.
func TestPendingCaps(t *testing.T) {
	cp := cptest.NewWith(t, controlplane.Options{MaxPending: 4, MaxPendingPerSource: 2})
	a, b, c := cp.Client(), clientFrom(cp, "127.0.0.2"), clientFrom(cp, "127.0.0.3")
	for _, cl := range []*http.Client{a, a, b, b} {
		if _, err := newTestNode(t).enrollWith(t, cp, cl, ""); err != nil {
			t.Fatal(err)
		}
	}
	for _, cl := range []*http.Client{a, c, c} {
		resp, err := newTestNode(t).enrollWithResp(t, cp, cl)
		wantCode(t, err, api.CodeRateLimited)
		if resp.Header.Get("Retry-After") == "" {
			t.Error("429 without Retry-After")
		}
	}
	evs, _ := cp.Events()
	n := 0
	for _, e := range evs {
		if e.Type == api.EventPendingCapReached {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d pending_cap_reached events, want 1 (at most one a minute)", n)
	}
}

func (n *testNode) enrollWithResp(t testing.TB, cp *cptest.Server, c *http.Client) (*http.Response, error) {
	t.Helper()
	return call(t, c, "POST", cp.URL+api.PathEnroll, n.enrollRequest(), nil)
}

// Past the cap on held long-polls a poll is answered at once.
func TestHeldPollCap(t *testing.T) {
	cp := cptest.NewWith(t, controlplane.Options{MaxHeldPolls: 1, LongPoll: time.Hour})
	first, second := newTestNode(t).enroll(t, cp), newTestNode(t).enroll(t, cp)
	held := make(chan error, 1)
	go func() { _, err := poll(t, cp, first.DeviceCode, 0); held <- err }()
	for cp.Control().Waiting() != 1 {
		time.Sleep(time.Millisecond)
	}
	done := make(chan error, 1)
	go func() { _, err := poll(t, cp, second.DeviceCode, 0); done <- err }()
	select {
	case err := <-done:
		wantCode(t, err, api.CodeAuthorizationPending)
	case <-time.After(time.Minute): // only a failure detector: the fix answers at once
		t.Fatal("a poll past the cap was held")
	}
	if _, err := cp.License(first.UserCode, "n", ""); err != nil {
		t.Fatal(err)
	}
	if err := <-held; err != nil {
		t.Fatal(err)
	}
}

// A node cannot leave its token's project unless the token allows it, and
// tags and fields are bounded on every path.
func TestTokenScopeAndFieldValidation(t *testing.T) {
	cp := cptest.New(t)
	strict, err := cp.CreateToken("strict", "retail", "", false)
	if err != nil {
		t.Fatal(err)
	}
	var open api.CreateTokenResponse
	if err := cp.Admin("POST", api.PathTokens, api.CreateTokenRequest{Name: "open", Project: "retail", AllowProjectOverride: true}, &open); err != nil {
		t.Fatal(err)
	}
	reg := func(tok string, req api.RegisterRequest) error {
		n := newTestNode(t)
		req.NodeID, req.CSR = n.id, n.csr
		_, err := call(t, cp.Client(), "POST", cp.URL+api.PathRegister, req, nil, "Authorization", "Bearer "+tok)
		return err
	}
	wantCode(t, reg(strict.Token, api.RegisterRequest{Project: "finance"}), api.CodeInvalidRequest)
	if err := reg(strict.Token, api.RegisterRequest{Project: "retail"}); err != nil {
		t.Fatal(err)
	}
	if err := reg(open.Token, api.RegisterRequest{Project: "finance"}); err != nil {
		t.Fatal(err)
	}
	many := map[string]string{}
	for i := range 33 {
		many[strings.Repeat("k", i+1)] = "v"
	}
	for _, bad := range []api.RegisterRequest{
		{Tags: many}, {Tags: map[string]string{"bad key": "v"}}, {Tags: map[string]string{strings.Repeat("k", 64): "v"}},
		{Tags: map[string]string{"k": strings.Repeat("v", 256)}}, {Tags: map[string]string{"k": "a\x1b[2Jb"}},
		{Name: "a\tb"}, {Make: "\u202eevil"}, {Model: "x\x00"}, {Version: strings.Repeat("1", 129)},
	} {
		wantCode(t, reg(open.Token, bad), api.CodeInvalidRequest)
	}
	n := newTestNode(t)
	req := n.enrollRequest()
	req.Make = "a\nb"
	_, err = call(t, cp.Client(), "POST", cp.URL+api.PathEnroll, req, nil)
	wantCode(t, err, api.CodeInvalidRequest)
	err = cp.Admin("POST", api.PathNodes, api.AddNodesRequest{IDs: []string{n.id}, Tags: map[string]string{"k": "v\x7f"}}, nil)
	wantCode(t, err, api.CodeInvalidRequest)
	er := n.enroll(t, cp)
	_, err = cp.License(er.UserCode, "bad\x1bname", "")
	wantCode(t, err, api.CodeInvalidRequest)
}

// Retention deletes what was never licensed (with its CSR) and old events;
// pre-added and registered nodes stay.
func TestRetention(t *testing.T) {
	clock := newFakeClock()
	cp := cptest.NewWith(t, controlplane.Options{Now: clock.Now, PendingRetention: time.Hour, EventRetention: 2 * time.Hour, MaxEvents: 1000})
	never, cancelled, added, licensed := newTestNode(t), newTestNode(t), newTestNode(t), newTestNode(t)
	first := never.enroll(t, cp)
	ce := cancelled.enroll(t, cp)
	if _, err := call(t, cp.Client(), "POST", cp.URL+api.PathEnrollCancel, api.CancelRequest{DeviceCode: ce.DeviceCode}, nil); err != nil {
		t.Fatal(err)
	}
	addNodes(t, cp, api.AddNodesRequest{IDs: []string{added.id}})
	le := licensed.enroll(t, cp)
	if _, err := cp.License(le.UserCode, "kept", ""); err != nil {
		t.Fatal(err)
	}
	prune := func() {
		if err := cp.Control().Prune(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	prune()
	if nodes, _ := cp.Nodes(); len(nodes) != 4 {
		t.Fatalf("retention deleted too early: %+v", nodes)
	}
	clock.Advance(15*time.Minute + time.Hour + time.Second) // codes expired an hour ago
	prune()
	nodes, _ := cp.Nodes()
	ids := map[string]bool{}
	for _, n := range nodes {
		ids[n.ID] = true
	}
	if len(nodes) != 2 || !ids[added.id] || !ids[licensed.id] {
		t.Fatalf("after retention: %+v", nodes)
	}
	// The never-licensed enrollment is gone: the same key gets a new code.
	if again := never.enroll(t, cp); again.UserCode == first.UserCode {
		t.Error("an expired enrollment outlived the retention")
	}
	clock.Advance(3 * time.Hour)
	prune()
	if evs, _ := cp.Events(); len(evs) != 0 {
		t.Fatalf("events older than the retention: %+v", evs)
	}
	// The count cap keeps the newest.
	small := cptest.NewWith(t, controlplane.Options{MaxEvents: 3})
	for range 5 {
		newTestNode(t).enroll(t, small)
	}
	if err := small.Control().Prune(t.Context()); err != nil {
		t.Fatal(err)
	}
	if evs, _ := small.Events(); len(evs) != 3 {
		t.Fatalf("%d events kept, want 3", len(evs))
	}
}
