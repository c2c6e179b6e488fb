package controlplane_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/nodeconsole/nodeconsole/api"
	"github.com/nodeconsole/nodeconsole/controlplane/cptest"
)

// browser is a cookie-keeping HTTP client for portal tests without a real
// browser.
type browser struct {
	t    *testing.T
	cp   *cptest.Server
	c    *http.Client
	csrf string // of the session (loginAs)
}

func newBrowser(t *testing.T, cp *cptest.Server) *browser {
	jar, _ := cookiejar.New(nil)
	c := cp.Client()
	c.Jar = jar
	return &browser{t: t, cp: cp, c: c}
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (b *browser) get(path string) (int, string) {
	b.t.Helper()
	resp, err := b.c.Get(b.cp.URL + path)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func (b *browser) post(path string, form url.Values) (int, string) {
	b.t.Helper()
	resp, err := b.c.PostForm(b.cp.URL+path, form)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func csrfOf(t *testing.T, page string) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF field in page:\n%s", page)
	}
	return m[1]
}

func (b *browser) login() string {
	b.t.Helper()
	_, page := b.get("/login")
	st, page := b.post("/login", url.Values{"csrf": {csrfOf(b.t, page)}, "username": {"admin-token"}, "password": {b.cp.AdminToken}, "next": {"/nodes"}})
	if st != 200 || !strings.Contains(page, "<h1>Nodes</h1>") {
		b.t.Fatalf("login: %d\n%s", st, page)
	}
	return csrfOf(b.t, page)
}

func TestPortalLoginAndCSRF(t *testing.T) {
	cp := cptest.New(t)
	b := newBrowser(t, cp)
	// Not logged in: pages redirect to the login form, which keeps the target.
	st, page := b.get("/activate?code=BBBB-BBBB")
	if st != 200 || !strings.Contains(page, `name="password"`) || !strings.Contains(page, `value="/activate?code=BBBB-BBBB"`) {
		t.Fatalf("anonymous /activate: %d\n%s", st, page)
	}
	// A wrong token is refused.
	st, _ = b.post("/login", url.Values{"csrf": {csrfOf(t, page)}, "username": {"admin-token"}, "password": {"wrong"}})
	if st != http.StatusUnauthorized {
		t.Fatalf("wrong token: %d", st)
	}
	// Login without the CSRF token is refused.
	b2 := newBrowser(t, cp)
	if st, _ := b2.post("/login", url.Values{"username": {"admin-token"}, "password": {cp.AdminToken}}); st != http.StatusForbidden {
		t.Fatalf("login without CSRF: %d", st)
	}

	resp, err := b.c.PostForm(cp.URL+"/login", url.Values{"csrf": {csrfOf(t, page)}, "username": {"admin-token"}, "password": {cp.AdminToken}, "next": {"https://evil.example/"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Request.URL.Host != strings.TrimPrefix(cp.URL, "https://") || resp.Request.URL.Path != "/nodes" {
		t.Fatalf("login redirected to %v", resp.Request.URL)
	}
	var sc *http.Cookie
	for r := resp.Request; r.Response != nil; r = r.Response.Request {
		for _, c := range r.Response.Cookies() {
			if c.Name == "nc_session" {
				sc = c
			}
		}
	}
	if sc == nil || !sc.HttpOnly || !sc.Secure || sc.SameSite != http.SameSiteStrictMode {
		t.Fatalf("session cookie = %+v", sc)
	}

	// Every form needs the session's CSRF token.
	// A form without the CSRF token gets a page that says so and links back.
	if st, page := b.post("/tokens", url.Values{"name": {"x"}}); st != http.StatusForbidden ||
		!strings.Contains(page, "The form expired") || !strings.Contains(page, `<a href="/tokens" id="back">`) {
		t.Fatalf("POST without CSRF: %d\n%s", st, page)
	}
	_, page = b.get("/tokens")
	csrf := csrfOf(t, page)
	st, page = b.post("/tokens", url.Values{"csrf": {csrf}, "name": {"portal-token"}, "project": {"p"}, "expiresIn": {"24h"}, "singleUse": {"1"}})
	if st != 200 || !strings.Contains(page, `id="token-value">ncrt_`) {
		t.Fatalf("create token: %d\n%s", st, page)
	}
	// Shown once: the list does not show the value.
	_, page = b.get("/tokens")
	if strings.Contains(page, "ncrt_") || !strings.Contains(page, "portal-token") {
		t.Fatal("token list shows a token value or misses the token")
	}

	// Log out ends the session.
	b.post("/logout", url.Values{"csrf": {csrf}})
	if _, page := b.get("/nodes"); !strings.Contains(page, `name="password"`) {
		t.Fatal("still logged in after logout")
	}
	// A form sent after the session ended answers with a login form that
	// works.
	st, page = b.post("/tokens", url.Values{"csrf": {csrf}, "name": {"late"}})
	if st != http.StatusUnauthorized || !strings.Contains(page, "Your session ended") {
		t.Fatalf("POST after logout: %d\n%s", st, page)
	}
	st, page = b.post("/login", url.Values{"csrf": {csrfOf(t, page)}, "username": {"admin-token"}, "password": {cp.AdminToken}, "next": {"/tokens"}})
	if st != 200 || !strings.Contains(page, "<h1>Registration Tokens</h1>") {
		t.Fatalf("login from the session-ended form: %d\n%s", st, page)
	}
}

func TestPortalQRRegistrationAndHosts(t *testing.T) {
	cp := cptest.New(t)
	b := newBrowser(t, cp)
	csrf := b.login()
	if st, page := b.post("/sites", url.Values{"csrf": {csrf}, "name": {"Berlin"}, "project": {"eu"}}); st != 200 || !strings.Contains(page, "Berlin") {
		t.Fatalf("add site: %d\n%s", st, page)
	}
	n := newTestNode(t)
	er := n.enroll(t, cp)
	qr := api.RegisterPageURL(cp.URL, n.id, er.UserCode)
	u, _ := url.Parse(qr)
	st, page := b.get(u.RequestURI())
	if st != 200 || !strings.Contains(page, n.id) || !strings.Contains(page, "Berlin") {
		t.Fatalf("register page: %d\n%s", st, page)
	}
	// The code must belong to that node.
	other := newTestNode(t)
	if st, _ := b.get("/register?node=" + other.id + "&code=" + er.UserCode); st != http.StatusNotFound {
		t.Fatalf("register page with another node's ID: %d", st)
	}
	st, page = b.post("/register", url.Values{"csrf": {csrf}, "node": {n.id}, "code": {er.UserCode}, "site": {"Berlin"}, "name": {"berlin-1"}})
	if st != 200 || !strings.Contains(page, "berlin-1") {
		t.Fatalf("register: %d\n%s", st, page)
	}
	reg, err := poll(t, cp, er.DeviceCode, 0)
	if err != nil || reg.Site != "Berlin" || reg.Project != "eu" || reg.NodeName != "berlin-1" {
		t.Fatalf("registration = %+v, %v", reg, err)
	}

	// Add Edge Hosts through the form.
	m := newTestNode(t)
	st, page = b.post("/hosts", url.Values{"csrf": {csrf}, "ids": {m.id + "\n"}, "tags": {"rack=9"}})
	if st != 200 || !strings.Contains(page, "Added 1 node ID") {
		t.Fatalf("add hosts: %d\n%s", st, page)
	}
	// With generated pairing keys, shown once on the page.
	k := newTestNode(t)
	st, page = b.post("/hosts", url.Values{"csrf": {csrf}, "ids": {k.id}, "pairing": {"generate"}})
	if st != 200 || !strings.Contains(page, `id="pairing-keys"`) || !strings.Contains(page, "ncpk_") {
		t.Fatalf("add hosts with pairing keys: %d\n%s", st, page)
	}
	if st, _ := b.post("/hosts", url.Values{"csrf": {csrf}, "ids": {"bogus"}}); st != http.StatusBadRequest {
		t.Fatalf("bad host ID: %d", st)
	}
	_, page = b.get("/nodes")
	for _, want := range []string{m.id, "Pending", "pre-added", "berlin-1", "Registered"} {
		if !strings.Contains(page, want) {
			t.Errorf("nodes page lacks %q", want)
		}
	}
	_, page = b.get("/events")
	for _, want := range []string{"Activated", "Node pre-added", "QR registration", "admin-token", "berlin-1"} {
		if !strings.Contains(page, want) {
			t.Errorf("events page lacks %q", want)
		}
	}
}

// next in the log-in flow never leads off the portal's origin, however it
// is encoded: the log-in answer's Location is the path or "/", and a
// logged-in admin sent to /login?next=... stays on the origin at every hop.
func TestLoginNextStaysOnOrigin(t *testing.T) {
	cp := cptest.New(t)
	base, _ := url.Parse(cp.URL)
	onOrigin := func(what, loc string) {
		t.Helper()
		to, err := base.Parse(loc)
		if err != nil || to.Host != base.Host || strings.ContainsAny(loc, "\t\r\n\\") || strings.HasPrefix(loc, "//") {
			t.Errorf("%s: Location %q leaves the origin", what, loc)
		}
	}
	cases := []struct{ next, want string }{
		{"/activate?code=BBBB-BBBB", "/activate?code=BBBB-BBBB"},
		{"/events", "/events"},
		{"/\t/evil.example", "/"},
		{"/\n/evil.example", "/"},
		{"/\r\n/evil.example", "/"},
		{"/\x00/evil.example", "/"},
		{"/%09/evil.example", "/"},
		{"/%0a/evil.example", "/"},
		{"/%2F/evil.example", "/"},
		{"/%2f%2fevil.example", "/"},
		{"/%5Cevil.example", "/"},
		{"//evil.example", "/"},
		{"///evil.example", "/"},
		{"/\\evil.example", "/"},
		{"\\/evil.example", "/"},
		{"https://evil.example/", "/"},
		{"https:/evil.example", "/"},
		{"http:evil.example", "/"},
		{"//user@evil.example", "/"},
		{"javascript:alert(1)", "/"},
		{" /evil.example", "/"},
		{"evil.example", "/"},
		{"", "/"},
	}
	// The log-in form's next (what a crafted /login?next= link puts there).
	for _, tc := range cases {
		b := newBrowser(t, cp)
		b.c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		_, page := b.get("/login")
		resp, err := b.c.PostForm(cp.URL+"/login", url.Values{"csrf": {csrfOf(t, page)}, "username": {"admin-token"},
			"password": {cp.AdminToken}, "next": {tc.next}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc := resp.Header.Get("Location")
		onOrigin(fmt.Sprintf("log in with next %q", tc.next), loc)
		if loc != tc.want {
			t.Errorf("log in with next %q: Location %q, want %q", tc.next, loc, tc.want)
		}
	}
	// Logged in, sent to /login?next=... (raw in the query, the form the
	// issue found, and query-escaped): every hop stays on the origin.
	b := newBrowser(t, cp)
	b.login()
	b.c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		onOrigin("redirect hop", req.URL.String())
		if len(via) > 5 {
			return http.ErrUseLastResponse
		}
		return nil
	}
	for _, tc := range cases {
		for _, raw := range []string{"/login?next=" + tc.next, "/login?next=" + url.QueryEscape(tc.next)} {
			u, err := url.Parse(cp.URL + raw)
			if err != nil {
				continue // not even a request Go would send
			}
			resp, err := b.c.Do(&http.Request{Method: "GET", URL: u, Header: http.Header{}})
			if err != nil {
				continue // refused by the client: nothing was followed
			}
			resp.Body.Close()
			onOrigin(raw, resp.Request.URL.String())
		}
	}
}
