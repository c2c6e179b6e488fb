package tui

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/nodeconsole/nodeconsole/netconfig"
	"github.com/nodeconsole/nodeconsole/nodestatus"
	"github.com/nodeconsole/nodeconsole/regclient"
	"github.com/nodeconsole/nodeconsole/screens/network"
	"github.com/nodeconsole/nodeconsole/tui/ui"
	"github.com/nodeconsole/nodeconsole/tui/uitest"
)

// simConsole is the console over a simulated network.
func simConsole(t *testing.T) (*App, *netconfig.Simulated, *netconfig.Manager) {
	t.Helper()
	sim := netconfig.NewSimulated()
	state := t.TempDir()
	mgr, err := netconfig.NewManager(netconfig.Options{Backend: sim, Reader: sim, DHCP: netconfig.DHCPHook(sim.DHCP),
		StateDir: state, NetworkdDir: state + "/network"})
	if err != nil {
		t.Fatal(err)
	}
	a := NewConsole(ConsoleDeps{
		Styles: uitest.Styles(uitest.TrueColor),
		Collector: nodestatus.Collector{NodeID: "edge-4c4c4544004235108052b4c04f4e4a32", Version: "1.2.3",
			Hostname: func() (string, error) { return "node-lab-01", nil },
			Net:      sim, State: regclient.Store{Dir: state}},
		Network: mgr, Refresh: time.Hour,
	})
	return a, sim, mgr
}

// frameTap runs the console and keeps the last frame it drew as plain
// text: the renderer writes only what changed (skipping cells that stay
// the same), so a sentence is looked for in the frame, not in the bytes.
type frameTap struct {
	*App
	mu   *sync.Mutex
	last *string
}

func newFrameTap(a *App) frameTap { return frameTap{App: a, mu: &sync.Mutex{}, last: new(string)} }

func (f frameTap) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	_, cmd := f.App.Update(msg)
	return f, cmd
}

func (f frameTap) View() tea.View {
	s := ansi.Strip(f.App.render())
	f.mu.Lock()
	*f.last = s
	f.mu.Unlock()
	return f.App.View()
}

// waitFrame waits until the last frame contains want, and returns it. It
// polls the frame and drains the output (the renderer's writes) in
// between, like teatest.WaitFor, never sleeping a fixed time for the UI.
func waitFrame(t *testing.T, tm *teatest.TestModel, f frameTap, want string) string {
	t.Helper()
	limit := time.Now().Add(20 * time.Second) // only bounds a broken run
	buf := make([]byte, 32<<10)
	for {
		f.mu.Lock()
		s := *f.last
		f.mu.Unlock()
		if strings.Contains(s, want) {
			return s
		}
		if time.Now().After(limit) {
			t.Fatalf("the screen never showed %q; last frame:\n%s", want, s)
		}
		if n, _ := tm.Output().Read(buf); n == 0 {
			time.Sleep(2 * time.Millisecond) // the check interval teatest.WaitFor uses too
		}
	}
}

// startTrial drives the console to "Keep these settings?" for a static
// address on eth0.
func startTrial(t *testing.T, tm *teatest.TestModel, f frameTap) {
	t.Helper()
	waitFrame(t, tm, f, "node-lab-01")
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEnter}) // Network settings
	waitFrame(t, tm, f, "Choose the interface")
	tm.Type("1") // eth0
	waitFrame(t, tm, f, "Preview and apply")
	tm.Send(tea.KeyPressMsg{Code: 'u', Mod: tea.ModCtrl})
	tm.Type("192.0.2.20/24")
	for range 8 { // Netmask, Gateway, Default route, DNS 1, DNS 2, IPv6, Add route, Apply
		tm.Send(tea.KeyPressMsg{Code: tea.KeyTab})
	}
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEnter})
	waitFrame(t, tm, f, "192.0.2.10/24 → 192.0.2.20/24")
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEnter})
	waitFrame(t, tm, f, "Keep these settings?")
}

// TestLogoutRevertsTrial: logging out while a network change is on trial
// (from the Network screen or after leaving it) says so in the log-out
// question, and restores the previous settings exactly before the program
// ends; answering no keeps the trial running.
func TestLogoutRevertsTrial(t *testing.T) {
	tests := []struct {
		name string
		quit func(tm *teatest.TestModel, f frameTap)
	}{
		{"q on home after leaving the screen", func(tm *teatest.TestModel, f frameTap) {
			tm.Send(tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl}) // closes the Network screen
			waitFrame(t, tm, f, "Log out")
			tm.Type("q")
		}},
		{"ctrl+c twice from the trial screen", func(tm *teatest.TestModel, f frameTap) {
			tm.Send(tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl})
			waitFrame(t, tm, f, "Log out")
			tm.Send(tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl})
		}},
		{"Log out from the menu", func(tm *teatest.TestModel, f frameTap) {
			tm.Send(tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl})
			waitFrame(t, tm, f, "Log out")
			for range 3 { // Test network, About this node, Log out
				tm.Send(tea.KeyPressMsg{Code: tea.KeyDown})
			}
			tm.Send(tea.KeyPressMsg{Code: tea.KeyEnter})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, sim, mgr := simConsole(t)
			f := newFrameTap(a)
			before := sim.Render()
			tm := teatest.NewTestModel(t, f, teatest.WithInitialTermSize(80, 24),
				teatest.WithProgramOptions(tea.WithColorProfile(colorprofile.TrueColor)))
			startTrial(t, tm, f)
			trial := mgr.Pending()
			if slices.Equal(sim.Render(), before) || trial == nil {
				t.Fatal("no trial applied")
			}

			tt.quit(tm, f)
			frame := waitFrame(t, tm, f, "Log out? y: yes")
			lines := strings.Split(frame, "\n")
			if len(lines) != 24 || lines[22] != " "+network.QuitWarning || !strings.HasPrefix(lines[23], " Log out? y: yes   any other key: no") {
				t.Fatalf("the log-out question must say the trial is reverted:\n%s", frame)
			}
			tm.Type("n") // not now: nothing changes
			waitFrame(t, tm, f, "help")
			if mgr.Pending() != trial || slices.Equal(sim.Render(), before) {
				t.Fatal("answering no ended the trial")
			}
			tm.Send(tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl}) // on home: asks again
			waitFrame(t, tm, f, network.QuitWarning)
			tm.Type("y")
			tm.WaitFinished(t, teatest.WithFinalTimeout(20*time.Second))

			if got := sim.Render(); !slices.Equal(got, before) {
				t.Errorf("after log-out:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(before, "\n"))
			}
			if o, err := trial.Outcome(); o != netconfig.OutcomeCancelled || err != nil {
				t.Errorf("trial outcome = %q, %v", o, err)
			}
			if _, err := mgr.Saved(); !errors.Is(err, netconfig.ErrNoSavedConfig) {
				t.Errorf("a reverted trial was saved: %v", err)
			}
			if !tm.FinalModel(t).(frameTap).quitting {
				t.Error("the console did not log out")
			}
		})
	}
}

