package network

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/nodeconsole/nodeconsole/netconfig"
	"github.com/nodeconsole/nodeconsole/tui/ui"
	"github.com/nodeconsole/nodeconsole/tui/uitest"
)

// testSite is a netconfig.Site in a temporary dir, as --demo has it: the
// host name in a file (no command), timesyncd's drop-in, a reload that
// does nothing, the proxy drop-in in config.d.
func testSite(t *testing.T) *netconfig.Site {
	dir := t.TempDir()
	return &netconfig.Site{HostnameFile: filepath.Join(dir, "hostname"),
		NTP:      netconfig.NTPOptions{Client: netconfig.NTPTimesyncd, TimesyncdDropIn: filepath.Join(dir, "timesyncd.conf"), ReloadCommand: []string{"true"}},
		ProxyDir: filepath.Join(dir, "config.d")}
}

// TestSiteSettings: host name, NTP servers and proxy set from the console
// are written where the CLI writes them; the proxy's password, even pasted
// into the URL, is never on screen nor in an audit line.
func TestSiteSettings(t *testing.T) {
	site := testSite(t)
	if err := os.WriteFile(site.HostnameFile, []byte("old-name\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, harnessOpts{site: site, proxy: "http://bob:hunter2@old-proxy.example.com:8080"})
	h.key("s")
	h.until("Site settings", func() bool { return h.m.site.loaded })
	text := h.text()
	for _, want := range []string{"Site settings", "Host name   old-name", "HTTPS proxy http://old-proxy.example.com:8080", "Proxy login ***********"} {
		if !strings.Contains(text, want) {
			t.Errorf("site settings lack %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "hunter2") || strings.Contains(text, "bob") {
		t.Fatalf("the proxy credentials are shown:\n%s", text)
	}
	h.key("ctrl+u")
	h.typeText("node-12")
	h.key("tab")
	h.typeText("ntp1.example.com, 192.0.2.123")
	h.key("tab", "ctrl+u")
	h.d.Send(tea.PasteMsg{Content: "http://alice:s3cret@proxy.example.com:3128"})
	text = h.text()
	if strings.Contains(text, "s3cret") || strings.Contains(text, "alice") {
		t.Fatalf("pasted credentials are shown:\n%s", text)
	}
	if got := h.m.site.inputs[siteLogin].Value(); got != "alice:s3cret" {
		t.Errorf("login field %q: the credentials move there", got)
	}
	h.m.site.setFocus(siteSave)
	h.key("enter")
	h.until("the save", func() bool { return !h.m.site.saving })
	text = h.text()
	for _, want := range []string{"Host name node-12 saved.", "NTP servers ntp1.example.com, 192.0.2.123 written to", "Proxy http://proxy.example.com:3128 (with credentials) saved.", "nothing changed"} {
		if !strings.Contains(strings.Join(strings.Fields(text), " "), want) {
			t.Errorf("after Save, lacks %q:\n%s", want, text)
		}
	}
	if name, _ := site.Hostname(); name != "node-12" {
		t.Errorf("host name file: %q", name)
	}
	if ntp, _ := site.NTPServers(); strings.Join(ntp, ",") != "ntp1.example.com,192.0.2.123" {
		t.Errorf("NTP servers written: %q", ntp)
	}
	path := filepath.Join(site.ProxyDir, netconfig.ProxyDropIn)
	b, err := os.ReadFile(path)
	fi, _ := os.Stat(path)
	if err != nil || !strings.Contains(string(b), "httpsProxy: http://alice:s3cret@proxy.example.com:3128") || fi.Mode().Perm() != 0o600 {
		t.Errorf("proxy drop-in (%v):\n%s", err, b)
	}
	var audits []string
	for _, a := range h.audits() {
		audits = append(audits, fmt.Sprint(a.Action, a.Attrs))
	}
	all := strings.Join(audits, "\n")
	for _, want := range []string{"network hostname", "network ntp", "network proxy"} {
		if !strings.Contains(all, want) {
			t.Errorf("audits lack %q:\n%s", want, all)
		}
	}
	if strings.Contains(all, "s3cret") || strings.Contains(all, "alice") {
		t.Errorf("an audit line has the credentials:\n%s", all)
	}
	if !uitest.Sent[ui.StatusChangedMsg](h.d) {
		t.Error("the home screen is not told (it shows the host name)")
	}
}

// TestSiteSettingsErrors: every problem is said under its field and Save
// is disabled; nothing is written.
func TestSiteSettingsErrors(t *testing.T) {
	site := testSite(t)
	h := newHarness(t, harnessOpts{site: site})
	h.key("s")
	h.until("Site settings", func() bool { return h.m.site.loaded })
	h.typeText("-bad-")
	h.key("tab")
	h.typeText("224.0.0.1")
	h.key("tab")
	h.key("tab")
	h.typeText("alice:pw")
	h.key("tab")
	h.typeText("10.0.0.0/8, a b")
	text := strings.Join(strings.Fields(h.text()), " ")
	for _, want := range []string{"Host name \"-bad-\"", "NTP server 1 224.0.0.1 is not a unicast address.", "A proxy login needs a proxy.",
		"No-proxy entry \" a b\" is not a host", "disabled: fix the problems above"} {
		if !strings.Contains(text, want) {
			t.Errorf("lacks %q:\n%s", want, h.text())
		}
	}
	h.m.site.setFocus(siteSave)
	h.key("enter")
	if h.m.site.saving {
		t.Error("Save must be disabled")
	}
	if _, err := os.Stat(site.HostnameFile); err == nil {
		t.Error("something was written")
	}
	h.key("esc", "y")
	if h.m.phase != phaseList {
		t.Errorf("esc, y: phase %v", h.m.phase)
	}
}
