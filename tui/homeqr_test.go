package tui

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/nodeconsole/nodeconsole/api"
	"github.com/nodeconsole/nodeconsole/controlplane/cptest"
	"github.com/nodeconsole/nodeconsole/nodestatus"
	"github.com/nodeconsole/nodeconsole/regclient"
	"github.com/nodeconsole/nodeconsole/tui/uitest"
)

// viewTap runs the console and keeps the last frame it drew (plain text),
// so a test can look at the whole screen, not only the renderer's diffs.
type viewTap struct {
	*App
	mu   *sync.Mutex
	last *string
}

func (v viewTap) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	_, cmd := v.App.Update(msg)
	return v, cmd
}

func (v viewTap) View() tea.View {
	s := ansi.Strip(v.App.render())
	v.mu.Lock()
	*v.last = s
	v.mu.Unlock()
	return v.App.View()
}

func (v viewTap) screen() string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return *v.last
}

// qrConsole is the console of an unregistered node whose config has
// site.registrationURL, wired to a real control plane.
func qrConsole(t *testing.T, cp *cptest.Server) (viewTap, regclient.Store, string, string) {
	t.Helper()
	store := regclient.Store{Dir: t.TempDir()}
	id, _, err := store.EnsureNodeID(regclient.IDSources{ConfigName: fmt.Sprintf("%s-%d", t.Name(), time.Now().UnixNano())})
	if err != nil {
		t.Fatal(err)
	}
	regURL := cp.URL + "/register"
	opts := regclient.Options{CAFiles: []string{cp.CAPath}}
	st := uitest.Styles(uitest.TrueColor)
	a := NewConsole(ConsoleDeps{
		Styles: st,
		Collector: nodestatus.Collector{
			NodeID: id, Make: "Acme", Model: "EdgeBox 200", Version: "1.2.3", Endpoint: cp.URL,
			Hostname: func() (string, error) { return "node-lab-01", nil },
			Net:      fakeNet{testNet()}, State: store,
		},
		Refresh: time.Hour,
		Registration: &Registration{
			Store: store, NodeID: id, Version: "1.2.3", Client: opts, RegistrationURL: regURL,
			Endpoint: cp.URL, StateOK: true,
			Choices: []Choice{{Make: "Acme", Model: "EdgeBox 200", Endpoint: cp.URL}},
		},
	})
	last := ""
	return viewTap{App: a, mu: &sync.Mutex{}, last: &last}, store, id, regURL
}

// waitScreen waits until the whole screen satisfies ok.
func waitScreen(t *testing.T, tm *teatest.TestModel, v viewTap, ok func(string) bool) string {
	t.Helper()
	var s string
	teatest.WaitFor(t, tm.Output(), func([]byte) bool { s = v.screen(); return ok(s) },
		teatest.WithDuration(60*time.Second), teatest.WithCheckInterval(2*time.Millisecond))
	return s
}

// qrOnScreen cuts the QR code out of a screen: the rows under "Scan to
// register", from its column to the right edge.
func qrOnScreen(t *testing.T, screen string) []string {
	t.Helper()
	lines := strings.Split(screen, "\n")
	for i, l := range lines {
		col := strings.Index(l, " Scan to register")
		if col < 0 {
			continue
		}
		col = len([]rune(l[:col]))
		var rows []string
		for _, r := range lines[i+1:] {
			cells := []rune(r)
			if len(cells) <= col || strings.Trim(string(cells[col:]), "█▀▄ ") != "" {
				break
			}
			rows = append(rows, strings.TrimRight(string(cells[col:]), " "))
		}
		return rows
	}
	t.Fatalf("no QR code on screen:\n%s", screen)
	return nil
}

