package controlplane_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/nodeconsole/nodeconsole/api"
	"github.com/nodeconsole/nodeconsole/controlplane"
	"github.com/nodeconsole/nodeconsole/controlplane/access"
	"github.com/nodeconsole/nodeconsole/controlplane/cptest"
	"github.com/nodeconsole/nodeconsole/controlplane/ratelimit"
)

// Who may call what. Every route the server registers must appear here:
// the test fails for a route without a rule on the server, and for a
// route this table does not know (so a new endpoint needs a decision).
var (
	anyone   = "public"
	readers  = "admin operator viewer"
	register = "admin operator site"
	self     = "admin operator site viewer"
	ops      = "admin operator"
	admins   = "admin"
)

var routeAccess = map[string]string{
	// Node API and other routes that need no credential.
	"POST " + api.PathEnroll: anyone, "POST " + api.PathEnrollPoll: anyone, "POST " + api.PathEnrollCancel: anyone,
	"POST " + api.PathRegister: anyone, "GET " + api.PathNodeSelf: anyone, "POST " + api.PathNodeDeregister: anyone,
	"GET " + api.PathTime: anyone, "GET " + api.PathUpdate: anyone, "GET /updates/{file}": anyone,
	"GET " + api.PathCA: anyone, "GET " + api.PathCACRL: anyone, "POST " + api.PathNodeRenew: anyone, "GET /.well-known/oauth-authorization-server": anyone,
	"/api/": anyone, "GET /static/": anyone, "GET /{$}": anyone, "GET /login": anyone, "POST /login": anyone,
	"GET /login/totp": anyone, "POST /login/totp": anyone, "GET /login/password": anyone,
	"POST /login/password": anyone, "POST /logout": anyone,
	"GET /healthz": anyone, "GET /readyz": anyone, "GET /metrics": admins,
	// Admin API.
	"GET " + api.PatternActivation: ops, "POST " + api.PatternActivation: ops, "POST " + api.PatternActivationDeny: ops,
	"POST " + api.PathTokens: admins, "GET " + api.PathTokens: admins, "DELETE " + api.PatternToken: admins,
	"POST " + api.PathNodes: ops, "GET " + api.PathNodes: readers, "GET " + api.PatternNode: readers,
	"DELETE " + api.PatternNode: ops, "GET " + api.PathEvents: readers, "GET " + api.PathSites: readers,
	"POST " + api.PathSites: admins, "DELETE " + api.PatternSite: admins,
	// Portal.
	"GET /account": self, "POST /account/password": self, "POST /account/sessions/end": self,
	"POST /account/totp": self, "POST /account/tokens": self, "POST /account/tokens/revoke": self, "GET /users": admins, "POST /users": admins, "POST /users/action": admins,
	"GET /nodes": readers, "POST /nodes/delete": ops, "GET /activate": ops, "POST /activate": ops,
	"POST /activate/license": ops, "POST /activate/deny": ops, "GET /tokens": admins, "POST /tokens": admins,
	"POST /tokens/revoke": admins, "GET /hosts": ops, "POST /hosts": ops, "GET /sites": readers,
	"POST /sites": admins, "POST /sites/delete": admins, "GET /register": register, "POST /register": register,
	"GET /events": readers,
}

// concrete fills a pattern's wildcards.
func concrete(pattern string) (method, path string) {
	method, path, ok := strings.Cut(pattern, " ")
	if !ok {
		method, path = "GET", pattern
	}
	r := strings.NewReplacer("{code}", "BBBB-BBBB", "{id}", "no-such-id", "{file}", "x", "{$}", "")
	return method, r.Replace(path)
}

