package network

import (
	"net/netip"
	"slices"

	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/nodeconsole/nodeconsole/netconfig"
	"github.com/nodeconsole/nodeconsole/tui/ui"
)

// Focusable rows of the form, in order.
const (
	rowMode = iota
	rowAddress
	rowNetmask
	rowGateway
	rowDefaultRoute
	rowDNS1
	rowDNS2
	rowApply
)

// textRows are the rows holding a text field, in the order of inputs.
var textRows = []int{rowAddress, rowNetmask, rowGateway, rowDNS1, rowDNS2}

var rowLabels = map[int]string{
	rowAddress: "Address",
	rowNetmask: "Netmask",
	rowGateway: "Gateway",
	rowDNS1:    "DNS 1",
	rowDNS2:    "DNS 2",
}

var rowHints = map[int]string{
	rowAddress: "CIDR, e.g. 192.0.2.10/24",
	rowNetmask: "optional, e.g. 255.255.255.0",
	rowGateway: "for the default route",
	rowDNS1:    "optional",
	rowDNS2:    "optional",
}

// form is the DHCP/static editor for one interface. It re-validates with
// netconfig.ParseForm on every edit.
type form struct {
	ifc    netconfig.Interface
	status netconfig.Status
	dhcp   bool
	// defRoute is "Default route via this interface": on when the
	// interface carries it now.
	defRoute bool
	inputs   []textinput.Model
	focus    int
	initial  netconfig.Form

	cfg  netconfig.Config
	err  error
	errs []*netconfig.FieldError
}

// newForm builds a form for ifc, filled with its current settings.
func newForm(st *ui.Styles, status netconfig.Status, ifc netconfig.Interface) form {
	f := form{ifc: ifc, status: status, focus: rowAddress}
	for range textRows {
		f.inputs = append(f.inputs, ui.NewTextInput(st, 20, 64))
	}
	for _, a := range ifc.Addrs {
		if a.Addr().Is4() {
			f.input(rowAddress).SetValue(a.String())
			break
		}
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
	f.initial = f.values()
	f.inputs[0].Focus()
	f.validate()
	return f
}

// input returns the text field of a text row.
func (f *form) input(row int) *textinput.Model {
	return &f.inputs[slices.Index(textRows, row)]
}

// values returns what the operator typed.
func (f *form) values() netconfig.Form {
	v := func(row int) string { return f.input(row).Value() }
	return netconfig.Form{
		Interface:    f.ifc.Name,
		DHCP:         f.dhcp,
		Address:      v(rowAddress),
		Netmask:      v(rowNetmask),
		Gateway:      v(rowGateway),
		DefaultRoute: f.defRoute,
		DNS:          []string{v(rowDNS1), v(rowDNS2)},
	}
}

// validate parses the form and keeps the config and the per-field errors.
func (f *form) validate() {
	f.cfg, f.err = netconfig.ParseForm(f.values(), f.status)
	f.errs = netconfig.FieldErrors(f.err)
}

// valid reports whether the form can be applied.
func (f *form) valid() bool { return f.err == nil }

// dirty reports whether anything differs from the current settings.
func (f *form) dirty() bool {
	v := f.values()
	return v.DHCP != f.initial.DHCP || v.DefaultRoute != f.initial.DefaultRoute || v.Address != f.initial.Address || v.Netmask != f.initial.Netmask ||
		v.Gateway != f.initial.Gateway || !slices.Equal(v.DNS, f.initial.DNS)
}

// rows are the focusable rows shown in the current mode.
func (f *form) rows() []int {
	if f.dhcp {
		return []int{rowMode, rowApply}
	}
	return []int{rowMode, rowAddress, rowNetmask, rowGateway, rowDefaultRoute, rowDNS1, rowDNS2, rowApply}
}

// textFocused reports whether a text field has the focus.
func (f *form) textFocused() bool { return slices.Contains(textRows, f.focus) && !f.dhcp }

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

func (f *form) setFocus(row int) tea.Cmd {
	f.focus = row
	var cmd tea.Cmd
	for i, r := range textRows {
		if r == row {
			cmd = f.inputs[i].Focus()
		} else {
			f.inputs[i].Blur()
		}
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
		var r int
		switch e.Field {
		case netconfig.FieldAddress:
			r = rowAddress
		case netconfig.FieldNetmask:
			r = rowNetmask
		case netconfig.FieldGateway:
			r = rowGateway
		case netconfig.FieldDNS:
			r = rowDNS1
			if e.Index == 1 {
				r = rowDNS2
			}
		case netconfig.FieldInterface:
			r = rowMode
		}
		if r == row {
			out = append(out, e.Message)
		}
	}
	return out
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
