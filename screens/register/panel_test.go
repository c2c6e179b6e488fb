package register

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/nodeconsole/nodeconsole/regclient"
	"github.com/nodeconsole/nodeconsole/tui/ui"
	"github.com/nodeconsole/nodeconsole/tui/uitest"
)

// errParked marks a long-poll that would still be waiting on the server:
// the driver holds its answer instead of delivering it.
var errParked = errors.New("parked")

// panelFlow is a fake Flow for the panel: Start answers from starts (then
// from code), Next from outcomes, then parks. The panel against the real
// control plane is tested in tui (TestHomeQRAgainstControlPlane).
type panelFlow struct {
	state    regclient.State
	code     Code
	starts   []error // errors for the next Start calls; nil entries succeed
	outcomes []Outcome
	calls    []string
	codes    int
}

func (f *panelFlow) Current(context.Context) (Status, error) {
	f.calls = append(f.calls, "current")
	return Status{State: f.state}, nil
}
func (f *panelFlow) Connectivity(context.Context, string) []Check { return nil }
func (f *panelFlow) PrepareKey(context.Context) error             { return nil }
func (f *panelFlow) Update(context.Context, string) (UpdateResult, error) {
	return UpdateResult{Skipped: true}, nil
}
func (f *panelFlow) Start(_ context.Context, req Request) (Code, error) {
	f.calls = append(f.calls, "start")
	if len(f.starts) > 0 {
		err := f.starts[0]
		f.starts = f.starts[1:]
		if err != nil {
			return Code{}, err
		}
	}
	f.codes++
	c := f.code
	if f.codes > 1 { // every new code differs, as the server's do
		c.UserCode = strings.Repeat(string(rune('B'+f.codes)), 4) + "-GHJK"
		c.QRURL += "&n=" + c.UserCode
	}
	return c, nil
}
func (f *panelFlow) Next(context.Context) Outcome {
	f.calls = append(f.calls, "next")
	if len(f.outcomes) == 0 {
		return Outcome{Kind: Waiting, Err: errParked}
	}
	o := f.outcomes[0]
	f.outcomes = f.outcomes[1:]
	return o
}
func (f *panelFlow) Cancel(context.Context) error           { return nil }
func (f *panelFlow) Reboot(context.Context) (string, error) { return "", nil }

// timer is a tea.Tick the panel asked for; the test fires it by hand.
type timer struct {
	d  time.Duration
	fn func(time.Time) tea.Msg
}

// panelRun drives a Panel synchronously: it runs commands, feeds the
// panel's own messages back, and collects what goes to the shell, the
// timers asked for, and a parked long-poll's answer (held back).
type panelRun struct {
	p      *Panel
	shell  []tea.Msg
	timers []timer
	parked []tea.Msg
}

func newPanel(t *testing.T, f *panelFlow, p ui.Profile) *panelRun {
	t.Helper()
	r := &panelRun{}
	r.p = NewPanel(PanelDeps{
		Styles: uitest.Styles(p), Flow: f,
		Request: Request{Endpoint: "https://cp.example.com", Make: "Acme", Model: "EdgeBox 200"},
		Activated: func(name, project string) ui.Screen {
			return NewActivated(Deps{Styles: uitest.Styles(p), Flow: f, Now: func() time.Time { return t0 }}, name, project)
		},
		Now: func() time.Time { return t0 },
		Tick: func(d time.Duration, fn func(time.Time) tea.Msg) tea.Cmd {
			return func() tea.Msg { return timer{d, fn} }
		},
	})
	return r
}

func (r *panelRun) run(cmd tea.Cmd) {
	queue := []tea.Cmd{cmd}
	for n := 0; len(queue) > 0; n++ {
		if n > 1000 {
			panic("panel loops")
		}
		c := queue[0]
		queue = queue[1:]
		if c == nil {
			continue
		}
		switch msg := c().(type) {
		case nil:
		case tea.BatchMsg:
			queue = append(queue, msg...)
		case timer:
			r.timers = append(r.timers, msg)
		case panelOutcomeMsg:
			if msg.out.Err == errParked {
				r.parked = append(r.parked, msg)
				continue
			}
			queue = append(queue, r.p.Update(msg))
		case panelStateMsg, panelCodeMsg, panelRetryMsg:
			queue = append(queue, r.p.Update(msg))
		default:
			r.shell = append(r.shell, msg)
		}
	}
}

// fire runs the last timer asked for.
func (r *panelRun) fire(t *testing.T) time.Duration {
	t.Helper()
	if len(r.timers) == 0 {
		t.Fatal("no timer to fire")
	}
	tm := r.timers[len(r.timers)-1]
	r.timers = r.timers[:len(r.timers)-1]
	r.run(func() tea.Msg { return tm.fn(t0) })
	return tm.d
}

func (r *panelRun) lines() string {
	return ansi.Strip(strings.Join(r.p.Lines(80, 12, false), "\n"))
}

