package tui

import (
	"context"
	"strings"
	"testing"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/nodeconsole/nodeconsole/nodestatus"
	"github.com/nodeconsole/nodeconsole/screens/about"
	"github.com/nodeconsole/nodeconsole/screens/diagnostics"
	"github.com/nodeconsole/nodeconsole/screens/network"
	"github.com/nodeconsole/nodeconsole/tui/ui"
	"github.com/nodeconsole/nodeconsole/tui/uitest"
)

// hinted is a screen that offers the given hints.
type hinted struct{ hints []key.Binding }

func (s hinted) Init() tea.Cmd                       { return nil }
func (s hinted) Update(tea.Msg) (ui.Screen, tea.Cmd) { return s, nil }
func (s hinted) View() string                        { return "" }
func (s hinted) Title() string                       { return "hinted" }
func (s hinted) ShortHelp() []key.Binding            { return s.hints }
func (s hinted) FullHelp() [][]key.Binding           { return [][]key.Binding{s.hints} }

func bind(help string, keys ...string) key.Binding {
	k, d, _ := strings.Cut(help, " ")
	return key.NewBinding(key.WithKeys(keys...), key.WithHelp(k, d))
}

func footerLine(a *App) string {
	lines := strings.Split(ansi.Strip(a.View().Content), "\n")
	return lines[len(lines)-1]
}

// TestFooterCollapsesAt40: at 40 columns the hints that matter stay whole
// (the form's "space on/off" was cut off behind the movement keys); the
// movement keys go first, then hints from the end behind an ellipsis, and
// "? help" stays.
func TestFooterCollapsesAt40(t *testing.T) {
	next := bind("tab/↓ next field", "tab", "down")
	prev := bind("shift+tab/↑ previous", "shift+tab", "up")
	toggle := bind("space on/off", "space", "left", "right")
	cancel := bind("esc cancel", "esc")
	for _, c := range []struct {
		hints []key.Binding
		w     int
		want  string
	}{
		{[]key.Binding{next, prev, toggle, cancel}, 80, " tab/↓ next field • shift+tab/↑ previous • space on/off • esc cancel • ? help"},
		{[]key.Binding{next, prev, toggle, cancel}, 40, " space on/off • esc cancel • ? help"},
		{[]key.Binding{bind("enter select", "enter"), bind("1-8 choose", "1"), bind("q log out", "q"), bind("r refresh", "r")}, 40,
			" enter select • 1-8 choose • … • ? help"},
		{[]key.Binding{bind("enter a-very-long-description-that-fills-the-line", "enter")}, 40, " … • ? help"},
		// A letter alone is not movement, though vi's h is left elsewhere.
		{[]key.Binding{bind("↓/j down", "down", "j"), bind("h restore a previous setup", "h"), bind("esc back", "esc")}, 50,
			" h restore a previous setup • esc back • ? help"},
	} {
		a := testConsole(t, uitest.TrueColor, nil)
		load(a, c.w, 12)
		a.Update(ui.PushMsg{Screen: hinted{c.hints}})
		if got := footerLine(a); strings.TrimRight(got, " ") != c.want {
			t.Errorf("at %d columns:\n got %q\nwant %q", c.w, got, c.want)
		}
	}
}