// TestRoleTable calls every admin API route and every portal page as every
// role, with no credential, as a disabled user and with an expired personal
// token: each is allowed, or 401/403 as the table says.
func TestRoleTable(t *testing.T) {
	// Wrong credentials are limited per source (429 past the limit); this
	// test sends many from one address on purpose.
	limits := ratelimit.Defaults()
	limits.FailPerIP = ratelimit.Limit{}
	cp := cptest.NewWith(t, controlplane.Options{RateLimits: &limits})
	ctx := context.Background()
	acc := cp.Control().Accounts()
	if _, err := cptestSite(cp, "S1"); err != nil {
		t.Fatal(err)
	}
	const pw = "role-table-password"
	roles := []string{"admin", "operator", "site", "viewer"}
	tokens := map[string]string{}
	portal := map[string]*browser{}
	for _, role := range roles {
		var sites []string
		if role == "site" {
			sites = []string{"S1"}
		}
		if err := cp.AddUser(role+"1", role, pw, sites...); err != nil {
			t.Fatal(err)
		}
		_, tok, err := acc.CreateAPIToken(ctx, role+"1", "table", 0)
		if err != nil {
			t.Fatal(err)
		}
		tokens[role] = tok
		b := newBrowser(t, cp)
		b.loginAs(role+"1", pw)
		portal[role] = b
	}
	if err := cp.AddUser("gone", "admin", pw); err != nil {
		t.Fatal(err)
	}
	_, goneTok, _ := acc.CreateAPIToken(ctx, "gone", "x", 0)
	gone := newBrowser(t, cp)
	gone.loginAs("gone", pw)
	if err := acc.SetDisabled(ctx, "gone", true); err != nil {
		t.Fatal(err)
	}
	_, expiredTok, _ := acc.CreateAPIToken(ctx, "admin1", "short", time.Nanosecond)

	routes := cp.Control().Routes()
	seen := map[string]bool{}
	for _, rt := range routes {
		seen[rt.Pattern] = true
		want, known := routeAccess[rt.Pattern]
		if rt.Perm == "" {
			t.Errorf("route %q is registered without a permission rule", rt.Pattern)
			continue
		}
		if !known {
			t.Errorf("route %q (%s) is not in the role table of this test: decide who may call it", rt.Pattern, rt.Perm)
			continue
		}
		if (want == anyone) != (rt.Perm == access.PermPublic) {
			t.Errorf("route %q: server rule %s, table says %q", rt.Pattern, rt.Perm, want)
			continue
		}
		if want == anyone {
			continue
		}
		method, path := concrete(rt.Pattern)
		if strings.HasPrefix(path, "/api/") || path == "/metrics" { // bearer credentials
			apiStatus := func(tok string) (int, string) {
				req, _ := http.NewRequest(method, cp.URL+path, strings.NewReader("{}"))
				if tok != "" {
					req.Header.Set("Authorization", "Bearer "+tok)
				}
				resp, err := cp.Client().Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				var e api.Error
				body, _ := io.ReadAll(resp.Body)
				json.Unmarshal(body, &e)
				return resp.StatusCode, string(e.Code)
			}
			for name, tok := range map[string]string{"no credential": "", "disabled user": goneTok, "expired token": expiredTok, "bad token": "ncat_nope"} {
				if st, _ := apiStatus(tok); st != http.StatusUnauthorized {
					t.Errorf("%s %s with %s = %d, want 401", method, path, name, st)
				}
			}
			for _, role := range roles {
				st, code := apiStatus(tokens[role])
				allowed := strings.Contains(want, role)
				if allowed && (st == 401 || st == 403) {
					t.Errorf("%s %s as %s = %d, want allowed", method, path, role, st)
				}
				if !allowed && (st != 403 || code != "forbidden") {
					t.Errorf("%s %s as %s = %d %q, want 403 forbidden", method, path, role, st, code)
				}
			}
			if st, _ := apiStatus(cp.AdminToken); st == 401 || st == 403 {
				t.Errorf("%s %s with the admin token = %d", method, path, st)
			}
			continue
		}
		// Portal: GET as is, POST with the session's CSRF token.
		for _, role := range roles {
			st := portal[role].do(method, path)
			allowed := strings.Contains(want, role)
			if allowed && (st == 401 || st == 403) {
				t.Errorf("portal %s %s as %s = %d, want allowed", method, path, role, st)
			}
			if !allowed && st != 403 {
				t.Errorf("portal %s %s as %s = %d, want 403", method, path, role, st)
			}
		}
		if st := gone.do(method, path); st != 401 && st != 303 {
			t.Errorf("portal %s %s as a disabled user = %d, want 401 or a redirect to log in", method, path, st)
		}
	}
	for p := range routeAccess {
		if !seen[p] {
			t.Errorf("the table names %q, which the server does not register", p)
		}
	}
}

func cptestSite(cp *cptest.Server, name string) (api.Site, error) {
	var s api.Site
	err := cp.Admin(http.MethodPost, api.PathSites, api.CreateSiteRequest{Name: name}, &s)
	return s, err
}

// loginAs logs in with a user name and password (no TOTP, no password
// change pending).
func (b *browser) loginAs(user, password string) {
	b.t.Helper()
	_, page := b.get("/login")
	st, page := b.post("/login", url.Values{"csrf": {csrfOf(b.t, page)}, "username": {user}, "password": {password}, "next": {"/account"}})
	if st != 200 || !strings.Contains(page, `id="account-user">`+user+`<`) {
		b.t.Fatalf("login as %s: %d\n%s", user, st, page)
	}
	b.csrf = csrfOf(b.t, page)
}

// do is one portal request without following redirects; POSTs carry the
// session's CSRF token.
func (b *browser) do(method, path string) int {
	b.t.Helper()
	var body io.Reader
	if method == http.MethodPost {
		body = strings.NewReader(url.Values{"csrf": {b.csrf}}.Encode())
	}
	req, _ := http.NewRequest(method, b.cp.URL+path, body)
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	c := *b.c
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
