// Package tui is the console shell: the root model with its screen stack,
// the header and footer, the error banner and the global keys. Screens live
// in screens/<name> and plug in through ui.Screen.
package tui

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/nodeconsole/nodeconsole/tui/ui"
)

// Options configure the shell.
type Options struct {
	Styles *ui.Styles
	// Home is the bottom of the stack; it is never popped.
	Home ui.Screen
	// Node labels the header until a ui.HeaderMsg replaces it.
	Node string
	// Demo marks the header DEMO.
	Demo bool
	// Notices are shown under the header from the start (read-only state
	// dir, unknown TERM, ...), keyed as in ui.NoticeMsg.
	Notices map[string]string
	// Log receives audit lines and the detail behind error banners.
	Log *slog.Logger
	// Startup are commands run once at start, beside the home screen's
	// (automatic token registration).
	Startup []tea.Cmd
	// Size is the size to draw at until the terminal reports one (--size,
	// or COLUMNS x LINES on a serial line); zero means DefaultSize.
	Size Size
	// IdleLogout logs the operator out after this long without a key
	// (console.idleLogout); 0 never does. See idle.go.
	IdleLogout time.Duration
	// Busy reports work that must not be cut short by an idle log-out
	// besides a network trial (which the screens' guards report): a
	// registration waiting for activation. Nil: none.
	Busy func() bool
	// Now is the clock (nil: time.Now).
	Now func() time.Time
	// Renew, when set, renews the node certificate in the background
	// (renew.go): at start, then every RenewEvery (default hourly).
	Renew      RenewFunc
	RenewEvery time.Duration
}

// App is the root tea.Model.
type App struct {
	st      *ui.Styles
	stack   []ui.Screen
	node    string
	demo    bool
	log     *slog.Logger
	keys    ui.GlobalKeys
	help    help.Model
	width   int
	height  int
	banner  string
	notices []notice
	renew   renewer
	// confirmQuit is set while "Log out? y/n" is asked.
	confirmQuit bool
	// guards are asked before logging out (a network change on trial).
	guards map[string]ui.QuitGuard
	// undoing counts the guards still undoing their work on the way out.
	undoing   int
	undoFails []string
	quitting  bool
	startup   []tea.Cmd
	idle      idleState
}

// guardUndoTimeout bounds one guard's Undo on the way out.
const guardUndoTimeout = 2 * time.Minute

// guardUndoneMsg is the answer of a guard's Undo.
type guardUndoneMsg struct {
	key string
	err error
}

type notice struct{ key, text string }

// New builds the shell.
func New(o Options) *App {
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := help.New()
	h.Styles = help.Styles{
		ShortKey: o.Styles.HelpKey, ShortDesc: o.Styles.HelpDesc, ShortSeparator: o.Styles.Muted,
		FullKey: o.Styles.HelpKey, FullDesc: o.Styles.HelpDesc, FullSeparator: o.Styles.Muted,
		Ellipsis: o.Styles.Muted,
	}
	h.Ellipsis = o.Styles.Glyphs.Ellipsis
	if o.Styles.Profile.ASCII {
		h.ShortSeparator = " | "
	}
	a := &App{st: o.Styles, stack: []ui.Screen{o.Home}, node: o.Node, demo: o.Demo, log: log,
		keys: ui.DefaultGlobalKeys(), help: h, width: DefaultSize.Width, height: DefaultSize.Height, startup: o.Startup,
		guards: map[string]ui.QuitGuard{}, idle: newIdle(o)}
	if o.Size.Width > 0 && o.Size.Height > 0 {
		a.width, a.height = o.Size.Width, o.Size.Height
	}
	for k, v := range o.Notices {
		a.setNotice(k, v)
	}
	a.renew = newRenewer(o.Renew, o.RenewEvery)
	a.takeGuard(o.Home)
	return a
}

// takeGuard keeps the QuitGuard of a screen that has one.
func (a *App) takeGuard(s ui.Screen) {
	if g, ok := s.(ui.Guarded); ok {
		k, guard := g.QuitGuard()
		a.guards[k] = guard
	}
}

// Init implements tea.Model.
func (a *App) Init() tea.Cmd {
	return tea.Batch(append([]tea.Cmd{a.top().Init(), a.idle.arm(a.idle.after), a.renew.run()}, a.startup...)...)
}

