package register

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/nodeconsole/nodeconsole/regclient"
	"github.com/nodeconsole/nodeconsole/tui/ui"
)

// PanelDeps are the home-screen registration panel's dependencies.
type PanelDeps struct {
	Styles *ui.Styles
	// Flow is the panel's own registration client (NewFlow).
	Flow Flow
	// Request is what the node registers as: the configured endpoint and
	// make/model. There is no confirm step: the config is the confirmation.
	Request Request
	// Activated builds the screen pushed once an admin has licensed the
	// node (the reboot countdown); nil pushes nothing.
	Activated func(name, project string) ui.Screen
	// Now returns the time; nil means time.Now.
	Now func() time.Time
	// Tick is tea.Tick (nil); tests record the timers instead.
	Tick func(d time.Duration, fn func(time.Time) tea.Msg) tea.Cmd
	// RetryMin and RetryMax bound the pause between failed attempts to
	// get a code; 0 means 5 s and 2 min.
	RetryMin, RetryMax time.Duration
}

type panelPhase int

const (
	pnIdle       panelPhase = iota // not started, or paused before a code
	pnRequesting                   // asking for a code
	pnShowing                      // a code is shown and awaited
	pnFailed                       // no code; retrying at retryAt
	pnDenied                       // an admin denied it; stopped
	pnDone                         // registered: nothing to show
)

// Panel is the home screen's registration block for an unregistered node
// with site.registrationURL. As Palette does at boot, it requests an
// activation code in the background and shows the QR code of the
// registration URL with the node ID and code, so a site operator can scan
// it without opening a menu. The panel waits for the activation with
// long-polls while the home screen is on top, and pauses while another
// screen is open (Register Node uses the same enrollment). It costs nothing
// while idle: no timers run but the code's expiry.
//
// All I/O runs in tea.Cmds; the panel's messages carry a generation so a
// paused or superseded request is ignored.
type Panel struct {
	d        PanelDeps
	ph       panelPhase
	active   bool
	gen      int
	cancel   context.CancelFunc
	code     Code
	out      Outcome
	errText  string
	retryAt  time.Time
	failures int

	qr qrCache
}

// NewPanel builds the panel; it starts working on Init.
func NewPanel(d PanelDeps) *Panel {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Tick == nil {
		d.Tick = tea.Tick
	}
	if d.RetryMin <= 0 {
		d.RetryMin = 5 * time.Second
	}
	if d.RetryMax <= 0 {
		d.RetryMax = 2 * time.Minute
	}
	return &Panel{d: d, active: true}
}

type panelStateMsg struct {
	gen int
	st  regclient.State
	err error
}

type panelCodeMsg struct {
	gen  int
	code Code
	err  error
}

type panelOutcomeMsg struct {
	gen int
	out Outcome
}

// panelRetryMsg asks for a new code: after a failure, or when the shown
// code expires.
type panelRetryMsg struct{ gen int }

// Init implements ui.Panel: it reads the state on disk, then asks for a code.
func (p *Panel) Init() tea.Cmd { return p.restart() }

// restart drops whatever is in flight and begins again from the state on
// disk (a pending code is resumed without the network).
func (p *Panel) restart() tea.Cmd {
	p.stop()
	if !p.active {
		return nil
	}
	if p.ph == pnShowing {
		// The code may be gone (cancelled on Register Node): never show
		// it again before the state on disk says so.
		p.ph = pnRequesting
	}
	flow, gen := p.d.Flow, p.gen
	ctx, cancel := p.ctx(DefaultTimeouts.State)
	return func() tea.Msg {
		defer cancel()
		st, err := flow.Current(ctx)
		return panelStateMsg{gen, st.State, err}
	}
}

// stop cancels the request in flight; its answer will be ignored.
func (p *Panel) stop() {
	p.gen++
	if p.cancel != nil {
		p.cancel()
		p.cancel = nil
	}
}

// ctx is a context for the next request, cancelled by stop.
func (p *Panel) ctx(timeout time.Duration) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	p.cancel = cancel
	return ctx, cancel
}

// SetActive implements ui.Panel: the home screen pauses the panel while
// another screen is open and resumes it when it is on top again.
func (p *Panel) SetActive(active bool) tea.Cmd {
	if active == p.active {
		return nil
	}
	p.active = active
	if !active {
		p.stop()
		return nil
	}
	return p.restart()
}

