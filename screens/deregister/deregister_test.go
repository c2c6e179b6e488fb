package deregister

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/nodeconsole/nodeconsole/regclient"
	"github.com/nodeconsole/nodeconsole/tui/ui"
	"github.com/nodeconsole/nodeconsole/tui/uitest"
)

// fakeFlow records calls; the real flow runs against the real control plane
// in flow_test.go.
type fakeFlow struct {
	mu      sync.Mutex
	state   regclient.State
	sendErr error
	wipeErr error
	calls   []string
}

func (f *fakeFlow) Current(context.Context) (regclient.State, error) { return f.state, nil }
func (f *fakeFlow) SendEvent(context.Context) error {
	f.record("send")
	return f.sendErr
}
func (f *fakeFlow) CloseConnections(context.Context) { f.record("close") }
func (f *fakeFlow) Wipe(context.Context) error {
	f.record("wipe")
	return f.wipeErr
}
func (f *fakeFlow) record(s string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, s)
}
func (f *fakeFlow) Calls() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return strings.Join(f.calls, ",")
}

func registered() *fakeFlow {
	return &fakeFlow{state: regclient.State{State: regclient.Registered, NodeID: "edge-0123456789abcdef0123456789abcdef", NodeName: "store-17"}}
}

// run feeds msgs (and what their commands produce) to the screen.
func run(s ui.Screen, cmd tea.Cmd) ui.Screen {
	queue := []tea.Cmd{cmd}
	for n := 0; len(queue) > 0 && n < 50; n++ {
		c := queue[0]
		queue = queue[1:]
		if c == nil {
			continue
		}
		switch msg := c().(type) {
		case tea.BatchMsg:
			queue = append(queue, msg...)
		case ui.AuditMsg, ui.StatusChangedMsg, ui.BackMsg, ui.ErrorMsg, nil:
		default:
			var next tea.Cmd
			s, next = s.Update(msg)
			queue = append(queue, next)
		}
	}
	return s
}

func press(s string) tea.Cmd {
	return func() tea.Msg {
		switch s {
		case "enter":
			return tea.KeyPressMsg{Code: tea.KeyEnter}
		case "esc":
			return tea.KeyPressMsg{Code: tea.KeyEscape}
		case "right":
			return tea.KeyPressMsg{Code: tea.KeyRight}
		}
		return tea.KeyPressMsg{Code: rune(s[0]), Text: s}
	}
}

func typeWord(s ui.Screen, w string) ui.Screen {
	for _, r := range w {
		s = run(s, press(string(r)))
	}
	return s
}

func newScreen(p ui.Profile, f *fakeFlow) *Model {
	m := New(Deps{Styles: uitest.Styles(p), Flow: f})
	m.Update(tea.WindowSizeMsg{Width: 80, Height: 22})
	run(m, m.Init())
	return m
}

func TestGolden(t *testing.T) {
	for _, p := range []struct {
		name string
		prof ui.Profile
	}{{"truecolor", uitest.TrueColor}, {"mono", uitest.MonoASCII}} {
		steps := map[string]func(*testing.T) ui.Screen{
			"warning": func(t *testing.T) ui.Screen { return newScreen(p.prof, registered()) },
			"typed_wrong": func(t *testing.T) ui.Screen {
				s := run(newScreen(p.prof, registered()), press("y"))
				s = typeWord(s, "deregister")
				return run(s, press("enter"))
			},
			"done": func(t *testing.T) ui.Screen {
				s := run(newScreen(p.prof, registered()), press("y"))
				s = typeWord(s, "DEREGISTER")
				return run(s, press("enter"))
			},
			"unreachable": func(t *testing.T) ui.Screen {
				f := registered()
				f.sendErr = &regclient.Error{Op: "deregister", Message: "192.0.2.80:443 refused the connection: check the endpoint's port, or whether the control plane is running",
					Err: errors.New("dial tcp 192.0.2.80:443: connect: connection refused")}
				s := run(newScreen(p.prof, f), press("y"))
				s = typeWord(s, "DEREGISTER")
				return run(s, press("enter"))
			},
			"not_registered": func(t *testing.T) ui.Screen { return newScreen(p.prof, &fakeFlow{}) },
		}
		for name, build := range steps {
			t.Run(name+"_"+p.name, func(t *testing.T) {
				v := build(t).View()
				if n := len(strings.Split(v, "\n")); n > 22 {
					t.Errorf("%d lines; the body has 22 at 80x24", n)
				}
				golden.RequireEqual(t, uitest.Render(v, p.prof.Color))
			})
			// 40x12: the body is 40x10; prose wraps, and the question
			// (or the outcome) stays on screen.
			t.Run(name+"_40x10_"+p.name, func(t *testing.T) {
				s := build(t)
				s, _ = s.Update(tea.WindowSizeMsg{Width: 40, Height: 10})
				v := s.View()
				text := ansi.Strip(v)
				if strings.Contains(text, "...") || strings.Contains(text, "…") {
					t.Errorf("a line is cut:\n%s", text)
				}
				if want := small40[name]; !strings.Contains(strings.Join(strings.Fields(text), " "), want) {
					t.Errorf("lacks %q at 40x10:\n%s", want, text)
				}
				if q := strings.Contains(text, "?  "); q && !strings.Contains(text, "[Yes]") {
					t.Errorf("the question without its answers at 40x10:\n%s", text)
				}
				golden.RequireEqual(t, uitest.Render(v, p.prof.Color))
			})
		}
	}
}

// small40 is what each golden step must still show at 40x10.
var small40 = map[string]string{
	"warning":        "Deregister this node?",
	"typed_wrong":    "Type DEREGISTER exactly",
	"done":           "Deregistered. This node can be registered again.",
	"unreachable":    "Remove locally anyway?",
	"not_registered": "nothing to deregister",
}