// TestFootersFitAt40x12 walks screens at 40x12 over the simulated network:
// every footer fits, each hint in it is whole (one of the screen's own),
// and "? help" is offered wherever ? is not text.
func TestFootersFitAt40x12(t *testing.T) {
	check := func(a *App, where string) {
		t.Helper()
		f := footerLine(a)
		if ansi.StringWidth(f) > 40 {
			t.Errorf("%s: footer wider than 40: %q", where, f)
		}
		a.help.SetWidth(0)
		whole := ansi.Strip(a.help.ShortHelpView(a.top().ShortHelp()))
		for _, h := range strings.Split(strings.TrimSpace(f), " • ") {
			if h != "…" && h != "? help" && !strings.Contains(whole, h) {
				t.Errorf("%s: hint %q is not one of the screen's (%q)", where, h, whole)
			}
		}
		if !a.capturing() && !strings.HasSuffix(strings.TrimRight(f, " "), "? help") {
			t.Errorf("%s: no ? help: %q", where, f)
		}
	}
	home := testConsole(t, uitest.TrueColor, nil)
	load(home, 40, 12)
	check(home, "home")

	st := uitest.Styles(uitest.TrueColor)
	_, _, mgr := simConsole(t)
	shell := func(s func(d *uitest.Driver) ui.Screen) (*App, *uitest.Driver) { return shellAt(t, st, 40, 12, s) }
	var drv *uitest.Driver
	a, d := shell(func(*uitest.Driver) ui.Screen {
		return network.New(network.Deps{Styles: st, Manager: mgr, TryTimeout: time.Minute,
			Tick: func(dur time.Duration, fn func(time.Time) tea.Msg) tea.Cmd { return drv.Tick(dur, fn) },
			Park: func(wait func()) { drv.Park(wait) }})
	})
	drv = d
	check(a, "network list")
	d.Keys("enter") // eth0's form
	for i := 0; i < 12 && !strings.Contains(footerLine(a), "on/off"); i++ {
		check(a, "network form")
		d.Keys("tab")
	}
	if !strings.Contains(footerLine(a), "space on/off") {
		t.Errorf("the default-route row's hint is not on the footer at 40 columns: %q", footerLine(a))
	}
	check(a, "default route row")

	a, _ = shell(func(*uitest.Driver) ui.Screen {
		return diagnostics.New(diagnostics.Deps{Styles: st, Prober: mgr.Prober()})
	})
	check(a, "test network")
	a, _ = shell(func(*uitest.Driver) ui.Screen {
		return about.New(about.Deps{Styles: st, Collect: func(context.Context) nodestatus.Snapshot { return nodestatus.Snapshot{NodeID: "edge-1"} }})
	})
	check(a, "about")
}

// shellAt runs the screen s builds as the shell's only screen (no timers
// of the home screen) in a driver at w x h.
func shellAt(t *testing.T, st *ui.Styles, w, h int, s func(d *uitest.Driver) ui.Screen) (*App, *uitest.Driver) {
	var d *uitest.Driver
	a := New(Options{Styles: st, Home: s(d), Node: "edge-4c4c4544004235108052b4c04f4e4a32"})
	d = uitest.NewModelDriver(t, a)
	d.Send(tea.WindowSizeMsg{Width: w, Height: h})
	d.Init(a.Init())
	return a, d
}

// TestQuestionMarkInAFieldIsText: in a text field ? is typed, not help,
// the footer does not offer "? help" there, and the caret shows in
// monochrome (reverse video).
func TestQuestionMarkInAFieldIsText(t *testing.T) {
	st := uitest.Styles(uitest.MonoASCII)
	_, _, mgr := simConsole(t)
	a, d := shellAt(t, st, 80, 24, func(*uitest.Driver) ui.Screen {
		return diagnostics.New(diagnostics.Deps{Styles: st, Prober: mgr.Prober()})
	})
	if !strings.Contains(footerLine(a), "? help") {
		t.Fatalf("no ? help outside a field: %q", footerLine(a))
	}
	d.Keys("tab") // the host field
	d.Send(uitest.Typed("a?")...)
	if a.help.ShowAll {
		t.Error("? in a field opened the help")
	}
	if f := footerLine(a); strings.Contains(f, "? help") {
		t.Errorf("the footer offers ? help in a field: %q", f)
	}
	v := a.View().Content
	if !strings.Contains(ansi.Strip(v), "Host  a?") {
		t.Errorf("? is not in the field:\n%s", ansi.Strip(v))
	}
	if mono := uitest.Render(v, uitest.MonoASCII.Color); !strings.Contains(mono, "\x1b[7m") {
		t.Errorf("no reverse-video caret in monochrome:\n%q", mono)
	}
}
