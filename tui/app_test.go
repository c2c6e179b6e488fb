package tui

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/nodeconsole/nodeconsole/netconfig"
	"github.com/nodeconsole/nodeconsole/nodestatus"
	"github.com/nodeconsole/nodeconsole/regclient"
	"github.com/nodeconsole/nodeconsole/screens/about"
	"github.com/nodeconsole/nodeconsole/tui/ui"
	"github.com/nodeconsole/nodeconsole/tui/uitest"
)

// fakeNet is a netconfig.Reader with a fixed picture.
type fakeNet struct{ st netconfig.Status }

func (f fakeNet) Read(context.Context) (netconfig.Status, error) { return f.st, nil }

func testNet() netconfig.Status {
	return netconfig.Status{
		Interfaces: []netconfig.Interface{
			{Name: "eth0", MAC: "52:54:00:12:34:56", State: netconfig.LinkUp, Ethernet: true, Default: true,
				Addrs: []netip.Prefix{netip.MustParsePrefix("192.0.2.10/24")}},
			{Name: "eth1", MAC: "52:54:00:12:34:57", State: netconfig.LinkNoCarrier, Ethernet: true},
		},
		Gateway: netip.MustParseAddr("192.0.2.1"), GatewayInterface: "eth0",
		DNS: []netip.Addr{netip.MustParseAddr("192.0.2.53"), netip.MustParseAddr("198.51.100.53")},
	}
}

func testConsole(t *testing.T, p ui.Profile, state *regclient.State) *App {
	t.Helper()
	store := regclient.Store{Dir: t.TempDir()}
	if state != nil {
		if err := store.Save(*state); err != nil {
			t.Fatal(err)
		}
	}
	st := uitest.Styles(p)
	return NewConsole(ConsoleDeps{
		Styles: st,
		Collector: nodestatus.Collector{
			NodeID: "edge-4c4c4544004235108052b4c04f4e4a32", Make: "Acme", Model: "EdgeBox 200", Version: "1.2.3",
			Endpoint: "https://cp.example.com",
			Hostname: func() (string, error) { return "node-lab-01", nil },
			Net:      fakeNet{testNet()}, State: store,
		},
		About:   about.Facts{ConfigFiles: []about.FileFact{{Path: "/etc/nodeconsole/config.yaml"}}, StateDir: store.Dir},
		Refresh: time.Hour,
	})
}

// load sizes the console and delivers the first status reading.
func load(a *App, w, h int) {
	a.Update(tea.WindowSizeMsg{Width: w, Height: h})
	a.Update(a.Init()())
}

func TestHomeGolden(t *testing.T) {
	tests := []struct {
		name    string
		profile ui.Profile
		w, h    int
	}{
		{"80x24_truecolor", uitest.TrueColor, 80, 24},
		{"80x24_ansi16", uitest.ANSI16, 80, 24},
		{"80x24_mono_ascii", uitest.MonoASCII, 80, 24},
		{"120x40", uitest.TrueColor, 120, 40},
		{"40x12", uitest.TrueColor, 40, 12},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := testConsole(t, tt.profile, nil)
			load(a, tt.w, tt.h)
			view := a.View().Content
			assertFits(t, view, tt.w, tt.h)
			golden.RequireEqual(t, uitest.Render(view, tt.profile.Color))
		})
	}
}

// assertFits checks the frame is exactly h lines of at most w cells.
func assertFits(t *testing.T, view string, w, h int) {
	t.Helper()
	lines := strings.Split(view, "\n")
	if len(lines) != h {
		t.Errorf("view has %d lines, want %d", len(lines), h)
	}
	for i, l := range lines {
		if n := ansi.StringWidth(l); n > w {
			t.Errorf("line %d is %d cells wide, want <= %d: %q", i+1, n, w, ansi.Strip(l))
		}
	}
}

func TestHomeShowsEssentialsAt80x24(t *testing.T) {
	expires := time.Now().Add(10 * time.Minute)
	a := testConsole(t, uitest.TrueColor, &regclient.State{NodeID: "edge-4c4c4544004235108052b4c04f4e4a32",
		State: regclient.Pending, UserCode: "BCDF-GHJK", ExpiresAt: expires})
	load(a, 80, 24)
	view := ansi.Strip(a.View().Content)
	for _, want := range []string{"node-lab-01", "edge-4c4c4544004235108052b4c04f4e4a32", "Acme EdgeBox 200", "1.2.3",
		"Awaiting activation (code BCDF-GHJK)", "https://cp.example.com", "* eth0", "192.0.2.10/24",
		"52:54:00:12:34:56", "no-carrier", "192.0.2.1 via eth0", "192.0.2.53, 198.51.100.53", "About this node", "Log out"} {
		if !strings.Contains(view, want) {
			t.Errorf("home at 80x24 lacks %q:\n%s", want, view)
		}
	}
}

