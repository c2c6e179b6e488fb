package register

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/nodeconsole/nodeconsole/regclient"
	"github.com/nodeconsole/nodeconsole/tui/ui"
	"github.com/nodeconsole/nodeconsole/tui/uitest"
)

var t0 = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)

// fakeFlow answers from fields; the real flow is tested against the real
// control plane in flow_test.go.
type fakeFlow struct {
	mu       sync.Mutex
	state    regclient.State
	checks   []Check
	code     Code
	outcomes []Outcome
	startErr error
	keyErr   error
	calls    []string
}

func (f *fakeFlow) call(c string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, c)
}

func (f *fakeFlow) called() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return strings.Join(f.calls, ",")
}

func (f *fakeFlow) Current(context.Context) (Status, error) {
	st := Status{State: f.state}
	if f.state.State == regclient.Pending {
		st.Code = &Code{UserCode: f.state.UserCode, VerificationURI: f.state.VerificationURI,
			VerificationURIComplete: f.state.VerificationURIComplete, ExpiresAt: f.state.ExpiresAt,
			QRURL: f.state.VerificationURIComplete}
	}
	return st, nil
}
func (f *fakeFlow) Connectivity(context.Context, string) []Check {
	f.call("connectivity")
	return f.checks
}
func (f *fakeFlow) PrepareKey(context.Context) error { f.call("key"); return f.keyErr }
func (f *fakeFlow) Update(context.Context, string) (UpdateResult, error) {
	f.call("update")
	return UpdateResult{Skipped: true}, nil
}
func (f *fakeFlow) Start(context.Context, Request) (Code, error) {
	f.call("start")
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.code, f.startErr
}
func (f *fakeFlow) Next(context.Context) Outcome {
	f.call("next")
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.outcomes) == 0 {
		return Outcome{Kind: Waiting, LastCheck: t0}
	}
	o := f.outcomes[0]
	f.outcomes = f.outcomes[1:]
	return o
}
func (f *fakeFlow) Cancel(context.Context) error { f.call("cancel"); return nil }
func (f *fakeFlow) Reboot(context.Context) (string, error) {
	f.call("reboot")
	return "Reboot simulated (demo).", nil
}

// parked is a fakeFlow whose Next waits for its context, as a long-poll
// does, so that a test can look at the code screen while it waits.
type parked struct {
	*fakeFlow
	d *uitest.Driver
}

func (f *parked) Next(ctx context.Context) Outcome {
	f.mu.Lock()
	more := len(f.outcomes) > 0
	f.mu.Unlock()
	if more {
		return f.fakeFlow.Next(ctx)
	}
	f.call("next")
	f.d.Park(func() { <-ctx.Done() })
	return Outcome{Kind: Failed, Err: ctx.Err()}
}

func newFake() *fakeFlow {
	return &fakeFlow{
		checks: []Check{{Name: "DNS", OK: true}, {Name: "TCP", OK: true}, {Name: "TLS", OK: true}, {Name: "clock", OK: true}},
		code: Code{UserCode: "BCDF-GHJK", VerificationURI: "https://cp.example.com/activate",
			VerificationURIComplete: "https://cp.example.com/activate?code=BCDF-GHJK",
			QRURL:                   "https://cp.example.com/activate?code=BCDF-GHJK", ExpiresAt: t0.Add(15 * time.Minute),
			KeyFingerprint: "3f2a 9c01 77be 0d4e a1c2"},
	}
}

// newDriver builds the screen with flow f at 80x22 and runs its Init.
func newDriver(t *testing.T, p ui.Profile, f Flow) (*uitest.Driver, *Model) {
	t.Helper()
	var d *uitest.Driver
	m := New(Deps{Styles: uitest.Styles(p), Flow: f, Now: func() time.Time { return t0 },
		Choices:  []Choice{{Make: "Acme", Model: "EdgeBox 200"}, {Make: "Acme", Model: "EdgeBox 400", Endpoint: "https://cp.acme.example"}},
		Endpoint: "https://cp.example.com",
		Tick:     func(dur time.Duration, fn func(time.Time) tea.Msg) tea.Cmd { return d.Tick(dur, fn) }})
	d = uitest.NewScreenDriver(t, m)
	if p, ok := f.(*parked); ok {
		p.d = d
	}
	d.Send(tea.WindowSizeMsg{Width: 80, Height: 22})
	d.Init(m.Init())
	return d, m
}

