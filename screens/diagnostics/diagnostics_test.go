package diagnostics_test

import (
	"context"
	"crypto/x509"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/nodeconsole/nodeconsole/netconfig"
	"github.com/nodeconsole/nodeconsole/screens/diagnostics"
	"github.com/nodeconsole/nodeconsole/tui/ui"
	"github.com/nodeconsole/nodeconsole/tui/uitest"
)

// drive delivers msg and runs the returned commands to completion (none of
// this screen's commands wait on a timer).
func drive(s ui.Screen, msg tea.Msg) ui.Screen {
	s, cmd := s.Update(msg)
	return runAll(s, cmd)
}

func runAll(s ui.Screen, cmd tea.Cmd) ui.Screen {
	if cmd == nil {
		return s
	}
	switch msg := cmd().(type) {
	case tea.BatchMsg:
		for _, c := range msg {
			s = runAll(s, c)
		}
		return s
	case ui.AuditMsg, ui.ErrorMsg, nil:
		return s
	default:
		return drive(s, msg)
	}
}

func text(s ui.Screen) string { return ansi.Strip(s.View()) }

func newScreen(t *testing.T, sim *netconfig.Simulated, roots *x509.CertPool, endpoint string) ui.Screen {
	t.Helper()
	p := &netconfig.Prober{Reader: sim, Neighbors: sim, Dial: sim.Dial, RootCAs: roots}
	var s ui.Screen = diagnostics.New(diagnostics.Deps{Styles: uitest.Styles(uitest.TrueColor), Prober: p, Endpoint: endpoint})
	s = drive(s, tea.WindowSizeMsg{Width: 80, Height: 22})
	return runAll(s, s.Init())
}

func TestLayers(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are the point
	srv.StartTLS()
	defer srv.Close()
	trusted := x509.NewCertPool()
	trusted.AddCert(srv.Certificate())

	tests := []struct {
		name     string
		prep     func(sim *netconfig.Simulated)
		roots    *x509.CertPool
		endpoint string
		want     []string
	}{
		{"all OK", nil, trusted, srv.URL, []string{
			"Layered checks on eth0", "✓ OK   carrier  eth0 is up with a carrier", "✓ OK   address  192.0.2.10/24 is on eth0",
			"✓ OK   gateway  192.0.2.1 answers ARP", "✓ OK   dns      DNS server 192.0.2.53 answers", "✓ OK   tcp      connected",
			"✓ OK   tls      TLS with", `(issuer "O=Acme Co")`, "✓ OK   clock    local clock within"}},
		{"untrusted certificate names the issuer", nil, x509.NewCertPool(), srv.URL, []string{
			"✗ FAIL tls      certificate from", `issuer "O=Acme Co"`, "may intercept TLS"}},
		{"cable unplugged", func(s *netconfig.Simulated) { s.SetCarrier("eth0", false) }, trusted, "", []string{
			"✗ FAIL carrier  eth0 has no carrier", "Check the cable and the switch port.", "No control-plane endpoint is configured"}},
		{"no default route", func(s *netconfig.Simulated) {
			s.ReplaceDefaultRoute(context.Background(), "eth0", netip.Addr{}, false)
		}, trusted, "", []string{"✗ FAIL gateway  no default route", "Set a gateway in Network settings."}},
		{"endpoint refused", nil, trusted, "https://198.51.100.7:8443", []string{
			"✗ FAIL tcp      cannot connect to 198.51.100.7:8443", "No answer: a firewall drops it"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sim := netconfig.NewSimulated()
			if tt.prep != nil {
				tt.prep(sim)
			}
			s := newScreen(t, sim, tt.roots, tt.endpoint)
			got := text(s)
			flat := strings.Join(strings.Fields(got), " ") // wrapped details
			for _, w := range tt.want {
				if !strings.Contains(got, w) && !strings.Contains(flat, strings.Join(strings.Fields(w), " ")) {
					t.Errorf("lacks %q:\n%s", w, got)
				}
			}
			for i, l := range strings.Split(s.View(), "\n") {
				if n := ansi.StringWidth(l); n > 80 {
					t.Errorf("line %d is %d cells wide", i+1, n)
				}
			}
		})
	}
}