func newPanelFlow() *panelFlow {
	return &panelFlow{
		state: regclient.State{State: regclient.Unregistered},
		code: Code{UserCode: "BCDF-GHJK", VerificationURI: "https://cp.example.com/activate",
			QRURL:     "https://sites.example.com/register?code=BCDF-GHJK&node=edge-4c4c4544004235108052b4c04f4e4a32",
			ExpiresAt: t0.Add(15 * time.Minute)},
	}
}

func TestPanelShowsQRForUnregisteredNode(t *testing.T) {
	f := newPanelFlow()
	r := newPanel(t, f, uitest.TrueColor)
	r.run(r.p.Init())
	if got := strings.Join(f.calls, ","); got != "current,start,next" {
		t.Fatalf("calls = %s, want current,start,next (a long-poll in flight)", got)
	}
	q, err := EncodeQR(f.code.QRURL)
	if err != nil {
		t.Fatal(err)
	}
	qr, qrW := q.Draw(uitest.TrueColor, 80, 22)
	block := r.p.Block(80, 22)
	lines := strings.Split(block, "\n")
	if ansi.Strip(lines[0]) != " Scan to register" || strings.Join(lines[1:], "\n") != strings.Join(qr, "\n") {
		t.Fatalf("block is not the caption and the QR code of %s:\n%s", f.code.QRURL, block)
	}
	if w := ansi.StringWidth(lines[1]); w != qrW || qrW > 45 || len(qr) > 22 {
		t.Errorf("QR is %dx%d cells; it must fit beside the menu at 80x24", qrW, len(qr))
	}
	if got := r.p.Block(qrW-1, 22); got != "" {
		t.Error("a block too narrow for the QR code must be empty")
	}
	if got := r.p.Block(80, len(qr)); got == "" || strings.Contains(got, "Scan") {
		t.Error("with room for the QR code only, the block is the QR code without its caption")
	}
	if got := ansi.Strip(strings.Join(r.p.Lines(100, 12, false), "\n")); !strings.Contains(got, "open https://cp.example.com/activate and enter BCDF-GHJK") {
		t.Errorf("lines at 100 cells = %q, want the URL and the code on one line", got)
	}
	if got := r.lines(); !strings.Contains(got, "open https://cp.example.com/activate\n") || !strings.Contains(got, "and enter BCDF-GHJK") {
		t.Errorf("lines at 80 cells = %q, want the URL whole on a line and the code under it", got)
	}
	if got := ansi.Strip(strings.Join(r.p.Lines(38, 12, true), "\n")); !strings.Contains(got, "\n  https://cp.example.com/activate\n  and enter BCDF-GHJK") {
		t.Errorf("lines beside the QR code = %q", got)
	}
	if len(r.timers) != 1 || r.timers[0].d != 15*time.Minute {
		t.Errorf("timers = %v, want one at the code's expiry (15m)", r.timers)
	}
	var changed bool
	for _, m := range r.shell {
		_, ok := m.(ui.StatusChangedMsg)
		changed = changed || ok
	}
	if !changed {
		t.Error("a new code must refresh the status (it shows the pending code)")
	}
}

// TestPanelASCII: in ASCII the QR code takes two columns per module, so it
// does not fit beside the menu at 80x24; on a large terminal it is drawn
// with reverse-video spaces only, and the lines always carry the code.
func TestPanelASCII(t *testing.T) {
	f := newPanelFlow()
	r := newPanel(t, f, uitest.MonoASCII)
	r.run(r.p.Init())
	if got := r.p.Block(80, 22); got != "" {
		t.Errorf("ASCII profile at 80x24: block = %q, want none", got)
	}
	got := r.p.Block(200, 100)
	if qr := ansi.Strip(strings.SplitN(got, "\n", 2)[1]); got == "" || strings.Trim(qr, " \n") != "" || !strings.Contains(got, "\x1b[7m") {
		t.Errorf("ASCII profile on a large terminal: block = %q, want reverse-video spaces", got)
	}
	if !strings.Contains(r.lines(), "BCDF-GHJK") {
		t.Errorf("ASCII profile: lines %q must carry the code", r.lines())
	}
}

func TestPanelRegisteredShowsNothing(t *testing.T) {
	f := newPanelFlow()
	f.state = regclient.State{State: regclient.Registered, NodeName: "store-1"}
	r := newPanel(t, f, uitest.TrueColor)
	r.run(r.p.Init())
	if got := strings.Join(f.calls, ","); got != "current" {
		t.Errorf("calls = %s; a registered node must not enroll", got)
	}
	if r.p.Block(80, 22) != "" || r.lines() != "" {
		t.Error("a registered node shows no panel")
	}
}