func TestGolden(t *testing.T) {
	for _, p := range []struct {
		name string
		prof ui.Profile
	}{{"truecolor", uitest.TrueColor}, {"mono", uitest.MonoASCII}} {
		t.Run("confirm_"+p.name, func(t *testing.T) {
			d, _ := newDriver(t, p.prof, newFake())
			golden.RequireEqual(t, uitest.Render(d.View(), p.prof.Color))
		})
		t.Run("code_"+p.name, func(t *testing.T) {
			f := newFake()
			f.outcomes = []Outcome{{Kind: Waiting, LastCheck: t0.Add(3 * time.Second)}}
			d, m := newDriver(t, p.prof, &parked{fakeFlow: f})
			d.Keys("enter")
			if m.ph != phCode {
				t.Fatalf("phase = %d, want the code; calls %v", m.ph, f.called())
			}
			golden.RequireEqual(t, uitest.Render(d.View(), p.prof.Color))
			d.Keys("esc", "y") // ends the parked poll
			d.Drain()
		})
		// 40x12 terminal: the code and the time left as plain text, no big
		// letters that do not fit.
		t.Run("code_40x10_"+p.name, func(t *testing.T) {
			f := newFake()
			f.outcomes = []Outcome{{Kind: Waiting, LastCheck: t0.Add(3 * time.Second)}}
			d, m := newDriver(t, p.prof, &parked{fakeFlow: f})
			d.Send(tea.WindowSizeMsg{Width: 40, Height: 10})
			d.Keys("enter")
			if m.ph != phCode {
				t.Fatalf("phase = %d, want the code", m.ph)
			}
			v := d.Text()
			for _, want := range []string{"Code       BCDF-GHJK", "Time left  15:00", "Activate", "https://cp.example.com/activate"} {
				if !strings.Contains(v, want) {
					t.Errorf("40x10 code screen lacks %q:\n%s", want, v)
				}
			}
			if strings.Contains(v, "█") || strings.Contains(v, "#") {
				t.Errorf("big letters that do not fit:\n%s", v)
			}
			golden.RequireEqual(t, uitest.Render(d.View(), p.prof.Color))
			d.Keys("esc", "y")
			d.Drain()
		})
		t.Run("activated_"+p.name, func(t *testing.T) {
			f := newFake()
			f.outcomes = []Outcome{{Kind: Registered, NodeName: "store-17", Project: "retail"}}
			d, _ := newDriver(t, p.prof, f)
			d.Keys("enter")
			golden.RequireEqual(t, uitest.Render(d.View(), p.prof.Color))
		})
		t.Run("failed_"+p.name, func(t *testing.T) {
			f := newFake()
			f.startErr = &regclient.Error{Op: "enroll", Status: 503, Message: "the control plane is unavailable"}
			d, _ := newDriver(t, p.prof, f)
			d.Keys("enter")
			golden.RequireEqual(t, uitest.Render(d.View(), p.prof.Color))
		})
	}
}

func TestCodeScreenShowsEverything(t *testing.T) {
	f := newFake()
	d, _ := newDriver(t, uitest.TrueColor, &parked{fakeFlow: f})
	d.Keys("enter")
	v := d.Text()
	for _, want := range []string{"BCDF-GHJK", "https://cp.example.com/activate", "Time left  15:00", "Waiting for activation", "█",
		"Key        3f2a 9c01 77be 0d4e a1c2"} {
		if !strings.Contains(v, want) {
			t.Errorf("code screen lacks %q:\n%s", want, v)
		}
	}
	if got := f.called(); got != "connectivity,key,update,start,next" {
		t.Errorf("steps ran as %v", got)
	}
	if lines := strings.Split(d.View(), "\n"); len(lines) > 22 {
		t.Errorf("code screen has %d lines, more than the 22 available", len(lines))
	}
	d.Keys("esc", "y")
	d.Drain()
}

func TestAlreadyRegistered(t *testing.T) {
	f := newFake()
	f.state = regclient.State{State: regclient.Registered, NodeName: "store-17", Project: "retail"}
	d, _ := newDriver(t, uitest.TrueColor, f)
	v := d.Text()
	if !strings.Contains(v, "already registered as store-17 (retail)") || !strings.Contains(v, "Deregister Node") {
		t.Errorf("want a pointer to Deregister Node:\n%s", v)
	}
	if f.called() != "" {
		t.Errorf("a registered node must not start registering: %v", f.called())
	}
}

func TestResumePendingShowsSameCodeAtOnce(t *testing.T) {
	f := newFake()
	f.state = regclient.State{State: regclient.Pending, UserCode: "WXZB-CDFG", VerificationURI: "https://cp/activate",
		VerificationURIComplete: "https://cp/activate?code=WXZB-CDFG", ExpiresAt: t0.Add(5 * time.Minute)}
	d, _ := newDriver(t, uitest.TrueColor, &parked{fakeFlow: f})
	if v := d.Text(); !strings.Contains(v, "WXZB-CDFG") || !strings.Contains(v, "5:00") {
		t.Errorf("resume must show the saved code and its time left:\n%s", v)
	}
	if got := f.called(); got != "next" {
		t.Errorf("resume must only wait, not request a new code: %v", got)
	}
	d.Keys("esc", "y")
	d.Drain()
}

