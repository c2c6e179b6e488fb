package register

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/nodeconsole/nodeconsole/regclient"
	"github.com/nodeconsole/nodeconsole/tui/ui"
	"github.com/nodeconsole/nodeconsole/tui/uitest"
)

var t0 = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)

// fakeFlow answers from fields; the real flow is tested against the real
// control plane in flow_test.go.
type fakeFlow struct {
	state    regclient.State
	checks   []Check
	code     Code
	outcomes []Outcome
	startErr error
	calls    []string
}

func (f *fakeFlow) Current() (regclient.State, error) { return f.state, nil }
func (f *fakeFlow) Connectivity(context.Context, string) []Check {
	f.calls = append(f.calls, "connectivity")
	return f.checks
}
func (f *fakeFlow) PrepareKey(context.Context) error { f.calls = append(f.calls, "key"); return nil }
func (f *fakeFlow) Update(context.Context, string) (string, error) {
	f.calls = append(f.calls, "update")
	return "skipped", nil
}
func (f *fakeFlow) Start(context.Context, Request) (Code, error) {
	f.calls = append(f.calls, "start")
	return f.code, f.startErr
}
func (f *fakeFlow) Next(context.Context) Outcome {
	f.calls = append(f.calls, "next")
	if len(f.outcomes) == 0 {
		return Outcome{Kind: Waiting, LastCheck: t0}
	}
	o := f.outcomes[0]
	f.outcomes = f.outcomes[1:]
	return o
}
func (f *fakeFlow) Cancel(context.Context) error { f.calls = append(f.calls, "cancel"); return nil }
func (f *fakeFlow) Reboot(context.Context) (string, error) {
	f.calls = append(f.calls, "reboot")
	return "Reboot simulated (demo).", nil
}

func newFake() *fakeFlow {
	return &fakeFlow{
		checks: []Check{{Name: "DNS", OK: true}, {Name: "TCP", OK: true}, {Name: "TLS", OK: true}, {Name: "clock", OK: true}},
		code: Code{UserCode: "BCDF-GHJK", VerificationURI: "https://cp.example.com/activate",
			VerificationURIComplete: "https://cp.example.com/activate?code=BCDF-GHJK",
			QRURL:                   "https://cp.example.com/activate?code=BCDF-GHJK", ExpiresAt: t0.Add(15 * time.Minute)},
	}
}

// drive runs cmd and feeds the resulting messages back into the screen,
// following batches, skipping ticks and messages for the shell. It stops
// after max messages.
func drive(s ui.Screen, cmd tea.Cmd, max int) (ui.Screen, []tea.Msg) {
	var shell []tea.Msg
	queue := []tea.Cmd{cmd}
	for n := 0; len(queue) > 0 && n < max; n++ {
		c := queue[0]
		queue = queue[1:]
		if c == nil {
			continue
		}
		msg := runWithoutTicks(c)
		switch msg := msg.(type) {
		case nil:
		case tea.BatchMsg:
			queue = append(queue, msg...)
		case ui.AuditMsg, ui.StatusChangedMsg, ui.BackMsg, ui.ErrorMsg:
			shell = append(shell, msg)
		default:
			var next tea.Cmd
			s, next = s.Update(msg)
			queue = append(queue, next)
		}
	}
	return s, shell
}

// runWithoutTicks runs c unless it is a tea.Tick (which would sleep).
func runWithoutTicks(c tea.Cmd) tea.Msg {
	done := make(chan tea.Msg, 1)
	go func() { done <- c() }()
	select {
	case m := <-done:
		return m
	case <-time.After(200 * time.Millisecond):
		return nil // a tick: the screen's timers are driven by hand below
	}
}

func newScreen(p ui.Profile, f *fakeFlow) *Model {
	m := New(Deps{Styles: uitest.Styles(p), Flow: f, Now: func() time.Time { return t0 },
		Choices:  []Choice{{Make: "Acme", Model: "EdgeBox 200"}, {Make: "Acme", Model: "EdgeBox 400", Endpoint: "https://cp.acme.example"}},
		Endpoint: "https://cp.example.com"})
	m.Update(tea.WindowSizeMsg{Width: 80, Height: 22})
	return m
}