func TestRegistrationLineFromStateDir(t *testing.T) {
	a := testConsole(t, uitest.TrueColor, &regclient.State{State: regclient.Registered, NodeName: "store-17", Project: "retail"})
	load(a, 80, 24)
	if view := ansi.Strip(a.View().Content); !strings.Contains(view, "Registered as store-17 (retail)") {
		t.Errorf("registered state not shown:\n%s", view)
	}
}

func TestSmallTerminalsNeverPanic(t *testing.T) {
	for _, p := range []ui.Profile{uitest.TrueColor, uitest.MonoASCII} {
		a := testConsole(t, p, nil)
		for w := 0; w <= 82; w += 3 {
			for h := 0; h <= 26; h += 2 {
				load(a, w, h)
				view := a.View().Content
				if w >= MinWidth && h >= MinHeight {
					assertFits(t, view, w, h)
				} else if w > 0 && h > 0 && !strings.Contains(view, "Enlarge") && w >= 10 {
					t.Errorf("%dx%d: want an 'Enlarge the window' line, got %q", w, h, ansi.Strip(view))
				}
			}
		}
	}
}

func TestSizeFilter(t *testing.T) {
	fb := Size{100, 30}
	tests := []struct {
		name   string
		forced *Size
		in     tea.WindowSizeMsg
		want   tea.WindowSizeMsg
	}{
		{"0x0 becomes fallback", nil, tea.WindowSizeMsg{}, tea.WindowSizeMsg{Width: 100, Height: 30}},
		{"0 rows becomes fallback", nil, tea.WindowSizeMsg{Width: 80}, tea.WindowSizeMsg{Width: 100, Height: 30}},
		{"real size kept", nil, tea.WindowSizeMsg{Width: 132, Height: 43}, tea.WindowSizeMsg{Width: 132, Height: 43}},
		{"forced wins", &Size{90, 20}, tea.WindowSizeMsg{Width: 132, Height: 43}, tea.WindowSizeMsg{Width: 90, Height: 20}},
	}
	for _, tt := range tests {
		got := SizeFilter(tt.forced, fb)(nil, tt.in)
		if got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
	if got := SizeFilter(nil, fb)(nil, tea.KeyPressMsg{Code: 'a'}); got != (tea.KeyPressMsg{Code: 'a'}) {
		t.Errorf("non-size messages must pass through, got %v", got)
	}
}

func TestFallbackSize(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	if got := FallbackSize(env(map[string]string{"COLUMNS": "100", "LINES": "30"})); got != (Size{100, 30}) {
		t.Errorf("COLUMNS/LINES: got %v", got)
	}
	for _, m := range []map[string]string{{}, {"COLUMNS": "0", "LINES": "0"}, {"COLUMNS": "x", "LINES": "24"}, {"COLUMNS": "100"}} {
		if got := FallbackSize(env(m)); got != DefaultSize {
			t.Errorf("%v: got %v, want 80x24", m, got)
		}
	}
}

func TestParseSize(t *testing.T) {
	if s, err := ParseSize("132x43"); err != nil || s != (Size{132, 43}) {
		t.Errorf("ParseSize(132x43) = %v, %v", s, err)
	}
	for _, bad := range []string{"", "80", "80x", "x24", "0x24", "80x-1", "axb", "99999x24"} {
		if _, err := ParseSize(bad); err == nil {
			t.Errorf("ParseSize(%q) accepted", bad)
		}
	}
}

// TestNoticeWrapsNotCut: a config problem in the notice line is wrapped (up
// to 3 lines at 80x24), not cut, and the body shrinks to make room.
func TestNoticeWrapsNotCut(t *testing.T) {
	const msg = "Config: /etc/nodeconsole/config.d/50-user-data.yaml:12: site.endpoint: 999.1.2.3 is not a valid IP address (About this node lists all 2)."
	a := testConsole(t, uitest.TrueColor, nil)
	load(a, 80, 24)
	a.Update(ui.NoticeMsg{Key: "config", Text: msg})
	v := ansi.Strip(a.View().Content)
	if flat := strings.Join(strings.Fields(v), " "); !strings.Contains(flat, msg) {
		t.Errorf("the notice is cut:\n%s", v)
	}
	if n := len(strings.Split(v, "\n")); n != 24 {
		t.Errorf("%d lines, want 24", n)
	}
	// 40x12: two lines; the pointer to About and the "Config:" label give
	// way, the problem stays whole.
	const small = "Config: /etc/nodeconsole/config.yaml:12: site.bogus: unknown key (About this node lists all 2)."
	a.Update(ui.NoticeMsg{Key: "config", Text: small})
	a.Update(tea.WindowSizeMsg{Width: 40, Height: 12})
	v = ansi.Strip(a.View().Content)
	if flat := strings.Join(strings.Fields(v), " "); !strings.Contains(flat, "/etc/nodeconsole/config.yaml:12: site.bogus: unknown key.") {
		t.Errorf("the notice is cut at 40x12:\n%s", v)
	}
}