// Update implements ui.Panel.
func (p *Panel) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case ui.StatusChangedMsg:
		// Registered or deregistered elsewhere (token, Deregister Node):
		// look again, unless a code is on screen and still good.
		if p.active && p.ph != pnShowing && p.ph != pnRequesting {
			return p.restart()
		}
	case panelStateMsg:
		if msg.gen != p.gen {
			return nil
		}
		if msg.err == nil && msg.st.State == regclient.Registered {
			p.ph = pnDone
			return nil
		}
		return p.request()
	case panelCodeMsg:
		if msg.gen != p.gen {
			return nil
		}
		p.cancel = nil
		if errors.Is(msg.err, regclient.ErrRegistered) {
			p.ph = pnDone
			return nil
		}
		if msg.err != nil {
			return p.failed(msg.err)
		}
		p.ph, p.code, p.failures, p.errText = pnShowing, msg.code, 0, ""
		p.out = Outcome{Kind: Waiting}
		gen := p.gen
		expire := p.d.Tick(max(msg.code.ExpiresAt.Sub(p.d.Now()), time.Second), func(time.Time) tea.Msg { return panelRetryMsg{gen} })
		return tea.Batch(ui.Audit("registration QR shown", "code", msg.code.UserCode), ui.StatusChanged, p.next(), expire)
	case panelOutcomeMsg:
		if msg.gen != p.gen {
			return nil
		}
		p.cancel = nil
		p.out = msg.out
		switch msg.out.Kind {
		case Waiting, Retrying:
			return p.next()
		case Registered:
			p.stop()
			p.ph = pnDone
			cmds := []tea.Cmd{ui.Audit("registered", "name", msg.out.NodeName, "project", msg.out.Project, "via", "home QR"), ui.StatusChanged}
			if p.d.Activated != nil {
				cmds = append(cmds, ui.Push(p.d.Activated(msg.out.NodeName, msg.out.Project)))
			}
			return tea.Batch(cmds...)
		case Expired:
			return p.request() // a new code, same key
		case Denied:
			p.stop()
			p.ph = pnDenied
			return tea.Batch(ui.Audit("registration denied", "via", "home QR"), ui.StatusChanged)
		default:
			return p.failed(msg.out.Err)
		}
	case panelRetryMsg:
		if msg.gen != p.gen || !p.active {
			return nil
		}
		return p.request()
	}
	return nil
}

// request asks the control plane for a code (or resumes the saved one).
func (p *Panel) request() tea.Cmd {
	p.stop()
	p.ph = pnRequesting
	flow, req, gen := p.d.Flow, p.d.Request, p.gen
	ctx, cancel := p.ctx(DefaultTimeouts.Start)
	return func() tea.Msg {
		defer cancel()
		c, err := flow.Start(ctx, req)
		return panelCodeMsg{gen, c, err}
	}
}

// next does one waiting step (a long-poll).
func (p *Panel) next() tea.Cmd {
	flow, gen := p.d.Flow, p.gen
	ctx, cancel := p.ctx(DefaultTimeouts.Poll)
	return func() tea.Msg {
		defer cancel()
		return panelOutcomeMsg{gen, flow.Next(ctx)}
	}
}

// failed shows why there is no code and tries again later, backing off.
func (p *Panel) failed(err error) tea.Cmd {
	p.stop()
	p.ph = pnFailed
	p.failures++
	d := min(p.d.RetryMax, p.d.RetryMin<<min(p.failures-1, 10))
	p.retryAt = p.d.Now().Add(d)
	p.errText = sentence(err)
	gen := p.gen
	return tea.Batch(ui.Audit("registration QR: no code", "err", p.errText, "retryIn", d.String()),
		p.d.Tick(d, func(time.Time) tea.Msg { return panelRetryMsg{gen} }))
}

// Block implements ui.Panel: the QR code with its caption, at most w cells
// wide and h lines high, or "" when there is no code or it does not fit
// (Lines has the code and URL then).
func (p *Panel) Block(w, h int) string {
	if p.ph != pnShowing || p.code.QRURL == "" {
		return ""
	}
	lines, qrW := p.qr.draw(p.code.QRURL, p.d.Styles.Profile, w, h)
	if lines == nil {
		return ""
	}
	if len(lines) < h {
		title := p.d.Styles.Title.Render(ansi.Truncate(" Scan to register", qrW, ""))
		lines = append([]string{title}, lines...)
	}
	return strings.Join(lines, "\n")
}

// Lines implements ui.Panel: the registration state in a few lines of at
// most w cells for the home screen's status, labelled like its other
// rows (label is the label column's width).
func (p *Panel) Lines(w, label int, blockShown bool) []string {
	st := p.d.Styles
	kv := func(l, v string) string {
		return " " + st.Label.Render(fmt.Sprintf("%-*s", max(label, len(l)+1), l)) + v
	}
	pad := strings.Repeat(" ", label+1)
	var out []string
	switch p.ph {
	case pnRequesting:
		out = []string{kv("Register", st.Muted.Render("requesting a code"+st.Glyphs.Ellipsis))}
	case pnShowing:
		code := st.Value.Render(p.code.UserCode)
		until := st.Muted.Render("(until " + p.code.ExpiresAt.Local().Format("15:04") + ")")
		if blockShown {
			// The column beside the QR code is narrow: the URL gets a line
			// of its own so that it is never cut.
			out = []string{kv("Register", "scan the QR code, or open"),
				"  " + p.code.VerificationURI,
				"  and enter " + code + " " + until}
		} else {
			one := kv("Register", "open "+p.code.VerificationURI+" and enter "+code+" "+until)
			if lipgloss.Width(one) <= w {
				out = []string{one}
			} else {
				out = []string{kv("Register", "open "+p.code.VerificationURI), pad + "and enter " + code + " " + until}
			}
		}
		if fp := p.code.KeyFingerprint; fp != "" {
			// The admin compares it with the one Find shows in the portal.
			out = append(out, kv("Key", fp))
		}
	case pnFailed:
		out = []string{kv("Register", st.Warn.Render("no code: "+p.errText)),
			pad + st.Muted.Render("retrying at "+p.retryAt.Local().Format("15:04:05"))}
	case pnDenied:
		out = []string{kv("Register", st.Warn.Render("denied by an admin; use Register Node to try again"))}
	}
	for i, l := range out {
		if lipgloss.Width(l) > w {
			out[i] = ansi.Truncate(l, w, st.Glyphs.Ellipsis)
		}
	}
	return out
}
