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
	rowDNS1
	rowDNS2
	rowApply
)

// textRows are the rows holding a text field; inputs[row-rowAddress].
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
	rowGateway: "default gateway",
	rowDNS1:    "optional",
	rowDNS2:    "optional",
}

// form is the DHCP/static editor for one interface. It re-validates with
// netconfig.ParseForm on every edit.
type form struct {
	ifc     netconfig.Interface
	status  netconfig.Status
	dhcp    bool
	inputs  []textinput.Model
	focus   int
	initial netconfig.Form

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
			f.inputs[rowAddress-rowAddress].SetValue(a.String())
			break
		}
	}
	if status.Gateway.IsValid() && status.GatewayInterface == ifc.Name {
		f.inputs[rowGateway-rowAddress].SetValue(status.Gateway.String())
	}
	for i, d := range status.DNS {
		if i < 2 {
			f.inputs[rowDNS1-rowAddress+i].SetValue(d.String())
		}
	}
	f.initial = f.values()
	f.inputs[0].Focus()
	f.validate()
	return f
}

// values returns what the operator typed.
func (f *form) values() netconfig.Form {
	v := func(row int) string { return f.inputs[row-rowAddress].Value() }
	return netconfig.Form{
		Interface: f.ifc.Name,
		DHCP:      f.dhcp,
		Address:   v(rowAddress),
		Netmask:   v(rowNetmask),
		Gateway:   v(rowGateway),
		DNS:       []string{v(rowDNS1), v(rowDNS2)},
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
	return v.DHCP != f.initial.DHCP || v.Address != f.initial.Address || v.Netmask != f.initial.Netmask ||
		v.Gateway != f.initial.Gateway || !slices.Equal(v.DNS, f.initial.DNS)
}

// rows are the focusable rows shown in the current mode.
func (f *form) rows() []int {
	if f.dhcp {
		return []int{rowMode, rowApply}
	}
	return []int{rowMode, rowAddress, rowNetmask, rowGateway, rowDNS1, rowDNS2, rowApply}
}

// textFocused reports whether a text field has the focus.
func (f *form) textFocused() bool { return f.focus >= rowAddress && f.focus <= rowDNS2 && !f.dhcp }

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

// update sends msg to the focused text field and re-validates.
func (f *form) update(msg tea.Msg) tea.Cmd {
	if !f.textFocused() {
		return nil
	}
	i := f.focus - rowAddress
	var cmd tea.Cmd
	f.inputs[i], cmd = f.inputs[i].Update(msg)
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
