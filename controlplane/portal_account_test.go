package controlplane_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nodeconsole/nodeconsole/controlplane/cptest"
	"github.com/nodeconsole/nodeconsole/controlplane/totp"
)

var newPassword = regexp.MustCompile(`id="new-password">([^<]+)<`)

// TestPortalUsersPage: an admin adds a site user (one-time password shown
// once), disables, enables, resets and deletes users from the portal.
func TestPortalUsersPage(t *testing.T) {
	cp := cptest.New(t)
	if _, err := cptestSite(cp, "S1"); err != nil {
		t.Fatal(err)
	}
	if err := cp.AddUser("ada", "admin", "ada-password-1"); err != nil {
		t.Fatal(err)
	}
	admin := newBrowser(t, cp)
	admin.loginAs("ada", "ada-password-1")
	st, page := admin.post("/users", url.Values{"csrf": {admin.csrf}, "name": {"sid"}, "role": {"site"}, "sites": {"S1"}})
	m := newPassword.FindStringSubmatch(page)
	if st != 200 || m == nil {
		t.Fatalf("add user: %d\n%s", st, page)
	}
	if st, _ := admin.post("/users", url.Values{"csrf": {admin.csrf}, "name": {"x"}, "role": {"site"}}); st != http.StatusBadRequest {
		t.Fatalf("a site user without sites: %d", st)
	}
	sid := newBrowser(t, cp)
	if st, page := sid.submitLogin("sid", m[1], "/"); st != 200 || !strings.Contains(page, `id="again"`) {
		t.Fatalf("first login of sid: %d", st)
	}
	_, page = sid.get("/login/password")
	sid.post("/login/password", url.Values{"csrf": {csrfOf(t, page)}, "password": {"sid-password-1"}, "again": {"sid-password-1"}, "next": {"/account"}})
	if _, page := sid.get("/account"); !strings.Contains(page, `id="account-role">site<`) {
		t.Fatalf("sid's account:\n%s", page)
	}
	act := func(name, action string) (int, string) {
		return admin.post("/users/action", url.Values{"csrf": {admin.csrf}, "name": {name}, "action": {action}})
	}
	if st, _ := act("sid", "disable"); st != 200 {
		t.Fatalf("disable: %d", st)
	}
	if _, page := sid.get("/account"); strings.Contains(page, "account-user") {
		t.Fatal("a disabled user is still logged in")
	}
	act("sid", "enable")
	st, page = act("sid", "reset")
	if m := newPassword.FindStringSubmatch(page); st != 200 || m == nil {
		t.Fatalf("reset: %d", st)
	}
	if st, _ := act("ada", "disable"); st != http.StatusBadRequest {
		t.Fatalf("an admin disabling themselves: %d", st)
	}
	act("sid", "delete")
	if _, page := admin.get("/users"); strings.Contains(page, "<td>sid</td>") {
		t.Fatal("sid is still listed after delete")
	}
}

// TestPortalTOTPEnrolment: a user turns on two-factor login in the portal;
// the next login asks for a code.
func TestPortalTOTPEnrolment(t *testing.T) {
	cp := cptest.New(t)
	if err := cp.AddUser("tom", "viewer", "tom-password-1"); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, cp)
	b.loginAs("tom", "tom-password-1")
	st, page := b.post("/account/totp", url.Values{"csrf": {b.csrf}})
	secret := regexp.MustCompile(`id="totp-secret" class="wrap">([A-Z2-7]{32})<`).FindStringSubmatch(page)
	if st != 200 || secret == nil || !strings.Contains(page, "<svg") {
		t.Fatalf("setup page: %d\n%s", st, page)
	}
	if st, _ := b.post("/account/totp", url.Values{"csrf": {b.csrf}, "secret": {secret[1]}, "code": {"000000"}}); st != http.StatusBadRequest {
		t.Fatalf("wrong first code: %d", st)
	}
	code, _ := totp.Code(secret[1], time.Now())
	st, page = b.post("/account/totp", url.Values{"csrf": {b.csrf}, "secret": {secret[1]}, "code": {code}})
	if st != 200 || !strings.Contains(page, "Two-factor login is on") {
		t.Fatalf("confirm: %d\n%s", st, page)
	}
	if st, page := newBrowser(t, cp).submitLogin("tom", "tom-password-1", "/"); st != 200 || !strings.Contains(page, `id="code"`) {
		t.Fatalf("login after enrolment: %d", st)
	}
}

