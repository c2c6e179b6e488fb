package controlplane_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/nodeconsole/nodeconsole/api"
	"github.com/nodeconsole/nodeconsole/controlplane"
	"github.com/nodeconsole/nodeconsole/controlplane/cptest"
	"github.com/nodeconsole/nodeconsole/controlplane/totp"
)

// login fills the portal's login form (the browser is on it).
func (c *chromium) login(user, password string) {
	c.t.Helper()
	c.step("log in as "+user,
		chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SendKeys(chromedp.ID("username"), user),
		chromedp.SendKeys(chromedp.ID("password"), password),
		chromedp.Click(chromedp.ID("login")),
	)
}

// TestChromiumOperatorWithTOTPActivates: an operator logs in with password
// and a TOTP code the test computes, and activates a node.
func TestChromiumOperatorWithTOTPActivates(t *testing.T) {
	c := newChromium(t, 1280, 800)
	cp := cptest.New(t)
	if err := cp.AddUser("olga", "operator", "olga-password-1"); err != nil {
		t.Fatal(err)
	}
	uri, err := cp.Control().Accounts().EnableTOTP(context.Background(), "olga", "nodeconsole")
	if err != nil {
		t.Fatal(err)
	}
	secret := secretParam.FindStringSubmatch(uri)[1]
	n := newTestNode(t)
	er := n.enroll(t, cp)

	c.step("open the verification URL", chromedp.Navigate(er.VerificationURIComplete))
	c.login("olga", "olga-password-1")
	c.step("two-factor page", chromedp.WaitVisible(chromedp.ID("code")))
	code, err := totp.Code(secret, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	c.step("enter the code",
		chromedp.SendKeys(chromedp.ID("code"), code),
		chromedp.Click(chromedp.ID("verify")),
		chromedp.WaitVisible(chromedp.ID("find")),
	)
	c.step("find", chromedp.Click(chromedp.ID("find")), chromedp.WaitVisible(chromedp.ID("found-node")))
	c.step("license",
		chromedp.SendKeys(chromedp.ID("name"), "op-node-1"),
		chromedp.Click(chromedp.ID("license")),
		chromedp.WaitVisible(chromedp.ID("notice")),
	)
	c.screenshot("operator-activated.png")
	if notice := c.text("notice"); !strings.Contains(notice, "op-node-1") {
		t.Errorf("notice = %q", notice)
	}
	if reg, err := poll(t, cp, er.DeviceCode, 0); err != nil || reg.NodeName != "op-node-1" {
		t.Fatalf("poll = %+v, %v", reg, err)
	}
	if ok, _ := hasEventBy(cp, api.EventActivated, "olga"); !ok {
		t.Error("the activated event does not name olga")
	}
}

// TestChromiumSiteUserOnAPhone: a site user on a 390x844 phone opens the
// QR URL, logs in, registers the node at one of their sites without
// horizontal scrolling, and gets a 403 page for /nodes.
func TestChromiumSiteUserOnAPhone(t *testing.T) {
	c := newChromium(t, 390, 844)
	cp := cptest.New(t)
	for _, s := range []string{"Berlin", "Hamburg", "Munich"} {
		if _, err := cptestSite(cp, s); err != nil {
			t.Fatal(err)
		}
	}
	if err := cp.AddUser("sita", "site", "sita-password-1", "Berlin", "Hamburg"); err != nil {
		t.Fatal(err)
	}
	n := newTestNode(t)
	er := n.enroll(t, cp)

	c.step("open the QR URL", chromedp.Navigate(api.RegisterPageURL(cp.URL, n.id, er.UserCode)), chromedp.WaitVisible(chromedp.ID("username")))
	c.noHorizontalScroll("login page at 390 px")
	c.login("sita", "sita-password-1")
	c.step("registration page", chromedp.WaitVisible(chromedp.ID("register")))
	c.noHorizontalScroll("registration page at 390 px")
	options := eval[[]string](c, `[...document.querySelectorAll('#site option')].map(o => o.value)`)
	if strings.Join(options, ",") != "Berlin,Hamburg" {
		t.Errorf("sites offered = %v, want only Berlin and Hamburg", options)
	}
	// The button is in reach: inside the screen's width, at least 44 px high.
	box := eval[map[string]float64](c, `(() => { const r = document.getElementById('register').getBoundingClientRect(); return {left: r.left, right: r.right, height: r.height}; })()`)
	if box["left"] < 0 || box["right"] > 390 || box["height"] < 44 {
		t.Errorf("Register button box = %v", box)
	}
	c.screenshot("site-register-390x844.png")
	c.step("register",
		chromedp.SetValue(chromedp.ID("site"), "Hamburg"),
		chromedp.SetValue(chromedp.ID("name"), "hh-1"),
		chromedp.Click(chromedp.ID("register")),
		chromedp.WaitVisible(chromedp.ID("notice")),
	)
	if notice := c.text("notice"); !strings.Contains(notice, "hh-1") || !strings.Contains(notice, "Hamburg") {
		t.Errorf("notice = %q", notice)
	}
	resp, err := chromedp.RunResponse(c.ctx, chromedp.Navigate(cp.URL+"/nodes"))
	if err != nil {
		t.Fatalf("chromium: open /nodes: %v", err)
	}
	if resp.Status != 403 {
		t.Errorf("/nodes as a site user = %d, want 403", resp.Status)
	}
	c.step("403 page", chromedp.WaitVisible(chromedp.ID("back")))
	c.noHorizontalScroll("403 page at 390 px")
	c.screenshot("site-nodes-403-390x844.png")
	if h1 := eval[string](c, `document.querySelector('h1').textContent`); h1 != "Not allowed" {
		t.Errorf("/nodes as a site user shows %q", h1)
	}
	if reg, err := poll(t, cp, er.DeviceCode, 0); err != nil || reg.Site != "Hamburg" || reg.NodeName != "hh-1" {
		t.Fatalf("poll = %+v, %v", reg, err)
	}
}

// TestChromiumViewerSeesNoActions: a viewer sees nodes without Activate
// or Delete, and a forged POST with the viewer's own CSRF token gets 403.
func TestChromiumViewerSeesNoActions(t *testing.T) {
	c := newChromium(t, 1280, 800)
	cp := cptest.NewWith(t, controlplane.Options{LongPoll: time.Millisecond})
	if err := cp.AddUser("vic", "viewer", "vic-password-1"); err != nil {
		t.Fatal(err)
	}
	n := newTestNode(t)
	er := n.enroll(t, cp)
	c.step("open the portal", chromedp.Navigate(cp.URL+"/"))
	c.login("vic", "vic-password-1")
	c.step("nodes", chromedp.WaitVisible(chromedp.ID("nodes")))
	c.screenshot("viewer-nodes.png")
	if links := eval[int](c, `[...document.querySelectorAll('a')].filter(a => a.textContent.includes('Activate')).length`); links != 0 {
		t.Errorf("the viewer sees %d Activate links", links)
	}
	if buttons := eval[int](c, `document.querySelectorAll('#nodes button').length`); buttons != 0 {
		t.Errorf("the viewer sees %d buttons in the nodes table", buttons)
	}
	// A License form the page does not have, with the viewer's own CSRF
	// token (the content security policy lets forms post to the portal).
	forge := `(() => { const f = document.createElement('form'); f.method = 'post'; f.action = '/activate/license';
		for (const [k, v] of Object.entries({csrf: document.querySelector('input[name=csrf]').value, code: '` + er.UserCode + `', name: 'stolen'})) {
			const i = document.createElement('input'); i.type = 'hidden'; i.name = k; i.value = v; f.appendChild(i); }
		const b = document.createElement('button'); b.id = 'forge'; b.textContent = 'forge'; f.appendChild(b);
		document.body.appendChild(f); return true; })()`
	eval[bool](c, forge)
	resp, err := chromedp.RunResponse(c.ctx, chromedp.Click(chromedp.ID("forge")))
	if err != nil {
		t.Fatalf("chromium: forged POST: %v", err)
	}
	if resp.Status != 403 {
		t.Errorf("forged License as a viewer = %d, want 403", resp.Status)
	}
	if _, err := poll(t, cp, er.DeviceCode, 0); cptest.ErrorCode(err) != api.CodeAuthorizationPending {
		t.Errorf("the node's poll after the forged POST = %v, want still pending", err)
	}
}
