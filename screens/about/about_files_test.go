package about

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/nodeconsole/nodeconsole/nodestatus"
	"github.com/nodeconsole/nodeconsole/tui/ui"
	"github.com/nodeconsole/nodeconsole/tui/uitest"
)

func aboutScreen(p ui.Profile, w, h int, probs ...string) *Model {
	m := New(Deps{Styles: uitest.Styles(p), Facts: Facts{
		ConfigFiles: []FileFact{{Path: "/etc/nodeconsole/config.yaml", Found: false}, {Path: "/etc/nodeconsole/config.d/50-user-data.yaml", Found: true}},
		StateDir:    "/var/lib/nodeconsole", LogFile: "/var/lib/nodeconsole/nodeconsole.log",
		NodeIDSource: "dmi", Terminal: "TERM=vt100", ConfigProblems: probs,
	}, Collect: func(context.Context) nodestatus.Snapshot {
		return nodestatus.Snapshot{NodeID: "edge-0123456789abcdef0123456789abcdef", Version: "1.2.3"}
	}})
	m.Update(tea.WindowSizeMsg{Width: w, Height: h})
	m.Update(m.Init()())
	return m
}

func helpKeys(bs []key.Binding) string {
	var out []string
	for _, b := range bs {
		out = append(out, b.Help().Key)
	}
	return strings.Join(out, " ")
}

// TestAboutConfigFiles: every config file is listed, "(not found)" where
// missing, and the scroll keys are offered only when the page scrolls.
func TestAboutConfigFiles(t *testing.T) {
	m := aboutScreen(uitest.TrueColor, 80, 22)
	v := ansi.Strip(m.View())
	if !strings.Contains(v, "Config files  /etc/nodeconsole/config.yaml (not found)") ||
		!strings.Contains(v, "/etc/nodeconsole/config.d/50-user-data.yaml  ") ||
		strings.Contains(v, "50-user-data.yaml (not found)") {
		t.Errorf("view:\n%s", v)
	}
	if got := helpKeys(m.ShortHelp()); got != "esc" {
		t.Errorf("nothing scrolls, but the footer offers %q", got)
	}
	small := aboutScreen(uitest.TrueColor, 40, 6)
	if got := helpKeys(small.ShortHelp()); !strings.Contains(got, "down") && !strings.Contains(got, "↓") {
		t.Errorf("the page scrolls at 40x6, but the footer offers only %q", got)
	}
}

func TestAboutGolden(t *testing.T) {
	prob := "/etc/nodeconsole/config.yaml:3: site.endpoint: 999.1.2.3 is not a valid IP address"
	for _, sz := range []struct{ w, h int }{{80, 22}, {40, 10}} {
		for _, p := range []struct {
			name string
			p    ui.Profile
		}{{"truecolor", uitest.TrueColor}, {"mono", uitest.MonoASCII}} {
			t.Run(fmt.Sprintf("%s_%dx%d", p.name, sz.w, sz.h), func(t *testing.T) {
				v := aboutScreen(p.p, sz.w, sz.h, prob).View()
				for i, l := range strings.Split(v, "\n") {
					if ansi.StringWidth(l) > sz.w {
						t.Errorf("line %d is %d cells wide", i+1, ansi.StringWidth(l))
					}
				}
				if sz.w == 40 {
					// Values wrap under themselves: "(not found)" was cut off.
					if flat := strings.Join(strings.Fields(ansi.Strip(v)), " "); !strings.Contains(flat, "config.yaml (not found)") {
						t.Errorf("40x10 cuts the config file line:\n%s", ansi.Strip(v))
					}
				}
				golden.RequireEqual(t, uitest.Render(v, p.p.Color))
			})
		}
	}
}

// TestAboutCertificateExpiry: the expiry is shown against the screen's
// clock (Deps.Now), so an expired certificate says what to do.
func TestAboutCertificateExpiry(t *testing.T) {
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	cert := &nodestatus.Certificate{NotAfter: now.Add(-time.Hour), RenewAfter: now.Add(-48 * time.Hour)}
	m := New(Deps{Styles: uitest.Styles(uitest.TrueColor), Now: func() time.Time { return now },
		Collect: func(context.Context) nodestatus.Snapshot {
			return nodestatus.Snapshot{NodeID: "edge-0123456789abcdef0123456789abcdef", Certificate: cert}
		}})
	m.Update(tea.WindowSizeMsg{Width: 100, Height: 30})
	m.Update(m.Init()())
	if v := ansi.Strip(m.View()); !strings.Contains(v, "Certificate   expired on") || !strings.Contains(v, "Register Node") {
		t.Errorf("an expired certificate is not said so:\n%s", v)
	}
}
