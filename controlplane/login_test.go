package controlplane_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nodeconsole/nodeconsole/api"
	"github.com/nodeconsole/nodeconsole/controlplane"
	"github.com/nodeconsole/nodeconsole/controlplane/cptest"
	"github.com/nodeconsole/nodeconsole/controlplane/ratelimit"
	"github.com/nodeconsole/nodeconsole/controlplane/store"
	"github.com/nodeconsole/nodeconsole/controlplane/totp"
)

// noSourceLimit is the default limits without the per-source failure
// budget: these tests send many failures from 127.0.0.1 on purpose (the
// per-source limit has tests of its own).
func noSourceLimit() *ratelimit.Limits {
	l := ratelimit.Defaults()
	l.FailPerIP = ratelimit.Limit{}
	return &l
}

// submitLogin posts the login form; it returns the status and page after
// redirects.
func (b *browser) submitLogin(user, password, next string) (int, string) {
	b.t.Helper()
	_, page := b.get("/login")
	return b.post("/login", url.Values{"csrf": {csrfOf(b.t, page)}, "username": {user}, "password": {password}, "next": {next}})
}

var secretParam = regexp.MustCompile(`secret=([A-Z2-7]+)`)

func TestLoginWithTOTPAndFirstPasswordChange(t *testing.T) {
	clock := newFakeClock()
	cp := cptest.NewWith(t, controlplane.Options{Now: clock.Now})
	acc := cp.Control().Accounts()
	ctx := context.Background()
	if err := cp.AddUser("tina", "operator", "tina-password-1"); err != nil {
		t.Fatal(err)
	}
	uri, err := acc.EnableTOTP(ctx, "tina", "nodeconsole")
	if err != nil {
		t.Fatal(err)
	}
	secret := secretParam.FindStringSubmatch(uri)[1]

	b := newBrowser(t, cp)
	st, page := b.submitLogin("tina", "tina-password-1", "/nodes")
	if st != 200 || !strings.Contains(page, `id="code"`) {
		t.Fatalf("after the password: %d\n%s", st, page)
	}
	// The password alone opens nothing.
	if _, page := b.get("/nodes"); !strings.Contains(page, `id="code"`) || strings.Contains(page, `id="nodes"`) {
		t.Fatalf("/nodes before the code:\n%s", page)
	}
	csrf := csrfOf(t, page)
	if st, page := b.post("/login/totp", url.Values{"csrf": {csrf}, "code": {"000000"}, "next": {"/nodes"}}); st != http.StatusUnauthorized || !strings.Contains(page, "not right") {
		t.Fatalf("wrong code: %d\n%s", st, page)
	}
	code, _ := totp.Code(secret, clock.Now().Add(-30*time.Second)) // the step before: accepted (±1)
	st, page = b.post("/login/totp", url.Values{"csrf": {csrf}, "code": {code}, "next": {"/nodes"}})
	if st != 200 || !strings.Contains(page, "<h1>Nodes</h1>") {
		t.Fatalf("right code: %d\n%s", st, page)
	}
	// A code works once: the same one in a second login is refused.
	b2 := newBrowser(t, cp)
	b2.submitLogin("tina", "tina-password-1", "/nodes")
	_, page = b2.get("/login/totp")
	if st, _ := b2.post("/login/totp", url.Values{"csrf": {csrfOf(t, page)}, "code": {code}}); st != http.StatusUnauthorized {
		t.Fatalf("replayed code: %d", st)
	}
	if ok, _ := hasEventBy(cp, api.EventTOTPFailed, "tina"); !ok {
		t.Error("no totp_failed event by tina")
	}

	// A one-time password must be changed before anything else.
	oneTime, err := acc.AddUser(ctx, "otto", store.RoleViewer, nil, "")
	if err != nil || oneTime == "" {
		t.Fatalf("AddUser without a password = %q, %v", oneTime, err)
	}
	b3 := newBrowser(t, cp)
	st, page = b3.submitLogin("otto", oneTime, "/events")
	if st != 200 || !strings.Contains(page, `id="again"`) {
		t.Fatalf("one-time password login: %d\n%s", st, page)
	}
	if _, page := b3.get("/events"); strings.Contains(page, `id="events"`) || !strings.Contains(page, `id="again"`) {
		t.Fatal("/events opened before the password change")
	}
	csrf = csrfOf(t, page)
	if st, _ := b3.post("/login/password", url.Values{"csrf": {csrf}, "password": {"short"}, "again": {"short"}}); st != http.StatusBadRequest {
		t.Fatalf("short new password: %d", st)
	}
	st, page = b3.post("/login/password", url.Values{"csrf": {csrf}, "password": {"otto-own-password"}, "again": {"otto-own-password"}, "next": {"/events"}})
	if st != 200 || !strings.Contains(page, "<h1>Events</h1>") {
		t.Fatalf("password change: %d\n%s", st, page)
	}
	if st, _ := newBrowser(t, cp).submitLogin("otto", oneTime, "/"); st != http.StatusUnauthorized {
		t.Fatalf("one-time password after the change: %d", st)
	}
	if ok, _ := hasEventBy(cp, api.EventPasswordChanged, "otto"); !ok {
		t.Error("no password_changed event by otto")
	}
}