// fakeGuard is a QuitGuard with a fixed warning and Undo result.
type fakeGuard struct {
	warning string
	err     error
	undone  *int
}

func (g fakeGuard) QuitWarning() string { return g.warning }
func (g fakeGuard) Undo(context.Context) error {
	*g.undone++
	return g.err
}

// guarded is a screen with a QuitGuard.
type guarded struct{ g fakeGuard }

func (s guarded) Init() tea.Cmd                       { return nil }
func (s guarded) Update(tea.Msg) (ui.Screen, tea.Cmd) { return s, nil }
func (s guarded) View() string                        { return "" }
func (s guarded) Title() string                       { return "guarded" }
func (s guarded) ShortHelp() []key.Binding            { return nil }
func (s guarded) FullHelp() [][]key.Binding           { return nil }
func (s guarded) QuitGuard() (string, ui.QuitGuard)   { return "x", s.g }

// runCmd runs cmd and the commands of a batch, returning their messages.
func runCmd(cmd tea.Cmd) []tea.Msg {
	if cmd == nil {
		return nil
	}
	msg := cmd()
	if b, ok := msg.(tea.BatchMsg); ok {
		var out []tea.Msg
		for _, c := range b {
			out = append(out, runCmd(c)...)
		}
		return out
	}
	return []tea.Msg{msg}
}

func TestQuitGuards(t *testing.T) {
	footer := func(a *App) string {
		lines := strings.Split(ansi.Strip(a.View().Content), "\n")
		return strings.Join(lines[len(lines)-2:], "\n")
	}
	t.Run("nothing at stake: q logs out at once", func(t *testing.T) {
		a := testConsole(t, uitest.TrueColor, nil)
		load(a, 80, 24)
		undone := 0
		a.Update(ui.PushMsg{Screen: guarded{fakeGuard{undone: &undone}}})
		_, cmd := a.Update(ui.QuitMsg{})
		if msgs := runCmd(cmd); len(msgs) != 1 || msgs[0] != tea.Quit() || undone != 0 {
			t.Errorf("QuitMsg = %v, undone %d", msgs, undone)
		}
	})
	t.Run("warning shown, undo fails: stays with a banner", func(t *testing.T) {
		a := testConsole(t, uitest.TrueColor, nil)
		load(a, 80, 24)
		undone := 0
		a.Update(ui.PushMsg{Screen: guarded{fakeGuard{warning: "A change is on trial; logging out reverts it.", err: errors.New("boom"), undone: &undone}}})
		a.Update(ui.BackMsg{}) // the guard outlives its screen
		a.Update(ui.QuitMsg{})
		if !a.confirmQuit {
			t.Fatal("QuitMsg with something at stake must ask first")
		}
		if got := footer(a); got != " A change is on trial; logging out reverts it.\n Log out? y: yes   any other key: no" {
			t.Errorf("footer:\n%s", got)
		}
		if n := strings.Count(a.View().Content, "\n") + 1; n != 24 {
			t.Errorf("the screen has %d lines with the warning, want 24", n)
		}
		_, cmd := a.Update(tea.KeyPressMsg{Code: 'y', Text: "y"})
		if !strings.Contains(footer(a), "Logging out") {
			t.Errorf("footer while undoing: %q", footer(a))
		}
		if _, c := a.Update(tea.KeyPressMsg{Code: 'q', Text: "q"}); c != nil {
			t.Error("keys must wait while undoing")
		}
		var next tea.Cmd
		for _, m := range runCmd(cmd) {
			if _, ok := m.(guardUndoneMsg); ok {
				_, next = a.Update(m)
			}
		}
		if undone != 1 {
			t.Fatalf("Undo ran %d times", undone)
		}
		for _, m := range runCmd(next) {
			if m == tea.Quit() {
				t.Fatal("a failed undo must not log out")
			}
		}
		if a.quitting || !strings.Contains(a.banner, "Restoring the previous settings failed") {
			t.Errorf("quitting %v, banner %q", a.quitting, a.banner)
		}
	})
}
