package ui

import (
	"strings"

	"charm.land/bubbles/v2/key"
)

// NavKeys are the bindings every screen shares. Screens embed them in their
// own key maps so the footer help is generated from one definition.
type NavKeys struct {
	Up     key.Binding
	Down   key.Binding
	Next   key.Binding
	Prev   key.Binding
	Select key.Binding
	Back   key.Binding
}

// DefaultNavKeys returns the shared navigation bindings.
func DefaultNavKeys() NavKeys {
	return NavKeys{
		Up:     key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:   key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		Next:   key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "next")),
		Prev:   key.NewBinding(key.WithKeys("shift+tab"), key.WithHelp("shift+tab", "previous")),
		Select: key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "select")),
		Back:   key.NewBinding(key.WithKeys("esc", "backspace"), key.WithHelp("esc", "back")),
	}
}

// GlobalKeys are handled by the shell on every screen.
type GlobalKeys struct {
	Help    key.Binding
	Redraw  key.Binding
	Quit    key.Binding
	Inert   key.Binding // keys that must never drop the operator to a shell
	Suspend key.Binding
	// LogOut answers the log-out question; any other key stays.
	LogOut key.Binding
	Stay   key.Binding
}

// DefaultGlobalKeys returns the shell's bindings.
func DefaultGlobalKeys() GlobalKeys {
	return GlobalKeys{
		Help:   key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		Redraw: key.NewBinding(key.WithKeys("ctrl+l"), key.WithHelp("ctrl+l", "redraw")),
		Quit:   key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c", "log out")),
		Inert:  key.NewBinding(key.WithKeys("ctrl+z", "ctrl+\\", "ctrl+s", "ctrl+q")),
		LogOut: key.NewBinding(key.WithKeys("y", "Y", "enter"), key.WithHelp("y", "yes")),
		Stay:   key.NewBinding(key.WithKeys("n", "N", "esc"), key.WithHelp("any other key", "no")),
	}
}

// NavKeys returns the shared navigation bindings with help text the
// terminal can draw (no arrows on ASCII terminals).
func (s *Styles) NavKeys() NavKeys {
	k := DefaultNavKeys()
	if s.Profile.ASCII {
		k.Up.SetHelp("up/k", "up")
		k.Down.SetHelp("down/j", "down")
	}
	return k
}

// Hints renders bindings as an inline hint line, "enter: try again   esc:
// back", from their help, so a hint in a screen's body can never disagree
// with the keys the screen handles. Disabled bindings are left out.
func Hints(bs ...key.Binding) string {
	var parts []string
	for _, b := range bs {
		if !b.Enabled() || b.Help().Key == "" {
			continue
		}
		parts = append(parts, b.Help().Key+": "+b.Help().Desc)
	}
	return strings.Join(parts, "   ")
}
