// Package about is the "About this node" screen: where the console keeps its
// files, where the node ID came from, every interface in full and every
// config problem. It is what a support call asks for.
package about

import (
	"context"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/nodeconsole/nodeconsole/nodestatus"
	"github.com/nodeconsole/nodeconsole/tui/ui"
)

// Facts are the fixed facts shown on the screen.
type Facts struct {
	// ConfigFiles are the files the config is read from, in order (the
	// primary file, then the config.d drop-ins), each marked found or not.
	ConfigFiles  []FileFact
	StateDir     string
	LogFile      string
	NodeIDSource string
	Terminal     string
	// ConfigProblems are config problems in file:line: key: message form.
	ConfigProblems []string
}

// FileFact is a file and whether it exists.
type FileFact struct {
	Path  string
	Found bool
}

// Deps are the screen's dependencies.
type Deps struct {
	Styles  *ui.Styles
	Facts   Facts
	Collect func(ctx context.Context) nodestatus.Snapshot
	// Now is the clock the certificate's expiry is shown against; nil
	// means time.Now.
	Now func() time.Time
}

// Model is the About screen.
type Model struct {
	d      Deps
	snap   *nodestatus.Snapshot
	vp     viewport.Model
	nav    ui.NavKeys
	width  int
	height int
}

// New builds the screen.
func New(d Deps) *Model {
	vp := viewport.New()
	if d.Now == nil {
		d.Now = time.Now
	}
	return &Model{d: d, vp: vp, nav: d.Styles.NavKeys()}
}

type snapshotMsg struct{ snap nodestatus.Snapshot }

// Init implements ui.Screen.
func (m *Model) Init() tea.Cmd {
	collect := m.d.Collect
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		return snapshotMsg{collect(ctx)}
	}
}

// Title implements ui.Screen.
func (m *Model) Title() string { return "About this node" }

// Update implements ui.Screen.
func (m *Model) Update(msg tea.Msg) (ui.Screen, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.vp.SetWidth(msg.Width)
		m.vp.SetHeight(msg.Height)
		m.vp.SetContent(m.content())
	case snapshotMsg:
		m.snap = &msg.snap
		m.vp.SetContent(m.content())
	case tea.KeyPressMsg:
		if key.Matches(msg, m.nav.Back) {
			return m, ui.Back
		}
		var cmd tea.Cmd
		m.vp, cmd = m.vp.Update(msg)
		return m, cmd
	}
	return m, nil
}

// View implements ui.Screen.
func (m *Model) View() string { return m.vp.View() }

func (m *Model) content() string {
	st := m.d.Styles
	f := m.d.Facts
	var lines []string
	// kv adds a label and its value; a value wider than its column wraps
	// under itself (a path breaks after a slash), so nothing is cut.
	kv := func(k, v string) {
		w := max(m.width-15, 20)
		for i, l := range strings.Split(ansi.Wrap(v, w, "/ "), "\n") {
			if i > 0 {
				k = ""
			}
			lines = append(lines, " "+st.Label.Render(fmt.Sprintf("%-14s", k))+l)
		}
	}
	lines = append(lines, st.Title.Render(" Files"))
	for i, c := range f.ConfigFiles {
		label := ""
		if i == 0 {
			label = "Config files"
		}
		v := c.Path
		if !c.Found {
			v += st.Muted.Render(" (not found)")
		}
		kv(label, v)
	}
	kv("State dir", f.StateDir)
	kv("Log file", f.LogFile)
	lines = append(lines, st.Title.Render(" Identity"))
	if m.snap != nil {
		kv("Node ID", m.snap.NodeID)
	}
	kv("ID source", f.NodeIDSource)
	kv("Terminal", f.Terminal)
	if m.snap != nil {
		kv("Version", m.snap.Version)
		if c := m.snap.Certificate; c != nil {
			now := m.d.Now()
			line := c.ExpiryLine(now)
			if c.ExpiresSoon(now) {
				line = st.Warn.Render(line)
			}
			kv("Certificate", line)
			kv("Renews from", c.RenewAfter.Local().Format("2006-01-02 15:04"))
		}
		lines = append(lines, st.Title.Render(" Interfaces"))
		for _, ifc := range m.snap.Interfaces {
			def := ""
			if ifc.Default {
				def = "  (default route)"
			}
			for i, l := range ui.Wrap(fmt.Sprintf("%s  %s  %s%s", ifc.Name, ifc.State, ifc.MAC, def), max(m.width-4, 20)) {
				if i > 0 {
					l = "  " + l
				}
				lines = append(lines, "  "+l)
			}
			for _, a := range ifc.Addresses {
				lines = append(lines, "      "+a)
			}
		}
	}
	lines = append(lines, st.Title.Render(" Config problems"))
	if len(f.ConfigProblems) == 0 {
		lines = append(lines, "  none")
	}
	for _, p := range f.ConfigProblems {
		for i, l := range ui.Wrap(p, m.width-4) {
			if i == 0 {
				lines = append(lines, "  "+l)
			} else {
				lines = append(lines, "    "+l)
			}
		}
	}
	return strings.Join(lines, "\n")
}

// scrolls reports whether the content is taller than the screen; the
// scroll keys are offered only then.
func (m *Model) scrolls() bool { return m.vp.TotalLineCount() > m.vp.Height() }

// ShortHelp implements help.KeyMap.
func (m *Model) ShortHelp() []key.Binding {
	if !m.scrolls() {
		return []key.Binding{m.nav.Back}
	}
	return []key.Binding{m.nav.Down, m.nav.Back}
}

// FullHelp implements help.KeyMap.
func (m *Model) FullHelp() [][]key.Binding {
	if !m.scrolls() {
		return [][]key.Binding{{m.nav.Back}}
	}
	return [][]key.Binding{{m.nav.Up, m.nav.Down, m.nav.Back}}
}
