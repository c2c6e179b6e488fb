package network

import (
	"slices"
	"strings"

	"github.com/nodeconsole/nodeconsole/netconfig"
)

// ipv6State is the IPv6 part of the form: the mode row and where it came
// from.
type ipv6State struct {
	mode netconfig.IPv6Mode
	// known: mode is the one kept last for this link. Otherwise it is
	// the kernel's (Deps.IPv6Mode, which cannot tell DHCPv6 from
	// automatic) or inferred from the addresses, and IPv6 is left as it
	// is unless the operator changes the IPv6 rows.
	known bool
	// dns6Auto: the kept settings have IPv6 DNS servers with automatic
	// IPv6, so the IPv6 DNS row is shown with it too (else only with
	// static IPv6), and an edit elsewhere keeps them.
	dns6Auto bool
	initial  ipv6Fields
	// unavailable is why DHCPv6 cannot be applied (Manager.DHCPv6 when
	// the status was read, or Manager.Validate when an apply chose it);
	// shown under the mode row while DHCPv6 is chosen.
	unavailable *netconfig.FieldError
}

// ipv6Fields are the IPv6 rows as shown.
type ipv6Fields struct {
	mode          netconfig.IPv6Mode
	addr, gw, dns string
}

// prefillIPv6 fills the IPv6 rows: from saved when it holds this link's
// IPv6 mode, else from the interface's global IPv6 address and the IPv6
// default gateway through it, with the kernel's mode6 (IPv6Unset: unknown;
// then automatic with an address, off without).
func (f *form) prefillIPv6(saved netconfig.Config, mode6 netconfig.IPv6Mode) {
	s := &f.ipv6
	s.mode = netconfig.IPv6Off
	set := func(row int, v interface{ IsValid() bool }, text string) {
		if v.IsValid() {
			f.input(row).SetValue(text)
		}
	}
	if saved.Link() == f.ifc.Name && saved.IPv6 != netconfig.IPv6Unset {
		s.mode, s.known = saved.IPv6, true
		set(rowAddress6, saved.Address6, saved.Address6.String())
		set(rowGateway6, saved.Gateway6, saved.Gateway6.String())
		if len(saved.DNS6) > 0 {
			f.input(rowDNS6).SetValue(saved.DNS6[0].String())
			s.dns6Auto = saved.IPv6 == netconfig.IPv6Auto
		}
	} else {
		for _, a := range f.ifc.Addrs {
			if a.Addr().Is6() {
				s.mode = netconfig.IPv6Auto
				f.input(rowAddress6).SetValue(a.String())
				break
			}
		}
		if f.status.Gateway6Interface == f.ifc.Name {
			set(rowGateway6, f.status.Gateway6, f.status.Gateway6.String())
		}
		if mode6 != netconfig.IPv6Unset {
			s.mode = mode6
		}
	}
	s.initial = f.fields6()
}

// fields6 are the IPv6 rows shown now (hidden ones blank).
func (f *form) fields6() ipv6Fields {
	v := ipv6Fields{mode: f.ipv6.mode}
	rows := f.ipv6Rows(nil)
	if slices.Contains(rows, rowAddress6) {
		v.addr, v.gw = f.input(rowAddress6).Value(), f.input(rowGateway6).Value()
	}
	if slices.Contains(rows, rowDNS6) {
		v.dns = f.input(rowDNS6).Value()
	}
	return v
}

// ipv6Dirty reports whether the IPv6 rows differ from the current
// settings.
func (f *form) ipv6Dirty() bool { return f.fields6() != f.ipv6.initial }

// ipv6Values sets the IPv6 part of v from the rows shown: none when the
// mode was inferred and nothing was changed (IPv6 stays as it is).
func (f *form) ipv6Values(v *netconfig.Form) {
	if !f.ipv6.known && !f.ipv6Dirty() {
		return
	}
	r := f.fields6()
	v.IPv6, v.Address6, v.Gateway6 = r.mode, r.addr, r.gw
	if r.dns != "" {
		v.DNS6 = []string{r.dns}
	}
}

// ipv6Rows appends the IPv6 rows shown to rows: the mode; the address,
// gateway and DNS with static IPv6 (DNS with static IPv4 only, as
// netconfig takes it; with automatic IPv6 too when kept so).
func (f *form) ipv6Rows(rows []int) []int {
	rows = append(rows, rowIPv6)
	m := f.ipv6.mode
	if m == netconfig.IPv6Static {
		rows = append(rows, rowAddress6, rowGateway6)
	}
	if (m == netconfig.IPv6Static || m == netconfig.IPv6Auto && f.ipv6.dns6Auto) && !f.dhcp {
		rows = append(rows, rowDNS6)
	}
	return rows
}

// cycleIPv6 moves the IPv6 mode by delta in netconfig.IPv6Modes, wrapping.
func (f *form) cycleIPv6(delta int) {
	n := len(netconfig.IPv6Modes)
	i := max(slices.Index(netconfig.IPv6Modes, f.ipv6.mode), 0)
	f.ipv6.mode = netconfig.IPv6Modes[(i+delta+n)%n]
	f.validate()
}

// ipv6Rejected keeps what the apply of cfg said of IPv6 (DHCPv6
// unavailable: only Manager.Validate knows) to show under the mode row.
func (f *form) ipv6Rejected(cfg netconfig.Config, err error) {
	for _, e := range netconfig.FieldErrors(err) {
		if e.Field == netconfig.FieldIPv6 && cfg.IPv6 == netconfig.IPv6DHCP {
			f.ipv6.unavailable = e
		}
	}
}

// dhcp6Unavailable keeps why DHCPv6 cannot be applied (Manager.DHCPv6;
// nil: it can), so that choosing it shows the reason under the mode row
// before any apply, and validates again.
func (f *form) dhcp6Unavailable(err error) {
	f.ipv6.unavailable = nil
	f.ipv6Rejected(netconfig.Config{IPv6: netconfig.IPv6DHCP}, err)
	f.validate()
}

// modeName6 is an IPv6 mode as the mode row shows it: "Automatic (SLAAC)".
func modeName6(m netconfig.IPv6Mode) string {
	d := m.Describe()
	return strings.ToUpper(d[:1]) + d[1:]
}

// currentIPv6 is the interface's global IPv6 addresses and the IPv6
// default gateway through it, for the form's header: "" without any.
func currentIPv6(ifc netconfig.Interface, st netconfig.Status) string {
	var addrs []string
	for _, a := range ifc.Addrs {
		if a.Addr().Is6() {
			addrs = append(addrs, a.String())
		}
	}
	if len(addrs) == 0 {
		return ""
	}
	s := strings.Join(addrs, ", ")
	if st.Gateway6.IsValid() && st.Gateway6Interface == ifc.Name {
		s += " via " + st.Gateway6.String()
	}
	return s
}
