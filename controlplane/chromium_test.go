package controlplane_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/nodeconsole/nodeconsole/api"
	"github.com/nodeconsole/nodeconsole/controlplane/cptest"
	"github.com/nodeconsole/nodeconsole/testenv"
)

// artifactDir is where screenshots go: $NODECONSOLE_ARTIFACTS if set.
func artifactDir(t *testing.T) string {
	if d := os.Getenv("NODECONSOLE_ARTIFACTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

func findChromium(t *testing.T) string {
	for _, name := range []string{"/usr/bin/chromium", "chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	testenv.SkipOrFail(t, "chromium is not installed (apt-get install chromium)")
	return ""
}

// chromium is a headless Chromium tab on a viewport of w x h pixels; its
// steps fail the test. Screenshots go to artifactDir (logged).
type chromium struct {
	t   *testing.T
	ctx context.Context
}

func newChromium(t *testing.T, w, h int) *chromium {
	t.Helper()
	exe := findChromium(t)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		// The control plane's CA is not in Chromium's trust store.
		chromedp.Flag("ignore-certificate-errors", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(w, h),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	bctx, cancelBrowser := chromedp.NewContext(actx, chromedp.WithErrorf(t.Logf))
	t.Cleanup(cancelBrowser)
	// Start the browser on a context without a deadline (chromedp ties the
	// browser's life to it), then bound the steps so a wedged browser cannot
	// hang the suite. No step's duration is asserted.
	if err := chromedp.Do(bctx, chromedp.EmulateViewport(int64(w), int64(h))); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	ctx, cancel := context.WithTimeout(bctx, 3*time.Minute)
	t.Cleanup(cancel)
	return &chromium{t: t, ctx: ctx}
}

func (c *chromium) step(what string, steps ...chromedp.Action[chromedp.Void]) {
	c.t.Helper()
	if err := chromedp.Do(c.ctx, steps...); err != nil {
		c.t.Fatalf("chromium: %s: %v", what, err)
	}
}

func (c *chromium) text(sel string) string {
	c.t.Helper()
	v, err := chromedp.Run(c.ctx, chromedp.Text(chromedp.ID(sel)))
	if err != nil {
		c.t.Fatalf("chromium: read #%s: %v", sel, err)
	}
	return v
}

// eval runs a JavaScript expression (promises awaited).
func eval[T any](c *chromium, js string) T {
	c.t.Helper()
	v, err := chromedp.Run(c.ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		c.t.Fatalf("chromium: %s: %v", js, err)
	}
	return v
}

// screenshot saves the whole page as name in the artifact directory.
func (c *chromium) screenshot(name string) {
	c.t.Helper()
	shot, err := chromedp.Run(c.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		c.t.Fatalf("screenshot: %v", err)
	}
	path := filepath.Join(artifactDir(c.t), name)
	if err := os.WriteFile(path, shot, 0o644); err != nil {
		c.t.Fatal(err)
	}
	c.t.Logf("screenshot: %s", path)
}

// noHorizontalScroll fails when the page is wider than the viewport.
func (c *chromium) noHorizontalScroll(where string) {
	c.t.Helper()
	if wide := eval[bool](c, `document.documentElement.scrollWidth > window.innerWidth`); wide {
		w := eval[int](c, `document.documentElement.scrollWidth`)
		c.t.Errorf("%s: the page is %d px wide, more than the viewport", where, w)
	}
}

// TestPortalInChromium clicks through Activate Node in headless Chromium
// with the break-glass admin token: log in, Find the node's code, name it,
// License Node, and see it in Nodes, whose table fits 1280 px.
func TestPortalInChromium(t *testing.T) {
	c := newChromium(t, 1280, 800)
	cp := cptest.New(t)
	n := newTestNode(t)
	er := n.enroll(t, cp)
	id := func(s string) chromedp.ID { return chromedp.ID(s) }

	// The verification_uri_complete sends the admin to the login form first.
	c.step("log in",
		chromedp.Navigate(er.VerificationURIComplete),
		chromedp.WaitVisible(id("username")),
		chromedp.SendKeys(id("username"), "admin-token"),
		chromedp.SendKeys(id("password"), cp.AdminToken),
		chromedp.Click(id("login")),
		chromedp.WaitVisible(id("code")),
	)
	// An admin logging in from a crafted /login?next=/%09/evil.example link
	// stays on the portal (Chromium drops the TAB, so "/\t/x" would become
	// "//x"). Log out first (the logout form is on every page).
	c.step("open redirect",
		chromedp.Click(id("logout")),
		chromedp.WaitVisible(id("username")),
		chromedp.Navigate(cp.URL+"/login?next=/%09/evil.example"),
		chromedp.WaitVisible(id("username")),
		chromedp.SendKeys(id("username"), "admin-token"),
		chromedp.SendKeys(id("password"), cp.AdminToken),
		chromedp.Click(id("login")),
		chromedp.WaitVisible(id("nodes")),
	)
	if loc, err := chromedp.Run(c.ctx, chromedp.Location()); err != nil || !strings.HasPrefix(loc, cp.URL+"/") {
		t.Errorf("after logging in from /login?next=/%%09/evil.example the browser is at %q (%v)", loc, err)
	}
	c.step("back to the code", chromedp.Navigate(er.VerificationURIComplete), chromedp.WaitVisible(id("code")))
	codeValue, err := chromedp.Run(c.ctx, chromedp.Value(id("code")))
	if err != nil {
		t.Fatal(err)
	}
	c.step("find", chromedp.Click(id("find")), chromedp.WaitVisible(id("found-node")))
	foundNode := c.text("found-node")
	if got, want := c.text("found-fingerprint"), n.fingerprint(t); got != want {
		t.Errorf("Find showed key fingerprint %q, want %q (what the node's console shows)", got, want)
	}
	c.step("license",
		// Long values: the table must still fit (Delete not clipped).
		chromedp.SendKeys(id("name"), "store-7 Berlin Mitte loading dock"),
		chromedp.SendKeys(id("project"), "retail-central-europe-2026"),
		chromedp.Click(id("license")),
		chromedp.WaitVisible(id("notice")),
	)
	notice := c.text("notice")
	c.step("nodes", chromedp.Navigate(cp.URL+"/nodes"), chromedp.WaitVisible(id("nodes")))
	table := c.text("nodes")
	c.screenshot("portal-nodes.png")
	if codeValue != er.UserCode {
		t.Errorf("code field = %q, want %q from the verification URL", codeValue, er.UserCode)
	}
	if foundNode != n.id {
		t.Errorf("Find showed node %q, want %q", foundNode, n.id)
	}
	if !strings.Contains(notice, "store-7") {
		t.Errorf("notice = %q", notice)
	}
	if !strings.Contains(table, "store-7") || !strings.Contains(table, n.id) || !strings.Contains(table, "Registered") || !strings.Contains(table, "retail") {
		t.Errorf("nodes table = %q", table)
	}
	// The Delete button is inside the 1280 px window, not clipped.
	right := eval[float64](c, `document.querySelector('#nodes button.danger').getBoundingClientRect().right`)
	if vw := eval[float64](c, `document.documentElement.clientWidth`); right > vw {
		t.Errorf("the Delete button ends at %.0f px, past the %.0f px window", right, vw)
	}
	c.noHorizontalScroll("nodes at 1280 px")

	// The node's poll now returns its certificate.
	reg, err := poll(t, cp, er.DeviceCode, 0)
	if err != nil || reg.NodeName != "store-7 Berlin Mitte loading dock" {
		t.Fatalf("poll after portal license = %+v, %v", reg, err)
	}
	if ok, _ := cp.HasEvent(api.EventActivated, n.id); !ok {
		t.Error("no activated event")
	}
}