func TestNoIsTheDefault(t *testing.T) {
	f := registered()
	s := run(newScreen(uitest.TrueColor, f), press("enter"))
	// Enter on the default answer (No) goes back and changes nothing.
	if s.(*Model).ph == phTyped || f.Calls() != "" {
		t.Errorf("Enter on the question must answer No: phase %d, calls %q", s.(*Model).ph, f.Calls())
	}
}

func TestWrongWordsChangeNothing(t *testing.T) {
	for _, w := range []string{"deregister", "DEREGISTE", " DEREGISTER", "DEREGISTERX", "", "Deregister", "DEREGISTER "} {
		f := registered()
		s := run(newScreen(uitest.TrueColor, f), press("y"))
		s = typeWord(s, w)
		s = run(s, press("enter"))
		if f.Calls() != "" {
			t.Errorf("%q: calls %q, want none", w, f.Calls())
		}
		if m := s.(*Model); m.ph != phTyped || !strings.Contains(ansi.Strip(m.View()), "Type DEREGISTER exactly") {
			t.Errorf("%q: want to stay on the prompt with 'Type DEREGISTER exactly':\n%s", w, ansi.Strip(m.View()))
		}
	}
}

func TestEscCancelsAtEveryStep(t *testing.T) {
	f := registered()
	s := newScreen(uitest.TrueColor, f)
	if _, cmd := s.Update(tea.KeyPressMsg{Code: tea.KeyEscape}); !hasBack(cmd) {
		t.Error("Esc on the warning must go back")
	}
	s2 := run(newScreen(uitest.TrueColor, f), press("y"))
	s2 = typeWord(s2, "DEREG")
	if _, cmd := s2.Update(tea.KeyPressMsg{Code: tea.KeyEscape}); !hasBack(cmd) {
		t.Error("Esc on the prompt must go back")
	}
	if f.Calls() != "" {
		t.Errorf("cancelling changed something: %q", f.Calls())
	}
}

func hasBack(cmd tea.Cmd) bool {
	if cmd == nil {
		return false
	}
	switch m := cmd().(type) {
	case ui.BackMsg:
		return true
	case tea.BatchMsg:
		for _, c := range m {
			if hasBack(c) {
				return true
			}
		}
	}
	return false
}

func TestUnreachableNeedsSecondConfirmation(t *testing.T) {
	f := registered()
	f.sendErr = &regclient.Error{Op: "deregister", Message: "127.0.0.1:38744 refused the connection: check the endpoint's port, or whether the control plane is running",
		Err: errors.New("dial tcp 127.0.0.1:38744: connect: connection refused")}
	s := run(newScreen(uitest.TrueColor, f), press("y"))
	s = typeWord(s, "DEREGISTER")
	s = run(s, press("enter"))
	if f.Calls() != "send" {
		t.Fatalf("calls %q; nothing may be wiped before the second confirmation", f.Calls())
	}
	v := ansi.Strip(s.View())
	// A sentence and the next step; no package prefix or dial detail.
	if !strings.Contains(v, "could not be reached") || !strings.Contains(v, "portal keeps") ||
		!strings.Contains(strings.Join(strings.Fields(v), " "), "127.0.0.1:38744 refused the connection: check the endpoint's port") ||
		strings.Contains(v, "regclient") || strings.Contains(v, "dial tcp") {
		t.Errorf("unreachable screen:\n%s", v)
	}
	s = run(s, press("y"))
	if f.Calls() != "send,close,wipe" {
		t.Errorf("calls %q after 'remove locally anyway'", f.Calls())
	}
	if !strings.Contains(ansi.Strip(s.View()), "Deregistered. This node can be registered again.") {
		t.Errorf("final screen:\n%s", ansi.Strip(s.View()))
	}
}

// TestFlowWrongWordsThenRight types each wrong word into the running
// program, waits for the refusal, then types DEREGISTER.
func TestFlowWrongWordsThenRight(t *testing.T) {
	f := registered()
	m := New(Deps{Styles: uitest.Styles(uitest.TrueColor), Flow: f})
	tm := teatest.NewTestModel(t, uitest.Host{Screen: m}, teatest.WithInitialTermSize(80, 22),
		teatest.WithProgramOptions(tea.WithColorProfile(colorprofile.TrueColor)))
	wait := func(want string) {
		t.Helper()
		teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return bytes.Contains(b, []byte(want)) },
			teatest.WithDuration(20*time.Second), teatest.WithCheckInterval(5*time.Millisecond))
	}
	wait("one-way")
	tm.Send(tea.KeyPressMsg{Code: 'y', Text: "y"})
	wait("to confirm")
	for _, w := range []string{"deregister", "DEREGISTE", " DEREGISTER", "DEREGISTERX", ""} {
		for _, r := range w {
			tm.Send(tea.KeyPressMsg{Code: r, Text: string(r)})
		}
		tm.Send(tea.KeyPressMsg{Code: tea.KeyEnter})
		wait("exactly")
		if f.Calls() != "" {
			t.Fatalf("%q was accepted: %q", w, f.Calls())
		}
		// Clear the field for the next word.
		for range 12 {
			tm.Send(tea.KeyPressMsg{Code: tea.KeyBackspace})
		}
		wait("to confirm") // the prompt is redrawn without the refusal
	}
	tm.Type(ConfirmWord)
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEnter})
	wait("can be registered again")
	if f.Calls() != "send,close,wipe" {
		t.Errorf("calls %q", f.Calls())
	}
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEscape})
	tm.WaitFinished(t, teatest.WithFinalTimeout(20*time.Second))
}