// TestHomeQRAgainstControlPlane: an unregistered node with
// site.registrationURL shows the QR code on its home screen without anyone
// opening a menu; it encodes the registration page with the node ID and
// code; an admin licenses the code and the node is registered.
func TestHomeQRAgainstControlPlane(t *testing.T) {
	cp := cptest.New(t)
	v, store, id, regURL := qrConsole(t, cp)
	tm := teatest.NewTestModel(t, v, teatest.WithInitialTermSize(80, 24),
		teatest.WithProgramOptions(tea.WithColorProfile(colorprofile.TrueColor)))
	screen := waitScreen(t, tm, v, func(s string) bool { return strings.Contains(s, "Scan to register") })

	st, err := store.Load()
	if err != nil || st.State != regclient.Pending || st.UserCode == "" {
		t.Fatalf("state while the QR code is shown: %+v, %v", st, err)
	}
	act, err := cp.FindCode(st.UserCode)
	if err != nil || act.NodeID != id || act.Make != "Acme" || act.Model != "EdgeBox 200" {
		t.Fatalf("Find %s: %+v, %v", st.UserCode, act, err)
	}
	// The QR code on screen is that of the registration page with the
	// node ID and code, and the code is readable beside it.
	want := api.RegisterPageURL(regURL, id, st.UserCode)
	// The screen is plain text here: glyphs in the default colours, which
	// is how a light-theme terminal shows dark ink on light paper.
	if got := uitest.DecodeQR(t, qrOnScreen(t, screen), uitest.LightTheme); got != want {
		t.Errorf("the QR code on screen reads %q, want %q", got, want)
	}
	if !strings.Contains(screen, "and enter "+st.UserCode) || !strings.Contains(screen, st.VerificationURI) {
		t.Errorf("the code and the activation URL must be readable beside the QR code:\n%s", screen)
	}
	for _, l := range strings.Split(screen, "\n") {
		if w := ansi.StringWidth(l); w > 80 {
			t.Errorf("line wider than 80 cells (%d): %q", w, l)
		}
	}
	if n := strings.Count(screen, "\n") + 1; n != 24 {
		t.Errorf("screen has %d lines, want 24", n)
	}

	if _, err := cp.License(st.UserCode, "store-9", "retail"); err != nil {
		t.Fatal(err)
	}
	waitScreen(t, tm, v, func(s string) bool {
		return strings.Contains(s, "Registered as store-9 (retail)") && strings.Contains(s, "reboots in")
	})
	st, err = store.Load()
	if err != nil || st.State != regclient.Registered || st.NodeName != "store-9" {
		t.Fatalf("state after License: %+v, %v", st, err)
	}
	crtPEM, _ := os.ReadFile(store.Path(regclient.CertFile))
	blk, _ := pem.Decode(crtPEM)
	if blk == nil {
		t.Fatal("node.crt holds no PEM")
	}
	crt, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := crt.Verify(x509.VerifyOptions{Roots: cp.CertPool(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		t.Errorf("node.crt does not verify against the control plane CA: %v", err)
	}

	tm.Send(tea.KeyPressMsg{Code: tea.KeyEscape}) // reboot later
	waitScreen(t, tm, v, func(s string) bool { return strings.Contains(s, "Reboot later") })
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEscape}) // back home
	screen = waitScreen(t, tm, v, func(s string) bool { return strings.Contains(s, "Status      Registered as store-9") })
	if strings.Contains(screen, "Scan to register") || strings.Contains(screen, "Register    ") {
		t.Errorf("a registered node's home shows no registration panel:\n%s", screen)
	}
	tm.Send(tea.KeyPressMsg{Code: 'q', Text: "q"})
	tm.WaitFinished(t, teatest.WithFinalTimeout(20*time.Second))
}

// TestHomeQRPausesForRegisterNode: Register Node shows the same code as
// the home screen (one enrollment); cancelling it there cancels it on the
// server, and home then shows a new code, never the cancelled one.
func TestHomeQRPausesForRegisterNode(t *testing.T) {
	cp := cptest.New(t)
	v, store, _, _ := qrConsole(t, cp)
	tm := teatest.NewTestModel(t, v, teatest.WithInitialTermSize(80, 24),
		teatest.WithProgramOptions(tea.WithColorProfile(colorprofile.TrueColor)))
	waitScreen(t, tm, v, func(s string) bool { return strings.Contains(s, "Scan to register") })
	st, err := store.Load()
	if err != nil || st.UserCode == "" {
		t.Fatalf("state: %+v, %v", st, err)
	}
	first := st.UserCode

	tm.Send(tea.KeyPressMsg{Code: '1', Text: "1"}) // Register Node
	waitScreen(t, tm, v, func(s string) bool {
		return strings.Contains(s, "Waiting for activation") && strings.Contains(s, first)
	})
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEscape})
	waitScreen(t, tm, v, func(s string) bool { return strings.Contains(s, "Cancel") })
	tm.Send(tea.KeyPressMsg{Code: 'y', Text: "y"})

	screen := waitScreen(t, tm, v, func(s string) bool {
		return strings.Contains(s, "Scan to register") && !strings.Contains(s, first)
	})
	st, err = store.Load()
	if err != nil || st.State != regclient.Pending || st.UserCode == first || !strings.Contains(screen, st.UserCode) {
		t.Fatalf("after cancelling %s on Register Node: state %+v (%v), screen:\n%s", first, st, err, screen)
	}
	if _, err := cp.FindCode(first); err == nil {
		t.Errorf("the cancelled code %s is still open on the control plane", first)
	}
	if _, err := cp.FindCode(st.UserCode); err != nil {
		t.Errorf("the new code %s is unknown to the control plane: %v", st.UserCode, err)
	}
	tm.Send(tea.KeyPressMsg{Code: 'q', Text: "q"})
	tm.WaitFinished(t, teatest.WithFinalTimeout(20*time.Second))
}
