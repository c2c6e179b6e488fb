// Package ui holds what the shell and every screen share: the Screen
// interface, navigation commands, the Styles value, the terminal profile and
// the common key bindings. Screens import ui; they never import each other or
// the shell.
package ui

import (
	"context"

	"charm.land/bubbles/v2/help"
	tea "charm.land/bubbletea/v2"
)

// Screen is one page of the console. Only the shell implements tea.Model;
// a Screen's Update returns the Screen itself so the shell never needs type
// assertions.
type Screen interface {
	// Init returns the screen's first command (often the load of its data).
	Init() tea.Cmd
	// Update handles a message. Size arrives as tea.WindowSizeMsg carrying the
	// body area (the terminal minus header, banner and footer).
	Update(msg tea.Msg) (Screen, tea.Cmd)
	// View renders the body area.
	View() string
	// Title is shown in the header breadcrumb.
	Title() string
	// KeyMap gives the footer and the ? help their bindings.
	help.KeyMap
}

// InputCapturer is implemented by screens that are editing text: while
// CapturesInput reports true the shell leaves printable keys, Backspace and
// ? to the screen.
type InputCapturer interface {
	CapturesInput() bool
}

// Revealer is implemented by screens that want to know when they are on
// top again because the screen above them closed (the home screen resumes
// its background work then).
type Revealer interface {
	Revealed() tea.Cmd
}

// Panel is a block that works on its own in the background inside a
// screen: the home screen's registration QR code. The screen passes it
// every message it gets, pauses it while another screen is on top, and
// asks it for its view.
type Panel interface {
	// Init starts the panel's work.
	Init() tea.Cmd
	// Update handles a message; the panel ignores what is not its own.
	Update(msg tea.Msg) tea.Cmd
	// SetActive pauses (false) or resumes (true) the panel's work.
	SetActive(active bool) tea.Cmd
	// Block is a large block (a QR code) at most w cells wide and h lines
	// high, or "" when there is nothing to show or it does not fit.
	Block(w, h int) string
	// Lines are a few status lines of at most w cells whose labels are
	// label cells wide; blockShown says whether Block is on screen too.
	Lines(w, label int, blockShown bool) []string
}

// PushMsg asks the shell to open a screen on top of the current one.
type PushMsg struct{ Screen Screen }

// BackMsg asks the shell to close the current screen.
type BackMsg struct{}

// HomeMsg asks the shell to return to the home screen.
type HomeMsg struct{}

// QuitMsg asks the shell to log out (exit 0).
type QuitMsg struct{}

// ErrorMsg asks the shell to show a one-sentence error banner. Err is logged
// in full; Text is what the operator reads.
type ErrorMsg struct {
	Text string
	Err  error
}

// AuditMsg asks the shell to write an audit line for an operator action.
type AuditMsg struct {
	Action string
	Attrs  []any
}

// Push returns a command that opens s.
func Push(s Screen) tea.Cmd { return func() tea.Msg { return PushMsg{Screen: s} } }

// Back returns a command that closes the current screen.
func Back() tea.Msg { return BackMsg{} }

// Home returns to the home screen.
func Home() tea.Msg { return HomeMsg{} }

// Quit logs out.
func Quit() tea.Msg { return QuitMsg{} }

// Error returns a command that shows text in the error banner and logs err.
func Error(text string, err error) tea.Cmd {
	return func() tea.Msg { return ErrorMsg{Text: text, Err: err} }
}

// Audit returns a command that writes an audit line.
func Audit(action string, attrs ...any) tea.Cmd {
	return func() tea.Msg { return AuditMsg{Action: action, Attrs: attrs} }
}

// HeaderMsg updates the node label in the header (the node's name once
// registered, else its ID).
type HeaderMsg struct{ Node string }

// NoticeMsg sets (or, with empty Text, clears) a persistent notice line under
// the header, identified by Key (e.g. "state-dir", "config").
type NoticeMsg struct {
	Key  string
	Text string
}

// StatusChangedMsg tells every screen that the node's status changed (a
// registration finished, the network was applied), so the home screen reads
// it again at once.
type StatusChangedMsg struct{}

// StatusChanged is a command that sends StatusChangedMsg.
func StatusChanged() tea.Msg { return StatusChangedMsg{} }

// WatchedMsg tells every screen that the console's status watcher saw the
// node change (a link, an address or a route, a watched file, LLDP
// neighbours heard): a screen showing part of the status reads it again.
// The home screen, which owns the watcher, sends it; no timer does.
type WatchedMsg struct{}

// Watched is a command that sends WatchedMsg.
func Watched() tea.Msg { return WatchedMsg{} }

// QuitGuard is something the console must undo before it exits: a network
// change on trial, which would otherwise stay live and unsaved until the
// next boot. The shell asks every guard before logging out.
type QuitGuard interface {
	// QuitWarning is one sentence for the log-out question, such as "A
	// network change is on trial; logging out reverts it.", or "" when
	// nothing is at stake (any more). It is called from Update and View,
	// so it must not do I/O.
	QuitWarning() string
	// Undo undoes it. The shell calls it in a tea.Cmd, with a bounded
	// context, once the operator chose to log out.
	Undo(ctx context.Context) error
}

// Guarded is implemented by screens that start work which can outlive them
// and must be undone before log-out (the Network screen's trial). The shell
// takes the guard when the screen opens, in the same Update, and keeps it
// after the screen closes; Key identifies it, so reopening the screen
// replaces rather than adds it.
type Guarded interface {
	QuitGuard() (key string, g QuitGuard)
}

// Closer is implemented by screens that start work in the background: the
// shell calls Closed when it removes the screen from the stack (Back, Home,
// or its own keys), so the screen cancels that work and ignores its
// results.
type Closer interface {
	Closed()
}
