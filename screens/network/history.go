package network

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/nodeconsole/nodeconsole/netconfig"
	"github.com/nodeconsole/nodeconsole/tui/ui"
)

// "Restore a previous setup": the last kept configurations
// (Manager.History, newest first, the one in use first), each with when it
// was kept and what it changed. Restoring one goes through the same
// preview, trial and keep-or-revert as the form (see startPreview).

// historyMsg is the answer of historyCmd.
type historyMsg struct {
	gen     int
	entries []netconfig.HistoryEntry
	err     error
}

// historyCmd reads the history (a file) in a tea.Cmd.
func (m *Model) historyCmd() tea.Cmd {
	m.gen++
	m.phase, m.history, m.histErr, m.histMsg = phaseHistory, nil, "", ""
	mgr, gen := m.d.Manager, m.gen
	return func() tea.Msg {
		h, err := mgr.History()
		return historyMsg{gen: gen, entries: h, err: err}
	}
}

func (m *Model) onHistory(msg historyMsg) tea.Cmd {
	if msg.gen != m.gen || m.phase != phaseHistory {
		return nil
	}
	if msg.err != nil {
		m.histErr = "Cannot read the kept settings: " + msg.err.Error()
		return ui.Error("Cannot read the kept network settings.", msg.err)
	}
	m.history = msg.entries
	if m.history == nil {
		m.history = []netconfig.HistoryEntry{} // read: none kept yet
	}
	items := make([]ui.MenuItem, len(msg.entries))
	for i, h := range msg.entries {
		items[i] = ui.MenuItem{ID: strconv.Itoa(i + 1), Label: m.historyRow(h)}
	}
	m.histMenu = ui.NewMenu(m.st, items)
	m.histMenu.SetWidth(m.width)
	return nil
}

// historyKey handles a key on the history list.
func (m *Model) historyKey(k tea.KeyPressMsg) tea.Cmd {
	if key.Matches(k, m.keys.nav.Back) {
		m.gen++ // a late answer of the history read is dropped
		m.phase = phaseList
		return nil
	}
	if m.history == nil {
		return nil
	}
	var cmd tea.Cmd
	m.histMenu, cmd = m.histMenu.Update(k)
	if id, ok := m.histMenu.Chosen(); ok {
		n, _ := strconv.Atoi(id)
		cfg := m.history[n-1].Config
		if err := cfg.Validate(m.status); err != nil {
			m.histMsg = fmt.Sprintf("Entry %d no longer fits this node: %s", n, netconfig.FieldMessages(err))
			return nil
		}
		m.histMsg = ""
		m.restoring = n
		return tea.Batch(ui.Audit("network restore", "entry", n, "config", cfg.Describe()), m.startPreview(cfg))
	}
	return cmd
}

// historyRow is an entry's row: when it was kept, and the settings.
func (m *Model) historyRow(h netconfig.HistoryEntry) string {
	return h.Time.UTC().Format("2006-01-02 15:04") + "  " + h.Config.Describe()
}

// keptAt renders when an entry was kept.
func keptAt(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }

func (m *Model) historyView() ([]string, int) {
	st := m.st
	lines := []string{st.Title.Render(" Restore a previous setup"), ""}
	switch {
	case m.histErr != "":
		return append(append(lines, wrap(m.histErr, m.width, " ")...), "", st.Muted.Render(" "+ui.Hints(m.keys.nav.Back))), 0
	case m.history == nil:
		return append(lines, st.Muted.Render(" Reading the kept settings"+st.Glyphs.Ellipsis)), 0
	case len(m.history) == 0:
		return append(lines, wrap("No network settings have been kept yet: each change you keep is listed here (the last "+
			strconv.Itoa(netconfig.MaxHistory)+").", m.width, " ")...), 0
	}
	gap := []string{""}
	if m.height < 16 {
		// Small screens: the entries and the details of the one
		// selected, without the introduction or blank lines.
		lines, gap = lines[:1], nil
	} else {
		lines = append(lines, wrap(fmt.Sprintf("The last %d kept network settings, newest first; the first is the one saved now.", netconfig.MaxHistory), m.width, " ")...)
		lines = append(lines, "")
	}
	focus := len(lines) + m.histMenu.Cursor
	lines = append(append(lines, m.histMenu.View()), gap...)
	h := m.history[m.histMenu.Cursor]
	when := "Kept " + keptAt(h.Time)
	if m.histMenu.Cursor == 0 {
		when += " (saved now)"
	}
	lines = append(lines, st.Label.Render(" "+when))
	lines = append(lines, wrap(h.Config.Describe(), m.width, "   ")...)
	lines = append(lines, wrap("Changed: "+strings.Join(h.Changes, "; "), m.width, "   ")...)
	if m.histMsg != "" {
		lines = append(lines, gap...)
		lines = append(lines, wrap(st.Warn.Render(m.histMsg), m.width, " ")...)
	}
	return lines, focus
}