func (a *App) top() ui.Screen { return a.stack[len(a.stack)-1] }

func (a *App) capturing() bool {
	c, ok := a.top().(ui.InputCapturer)
	return ok && c.CapturesInput()
}

// Update implements tea.Model.
func (a *App) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		a.width, a.height = msg.Width, msg.Height
		return a, a.resizeTop()
	case tea.KeyPressMsg:
		a.idle.last = a.idle.now()
		return a.key(msg)
	case idleMsg:
		return a.idleCheck()
	case tea.PasteMsg:
		if !a.capturing() {
			return a, nil // a pasted blob must not drive the menus
		}
	case tea.InterruptMsg:
		return a.askQuit()
	case tea.SuspendMsg:
		return a, nil
	case ui.PushMsg:
		a.banner = ""
		a.stack = append(a.stack, msg.Screen)
		a.takeGuard(msg.Screen)
		a.log.Info("screen opened", "screen", msg.Screen.Title())
		return a, tea.Batch(msg.Screen.Init(), a.resizeTop())
	case ui.BackMsg:
		a.pop()
		return a, tea.Batch(a.resizeTop(), a.reveal())
	case ui.HomeMsg:
		for len(a.stack) > 1 {
			a.pop()
		}
		return a, tea.Batch(a.resizeTop(), a.reveal())
	case ui.QuitMsg:
		if len(a.quitWarnings()) > 0 {
			// Something is at stake: the operator reads it first.
			return a.askQuit()
		}
		return a.leave()
	case guardUndoneMsg:
		return a.onUndone(msg)
	case ui.ErrorMsg:
		a.banner = msg.Text
		a.log.Error(msg.Text, "err", msg.Err)
		return a, a.resizeTop()
	case ui.AuditMsg:
		a.log.Info(msg.Action, append([]any{"audit", true}, msg.Attrs...)...)
		return a, nil
	case ui.HeaderMsg:
		a.node = msg.Node
		return a, nil
	case ui.NoticeMsg:
		a.setNotice(msg.Key, msg.Text)
		return a, a.resizeTop()
	case renewTickMsg:
		return a, a.renew.run()
	case renewDoneMsg:
		return a, a.renew.done(msg, a.log)
	}
	return a.forward(msg)
}

// forward sends msg to every screen on the stack: screens below the top
// still receive their command results (a status refresh, a poll answer), but
// only the top one sees keys.
func (a *App) forward(msg tea.Msg) (tea.Model, tea.Cmd) {
	var cmds []tea.Cmd
	for i, s := range a.stack {
		ns, cmd := s.Update(msg)
		a.stack[i] = ns
		cmds = append(cmds, cmd)
	}
	return a, tea.Batch(cmds...)
}

func (a *App) key(k tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	if a.undoing > 0 {
		if key.Matches(k, a.keys.Redraw) {
			return a, tea.ClearScreen
		}
		return a, nil // logging out: wait for the guards
	}
	if a.confirmQuit {
		a.confirmQuit = false
		if key.Matches(k, a.keys.LogOut) {
			return a.leave()
		}
		return a, a.resizeTop()
	}
	switch {
	case key.Matches(k, a.keys.Inert):
		return a, nil
	case key.Matches(k, a.keys.Redraw):
		return a, tea.ClearScreen
	case key.Matches(k, a.keys.Quit):
		if len(a.stack) > 1 {
			a.pop()
			return a, tea.Batch(a.resizeTop(), a.reveal())
		}
		return a.askQuit()
	case key.Matches(k, a.keys.Help) && !a.capturing():
		a.help.ShowAll = !a.help.ShowAll
		return a, a.resizeTop()
	}
	if a.help.ShowAll && !a.capturing() {
		// Any key closes the full help first.
		a.help.ShowAll = false
		return a, a.resizeTop()
	}
	a.banner = ""
	top := len(a.stack) - 1
	ns, cmd := a.stack[top].Update(k)
	a.stack[top] = ns
	return a, cmd
}

func (a *App) askQuit() (tea.Model, tea.Cmd) {
	if a.undoing > 0 {
		return a, nil
	}
	a.confirmQuit = true
	return a, a.resizeTop() // a warning line may take a body line
}