func hasEventBy(cp *cptest.Server, typ, actor string) (bool, error) {
	evs, err := cp.Events()
	return slices.ContainsFunc(evs, func(e api.Event) bool { return e.Type == typ && e.Actor == actor }), err
}

func TestSessionLimitsAndEnding(t *testing.T) {
	clock := newFakeClock()
	cp := cptest.NewWith(t, controlplane.Options{Now: clock.Now})
	acc := cp.Control().Accounts()
	ctx := context.Background()
	if err := cp.AddUser("sam", "viewer", "sam-password-1"); err != nil {
		t.Fatal(err)
	}
	loggedIn := func(b *browser) bool {
		_, page := b.get("/account")
		return strings.Contains(page, `id="account-user">sam<`)
	}
	// 30 minutes idle ends a session; activity keeps it, up to 12 hours.
	a := newBrowser(t, cp)
	a.loginAs("sam", "sam-password-1")
	clock.Advance(29 * time.Minute)
	if !loggedIn(a) {
		t.Fatal("logged out after 29 idle minutes")
	}
	clock.Advance(31 * time.Minute)
	if loggedIn(a) {
		t.Fatal("still logged in after 31 idle minutes")
	}
	a.loginAs("sam", "sam-password-1")
	for range 11*3 + 2 { // 11 h 40 min, 20 minutes at a time
		clock.Advance(20 * time.Minute)
		if !loggedIn(a) {
			t.Fatal("an active session ended before 12 hours")
		}
	}
	clock.Advance(21 * time.Minute)
	if loggedIn(a) {
		t.Fatal("a session lasted more than 12 hours")
	}

	// A user sees their sessions and ends another one.
	a.loginAs("sam", "sam-password-1")
	b := newBrowser(t, cp)
	b.loginAs("sam", "sam-password-1")
	_, page := a.get("/account")
	ids := regexp.MustCompile(`name="id" value="([0-9a-f]{64})"`).FindAllStringSubmatch(page, -1)
	if len(ids) != 2 || strings.Count(page, "(this one)") != 1 {
		t.Fatalf("sessions list:\n%s", page)
	}
	var other string
	for _, m := range ids {
		if !strings.Contains(page, m[1]+`">`+"\n  <button type=\"submit\" class=\"danger small\">End (this one)") {
			other = m[1]
		}
	}
	a.post("/account/sessions/end", url.Values{"csrf": {csrfOf(t, page)}, "id": {other}})
	if !loggedIn(a) || loggedIn(b) {
		t.Fatalf("after ending the other session: a %v, b %v", loggedIn(a), loggedIn(b))
	}

	// Disabling a user ends their sessions at once (also from another
	// process: the store is what counts).
	b.loginAs("sam", "sam-password-1")
	if err := acc.SetDisabled(ctx, "sam", true); err != nil {
		t.Fatal(err)
	}
	if loggedIn(a) || loggedIn(b) {
		t.Fatal("a disabled user is still logged in")
	}
	if st, page := newBrowser(t, cp).submitLogin("sam", "sam-password-1", "/"); st != http.StatusUnauthorized || !strings.Contains(page, "Wrong user name or password.") {
		t.Fatalf("disabled user login: %d", st)
	}
}

