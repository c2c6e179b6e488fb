// Package diagnostics is the "Test network" screen: layered checks (carrier,
// address, gateway, DNS, TCP and TLS to the control plane, clock skew), each
// OK or FAIL with a one-line hint and run in its own tea.Cmd so results show
// as they arrive, plus a field to look up and probe a host the operator
// types (DNS, ARP on a local subnet, TCP; ping is not installed).
package diagnostics

import (
	"context"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/nodeconsole/nodeconsole/netconfig"
	"github.com/nodeconsole/nodeconsole/tui/ui"
)

// Deps are the screen's dependencies.
type Deps struct {
	Styles *ui.Styles
	// Prober runs the checks (required; Manager.Prober() gives one). Its
	// Reader supplies the interfaces, gateway and DNS servers tested.
	Prober *netconfig.Prober
	// Endpoint is the control-plane URL (https://host[:port]); "" leaves
	// out the DNS, TCP, TLS and clock layers.
	Endpoint string
	// Timeout bounds reading the status; 0 means 10 s. Each check has the
	// Prober's own timeout.
	Timeout time.Duration
}

// Model is the Test network screen.
type Model struct {
	d    Deps
	st   *ui.Styles
	keys keyMap

	gen     int
	loading bool
	loadErr string
	status  netconfig.Status
	ifname  string
	checks  []netconfig.Check
	results []netconfig.Result

	host       textinput.Model
	hostFocus  bool
	probing    bool
	probeGen   int
	probeFor   string
	probeLines []netconfig.Result

	width, height int
}

type keyMap struct {
	nav   ui.NavKeys
	Rerun key.Binding
	Host  key.Binding
	Probe key.Binding
	Leave key.Binding
}

// New builds the screen.
func New(d Deps) *Model {
	if d.Timeout <= 0 {
		d.Timeout = 10 * time.Second
	}
	st := d.Styles
	in := ui.NewTextInput(st, 30, 253)
	in.Placeholder = "host name, IP or host:port"
	return &Model{d: d, st: st, host: in, width: 80, height: 22, keys: keyMap{
		nav:   st.NavKeys(),
		Rerun: key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "run again")),
		Host:  key.NewBinding(key.WithKeys("tab", "h", "/"), key.WithHelp("tab", "probe a host")),
		Probe: key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "look up and probe")),
		Leave: key.NewBinding(key.WithKeys("esc", "tab", "shift+tab"), key.WithHelp("esc", "leave the field")),
	}}
}

type (
	statusMsg struct {
		gen int
		st  netconfig.Status
		err error
	}
	checkMsg struct {
		gen, i int
		r      netconfig.Result
	}
	probeMsg struct {
		gen     int
		results []netconfig.Result
	}
)

// Init implements ui.Screen.
func (m *Model) Init() tea.Cmd { return m.start() }

// Title implements ui.Screen.
func (m *Model) Title() string { return "Test network" }

// CapturesInput implements ui.InputCapturer.
func (m *Model) CapturesInput() bool { return m.hostFocus }

// start reads the status, then runs the checks one by one.
func (m *Model) start() tea.Cmd {
	m.gen++
	m.loading, m.loadErr, m.checks, m.results = true, "", nil, nil
	gen, p, timeout := m.gen, m.d.Prober, m.d.Timeout
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		if p == nil || p.Reader == nil {
			return statusMsg{gen: gen, err: fmt.Errorf("diagnostics: no network reader")}
		}
		st, err := p.Reader.Read(ctx)
		return statusMsg{gen: gen, st: st, err: err}
	}
}

// Update implements ui.Screen.
func (m *Model) Update(msg tea.Msg) (ui.Screen, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
	case statusMsg:
		if msg.gen != m.gen {
			return m, nil
		}
		m.loading = false
		if msg.err != nil {
			m.loadErr = "Cannot read the network status: " + msg.err.Error()
			return m, ui.Error("Cannot read the network status.", msg.err)
		}
		m.status = msg.st
		m.ifname, m.checks = m.d.Prober.Layers(msg.st, m.d.Endpoint)
		return m, m.next()
	case checkMsg:
		if msg.gen != m.gen || msg.i != len(m.results) {
			return m, nil
		}
		m.results = append(m.results, msg.r)
		return m, m.next()
	case probeMsg:
		if msg.gen != m.probeGen {
			return m, nil
		}
		m.probing, m.probeLines = false, msg.results
	case tea.KeyPressMsg:
		return m, m.onKey(msg)
	case tea.PasteMsg:
		if m.hostFocus {
			var cmd tea.Cmd
			m.host, cmd = m.host.Update(msg)
			return m, cmd
		}
	}
	return m, nil
}

func (m *Model) onKey(k tea.KeyPressMsg) tea.Cmd {
	if m.hostFocus {
		switch {
		case key.Matches(k, m.keys.Probe):
			return m.probe()
		case key.Matches(k, m.keys.Leave):
			m.hostFocus = false
			m.host.Blur()
			return nil
		}
		var cmd tea.Cmd
		m.host, cmd = m.host.Update(k)
		return cmd
	}
	switch {
	case key.Matches(k, m.keys.nav.Back):
		return ui.Back
	case key.Matches(k, m.keys.Rerun):
		return m.start()
	case key.Matches(k, m.keys.Host):
		m.hostFocus = true
		return m.host.Focus()
	}
	return nil
}

// next runs the next check in its own tea.Cmd.
func (m *Model) next() tea.Cmd {
	i := len(m.results)
	if i >= len(m.checks) {
		return nil
	}
	c, gen := m.checks[i], m.gen
	return func() tea.Msg { return checkMsg{gen: gen, i: i, r: c.Run(context.Background())} }
}

// probe looks up and probes the host typed, in a tea.Cmd.
func (m *Model) probe() tea.Cmd {
	in := strings.TrimSpace(m.host.Value())
	if in == "" {
		return nil
	}
	m.probeGen++
	m.probing, m.probeFor, m.probeLines = true, in, nil
	gen, p, st := m.probeGen, m.d.Prober, m.status
	return tea.Batch(ui.Audit("network probe", "host", in), func() tea.Msg {
		return probeMsg{gen: gen, results: p.ProbeHost(context.Background(), st, in)}
	})
}

// ShortHelp implements help.KeyMap.
func (m *Model) ShortHelp() []key.Binding {
	if m.hostFocus {
		return []key.Binding{m.keys.Probe, m.keys.Leave}
	}
	return []key.Binding{m.keys.Rerun, m.keys.Host, m.keys.nav.Back}
}

// FullHelp implements help.KeyMap.
func (m *Model) FullHelp() [][]key.Binding { return [][]key.Binding{m.ShortHelp()} }
