package network

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/nodeconsole/nodeconsole/netconfig"
	"github.com/nodeconsole/nodeconsole/tui/ui"
)

// Focusable rows of the form, in order. The static routes are rows too:
// rowRoute+i is route i.
const (
	rowMode = iota
	rowVLAN
	rowMTU
	rowAddress
	rowNetmask
	rowGateway
	rowDefaultRoute
	rowDNS1
	rowDNS2
	rowIPv6
	rowAddress6
	rowGateway6
	rowDNS6
	rowAddRoute
	rowApply
	rowRoute = 100
)

// maxRoutes is how many static routes the form takes.
const maxRoutes = 8

// textRows are the fixed rows holding a text field, in the order of inputs.
var textRows = []int{rowVLAN, rowMTU, rowAddress, rowNetmask, rowGateway, rowDNS1, rowDNS2, rowAddress6, rowGateway6, rowDNS6}

var rowLabels = map[int]string{
	rowVLAN:     "VLAN ID",
	rowMTU:      "MTU",
	rowAddress:  "Address",
	rowNetmask:  "Netmask",
	rowGateway:  "Gateway",
	rowDNS1:     "DNS 1",
	rowDNS2:     "DNS 2",
	rowAddress6: "Address6",
	rowGateway6: "Gateway6",
	rowDNS6:     "IPv6 DNS",
}

var rowHints = map[int]string{
	rowVLAN:     "optional, 1-4094: tagged link",
	rowMTU:      "bytes, 68-9000",
	rowAddress:  "CIDR, e.g. 192.0.2.10/24",
	rowNetmask:  "optional, e.g. 255.255.255.0",
	rowGateway:  "for the default route",
	rowDNS1:     "optional",
	rowDNS2:     "optional",
	rowAddress6: "CIDR, e.g. 2001:db8::10/64",
	rowGateway6: "optional; in the prefix, or fe80::",
	rowDNS6:     "optional",
}

// routeHint is the hint beside a static route's field.
const routeHint = "CIDR@GATEWAY"

// isRoute reports whether row is a static route's row.
func isRoute(row int) bool { return row >= rowRoute }

// form is the editor for one NIC (or a VLAN link on it). It re-validates
// with netconfig.ParseForm on every edit.
type form struct {
	// nic is the physical interface the settings are for; ifc is the link
	// shown (nic itself, or the VLAN link the form was opened on).
	nic    string
	ifc    netconfig.Interface
	status netconfig.Status
	dhcp   bool
	// defRoute is "Default route via this interface": on when the
	// interface carries it now.
	defRoute bool
	ipv6     ipv6State
	inputs   []textinput.Model // the textRows
	routes   []textinput.Model // rowRoute+i
	focus    int
	initial  netconfig.Form
	st       *ui.Styles

	cfg  netconfig.Config
	err  error
	errs []*netconfig.FieldError
}

// newForm builds a form for ifc, filled with its current settings (the
// IPv6 mode from saved, the settings last kept, where they are for ifc,
// else the kernel's mode6 when known): a VLAN link is edited as its NIC
// with the VLAN ID filled in.
func newForm(st *ui.Styles, status netconfig.Status, ifc netconfig.Interface, saved netconfig.Config, mode6 netconfig.IPv6Mode) form {
	f := form{nic: ifc.Name, ifc: ifc, status: status, focus: rowAddress, st: st}
	for range textRows {
		f.inputs = append(f.inputs, ui.NewTextInput(st, 20, 64))
	}
	if ifc.VLANParent != "" {
		f.nic = ifc.VLANParent
		f.input(rowVLAN).SetValue(strconv.Itoa(ifc.VLANID))
	}
	if ifc.MTU > 0 {
		f.input(rowMTU).SetValue(strconv.Itoa(ifc.MTU))
	}
	f.dhcp = ifc.DHCP
	if a := currentAddr(ifc); a.IsValid() {
		f.input(rowAddress).SetValue(a.String())
	}
	if status.Gateway.IsValid() && status.GatewayInterface == ifc.Name {
		f.input(rowGateway).SetValue(status.Gateway.String())
		f.defRoute = true
	}
	for i, d := range status.DNS {
		if i < 2 {
			f.input([]int{rowDNS1, rowDNS2}[i]).SetValue(d.String())
		}
	}
	f.prefillIPv6(saved, mode6)
	for _, r := range ifc.Routes {
		// IPv6 routes only where the form sends static IPv6 as it is:
		// otherwise IPv6, routes included, is left alone.
		if !r.Is6() || f.ipv6.known && f.ipv6.mode == netconfig.IPv6Static {
			f.addRoute().SetValue(r.String())
		}
	}
	f.initial = f.values()
	if f.dhcp {
		f.focus = rowMode
	}
	f.setFocus(f.focus)
	f.validate()
	return f
}

