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
	History key.Binding // interface list: restore a previous setup
	Site    key.Binding // interface list: Site settings

	FieldNext key.Binding // form: next field
	FieldPrev key.Binding // form: previous field
	Toggle    key.Binding // form: DHCP <-> Static on the mode row
	// Mode6Next and Mode6Prev cycle the IPv6 mode row.
	Mode6Next key.Binding
	Mode6Prev key.Binding
	Enter     key.Binding // form: next field, or preview on the Apply button
	Cancel    key.Binding // form: back to the interface list
	// RemoveRoute removes the static route being edited.
	RemoveRoute key.Binding

	Apply key.Binding // preview: apply now

	// ScrollDown and ScrollUp scroll the preview and the checks where the
	// screen is too short for them.
	ScrollDown key.Binding
	ScrollUp   key.Binding

	Keep   key.Binding // trial: keep the settings
	Revert key.Binding // trial: restore the previous settings
	Switch key.Binding // trial: move between Keep and Revert

	Yes key.Binding // "discard changes?" answer
	No  key.Binding
}

func newKeyMap(st *ui.Styles) keyMap {
	nav := st.NavKeys()
	up, down, left, right := "↑", "↓", "←", "→"
	if st.Profile.ASCII {
		up, down, left, right = "up", "down", "left", "right"
	}
	return keyMap{
		nav:         nav,
		Refresh:     key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "refresh")),
		History:     key.NewBinding(key.WithKeys("h"), key.WithHelp("h", "restore")),
		Site:        key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "site settings")),
		FieldNext:   key.NewBinding(key.WithKeys("tab", "down"), key.WithHelp("tab/"+down, "next field")),
		FieldPrev:   key.NewBinding(key.WithKeys("shift+tab", "up"), key.WithHelp("shift+tab/"+up, "previous")),
		Toggle:      key.NewBinding(key.WithKeys("space", "left", "right"), key.WithHelp("space", "DHCP/static")),
		Mode6Next:   key.NewBinding(key.WithKeys("space", "right"), key.WithHelp("space/"+right, "IPv6 mode")),
		Mode6Prev:   key.NewBinding(key.WithKeys("left"), key.WithHelp(left, "IPv6 mode")),
		Enter:       key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "next/preview")),
		Cancel:      key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back")),
		RemoveRoute: key.NewBinding(key.WithKeys("ctrl+d"), key.WithHelp("ctrl+d", "remove route")),
		Apply:       key.NewBinding(key.WithKeys("enter", "a"), key.WithHelp("enter", "apply")),
		ScrollDown:  key.NewBinding(key.WithKeys("down", "pgdown", "j"), key.WithHelp(down, "more below")),
		ScrollUp:    key.NewBinding(key.WithKeys("up", "pgup", "k"), key.WithHelp(up, "back up")),
		Keep:        key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "keep")),
		Revert:      key.NewBinding(key.WithKeys("n", "esc"), key.WithHelp("n/esc", "revert")),
		Switch:      key.NewBinding(key.WithKeys("left", "right", "tab", "shift+tab", "h", "l"), key.WithHelp("tab", "switch")),
		Yes:         key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "discard")),
		No:          key.NewBinding(key.WithKeys("n", "esc"), key.WithHelp("n", "keep editing")),
	}
}

// ShortHelp implements help.KeyMap.
func (m *Model) ShortHelp() []key.Binding {
	k := m.keys
	switch m.phase {
	case phaseList:
		return []key.Binding{k.nav.Down, k.nav.Select, k.History, m.siteBinding(), k.Refresh, k.nav.Back}
	case phaseSite:
		if m.askDiscard {
			return []key.Binding{k.Yes, k.No}
		}
		b := []key.Binding{k.FieldNext, k.FieldPrev}
		if m.site.focus == siteSave {
			b = append(b, withHelp(k.Enter, "save"))
		}
		return append(b, k.Cancel)
	case phaseHistory:
		if len(m.history) == 0 {
			return []key.Binding{k.nav.Back}
		}
		return []key.Binding{k.nav.Down, withHelp(k.nav.Select, "restore"), k.nav.Back}
	case phaseForm:
		if m.askDiscard {
			return []key.Binding{k.Yes, k.No}
		}
		b := []key.Binding{k.FieldNext, k.FieldPrev}
		switch m.form.focus {
		case rowMode:
			b = append(b, k.Toggle)
		case rowIPv6:
			b = append(b, k.Mode6Next)
		case rowDefaultRoute:
			b = append(b, withHelp(k.Toggle, "on/off"))
		case rowAddRoute:
			b = append(b, withHelp(k.Enter, "add route"))
		case rowApply:
			b = append(b, withHelp(k.Enter, "preview"))
		}
		if isRoute(m.form.focus) {
			b = append(b, k.RemoveRoute)
		}
		return append(b, k.Cancel)
	case phasePreview:
		if m.restoring > 0 {
			return []key.Binding{k.Apply, k.nav.Back} // Esc goes back to the history
		}
		return []key.Binding{k.Apply, withHelp(k.nav.Back, "edit")}
	case phaseTrial:
		return []key.Binding{k.Keep, k.Revert, k.Switch}
	case phaseDone:
		return []key.Binding{withHelp(k.nav.Select, "done")}
	}
	return []key.Binding{k.nav.Back}
}

// FullHelp implements help.KeyMap.
func (m *Model) FullHelp() [][]key.Binding { return [][]key.Binding{m.ShortHelp()} }

func withHelp(b key.Binding, desc string) key.Binding {
	h := b.Help()
	b.SetHelp(h.Key, desc)
	return b
}

// siteBinding is the Site settings key, disabled without Deps.Site.
func (m *Model) siteBinding() key.Binding {
	b := m.keys.Site
	b.SetEnabled(m.d.Site != nil)
	return b
}