// TestLoginThrottleDoesNotLockOutTheUser: failures against one user name
// from elsewhere throttle that name, but not the browser the user logged in
// with before (device cookie).
func TestLoginThrottleDoesNotLockOutTheUser(t *testing.T) {
	cp := cptest.NewWith(t, controlplane.Options{RateLimits: noSourceLimit()})
	if err := cp.AddUser("uma", "viewer", "uma-password-1"); err != nil {
		t.Fatal(err)
	}
	mine := newBrowser(t, cp)
	mine.loginAs("uma", "uma-password-1")
	mine.post("/logout", url.Values{"csrf": {mine.csrf}})

	attacker := newBrowser(t, cp)
	throttled := false
	for range 30 {
		st, _ := attacker.submitLogin("uma", "guess", "/")
		if st == http.StatusTooManyRequests {
			throttled = true
			break
		}
	}
	if !throttled {
		t.Fatal("30 wrong passwords for one user were never throttled")
	}
	// Even the right password waits, in a browser without the cookie...
	if st, _ := newBrowser(t, cp).submitLogin("uma", "uma-password-1", "/"); st != http.StatusTooManyRequests {
		t.Fatalf("right password from a fresh browser while throttled: %d, want 429", st)
	}
	// ...but the user's own browser logs in.
	mine.loginAs("uma", "uma-password-1")
	// Failures are events per user and source (repeats in a minute are
	// counted in the next one): uma's 30 are one event, another name from
	// the same source gets its own.
	attacker.submitLogin("nobody-here", "guess", "/")
	evs, _ := cp.Events()
	byActor := map[string]int{}
	for _, e := range evs {
		if e.Type == api.EventLoginFailed {
			byActor[e.Actor]++
		}
	}
	if byActor["uma"] != 1 || byActor["unknown user"] != 1 {
		t.Errorf("login_failed events by actor = %v, want one for uma and one for the unknown user", byActor)
	}
}

// TestLoginSameAnswerAndTime: a wrong password, an unknown user and a
// disabled user get the same answer and cost the same order of time (one
// argon2id each), so neither reveals which user names exist. The tolerance
// is a ratio of the fastest of several tries (the least disturbed by other
// load on the machine), not a time limit.
func TestLoginSameAnswerAndTime(t *testing.T) {
	cp := cptest.NewWith(t, controlplane.Options{RateLimits: noSourceLimit()})
	for _, u := range []string{"wendy", "dora"} {
		if err := cp.AddUser(u, "viewer", u+"-password-1"); err != nil {
			t.Fatal(err)
		}
	}
	if err := cp.Control().Accounts().SetDisabled(context.Background(), "dora", true); err != nil {
		t.Fatal(err)
	}
	cases := map[string][2]string{
		"wrong password": {"wendy", "not-her-password"},
		"unknown user":   {"nobody-here", "whatever-password"},
		"disabled user":  {"dora", "dora-password-1"},
	}
	const rounds = 9
	took := map[string][]time.Duration{}
	answers := map[string]string{}
	b := newBrowser(t, cp)
	for i := range rounds {
		for name, c := range cases {
			_, page := b.get("/login")
			form := url.Values{"csrf": {csrfOf(t, page)}, "username": {c[0]}, "password": {c[1]}}
			start := time.Now()
			st, page := b.post("/login", form)
			took[name] = append(took[name], time.Since(start))
			msg := regexp.MustCompile(`id="error">([^<]*)<`).FindStringSubmatch(page)
			if st != http.StatusUnauthorized || msg == nil {
				t.Fatalf("%s: %d\n%s", name, st, page)
			}
			if i == 0 {
				answers[name] = msg[1]
			}
		}
	}
	lo, hi := time.Duration(1<<62), time.Duration(0)
	for name := range cases {
		if answers[name] != answers["wrong password"] {
			t.Errorf("%s answers %q, wrong password %q", name, answers[name], answers["wrong password"])
		}
		m := slices.Min(took[name])
		lo, hi = min(lo, m), max(hi, m)
		t.Logf("%s: fastest %v", name, m)
	}
	// Without the dummy hash an unknown user answers ~100x faster.
	if float64(hi) > 3*float64(lo) {
		t.Errorf("login failures differ in time: fastest from %v to %v (more than 3x)", lo, hi)
	}
}
