package home

import (
	"context"
	"fmt"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/nodeconsole/nodeconsole/nodestatus"
	"github.com/nodeconsole/nodeconsole/regclient"
	"github.com/nodeconsole/nodeconsole/tui/ui"
	"github.com/nodeconsole/nodeconsole/tui/uitest"
)

// fakePanel stands in for the registration panel (tested on its own in
// screens/register and against the real control plane in tui): a block of
// 41x21 cells, like the QR code of a registration URL with a node ID.
type fakePanel struct {
	active  bool
	changes []bool
}

func (p *fakePanel) Init() tea.Cmd          { p.active = true; return nil }
func (p *fakePanel) Update(tea.Msg) tea.Cmd { return nil }
func (p *fakePanel) SetActive(a bool) tea.Cmd {
	p.active = a
	p.changes = append(p.changes, a)
	return nil
}
func (p *fakePanel) Block(w, h int) string {
	if w < 41 || h < 21 {
		return ""
	}
	rows := make([]string, 21)
	for i := range rows {
		rows[i] = strings.Repeat("▀", 41)
	}
	return strings.Join(rows, "\n")
}
func (p *fakePanel) Lines(w, label int, blockShown bool) []string {
	if blockShown {
		return []string{" Register    scan the QR code, or open", "  https://cp.example.com/activate", "  and enter BCDF-GHJK (until 12:15)"}
	}
	return []string{" Register    open https://cp.example.com/activate and enter BCDF-GHJK"}
}

func snapshot() nodestatus.Snapshot {
	return nodestatus.Snapshot{
		Hostname: "node-lab-01", NodeID: "edge-4c4c4544004235108052b4c04f4e4a32", Make: "Acme", Model: "EdgeBox 200",
		Version: "1.2.3", Endpoint: "https://cp.example.com",
		Registration: nodestatus.Registration{State: regclient.Unregistered},
		Interfaces: []nodestatus.Interface{
			{Name: "eth0", MAC: "52:54:00:12:34:56", State: "up", Default: true, Addresses: []string{"192.0.2.10/24"}},
			{Name: "eth1", MAC: "52:54:00:12:34:57", State: "no-carrier"},
		},
		Gateway: "192.0.2.1", GatewayInterface: "eth0", DNS: []string{"192.0.2.53"},
	}
}

func newHome(p ui.Profile, panel ui.Panel) *Model {
	noop := func() ui.Screen { return nil }
	m := New(Deps{
		Styles:  uitest.Styles(p),
		Collect: func(context.Context) nodestatus.Snapshot { return snapshot() },
		Actions: []Action{{Label: "Network settings", Open: noop}, {Label: "Test network", Open: noop},
			{Label: "Register Node", Open: noop}, {Label: "Deregister Node", Open: noop}, {Label: "About this node", Open: noop}},
		Panel: panel,
	})
	m.Init()
	m.Update(snapshotMsg{gen: m.gen, snap: snapshot()})
	return m
}

func fits(t *testing.T, view string, w, h int) {
	t.Helper()
	lines := strings.Split(view, "\n")
	if len(lines) > h {
		t.Errorf("view has %d lines, want at most %d", len(lines), h)
	}
	for i, l := range lines {
		if n := ansi.StringWidth(l); n > w {
			t.Errorf("line %d is %d cells wide, want <= %d: %q", i+1, n, w, ansi.Strip(l))
		}
	}
}

// TestPanelLayoutAt80x24: at 80x24 (a 22-line body) the QR block sits on
// the right at full height, and the left column keeps the node, the code,
// the whole menu and the default route.
func TestPanelLayoutAt80x24(t *testing.T) {
	for _, tt := range []struct {
		name string
		p    ui.Profile
	}{{"truecolor", uitest.TrueColor}, {"ansi16", uitest.ANSI16}} {
		t.Run(tt.name, func(t *testing.T) {
			m := newHome(tt.p, &fakePanel{})
			m.Update(tea.WindowSizeMsg{Width: 80, Height: 22})
			view := m.View()
			fits(t, view, 80, 22)
			plain := ansi.Strip(view)
			lines := strings.Split(plain, "\n")
			if !strings.HasSuffix(lines[0], strings.Repeat("▀", 41)) || !strings.HasSuffix(lines[20], strings.Repeat("▀", 41)) {
				t.Errorf("the block must fill the right of lines 1-21:\n%s", plain)
			}
			for _, want := range []string{"Host name   node-lab-01", "Register    scan the QR code", "https://cp.example.com/activate",
				"and enter BCDF-GHJK", "Network settings", "6   Log out", "Network     eth0 192.0.2.10/24"} {
				if !strings.Contains(plain, want) {
					t.Errorf("missing %q beside the QR block:\n%s", want, plain)
				}
			}
			golden.RequireEqual(t, uitest.Render(view, tt.p.Color))
		})
	}
}

