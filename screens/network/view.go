package network

import (
	"fmt"
	"strings"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/nodeconsole/nodeconsole/netconfig"
	"github.com/nodeconsole/nodeconsole/tui/ui"
)

const labelW = 9 // field label column

// View implements ui.Screen.
func (m *Model) View() string {
	if m.width <= 0 || m.height <= 0 {
		return ""
	}
	var lines []string
	focus := 0
	switch m.phase {
	case phaseLoading:
		lines = []string{m.st.Muted.Render(" Reading the network interfaces" + m.st.Glyphs.Ellipsis)}
	case phaseList:
		lines, focus = m.listView()
	case phaseForm:
		lines, focus = m.formView()
	case phaseHistory:
		lines, focus = m.historyView()
	case phaseSite:
		lines, focus = m.siteView()
	case phaseApplying:
		lines = []string{m.st.Title.Render(" Applying to " + m.cfg.Link() + m.st.Glyphs.Ellipsis)}
	default:
		if p, ok := m.page(); ok {
			return m.fitPage(p)
		}
	}
	return fitLines(lines, m.width, m.height, focus, m.st)
}

// fitLines cuts lines to w cells and shows at most h of them, keeping line
// focus in view.
func fitLines(lines []string, w, h, focus int, st *ui.Styles) string {
	var out []string
	for _, l := range lines {
		out = append(out, strings.Split(l, "\n")...)
	}
	for i, l := range out {
		if lipgloss.Width(l) > w {
			out[i] = ansi.Truncate(l, w, st.Glyphs.Ellipsis)
		}
	}
	if len(out) > h {
		start := 0
		if focus >= h {
			start = min(focus-h/2, len(out)-h)
		}
		out = out[start : start+h]
	}
	return strings.Join(out, "\n")
}

// wrap wraps s to w cells (at least 20) and indents the continuation lines.
func wrap(s string, w int, indent string) []string {
	w = max(w-lipgloss.Width(indent), 20)
	var out []string
	for _, l := range strings.Split(ansi.Wordwrap(s, w, ""), "\n") {
		out = append(out, indent+l)
	}
	return out
}

func (m *Model) ifaceRow(ifc netconfig.Interface) string {
	mac := ifc.MAC
	if mac == "" {
		mac = "-"
	}
	var addrs []string
	for _, a := range ifc.Addrs {
		addrs = append(addrs, a.String())
	}
	a := strings.Join(addrs, " ")
	if a == "" {
		a = "no address"
	}
	def := defaultFamilies(ifc)
	if m.narrow() {
		// The default-route mark goes in the link column where it fits
		// ("up *v4"), else after the addresses, which give way to it.
		state, mark := string(ifc.State), ""
		switch d := m.st.Glyphs.Default + def; {
		case def == "":
		case len(state)+1+lipgloss.Width(d) <= 10:
			state += " " + d
		default:
			mark = " " + d
		}
		row := fmt.Sprintf("%-7s %-10s ", ifc.Name, state)
		room := max(m.width-ui.MenuIndent-len(row)-lipgloss.Width(mark), 1)
		return strings.TrimRight(row+ansi.Truncate(a, room, m.st.Glyphs.Ellipsis)+mark, " ")
	}
	row := fmt.Sprintf("%-8s %-10s %-17s  ", ifc.Name, string(ifc.State), mac)
	if def != "" {
		// The addresses give way so that the mark shows whole.
		mark := " " + m.st.Glyphs.Default + " default " + def
		room := max(m.width-ui.MenuIndent-len(row)-lipgloss.Width(mark), 18)
		return row + fmt.Sprintf("%-18s", ansi.Truncate(a, room, m.st.Glyphs.Ellipsis)) + mark
	}
	row += fmt.Sprintf("%-18s", a)
	switch {
	case !ifc.Ethernet:
		row += " (not Ethernet)"
	case ifc.VLANParent != "":
		row += fmt.Sprintf(" VLAN %d", ifc.VLANID)
	}
	return strings.TrimRight(row, " ")
}

// defaultFamilies names the families of the default routes ifc carries:
// "v4", "v6", "v4+v6", or "" for none.
func defaultFamilies(ifc netconfig.Interface) string {
	switch {
	case ifc.Default4 && ifc.Default6:
		return "v4+v6"
	case ifc.Default4:
		return "v4"
	case ifc.Default6:
		return "v6"
	}
	return ""
}

// narrow reports a screen too narrow for the MAC column (under 70 cells).
func (m *Model) narrow() bool { return m.width < 70 }