func TestProbeHost(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	s := newScreen(t, netconfig.NewSimulated(), nil, "")
	key := func(k tea.KeyPressMsg) { s = drive(s, k) }
	key(tea.KeyPressMsg{Code: tea.KeyTab})
	if c, ok := s.(ui.InputCapturer); !ok || !c.CapturesInput() {
		t.Fatal("the host field must capture input while focused")
	}
	probe := func(in string) string {
		key(tea.KeyPressMsg{Code: 'u', Mod: tea.ModCtrl})
		for _, r := range in {
			key(tea.KeyPressMsg{Code: r, Text: string(r)})
		}
		key(tea.KeyPressMsg{Code: tea.KeyEnter})
		return text(s)
	}
	host := strings.TrimPrefix(srv.URL, "http://")
	if got := probe(host); !strings.Contains(got, "✓ OK   tcp      connected to "+host) || strings.Contains(got, "arp") {
		t.Errorf("probe %s:\n%s", host, got)
	}
	got := probe("192.0.2.1")
	for _, w := range []string{"✓ OK   arp      192.0.2.1 answers ARP on eth0 (52:54:00:00:00:01)", "✗ FAIL tcp      cannot connect to 192.0.2.1:443"} {
		if !strings.Contains(got, w) {
			t.Errorf("probe 192.0.2.1 lacks %q:\n%s", w, got)
		}
	}
	if got := probe("192.0.2.77"); !strings.Contains(got, "✗ FAIL arp      192.0.2.77 does not answer ARP") {
		t.Errorf("probe 192.0.2.77:\n%s", got)
	}
	if got := probe("cp.example.com"); !strings.Contains(got, "✗ FAIL dns      cannot resolve cp.example.com") {
		t.Errorf("probe a name:\n%s", got)
	}
	// q and ? belong to the field; esc leaves it, then esc leaves the screen.
	key(tea.KeyPressMsg{Code: 'q', Text: "q"})
	key(tea.KeyPressMsg{Code: tea.KeyEscape})
	if c := s.(ui.InputCapturer); c.CapturesInput() {
		t.Error("esc must leave the field")
	}
	_, cmd := s.Update(tea.KeyPressMsg{Code: tea.KeyEscape})
	if cmd == nil {
		t.Fatal("esc must go back")
	}
	if _, ok := cmd().(ui.BackMsg); !ok {
		t.Error("esc must go back")
	}
}

func TestSmallSizesNeverPanic(t *testing.T) {
	s := newScreen(t, netconfig.NewSimulated(), nil, "https://198.51.100.7")
	for w := 0; w <= 82; w += 9 {
		for h := 0; h <= 24; h += 4 {
			s = drive(s, tea.WindowSizeMsg{Width: w, Height: h})
			lines := strings.Split(s.View(), "\n")
			if w > 0 && h > 0 && len(lines) > h {
				t.Errorf("%dx%d: %d lines", w, h, len(lines))
			}
		}
	}
}

// TestGolden: Test network with an IP endpoint nothing listens on (the dns
// check asks the configured server; tcp fails with its hint), at 80x24 and
// 40x12 terminals, in colour and mono.
func TestGolden(t *testing.T) {
	for _, sz := range []struct{ w, h int }{{80, 22}, {40, 10}} {
		for _, p := range []struct {
			name string
			p    ui.Profile
		}{{"truecolor", uitest.TrueColor}, {"mono", uitest.MonoASCII}} {
			t.Run(fmt.Sprintf("%s_%dx%d", p.name, sz.w, sz.h), func(t *testing.T) {
				sim := netconfig.NewSimulated()
				pr := &netconfig.Prober{Reader: sim, Neighbors: sim, Dial: sim.Dial}
				var s ui.Screen = diagnostics.New(diagnostics.Deps{Styles: uitest.Styles(p.p), Prober: pr, Endpoint: "https://198.51.100.7:8443"})
				s = drive(s, tea.WindowSizeMsg{Width: sz.w, Height: sz.h})
				s = runAll(s, s.Init())
				v := s.View()
				for i, l := range strings.Split(v, "\n") {
					if ansi.StringWidth(l) > sz.w {
						t.Errorf("line %d is %d cells wide", i+1, ansi.StringWidth(l))
					}
				}
				if sz.w == 40 {
					// Nothing scrolls off: every check, and the first
					// failure's hint whole (passed checks fold into one row).
					flat := strings.Join(strings.Fields(ansi.Strip(v)), " ")
					for _, want := range []string{"OK carrier, address, gateway, dns", "FAIL tcp cannot connect to",
						"No answer: a firewall drops it, or the route is wrong.", "FAIL tls Fix the TCP check first.",
						"FAIL clock Fix the TCP and TLS checks first."} {
						if !strings.Contains(flat, want) {
							t.Errorf("40x10 lacks %q:\n%s", want, ansi.Strip(v))
						}
					}
				}
				golden.RequireEqual(t, uitest.Render(v, p.p.Color))
			})
		}
	}
}

// TestProbeHostSmall: at 40x12 (a 40x10 body) a failed probe is read
// whole: why it failed and the hint, the checks above giving way. The
// probe's hint and most of its detail were cut off below the field, with
// no way to scroll to them.
func TestProbeHostSmall(t *testing.T) {
	s := newScreen(t, netconfig.NewSimulated(), nil, "https://198.51.100.7")
	s = drive(s, tea.WindowSizeMsg{Width: 40, Height: 10})
	s = drive(s, tea.KeyPressMsg{Code: tea.KeyTab})
	for _, r := range "203.0.113.10" {
		s = drive(s, tea.KeyPressMsg{Code: r, Text: string(r)})
	}
	s = drive(s, tea.KeyPressMsg{Code: tea.KeyEnter})
	got := text(s)
	flat := strings.Join(strings.Fields(got), " ")
	for _, w := range []string{"FAIL tcp", "cannot connect to 203.0.113.10:443: no answer in time", "No answer: a firewall drops it, or the route is wrong."} {
		if !strings.Contains(flat, w) {
			t.Errorf("the probe's result lacks %q:\n%s", w, got)
		}
	}
	if n := strings.Count(s.View(), "\n") + 1; n > 10 {
		t.Errorf("%d lines in a 10-line body:\n%s", n, got)
	}
}