// addRoute adds an empty route row at the end and returns its field.
func (f *form) addRoute() *textinput.Model {
	f.routes = append(f.routes, ui.NewTextInput(f.st, 34, 64))
	return &f.routes[len(f.routes)-1]
}

// input returns the text field of a text row.
func (f *form) input(row int) *textinput.Model {
	if isRoute(row) {
		return &f.routes[row-rowRoute]
	}
	return &f.inputs[slices.Index(textRows, row)]
}

// values returns what the operator typed.
func (f *form) values() netconfig.Form {
	v := func(row int) string { return f.input(row).Value() }
	var routes []string
	for _, r := range f.routes {
		routes = append(routes, r.Value())
	}
	form := netconfig.Form{
		Interface:    f.nic,
		DHCP:         f.dhcp,
		VLAN:         v(rowVLAN),
		MTU:          v(rowMTU),
		Address:      v(rowAddress),
		Netmask:      v(rowNetmask),
		Gateway:      v(rowGateway),
		DefaultRoute: f.defRoute,
		DNS:          []string{v(rowDNS1), v(rowDNS2)},
		Routes:       routes,
	}
	f.ipv6Values(&form)
	return form
}

// validate parses the form and keeps the config and the per-field errors.
func (f *form) validate() {
	v := f.values()
	f.cfg, f.err = netconfig.ParseForm(v, f.status)
	if e := f.ipv6.unavailable; e != nil && v.IPv6 == netconfig.IPv6DHCP {
		f.err = errors.Join(f.err, e) // what Manager.Validate said when applied
	}
	f.errs = netconfig.FieldErrors(f.err)
}

// valid reports whether the form can be applied.
func (f *form) valid() bool { return f.err == nil }

// dirty reports whether anything differs from the current settings.
func (f *form) dirty() bool {
	v, i := f.values(), f.initial
	return v.DHCP != i.DHCP || v.DefaultRoute != i.DefaultRoute || v.VLAN != i.VLAN || v.MTU != i.MTU ||
		v.Address != i.Address || v.Netmask != i.Netmask || v.Gateway != i.Gateway ||
		!slices.Equal(v.DNS, i.DNS) || !slices.Equal(nonBlank(v.Routes), nonBlank(i.Routes)) || f.ipv6Dirty()
}

// nonBlank returns the entries of ss that are not blank.
func nonBlank(ss []string) []string {
	return slices.DeleteFunc(slices.Clone(ss), func(s string) bool { return strings.TrimSpace(s) == "" })
}

// rows are the focusable rows shown in the current mode: the static
// routes with a static address or static IPv6 (IPv6 routes need only it).
func (f *form) rows() []int {
	rows := []int{rowMode, rowVLAN, rowMTU}
	if !f.dhcp {
		rows = append(rows, rowAddress, rowNetmask, rowGateway, rowDefaultRoute, rowDNS1, rowDNS2)
	}
	rows = f.ipv6Rows(rows)
	if f.dhcp && f.ipv6.mode != netconfig.IPv6Static {
		return append(rows, rowApply)
	}
	for i := range f.routes {
		rows = append(rows, rowRoute+i)
	}
	if len(f.routes) < maxRoutes {
		rows = append(rows, rowAddRoute)
	}
	return append(rows, rowApply)
}

// textFocused reports whether a text field has the focus.
func (f *form) textFocused() bool {
	return slices.Contains(f.rows(), f.focus) && (slices.Contains(textRows, f.focus) || isRoute(f.focus))
}

