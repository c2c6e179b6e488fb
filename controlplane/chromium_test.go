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

// TestPortalInChromium clicks through Activate Node in headless Chromium:
// log in, Find the node's code, name it, License Node, and see it in Nodes.
func TestPortalInChromium(t *testing.T) {
	exe := findChromium(t)
	cp := cptest.New(t)
	n := newTestNode(t)
	er := n.enroll(t, cp)

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
		chromedp.WindowSize(1280, 800),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx, chromedp.WithErrorf(t.Logf))
	defer cancelBrowser()
	// Start the browser on a context without a deadline (chromedp ties the
	// browser's life to it), then bound the steps so a wedged browser cannot
	// hang the suite. No step's duration is asserted.
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	ctx, cancel := context.WithTimeout(bctx, 3*time.Minute)
	defer cancel()

	id := func(s string) chromedp.ID { return chromedp.ID(s) }
	step := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("chromium: %s: %v", what, err)
		}
	}
	text := func(sel string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Text(id(sel)))
		if err != nil {
			t.Fatalf("chromium: read #%s: %v", sel, err)
		}
		return v
	}

	// The verification_uri_complete sends the admin to the login form first.
	step("log in",
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
	step("open redirect",
		chromedp.Click(id("logout")),
		chromedp.WaitVisible(id("username")),
		chromedp.Navigate(cp.URL+"/login?next=/%09/evil.example"),
		chromedp.WaitVisible(id("username")),
		chromedp.SendKeys(id("username"), "admin-token"),
		chromedp.SendKeys(id("password"), cp.AdminToken),
		chromedp.Click(id("login")),
		chromedp.WaitVisible(id("nodes")),
	)
	if loc, err := chromedp.Run(ctx, chromedp.Location()); err != nil || !strings.HasPrefix(loc, cp.URL+"/") {
		t.Errorf("after logging in from /login?next=/%%09/evil.example the browser is at %q (%v)", loc, err)
	}
	step("back to the code", chromedp.Navigate(er.VerificationURIComplete), chromedp.WaitVisible(id("code")))
	codeValue, err := chromedp.Run(ctx, chromedp.Value(id("code")))
	if err != nil {
		t.Fatal(err)
	}
	step("find", chromedp.Click(id("find")), chromedp.WaitVisible(id("found-node")))
	foundNode := text("found-node")
	step("license",
		chromedp.SendKeys(id("name"), "store-7"),
		chromedp.SendKeys(id("project"), "retail"),
		chromedp.Click(id("license")),
		chromedp.WaitVisible(id("notice")),
	)
	notice := text("notice")
	step("nodes", chromedp.Navigate(cp.URL+"/nodes"), chromedp.WaitVisible(id("nodes")))
	table := text("nodes")
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
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
	path := filepath.Join(artifactDir(t), "portal-nodes.png")
	if err := os.WriteFile(path, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)

	// The node's poll now returns its certificate.
	reg, err := poll(t, cp, er.DeviceCode, 0)
	if err != nil || reg.NodeName != "store-7" {
		t.Fatalf("poll after portal license = %+v, %v", reg, err)
	}
	if ok, _ := cp.HasEvent(api.EventActivated, n.id); !ok {
		t.Error("no activated event")
	}
}