func (m *Model) listView() ([]string, int) {
	st := m.st
	if m.loadErr != "" {
		return append(wrap(m.loadErr, m.width, " "), "", st.Muted.Render(" "+ui.Hints(withHelp(m.keys.Refresh, "try again"), m.keys.nav.Back))), 0
	}
	lines := []string{st.Title.Render(" Choose the interface to configure"), ""}
	if len(m.status.Interfaces) == 0 {
		return append(lines, " No network interfaces were found."), 0
	}
	head := fmt.Sprintf("%-8s %-10s %-17s  %s", "Name", "Link", "MAC", "Addresses")
	if m.narrow() {
		head = fmt.Sprintf("%-7s %-10s %s", "Name", "Link", "Addresses")
	}
	lines = append(lines, st.Label.Render(strings.Repeat(" ", ui.MenuIndent)+head))
	// The focus is the chosen row's last line: its neighbour lines show
	// with it.
	focus := len(lines) + m.menu.Cursor
	for _, it := range m.menu.Items[:min(m.menu.Cursor+1, len(m.menu.Items))] {
		if it.Detail != "" {
			focus += strings.Count(it.Detail, "\n") + 1 // the lines under it
		}
	}
	lines = append(lines, m.menu.View(), "")
	gw := "none"
	if m.status.Gateway.IsValid() {
		gw = m.status.Gateway.String() + " via " + m.status.GatewayInterface
	}
	lines = append(lines, " "+st.Label.Render("Default route ")+gw)
	if gw6 := m.status.Gateway6; gw6.IsValid() {
		lines = append(lines, " "+st.Label.Render("IPv6 default  ")+gw6.String()+" via "+m.status.Gateway6Interface)
	}
	lines = append(lines, " "+st.Label.Render("DNS           ")+orNone(joinAddrs(m.status)))
	legend := " " + st.Glyphs.Default + " default v4 / v6: carries the IPv4 / IPv6 default route"
	if m.narrow() {
		legend = " " + st.Glyphs.Default + "v4 / " + st.Glyphs.Default + "v6: the IPv4 / IPv6 default route"
	}
	lines = append(lines, st.Muted.Render(legend))
	lines = append(lines, "", st.Muted.Render(" "+ui.Hints(withHelp(m.keys.History, "restore a previous setup"), withHelp(m.siteBinding(), "site settings: host name, NTP, proxy"))))
	if m.listMsg != "" {
		lines = append(lines, "")
		lines = append(lines, wrap(st.Warn.Render(m.listMsg), m.width, " ")...)
	}
	return lines, focus
}

func joinAddrs(s netconfig.Status) string {
	var d []string
	for _, a := range s.DNS {
		d = append(d, a.String())
	}
	return strings.Join(d, ", ")
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// neighbours is the line under a NIC in the list: the switch ports heard
// over LLDP (Interface.LLDP, which the console's background listener fills
// in through the Manager's Reader); "" when nothing was listened for.
// Where "switch NAME port PORT VLAN N" is too wide for the screen, "switch"
// goes, then the port and VLAN go to a line of their own (then each to
// one), so that the port and the VLAN are read whole; each switch port is
// on its own lines then.
func (m *Model) neighbours(ifc netconfig.Interface) string {
	if ifc.LLDP == nil {
		return ""
	}
	if len(ifc.LLDP) == 0 {
		return "LLDP: no switch heard"
	}
	w := m.width - ui.MenuIndent
	fits := func(s string) bool { return m.width <= 0 || lipgloss.Width(s) <= w }
	var full, out []string
	for _, n := range ifc.LLDP {
		name := n.SystemName
		if name == "" {
			name = n.ChassisID
		}
		port, vlan := "port "+n.PortID, ""
		if n.VLAN != 0 {
			vlan = fmt.Sprintf("VLAN %d", n.VLAN)
		}
		pv := strings.TrimSpace(port + " " + vlan)
		full = append(full, "switch "+name+" "+pv)
		switch {
		case fits("switch " + name + " " + pv):
			out = append(out, "switch "+name+" "+pv)
		case fits(name + " " + pv):
			out = append(out, name+" "+pv)
		case fits(pv):
			out = append(out, "switch "+name, pv)
		default: // a line each; fitLines cuts what is still too long
			out = append(out, "switch "+name, port)
			if vlan != "" {
				out = append(out, vlan)
			}
		}
	}
	if s := strings.Join(full, "; "); fits(s) {
		return s
	}
	return strings.Join(out, "\n")
}