func TestInvalidEndpointBlocksContinue(t *testing.T) {
	d, m := newDriver(t, uitest.TrueColor, newFake())
	m.endpoint.SetValue("http://cp.example.com")
	m.validate()
	d.Keys("enter")
	if m.ph != phConfirm || !strings.Contains(d.Text(), "must use https") {
		t.Errorf("an http endpoint must be refused with a sentence:\n%s", d.Text())
	}
	// Choosing a known model fills in its endpoint.
	d.Keys("right")
	if got := m.endpoint.Value(); got != "https://cp.acme.example" || m.epErr != "" {
		t.Errorf("endpoint after choosing EdgeBox 400 = %q (%s)", got, m.epErr)
	}
	// Backspace edits the endpoint; it does not leave the screen.
	d.Keys("tab", "backspace")
	if got := m.endpoint.Value(); len(got) != len("https://cp.acme.example")-1 || uitest.Sent[ui.BackMsg](d) {
		t.Errorf("backspace in the endpoint: %q, back sent %v", got, uitest.Sent[ui.BackMsg](d))
	}
}

func TestExpiryOffersNewCodeAndCancelAsks(t *testing.T) {
	f := newFake()
	f.outcomes = []Outcome{{Kind: Expired}}
	d, _ := newDriver(t, uitest.TrueColor, &parked{fakeFlow: f})
	d.Keys("enter")
	if !strings.Contains(d.Text(), "The activation code expired") || !strings.Contains(d.Text(), "enter: new code") {
		t.Fatalf("want the expiry message:\n%s", d.Text())
	}
	f.mu.Lock()
	f.code.UserCode = "ZZZZ-XXXX"
	f.mu.Unlock()
	d.Keys("enter")
	if !strings.Contains(d.Text(), "ZZZZ-XXXX") {
		t.Fatalf("Enter must show a new code:\n%s", d.Text())
	}
	// Esc asks; y cancels on the server and goes back.
	d.Keys("esc")
	if !strings.Contains(d.Text(), "Cancel the registration?") || !strings.Contains(d.Text(), "y: yes, cancel") {
		t.Fatalf("Esc on the code must ask before cancelling:\n%s", d.Text())
	}
	d.Keys("y")
	if c := f.called(); !strings.HasSuffix(c, ",cancel") {
		t.Errorf("y must cancel the enrollment: %v", c)
	}
	if !uitest.Sent[ui.BackMsg](d) {
		t.Error("after cancelling the screen must go back")
	}
}

// TestTicksCountDownAndExpire: the time left is redrawn on each tick and
// the code expires when its time is up.
func TestTicksCountDownAndExpire(t *testing.T) {
	now := t0
	f := newFake()
	var d *uitest.Driver
	pf := &parked{fakeFlow: f}
	m := New(Deps{Styles: uitest.Styles(uitest.TrueColor), Flow: pf, Now: func() time.Time { return now },
		Choices: []Choice{{Make: "Acme", Model: "EdgeBox 200"}}, Endpoint: "https://cp.example.com",
		Tick: func(dur time.Duration, fn func(time.Time) tea.Msg) tea.Cmd { return d.Tick(dur, fn) }})
	d = uitest.NewScreenDriver(t, m)
	pf.d = d
	d.Init(m.Init())
	d.Keys("enter")
	now = now.Add(61 * time.Second)
	if d.Fire() != 1 || !strings.Contains(d.Text(), "Time left  13:59") {
		t.Fatalf("after a tick 61 s later:\n%s", d.Text())
	}
	now = f.code.ExpiresAt
	d.Fire()
	if m.ph != phExpired || d.Timers() != 0 {
		t.Errorf("phase %d with %d timers, want expired and no timer", m.ph, d.Timers())
	}
	d.Drain() // the expiry cancelled the parked poll
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

// TestConfirmFocusStartsOnAChangeableField: with one make/model (nothing to
// choose) the confirm step starts on the endpoint; with several, on the
// choice.
func TestConfirmFocusStartsOnAChangeableField(t *testing.T) {
	one := New(Deps{Styles: uitest.Styles(uitest.TrueColor), Choices: []Choice{{Make: "Acme", Model: "EdgeBox 200"}}})
	if one.focus != fieldEndpoint {
		t.Errorf("one choice: focus %v; want the endpoint field", one.focus)
	}
	two := New(Deps{Styles: uitest.Styles(uitest.TrueColor), Choices: []Choice{{Make: "Acme", Model: "EdgeBox 200"}, {Make: "Acme", Model: "EdgeBox 400"}}})
	if two.focus != fieldModel {
		t.Errorf("two choices: focus %v; want the make/model choice", two.focus)
	}
}