func TestPanelRetriesWithBackoff(t *testing.T) {
	f := newPanelFlow()
	f.starts = []error{errors.New("dial tcp 192.0.2.9:443: connect: connection refused. More detail"), errors.New("again"), nil}
	r := newPanel(t, f, uitest.TrueColor)
	r.run(r.p.Init())
	if got := r.lines(); !strings.Contains(got, "no code: dial tcp 192.0.2.9:443: connect: connection refused.") ||
		!strings.Contains(got, "retrying at") {
		t.Fatalf("lines after a failure = %q", got)
	}
	if r.p.Block(80, 22) != "" {
		t.Error("no QR code without a code")
	}
	if d := r.fire(t); d != 5*time.Second {
		t.Errorf("first retry after %v, want 5s", d)
	}
	if d := r.fire(t); d != 10*time.Second {
		t.Errorf("second retry after %v, want 10s (backoff)", d)
	}
	if got := strings.Join(f.calls, ","); got != "current,start,start,start,next" {
		t.Errorf("calls = %s", got)
	}
	if r.p.Block(80, 22) == "" {
		t.Error("the QR code must show once a code arrived")
	}
}

func TestPanelNewCodeOnExpiry(t *testing.T) {
	t.Run("server says expired", func(t *testing.T) {
		f := newPanelFlow()
		f.outcomes = []Outcome{{Kind: Waiting}, {Kind: Expired}}
		r := newPanel(t, f, uitest.TrueColor)
		r.run(r.p.Init())
		if got := strings.Join(f.calls, ","); got != "current,start,next,next,start,next" {
			t.Fatalf("calls = %s, want a new code after the expiry", got)
		}
		if !strings.Contains(r.lines(), "DDDD-GHJK") {
			t.Errorf("lines = %q, want the new code", r.lines())
		}
	})
	t.Run("expiry timer", func(t *testing.T) {
		f := newPanelFlow()
		r := newPanel(t, f, uitest.TrueColor)
		r.run(r.p.Init())
		old := r.parked[0]
		r.fire(t)
		if got := strings.Join(f.calls, ","); got != "current,start,next,start,next" {
			t.Fatalf("calls = %s, want a new code when the shown one runs out", got)
		}
		// The long-poll of the old code answers late: ignored.
		r.run(func() tea.Msg { return panelOutcomeMsg{gen: old.(panelOutcomeMsg).gen, out: Outcome{Kind: Expired}} })
		if got := strings.Join(f.calls, ","); got != "current,start,next,start,next" {
			t.Errorf("calls = %s: a superseded poll's answer must be ignored", got)
		}
	})
}

func TestPanelPausesWhileAnotherScreenIsOpen(t *testing.T) {
	f := newPanelFlow()
	r := newPanel(t, f, uitest.TrueColor)
	r.run(r.p.Init())
	poll := r.parked[0].(panelOutcomeMsg)
	r.run(r.p.SetActive(false))
	if r.p.cancel != nil {
		t.Error("pausing must cancel the long-poll in flight")
	}
	// Its answer (the node was registered on the Register Node screen)
	// arrives after the pause: the panel must not act on it.
	r.run(func() tea.Msg { return panelOutcomeMsg{gen: poll.gen, out: Outcome{Kind: Registered, NodeName: "x"}} })
	for _, m := range r.shell {
		if _, ok := m.(ui.PushMsg); ok {
			t.Fatal("a paused panel must not open a screen")
		}
	}
	f.calls = nil
	f.state = regclient.State{State: regclient.Registered}
	r.run(r.p.SetActive(true))
	if got := strings.Join(f.calls, ","); got != "current" || r.p.Block(80, 22) != "" {
		t.Errorf("resume after registering elsewhere: calls = %s, block shown = %v", got, r.p.Block(80, 22) != "")
	}
}

func TestPanelActivatedOpensRebootCountdown(t *testing.T) {
	f := newPanelFlow()
	f.outcomes = []Outcome{{Kind: Registered, NodeName: "store-17", Project: "retail"}}
	r := newPanel(t, f, uitest.TrueColor)
	r.run(r.p.Init())
	var pushed ui.Screen
	for _, m := range r.shell {
		if p, ok := m.(ui.PushMsg); ok {
			pushed = p.Screen
		}
	}
	if pushed == nil {
		t.Fatal("activation must open the Registered screen")
	}
	pushed.Update(tea.WindowSizeMsg{Width: 80, Height: 22})
	if v := ansi.Strip(pushed.View()); !strings.Contains(v, "Registered as store-17 (retail)") || !strings.Contains(v, "reboots in 10 s") {
		t.Errorf("pushed screen:\n%s", v)
	}
	if r.p.Block(80, 22) != "" || r.lines() != "" {
		t.Error("a registered node shows no panel")
	}
}

func TestPanelDenied(t *testing.T) {
	f := newPanelFlow()
	f.outcomes = []Outcome{{Kind: Denied}}
	r := newPanel(t, f, uitest.TrueColor)
	r.run(r.p.Init())
	if got := r.lines(); !strings.Contains(got, "denied by an admin; use Register Node to try again") {
		t.Errorf("lines = %q", got)
	}
	if got := strings.Join(f.calls, ","); got != "current,start,next" {
		t.Errorf("calls = %s: a denied node must not ask again by itself", got)
	}
}