// TestPortalPersonalTokens: a user creates a personal API token on their
// account page (shown once), uses it with their role, and revokes it;
// nobody else can revoke it.
func TestPortalPersonalTokens(t *testing.T) {
	cp := cptest.New(t)
	for _, u := range []string{"tom", "eve"} {
		if err := cp.AddUser(u, "viewer", u+"-password-1"); err != nil {
			t.Fatal(err)
		}
	}
	b := newBrowser(t, cp)
	b.loginAs("tom", "tom-password-1")
	st, page := b.post("/account/tokens", url.Values{"csrf": {b.csrf}, "label": {"laptop"}, "days": {"30"}})
	tok := regexp.MustCompile(`id="new-token">(ncat_[A-Za-z0-9_-]{43})<`).FindStringSubmatch(page)
	if st != 200 || tok == nil {
		t.Fatalf("create token: %d\n%s", st, page)
	}
	auth := []string{"Authorization", "Bearer " + tok[1]}
	if _, err := call(t, cp.Client(), "GET", cp.URL+"/api/v1/nodes", nil, nil, auth...); err != nil {
		t.Fatalf("viewer token reading nodes: %v", err)
	}
	if _, err := call(t, cp.Client(), "POST", cp.URL+"/api/v1/nodes", map[string]any{"ids": []string{}}, nil, auth...); cptest.ErrorCode(err) != "forbidden" {
		t.Fatalf("viewer token adding nodes: %v", err)
	}
	_, page = b.get("/account")
	id := regexp.MustCompile(`action="/account/tokens/revoke">\s*<input type="hidden" name="csrf" value="[^"]+">\s*<input type="hidden" name="id" value="([^"]+)"`).FindStringSubmatch(page)
	if id == nil || strings.Contains(page, tok[1]) || !strings.Contains(page, "laptop") {
		t.Fatalf("account page after creating a token:\n%s", page)
	}
	eve := newBrowser(t, cp)
	eve.loginAs("eve", "eve-password-1")
	if st, _ := eve.post("/account/tokens/revoke", url.Values{"csrf": {eve.csrf}, "id": {id[1]}}); st != http.StatusNotFound {
		t.Fatalf("another user revoking tom's token: %d, want 404", st)
	}
	b.post("/account/tokens/revoke", url.Values{"csrf": {b.csrf}, "id": {id[1]}})
	if _, err := call(t, cp.Client(), "GET", cp.URL+"/api/v1/nodes", nil, nil, auth...); cptest.ErrorCode(err) != "unauthorized" {
		t.Fatalf("revoked token: %v", err)
	}
}

// TestSiteUserRegistersByCode: without the QR link a site user starts at
// the registration page, enters the code on the node's screen, and
// registers the node at one of their sites.
func TestSiteUserRegistersByCode(t *testing.T) {
	cp := cptest.New(t)
	for _, s := range []string{"Berlin", "Paris"} {
		if _, err := cptestSite(cp, s); err != nil {
			t.Fatal(err)
		}
	}
	if err := cp.AddUser("sita", "site", "sita-password-1", "Berlin"); err != nil {
		t.Fatal(err)
	}
	n := newTestNode(t)
	er := n.enroll(t, cp)
	b := newBrowser(t, cp)
	st, page := b.submitLogin("sita", "sita-password-1", "/")
	if st != 200 || !strings.Contains(page, `<h1>Register node</h1>`) || !strings.Contains(page, `id="code"`) {
		t.Fatalf("a site user's start page: %d\n%s", st, page)
	}
	if st, page := b.get("/register?code=BBBB-BBBB"); st != http.StatusNotFound || !strings.Contains(page, `id="code"`) {
		t.Fatalf("wrong code: %d", st)
	}
	st, page = b.get("/register?code=" + url.QueryEscape(er.UserCode))
	if st != 200 || !strings.Contains(page, n.id) || !strings.Contains(page, `value="Berlin"`) || strings.Contains(page, `value="Paris"`) {
		t.Fatalf("found by code: %d\n%s", st, page)
	}
	st, page = b.post("/register", url.Values{"csrf": {csrfOf(t, page)}, "node": {n.id}, "code": {er.UserCode}, "site": {"Berlin"}, "name": {"b-1"}})
	if st != 200 || !strings.Contains(page, "b-1") {
		t.Fatalf("register: %d\n%s", st, page)
	}
}
