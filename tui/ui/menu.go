package ui

import (
	"strconv"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
)

// MenuItem is one entry of a Menu. ID is what Selected returns.
type MenuItem struct {
	ID    string
	Label string
	Hint  string // short text shown after the label when there is room
	// Detail, when not "", is shown under the label, muted, one line per
	// line of it (the switch port a NIC is plugged into).
	Detail string
}

// Menu is a vertical list with a marker on the selected row and a digit
// shortcut per item (1-9). Update returns the Menu itself.
type Menu struct {
	Items    []MenuItem
	Cursor   int
	keys     NavKeys
	styles   *Styles
	width    int
	chosen   string
	hasChose bool
}

// NewMenu builds a menu.
func NewMenu(styles *Styles, items []MenuItem) Menu {
	return Menu{Items: items, keys: styles.NavKeys(), styles: styles}
}

// SetWidth sets the width rows are drawn in.
func (m *Menu) SetWidth(w int) { m.width = w }

// Chosen returns the ID of the item the operator chose with Enter or its
// digit during the last Update, if any.
func (m Menu) Chosen() (string, bool) { return m.chosen, m.hasChose }

// Update moves the selection or chooses an item.
func (m Menu) Update(msg tea.Msg) (Menu, tea.Cmd) {
	m.hasChose = false
	km, ok := msg.(tea.KeyPressMsg)
	if !ok || len(m.Items) == 0 {
		return m, nil
	}
	switch {
	case key.Matches(km, m.keys.Up, m.keys.Prev):
		m.Cursor = (m.Cursor + len(m.Items) - 1) % len(m.Items)
	case key.Matches(km, m.keys.Down, m.keys.Next):
		m.Cursor = (m.Cursor + 1) % len(m.Items)
	case key.Matches(km, m.keys.Select):
		m.chosen, m.hasChose = m.Items[m.Cursor].ID, true
	default:
		s := km.String()
		if n, err := strconv.Atoi(s); err == nil && len(s) == 1 && n >= 1 && n <= len(m.Items) && n <= 9 {
			m.Cursor = n - 1
			m.chosen, m.hasChose = m.Items[n-1].ID, true
		}
	}
	return m, nil
}

// View renders one row per item: marker, digit, label (and the detail
// line under it).
// MenuIndent is the width of what comes before a row's label (" 1 ▸ "), so
// that a column header lines up with the labels.
const MenuIndent = 5

func (m Menu) View() string {
	st := m.styles
	rows := make([]string, len(m.Items))
	for i, it := range m.Items {
		marker := " "
		label := it.Label
		digit := " "
		if i < 9 {
			digit = st.Digit.Render(strconv.Itoa(i + 1))
		}
		if i == m.Cursor {
			marker = st.MarkerOn.Render(st.Glyphs.Marker)
			label = st.Selected.Render(label)
		} else {
			label = st.Item.Render(label)
		}
		// The digit comes first and never changes, so a move rewrites only
		// the marker and the label of two rows (bytes matter on serial).
		row := " " + digit + " " + marker + " " + label
		if it.Hint != "" && m.width > 0 {
			hint := "  " + it.Hint
			if lipgloss.Width(row)+lipgloss.Width(hint) <= m.width {
				row += st.Muted.Render(hint)
			}
		}
		if it.Detail != "" {
			for _, l := range strings.Split(it.Detail, "\n") {
				row += "\n" + strings.Repeat(" ", MenuIndent) + st.Muted.Render(l)
			}
		}
		rows[i] = row
	}
	return strings.Join(rows, "\n")
}

// ShortHelp implements help.KeyMap.
func (m Menu) ShortHelp() []key.Binding {
	return []key.Binding{m.keys.Down, m.keys.Select, m.digitHelp()}
}

// FullHelp implements help.KeyMap.
func (m Menu) FullHelp() [][]key.Binding {
	return [][]key.Binding{{m.keys.Up, m.keys.Down, m.keys.Next, m.keys.Prev}, {m.keys.Select, m.digitHelp()}}
}

func (m Menu) digitHelp() key.Binding {
	n := len(m.Items)
	if n > 9 {
		n = 9
	}
	keys := make([]string, n)
	for i := range keys {
		keys[i] = strconv.Itoa(i + 1)
	}
	return key.NewBinding(key.WithKeys(keys...), key.WithHelp("1-"+strconv.Itoa(n), "choose"))
}