func TestGolden(t *testing.T) {
	for _, p := range []struct {
		name string
		prof ui.Profile
	}{{"truecolor", uitest.TrueColor}, {"mono", uitest.MonoASCII}} {
		t.Run("confirm_"+p.name, func(t *testing.T) {
			m := newScreen(p.prof, newFake())
			s, _ := drive(m, m.Init(), 10)
			golden.RequireEqual(t, uitest.Render(s.View(), p.prof.Color))
		})
		t.Run("code_"+p.name, func(t *testing.T) {
			f := newFake()
			f.outcomes = []Outcome{{Kind: Waiting, LastCheck: t0.Add(3 * time.Second)}}
			m := newScreen(p.prof, f)
			s, _ := drive(m, m.Init(), 10)
			s, _ = drive(s, func() tea.Msg { return tea.KeyPressMsg{Code: tea.KeyEnter} }, 30)
			if m.ph != phCode {
				t.Fatalf("phase = %d, want the code; calls %v", m.ph, f.calls)
			}
			golden.RequireEqual(t, uitest.Render(s.View(), p.prof.Color))
		})
		t.Run("activated_"+p.name, func(t *testing.T) {
			f := newFake()
			f.outcomes = []Outcome{{Kind: Registered, NodeName: "store-17", Project: "retail"}}
			m := newScreen(p.prof, f)
			s, _ := drive(m, m.Init(), 10)
			s, _ = drive(s, func() tea.Msg { return tea.KeyPressMsg{Code: tea.KeyEnter} }, 30)
			golden.RequireEqual(t, uitest.Render(s.View(), p.prof.Color))
		})
	}
}

func TestCodeScreenShowsEverything(t *testing.T) {
	f := newFake()
	m := newScreen(uitest.TrueColor, f)
	s, _ := drive(m, m.Init(), 10)
	s, _ = drive(s, func() tea.Msg { return tea.KeyPressMsg{Code: tea.KeyEnter} }, 12)
	v := ansi.Strip(s.View())
	for _, want := range []string{"BCDF-GHJK", "https://cp.example.com/activate", "Time left  15:00", "Waiting for activation", "█"} {
		if !strings.Contains(v, want) {
			t.Errorf("code screen lacks %q:\n%s", want, v)
		}
	}
	if strings.Join(f.calls[:4], ",") != "connectivity,key,update,start" {
		t.Errorf("steps ran as %v", f.calls)
	}
	if lines := strings.Split(s.View(), "\n"); len(lines) > 22 {
		t.Errorf("code screen has %d lines, more than the 22 available", len(lines))
	}
}

func TestAlreadyRegistered(t *testing.T) {
	f := newFake()
	f.state = regclient.State{State: regclient.Registered, NodeName: "store-17", Project: "retail"}
	m := newScreen(uitest.TrueColor, f)
	s, _ := drive(m, m.Init(), 5)
	v := ansi.Strip(s.View())
	if !strings.Contains(v, "already registered as store-17 (retail)") || !strings.Contains(v, "Deregister Node") {
		t.Errorf("want a pointer to Deregister Node:\n%s", v)
	}
	if len(f.calls) != 0 {
		t.Errorf("a registered node must not start registering: %v", f.calls)
	}
}

func TestResumePendingShowsSameCodeAtOnce(t *testing.T) {
	f := newFake()
	f.state = regclient.State{State: regclient.Pending, UserCode: "WXZB-CDFG", VerificationURI: "https://cp/activate",
		VerificationURIComplete: "https://cp/activate?code=WXZB-CDFG", ExpiresAt: t0.Add(5 * time.Minute)}
	m := newScreen(uitest.TrueColor, f)
	s, _ := drive(m, m.Init(), 3)
	if v := ansi.Strip(s.View()); !strings.Contains(v, "WXZB-CDFG") || !strings.Contains(v, "5:00") {
		t.Errorf("resume must show the saved code and its time left:\n%s", v)
	}
	for _, c := range f.calls {
		if c == "start" || c == "connectivity" {
			t.Errorf("resume must not request a new code: %v", f.calls)
		}
	}
}