// move moves the focus by delta rows, wrapping around.
func (f *form) move(delta int) tea.Cmd {
	rows := f.rows()
	i := slices.Index(rows, f.focus)
	if i < 0 {
		i = 0
	}
	i = (i + delta + len(rows)) % len(rows)
	return f.setFocus(rows[i])
}

// next moves the focus to the next field for Enter: the Add route button is
// skipped, so that Enter walks the fields to Apply without adding routes.
func (f *form) next() tea.Cmd {
	cmd := f.move(1)
	if f.focus == rowAddRoute {
		cmd = f.move(1)
	}
	return cmd
}

func (f *form) setFocus(row int) tea.Cmd {
	f.focus = row
	var cmd tea.Cmd
	for _, ins := range [][]textinput.Model{f.inputs, f.routes} {
		for i := range ins {
			ins[i].Blur()
		}
	}
	if f.textFocused() {
		cmd = f.input(row).Focus()
	}
	return cmd
}

// toggleMode switches between DHCP and static.
func (f *form) toggleMode() {
	f.dhcp = !f.dhcp
	f.validate()
}

// toggleDefaultRoute turns "Default route via this interface" on or off.
func (f *form) toggleDefaultRoute() {
	f.defRoute = !f.defRoute
	f.validate()
}

// newRoute adds an empty route and focuses it (the "Add route" button).
func (f *form) newRoute() tea.Cmd {
	if len(f.routes) >= maxRoutes {
		return nil
	}
	f.addRoute()
	f.validate()
	return f.setFocus(rowRoute + len(f.routes) - 1)
}

// removeRoute removes the focused route; the focus stays on the row now
// in its place (or the Add route button).
func (f *form) removeRoute() tea.Cmd {
	if !isRoute(f.focus) {
		return nil
	}
	i := f.focus - rowRoute
	f.routes = slices.Delete(f.routes, i, i+1)
	f.validate()
	if i < len(f.routes) {
		return f.setFocus(rowRoute + i)
	}
	return f.setFocus(rowAddRoute)
}

// update sends msg to the focused text field and re-validates.
func (f *form) update(msg tea.Msg) tea.Cmd {
	if !f.textFocused() {
		return nil
	}
	in := f.input(f.focus)
	var cmd tea.Cmd
	*in, cmd = in.Update(msg)
	f.validate()
	return cmd
}

// errorsFor returns the messages about row.
func (f *form) errorsFor(row int) []string {
	var out []string
	for _, e := range f.errs {
		if errorRow(e) == row {
			out = append(out, e.Message)
		}
	}
	return out
}

// errorRow is the row an error is shown under.
func errorRow(e *netconfig.FieldError) int {
	switch e.Field {
	case netconfig.FieldVLAN:
		return rowVLAN
	case netconfig.FieldMTU:
		return rowMTU
	case netconfig.FieldAddress:
		return rowAddress
	case netconfig.FieldNetmask:
		return rowNetmask
	case netconfig.FieldGateway:
		return rowGateway
	case netconfig.FieldDNS:
		if e.Index == 1 {
			return rowDNS2
		}
		return rowDNS1
	case netconfig.FieldIPv6:
		return rowIPv6
	case netconfig.FieldAddress6:
		return rowAddress6
	case netconfig.FieldGateway6:
		return rowGateway6
	case netconfig.FieldDNS6:
		return rowDNS6
	case netconfig.FieldRoute:
		if e.Index >= 0 {
			return rowRoute + e.Index
		}
		return rowAddRoute
	}
	return rowMode
}

// label is a row's label ("Route 2" for a route).
func label(row int) string {
	if isRoute(row) {
		return fmt.Sprintf("Route %d", row-rowRoute+1)
	}
	return rowLabels[row]
}

// hint is a row's hint.
func hint(row int) string {
	if isRoute(row) {
		return routeHint
	}
	return rowHints[row]
}

// currentAddr is the interface's first IPv4 address, for the header.
func currentAddr(ifc netconfig.Interface) netip.Prefix {
	for _, a := range ifc.Addrs {
		if a.Addr().Is4() {
			return a
		}
	}
	return netip.Prefix{}
}
