package home

import (
	"fmt"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/nodeconsole/nodeconsole/nodestatus"
	"github.com/nodeconsole/nodeconsole/tui/ui"
)

// Init implements ui.Screen.
func (m *Model) Init() tea.Cmd {
	if m.d.Panel != nil {
		return tea.Batch(m.collectCmd(), m.d.Panel.Init())
	}
	return m.collectCmd()
}

// Revealed implements ui.Revealer: the screen above closed, so the panel
// resumes.
func (m *Model) Revealed() tea.Cmd {
	if m.d.Panel != nil {
		return m.d.Panel.SetActive(true)
	}
	return nil
}

// Update implements ui.Screen.
func (m *Model) Update(msg tea.Msg) (ui.Screen, tea.Cmd) {
	if m.d.Panel != nil {
		if _, isKey := msg.(tea.KeyPressMsg); !isKey {
			if cmd := m.d.Panel.Update(msg); cmd != nil {
				s, own := m.update(msg)
				return s, tea.Batch(cmd, own)
			}
		}
	}
	return m.update(msg)
}

func (m *Model) update(msg tea.Msg) (ui.Screen, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
	case snapshotMsg:
		if msg.gen != m.gen {
			return m, nil
		}
		m.snap, m.loaded = msg.snap, true
		gen := m.gen
		var cmds []tea.Cmd
		switch next := nextTimeChange(m.snap, m.d.Now()); {
		case m.d.Watch == nil:
			cmds = append(cmds, m.d.Tick(m.d.Refresh, func(time.Time) tea.Msg { return refreshMsg{gen: gen} }))
		case next > 0:
			// Nothing notifies the clock: a timer for the line it changes.
			cmds = append(cmds, m.d.Tick(next, func(time.Time) tea.Msg { return refreshMsg{gen: gen} }))
		}
		if m.d.Watch != nil && !m.waiting {
			cmds = append(cmds, m.waitCmd())
		}
		if hdr := headerLabel(m.snap); hdr != m.lastHdr {
			m.lastHdr = hdr
			cmds = append(cmds, func() tea.Msg { return ui.HeaderMsg{Node: hdr} })
		}
		return m, tea.Batch(cmds...)
	case refreshMsg:
		if msg.gen != m.gen {
			return m, nil
		}
		return m, m.collectCmd()
	case changedMsg:
		m.waiting = false
		if !msg.ok {
			return m, nil // the watcher closed: the program is ending
		}
		m.gen++ // a reading still out may predate the change
		// The screens above read what they show again too (Network
		// settings: the LLDP neighbours, the interfaces).
		return m, tea.Batch(m.collectCmd(), ui.Watched)
	case ui.StatusChangedMsg:
		m.gen++ // drop the pending tick; start a new chain
		return m, m.collectCmd()
	case tea.KeyPressMsg:
		if key.Matches(msg, m.keys.Logout) {
			return m, ui.Quit
		}
		var cmd tea.Cmd
		m.menu, cmd = m.menu.Update(msg)
		if id, ok := m.menu.Chosen(); ok {
			return m, m.choose(id)
		}
		return m, cmd
	}
	return m, nil
}

func (m *Model) choose(id string) tea.Cmd {
	if id == logoutID {
		return tea.Batch(ui.Audit("menu", "choice", "Log out"), ui.Quit)
	}
	var i int
	fmt.Sscan(id, &i)
	a := m.d.Actions[i]
	var pause tea.Cmd
	if m.d.Panel != nil {
		pause = m.d.Panel.SetActive(false) // Register Node uses the same enrollment
	}
	return tea.Batch(ui.Audit("menu", "choice", a.Label), pause, ui.Push(a.Open()))
}

func headerLabel(s nodestatus.Snapshot) string {
	// The host name first: which box this is, as set in Network settings'
	// Site settings; what does not fit of the rest is cut.
	host := ""
	if s.Hostname != "" {
		host = s.Hostname + "  "
	}
	// A node licensed under its own ID shows the ID once.
	if s.Registration.NodeName != "" && s.Registration.NodeName != s.NodeID {
		return host + s.Registration.NodeName + " (" + s.NodeID + ")"
	}
	return host + s.NodeID
}
