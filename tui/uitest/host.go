package uitest

import (
	tea "charm.land/bubbletea/v2"

	"github.com/nodeconsole/nodeconsole/tui/ui"
)

// Host runs one screen as a whole program for teatest flows: audit and
// status messages are dropped, and going back ends the program.
type Host struct{ Screen ui.Screen }

// Init implements tea.Model.
func (h Host) Init() tea.Cmd { return h.Screen.Init() }

// Update implements tea.Model.
func (h Host) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg.(type) {
	case ui.AuditMsg, ui.StatusChangedMsg:
		return h, nil
	case ui.BackMsg:
		return h, tea.Quit
	}
	var cmd tea.Cmd
	h.Screen, cmd = h.Screen.Update(msg)
	return h, cmd
}

// View implements tea.Model.
func (h Host) View() tea.View { return tea.NewView(h.Screen.View()) }