// TestPanelFallsBackToLines: where the block does not fit, the panel's
// line goes into the status, before the notes.
func TestPanelFallsBackToLines(t *testing.T) {
	for _, size := range [][2]int{{80, 18}, {60, 22}, {40, 14}} {
		m := newHome(uitest.TrueColor, &fakePanel{})
		m.Update(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
		view := m.View()
		fits(t, view, size[0], size[1])
		plain := ansi.Strip(view)
		if strings.Contains(plain, "▀") {
			t.Errorf("%dx%d: the block must not be drawn:\n%s", size[0], size[1], plain)
		}
		if !strings.Contains(plain, "Register") || !strings.Contains(plain, "open https://cp") {
			t.Errorf("%dx%d: the panel's line is missing:\n%s", size[0], size[1], plain)
		}
	}
}

// TestPanelPausedWhileAnotherScreenIsOpen: opening a menu entry pauses the
// panel (Register Node shares its enrollment); coming back resumes it.
func TestPanelPausedWhileAnotherScreenIsOpen(t *testing.T) {
	p := &fakePanel{}
	m := newHome(uitest.TrueColor, p)
	m.Update(tea.KeyPressMsg{Code: '3', Text: "3"})
	if p.active {
		t.Fatal("the panel must pause when a screen opens")
	}
	m.Revealed()
	if !p.active || len(p.changes) != 2 {
		t.Errorf("the panel must resume when home is on top again (changes %v)", p.changes)
	}
}

// TestUserDataNote: the snapshot's notes (what user data set) and its
// problems (user data refused) show under the network, without a panel.
func TestUserDataNote(t *testing.T) {
	m := newHome(uitest.TrueColor, nil)
	s := snapshot()
	s.Notes = []string{"Site settings loaded from CIDATA (USB) at 10:42: endpoint, registration token, network"}
	s.Problems = []string{"User data from CIDATA (CD) not applied: /dev/sr0/user-data:4: site.endpoint: must use https"}
	m.Update(snapshotMsg{gen: m.gen, snap: s})
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 30})
	v := ansi.Strip(m.View())
	for _, want := range []string{"Site settings loaded from CIDATA (USB) at 10:42: endpoint, registration token, network",
		"! User data from CIDATA (CD) not applied: /dev/sr0/user-data:4"} {
		if !strings.Contains(v, want) {
			t.Errorf("home does not show %q:\n%s", want, v)
		}
	}
}

// TestNotesWrap: at 80x24 a long note (the reboot one) wraps under the
// network rather than being cut ("...after a resta…").
func TestNotesWrap(t *testing.T) {
	m := newHome(uitest.TrueColor, nil)
	s := snapshot()
	s.Notes = []string{nodestatus.RebootNote}
	m.Update(snapshotMsg{gen: m.gen, snap: s})
	m.Update(tea.WindowSizeMsg{Width: 80, Height: 22})
	v := ansi.Strip(m.View())
	fits(t, m.View(), 80, 22)
	if !strings.Contains(strings.Join(strings.Fields(v), " "), nodestatus.RebootNote) {
		t.Errorf("the reboot note is cut at 80x24:\n%s", v)
	}
}

// TestShortRoomKeepsDefaultRoute: when notes and problems leave the table
// little room, the default route's interface stays (it folded into
// "+N more" with the rest).
func TestShortRoomKeepsDefaultRoute(t *testing.T) {
	s := snapshot()
	s.Interfaces = append([]nodestatus.Interface{{Name: "eth9", State: "up"}}, s.Interfaces...)
	s.Notes = []string{"one", "two", "three"}
	s.Problems = []string{"config: a.yaml:2: site.bogus: unknown key", "config: a.yaml:4: console.idleLogout: not a duration"}
	for _, room := range []int{1, 2} {
		m := newHome(uitest.TrueColor, nil)
		m.Update(snapshotMsg{gen: m.gen, snap: s})
		v := ansi.Strip(m.networkBlock(80, 1+room+2+len(s.Notes)+len(s.Problems)))
		if !strings.Contains(v, "* eth0") {
			t.Errorf("room %d: the default route's interface folded away:\n%s", room, v)
		}
		if room == 2 && !strings.Contains(v, "+2 more") {
			t.Errorf("room 2: no '+2 more':\n%s", v)
		}
	}
}

// TestHeaderShowsTheIDOnce: a node licensed under its own ID is not labelled
// "edge-8021… (edge-8021…)".
func TestHeaderShowsTheIDOnce(t *testing.T) {
	const id = "edge-0123456789abcdef0123456789abcdef"
	for name, want := range map[string]string{id: id, "store-17": "store-17 (" + id + ")", "": id} {
		s := nodestatus.Snapshot{NodeID: id, Registration: nodestatus.Registration{NodeName: name}}
		if got := headerLabel(s); got != want {
			t.Errorf("name %q: header %q, want %q", name, got, want)
		}
	}
	// The host name comes first.
	s := nodestatus.Snapshot{Hostname: "node-12", NodeID: id, Registration: nodestatus.Registration{NodeName: "store-17"}}
	if got, want := headerLabel(s), "node-12  store-17 ("+id+")"; got != want {
		t.Errorf("with a host name: header %q, want %q", got, want)
	}
}

// TestSmallLayouts: at 60x20 the home screen keeps the network table; at
// 40x12 the menu and what fits of the status. Golden files in colour and
// mono.
func TestSmallLayouts(t *testing.T) {
	for _, sz := range []struct{ w, h int }{{60, 18}, {40, 10}} {
		for _, p := range []struct {
			name string
			p    ui.Profile
		}{{"truecolor", uitest.TrueColor}, {"mono", uitest.MonoASCII}} {
			t.Run(fmt.Sprintf("%s_%dx%d", p.name, sz.w, sz.h), func(t *testing.T) {
				m := newHome(p.p, nil)
				m.Update(tea.WindowSizeMsg{Width: sz.w, Height: sz.h})
				v := m.View()
				fits(t, v, sz.w, sz.h)
				if sz.w == 60 && !strings.Contains(ansi.Strip(v), "eth1    no-carrier no address") {
					t.Errorf("60x18 lacks the network table:\n%s", ansi.Strip(v))
				}
				golden.RequireEqual(t, uitest.Render(v, p.p.Color))
			})
		}
	}
}