// quitWarnings are the sentences of the guards with something at stake,
// in key order.
func (a *App) quitWarnings() []string {
	keys := make([]string, 0, len(a.guards))
	for k := range a.guards {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var out []string
	for _, k := range keys {
		if w := a.guards[k].QuitWarning(); w != "" {
			out = append(out, w)
		}
	}
	return out
}

// leave logs out: first every guard with something at stake undoes it (in
// a tea.Cmd each), then the program quits.
func (a *App) leave() (tea.Model, tea.Cmd) {
	var cmds []tea.Cmd
	for k, g := range a.guards {
		if g.QuitWarning() == "" {
			continue
		}
		a.log.Info("log out: undoing", "audit", true, "guard", k, "what", g.QuitWarning())
		cmds = append(cmds, func() tea.Msg {
			ctx, cancel := context.WithTimeout(context.Background(), guardUndoTimeout)
			defer cancel()
			return guardUndoneMsg{key: k, err: g.Undo(ctx)}
		})
	}
	if len(cmds) == 0 {
		return a.quit()
	}
	a.undoing, a.undoFails = len(cmds), nil
	return a, tea.Batch(append(cmds, a.resizeTop())...)
}

func (a *App) onUndone(msg guardUndoneMsg) (tea.Model, tea.Cmd) {
	if a.undoing == 0 {
		return a, nil
	}
	a.undoing--
	if msg.err != nil {
		a.log.Error("log out: undoing failed", "guard", msg.key, "err", msg.err)
		a.undoFails = append(a.undoFails, msg.key)
	}
	if a.undoing > 0 {
		return a, nil
	}
	if len(a.undoFails) > 0 {
		// Stay: the operator must see that the node is not as it was.
		a.banner = "Restoring the previous settings failed; check them, then log out again."
		return a, a.resizeTop()
	}
	return a.quit()
}

func (a *App) quit() (tea.Model, tea.Cmd) {
	a.log.Info("log out", "audit", true)
	a.quitting = true
	return a, tea.Quit
}

func (a *App) pop() {
	if len(a.stack) > 1 {
		a.log.Info("screen closed", "screen", a.top().Title())
		if c, ok := a.top().(ui.Closer); ok {
			c.Closed()
		}
		a.stack = a.stack[:len(a.stack)-1]
		a.banner = ""
	}
}

// reveal tells the screen now on top that it is visible again.
func (a *App) reveal() tea.Cmd {
	if r, ok := a.top().(ui.Revealer); ok {
		return r.Revealed()
	}
	return nil
}

func (a *App) setNotice(k, text string) {
	for i, n := range a.notices {
		if n.key == k {
			if text == "" {
				a.notices = append(a.notices[:i], a.notices[i+1:]...)
			} else {
				a.notices[i].text = text
			}
			return
		}
	}
	if text != "" {
		a.notices = append(a.notices, notice{k, text})
	}
}

// wrapped wraps text to w cells with a space before each line, at most
// max lines: a closing parenthetical goes first, then a leading label,
// then the last line ends with an ellipsis when text goes on.
func (a *App) wrapped(text string, w, max int) []string {
	lines := ui.Wrap(text, w-2)
	// Before the text itself is cut, a closing parenthetical (a pointer to
	// more: "About this node lists all") gives way, then a leading label
	// ("Config: ").
	if i := strings.LastIndex(text, " ("); len(lines) > max && i > 0 && strings.HasSuffix(strings.TrimSuffix(text, "."), ")") {
		text = text[:i] + "."
		lines = ui.Wrap(text, w-2)
	}
	if label, rest, ok := strings.Cut(text, ": "); len(lines) > max && ok && !strings.ContainsAny(label, " /") {
		lines = ui.Wrap(rest, w-2)
	}
	if len(lines) > max {
		lines = lines[:max]
		lines[max-1] = ansi.Truncate(lines[max-1], w-3, "") + a.st.Glyphs.Ellipsis
	}
	for i := range lines {
		lines[i] = " " + lines[i]
	}
	return lines
}

// maxWrap is how many lines a notice or the banner may take: 3, or 2 on a
// small terminal, so the screen keeps its room.
func (a *App) maxWrap() int {
	if a.height < 20 {
		return 2
	}
	return 3
}

// noticeLines are the notices under the header, each wrapped rather than
// cut (a config problem names a file, a line and a key).
func (a *App) noticeLines(w int) []string {
	var out []string
	for _, n := range a.notices {
		out = append(out, a.wrapped(n.text, w, a.maxWrap())...)
	}
	return out
}

// bannerLines are the error banner, wrapped; none without one.
func (a *App) bannerLines(w int) []string {
	if a.banner == "" {
		return nil
	}
	return a.wrapped(a.banner, w, a.maxWrap())
}

// bodySize is the area left for the screen.
func (a *App) bodySize() (int, int) {
	h := a.height - 2 - len(a.noticeLines(a.width)) // header, footer
	if a.confirmQuit {
		h -= len(a.quitWarnings()) // the warnings above the question
	}
	h -= len(a.bannerLines(a.width))
	if a.help.ShowAll {
		h -= a.fullHelpHeight() - 1
	}
	return a.width, max(h, 0)
}

func (a *App) resizeTop() tea.Cmd {
	w, h := a.bodySize()
	top := len(a.stack) - 1
	ns, cmd := a.stack[top].Update(tea.WindowSizeMsg{Width: w, Height: h})
	a.stack[top] = ns
	return cmd
}

// View implements tea.Model.
func (a *App) View() tea.View {
	v := tea.NewView(a.render())
	v.AltScreen = true
	return v
}

// MinWidth and MinHeight are the smallest terminal the shell draws in.
const (
	MinWidth  = 20
	MinHeight = 6
)

func (a *App) render() string {
	if a.quitting {
		return ""
	}
	w, h := a.width, a.height
	if w < MinWidth || h < MinHeight {
		return clip(fmt.Sprintf("Enlarge the window: need %dx%d.", MinWidth, MinHeight), w, h)
	}
	var b strings.Builder
	b.WriteString(a.header(w))
	for _, l := range a.noticeLines(w) {
		b.WriteString("\n" + fit(a.st.Notice.Render(l), w))
	}
	for _, l := range a.bannerLines(w) {
		b.WriteString("\n" + a.st.Banner.Render(fit(l+" ", w)))
	}
	bw, bh := a.bodySize()
	body := a.top().View()
	b.WriteString("\n" + clip(body, bw, bh))
	b.WriteString("\n" + a.footer(w))
	return b.String()
}

func (a *App) header(w int) string {
	left := " nodeconsole"
	if t := a.top().Title(); len(a.stack) > 1 && t != "" {
		left += " " + a.st.Glyphs.Arrow + " " + t
	}
	right := ""
	if a.node != "" {
		right = a.node + " "
	}
	if a.st.Profile.Baud > 0 {
		right = fmt.Sprintf("%d baud  ", a.st.Profile.Baud) + right
	}
	demo := ""
	if a.demo {
		demo = " DEMO "
	}
	avail := w - lipgloss.Width(left) - lipgloss.Width(demo) - 1
	if lipgloss.Width(right) > avail {
		right = ansi.Truncate(right, max(avail, 0), a.st.Glyphs.Ellipsis)
	}
	gap := max(w-lipgloss.Width(left)-lipgloss.Width(right)-lipgloss.Width(demo), 0)
	line := a.st.Header.Render(left) + a.st.HeaderNode.Render(strings.Repeat(" ", gap)+right)
	if demo != "" {
		line += a.st.Demo.Render(demo)
	}
	return ansi.Truncate(line, w, "")
}

func (a *App) footer(w int) string {
	if a.undoing > 0 {
		return a.st.Warn.Render(ansi.Truncate(" Logging out: undoing the change on trial"+a.st.Glyphs.Ellipsis, w, ""))
	}
	if a.confirmQuit {
		var lines []string
		for _, warn := range a.quitWarnings() {
			lines = append(lines, a.st.Warn.Render(ansi.Truncate(" "+warn, w, "")))
		}
		lines = append(lines, a.st.Warn.Render(ansi.Truncate(" Log out? "+ui.Hints(a.keys.LogOut, a.keys.Stay), w, "")))
		return strings.Join(lines, "\n")
	}
	if a.help.ShowAll {
		a.help.SetWidth(w - 1)
		full := a.help.FullHelpView(append(a.top().FullHelp(), a.globalHelp()))
		lines := strings.Split(full, "\n")
		for i := range lines {
			lines[i] = ansi.Truncate(" "+lines[i], w, "")
		}
		return strings.Join(lines, "\n")
	}
	var tail []key.Binding
	if !a.capturing() {
		// In a text field ? is text, so it is not offered as help.
		tail = []key.Binding{a.keys.Help}
	}
	return ansi.Truncate(" "+a.shortHelp(a.top().ShortHelp(), tail, w-1), w, "")
}

// shortHelp is the hints in at most w cells, then tail ("? help"). When
// they do not all fit, the movement keys give way first (arrows and tab:
// what an operator tries anyway; those that fit stay), then hints from the
// end, marked with an ellipsis; tail stays, since the full help lists everything. A hint is
// shown whole or not at all.
func (a *App) shortHelp(hints, tail []key.Binding, w int) string {
	a.help.SetWidth(0) // no limit: the cutting is done here
	view := func(bs []key.Binding) string { return a.help.ShortHelpView(bs) }
	if v := view(append(slices.Clip(hints), tail...)); lipgloss.Width(v) <= w {
		return v
	}
	// Without the movement keys, then each of them back in its place
	// while it fits.
	keep := make([]bool, len(hints))
	pick := func() []key.Binding {
		var out []key.Binding
		for i, b := range hints {
			if keep[i] {
				out = append(out, b)
			}
		}
		return append(out, tail...)
	}
	for i, b := range hints {
		keep[i] = !isMovement(b)
	}
	if v := view(pick()); lipgloss.Width(v) <= w {
		for i, b := range hints {
			if isMovement(b) {
				keep[i] = true
				if lipgloss.Width(view(pick())) > w {
					keep[i] = false
				}
			}
		}
		return view(pick())
	}
	hints = slices.DeleteFunc(slices.Clone(hints), isMovement)
	sep := a.help.Styles.ShortSeparator.Inline(true).Render(a.help.ShortSeparator)
	more := a.help.Styles.Ellipsis.Inline(true).Render(a.help.Ellipsis)
	end := view(tail)
	if end != "" {
		end = sep + end
	}
	for n := len(hints) - 1; n > 0; n-- {
		if v := view(hints[:n]) + sep + more + end; lipgloss.Width(v) <= w {
			return v
		}
	}
	return more + end
}

// movementKeys are keys that move focus or a choice: arrows, tab, paging,
// and the vi letters that go with an arrow.
var movementKeys = []string{"up", "down", "left", "right", "tab", "shift+tab", "pgup", "pgdown", "home", "end", "j", "k", "h", "l"}

// isMovement reports whether b moves focus or a choice: every key of it
// does, and not by a letter alone ("h restore" is not movement).
func isMovement(b key.Binding) bool {
	ks := b.Keys()
	letter := func(k string) bool { return len(k) == 1 }
	moves := func(k string) bool { return slices.Contains(movementKeys, k) }
	return slices.ContainsFunc(ks, func(k string) bool { return !letter(k) }) &&
		!slices.ContainsFunc(ks, func(k string) bool { return !moves(k) })
}

func (a *App) globalHelp() []key.Binding {
	return []key.Binding{a.keys.Help, a.keys.Redraw, a.keys.Quit}
}

func (a *App) fullHelpHeight() int {
	a.help.SetWidth(a.width - 1)
	return lipgloss.Height(a.help.FullHelpView(append(a.top().FullHelp(), a.globalHelp())))
}

// fit pads or cuts s to exactly w cells.
func fit(s string, w int) string {
	sw := lipgloss.Width(s)
	if sw > w {
		return ansi.Truncate(s, w, "")
	}
	return s + strings.Repeat(" ", w-sw)
}

// clip cuts s to at most w columns and exactly h lines.
func clip(s string, w, h int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > h {
		lines = lines[:h]
	}
	for i, l := range lines {
		if lipgloss.Width(l) > w {
			lines[i] = ansi.Truncate(l, w, "")
		}
	}
	for len(lines) < h {
		lines = append(lines, "")
	}
	return strings.Join(lines, "\n")
}
