package network

import (
	"charm.land/bubbles/v2/key"

	"github.com/nodeconsole/nodeconsole/tui/ui"
)

// keyMap are the screen's bindings. The form's own keys avoid letters, digits
// and Backspace, which belong to the text field being edited.
type keyMap struct {
	nav ui.NavKeys

	Refresh key.Binding // interface list: read the status again

	FieldNext key.Binding // form: next field
	FieldPrev key.Binding // form: previous field
	Toggle    key.Binding // form: DHCP <-> Static on the mode row
	Enter     key.Binding // form: next field, or preview on the Apply button
	Cancel    key.Binding // form: back to the interface list

	Apply key.Binding // preview: apply now

	Keep   key.Binding // trial: keep the settings
	Revert key.Binding // trial: restore the previous settings
	Switch key.Binding // trial: move between Keep and Revert

	Yes key.Binding // "discard changes?" answer
	No  key.Binding
}

func newKeyMap(st *ui.Styles) keyMap {
	nav := st.NavKeys()
	up, down := "↑", "↓"
	if st.Profile.ASCII {
		up, down = "up", "down"
	}
	return keyMap{
		nav:       nav,
		Refresh:   key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "refresh")),
		FieldNext: key.NewBinding(key.WithKeys("tab", "down"), key.WithHelp("tab/"+down, "next field")),
		FieldPrev: key.NewBinding(key.WithKeys("shift+tab", "up"), key.WithHelp("shift+tab/"+up, "previous")),
		Toggle:    key.NewBinding(key.WithKeys("space", "left", "right"), key.WithHelp("space", "DHCP/static")),
		Enter:     key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "next/preview")),
		Cancel:    key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back")),
		Apply:     key.NewBinding(key.WithKeys("enter", "a"), key.WithHelp("enter", "apply")),
		Keep:      key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "keep")),
		Revert:    key.NewBinding(key.WithKeys("n", "esc"), key.WithHelp("n/esc", "revert")),
		Switch:    key.NewBinding(key.WithKeys("left", "right", "tab", "shift+tab", "h", "l"), key.WithHelp("tab", "switch")),
		Yes:       key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "discard")),
		No:        key.NewBinding(key.WithKeys("n", "esc"), key.WithHelp("n", "keep editing")),
	}
}