func TestInvalidEndpointBlocksContinue(t *testing.T) {
	f := newFake()
	m := newScreen(uitest.TrueColor, f)
	drive(m, m.Init(), 3)
	m.endpoint.SetValue("http://cp.example.com")
	m.validate()
	m.Update(tea.KeyPressMsg{Code: tea.KeyEnter})
	if m.ph != phConfirm || !strings.Contains(ansi.Strip(m.View()), "must use https") {
		t.Errorf("an http endpoint must be refused with a sentence:\n%s", ansi.Strip(m.View()))
	}
	// Choosing a known model fills in its endpoint.
	m.Update(tea.KeyPressMsg{Code: tea.KeyRight})
	if got := m.endpoint.Value(); got != "https://cp.acme.example" || m.epErr != "" {
		t.Errorf("endpoint after choosing EdgeBox 400 = %q (%s)", got, m.epErr)
	}
}

func TestConnectivityFailureShowsHint(t *testing.T) {
	f := newFake()
	f.checks = []Check{{Name: "DNS", OK: true}, {Name: "TLS", OK: false, Detail: "certificate signed by unknown authority (issuer: Corp Proxy CA)",
		Hint: "Add the proxy's CA to site.caCerts."}}
	m := newScreen(uitest.TrueColor, f)
	s, _ := drive(m, m.Init(), 3)
	s, _ = drive(s, func() tea.Msg { return tea.KeyPressMsg{Code: tea.KeyEnter} }, 10)
	v := ansi.Strip(s.View())
	if !strings.Contains(v, "FAIL") || !strings.Contains(v, "Corp Proxy CA") || !strings.Contains(v, "site.caCerts") {
		t.Errorf("want FAIL with the issuer and a hint:\n%s", v)
	}
}

func TestExpiryOffersNewCodeAndCancelAsks(t *testing.T) {
	f := newFake()
	f.outcomes = []Outcome{{Kind: Expired}}
	m := newScreen(uitest.TrueColor, f)
	s, _ := drive(m, m.Init(), 3)
	s, _ = drive(s, func() tea.Msg { return tea.KeyPressMsg{Code: tea.KeyEnter} }, 12)
	if !strings.Contains(ansi.Strip(s.View()), "Press Enter for a new code") {
		t.Fatalf("want the expiry message:\n%s", ansi.Strip(s.View()))
	}
	f.code.UserCode = "ZZZZ-XXXX"
	s, _ = drive(s, func() tea.Msg { return tea.KeyPressMsg{Code: tea.KeyEnter} }, 5)
	if !strings.Contains(ansi.Strip(s.View()), "ZZZZ-XXXX") {
		t.Fatalf("Enter must show a new code:\n%s", ansi.Strip(s.View()))
	}
	// Esc asks; y cancels on the server and goes back.
	s.Update(tea.KeyPressMsg{Code: tea.KeyEscape})
	if !strings.Contains(ansi.Strip(s.View()), "Cancel the registration?") {
		t.Fatal("Esc on the code must ask before cancelling")
	}
	_, shell := drive(s, func() tea.Msg { return tea.KeyPressMsg{Code: 'y', Text: "y"} }, 12)
	if f.calls[len(f.calls)-1] != "cancel" {
		t.Errorf("y must cancel the enrollment: %v", f.calls)
	}
	back := false
	for _, m := range shell {
		if _, ok := m.(ui.BackMsg); ok {
			back = true
		}
	}
	if !back {
		t.Error("after cancelling the screen must go back")
	}
}

func TestBigLetters(t *testing.T) {
	got := Big("BC-", "#")
	want := "#### #  ###\n" // first row: B, C, dash
	if !strings.HasPrefix(got, want[:4]) || len(strings.Split(got, "\n")) != BigHeight {
		t.Errorf("Big = \n%s", got)
	}
	if BigWidth("BCDF-GHJK") != 53 {
		t.Errorf("BigWidth = %d", BigWidth("BCDF-GHJK"))
	}
	for _, r := range "BCDFGHJKLMNPQRSTVWXZ-" {
		if _, ok := font[r]; !ok {
			t.Errorf("font lacks %q", r)
		}
	}
}

var _ = errors.New
