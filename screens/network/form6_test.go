package network

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"charm.land/bubbles/v2/key"

	"github.com/nodeconsole/nodeconsole/netconfig"
)

// TestIPv6KernelMode: with no kept settings, the IPv6 row starts at the
// kernel's mode (Deps.IPv6Mode), which is applied only when the operator
// changes the IPv6 rows: an IPv4 change leaves IPv6 as it is.
func TestIPv6KernelMode(t *testing.T) {
	h := newHarness(t, harnessOpts{mode6: func(name string) netconfig.IPv6Mode {
		if name == "mgmt0" {
			return netconfig.IPv6Static
		}
		return netconfig.IPv6Off
	}})
	h.openForm("mgmt0")
	f := &h.m.form
	if f.ipv6.mode != netconfig.IPv6Static || !slices.Contains(f.rows(), rowAddress6) || f.dirty() || !f.valid() {
		t.Fatalf("kernel static: mode %q, rows %v, dirty %v, err %v", f.ipv6.mode, f.rows(), f.dirty(), f.err)
	}
	h.setField(rowMTU, "9000")
	if v := f.values(); v.IPv6 != netconfig.IPv6Unset || !f.valid() {
		t.Errorf("an MTU change sends IPv6 %q (err %v); want it left as it is", v.IPv6, f.err)
	}
	h.setField(rowAddress6, "2001:db8:7::20/64")
	if v := f.values(); v.IPv6 != netconfig.IPv6Static || v.Address6 != "2001:db8:7::20/64" {
		t.Errorf("an IPv6 change sends %q %q; want static with the address", v.IPv6, v.Address6)
	}
}

// TestIPv6Rows: the IPv6 mode row cycles Off, Automatic, DHCPv6, Static
// with space and right (left goes back); the address, gateway and DNS rows
// are shown only where they apply; a bad address is rejected under its
// row; DHCPv6, which the simulated DHCP client lacks, is refused under the
// mode row with Manager.DHCPv6's sentence as soon as it is chosen; and a
// kept static IPv6 is filled in again when the form is opened anew.
func TestIPv6Rows(t *testing.T) {
	h := newHarness(t, harnessOpts{tryTimeout: 60 * time.Second})
	h.openForm("mgmt0")
	f := &h.m.form
	if f.ipv6.mode != netconfig.IPv6Off || f.values().IPv6 != netconfig.IPv6Unset || f.dirty() {
		t.Fatalf("mgmt0 has no IPv6: mode %q, form IPv6 %q, dirty %v; want off shown, IPv6 left as it is", f.ipv6.mode, f.values().IPv6, f.dirty())
	}
	h.m.form.setFocus(rowIPv6)
	if !strings.Contains(h.text(), "IPv6     < Off >") || !slices.ContainsFunc(h.m.ShortHelp(), func(b key.Binding) bool { return b.Help() == h.m.keys.Mode6Next.Help() }) {
		t.Errorf("the IPv6 row or its key hint is missing:\n%s", h.text())
	}
	for _, want := range []netconfig.IPv6Mode{netconfig.IPv6Auto, netconfig.IPv6DHCP, netconfig.IPv6Static} {
		h.key("space")
		if f.ipv6.mode != want {
			t.Fatalf("space: mode %q, want %q", f.ipv6.mode, want)
		}
	}
	if rows := f.rows(); !slices.Contains(rows, rowAddress6) || !slices.Contains(rows, rowDNS6) {
		t.Errorf("static IPv6 rows %v lack the address or DNS", rows)
	}
	h.setField(rowAddress6, "fe80::5/64")
	if got := f.errorsFor(rowAddress6); len(got) != 1 || !strings.Contains(h.text(), "is link-local") || f.valid() {
		t.Errorf("link-local static address: errors %q, valid %v:\n%s", got, f.valid(), h.text())
	}
	h.m.form.setFocus(rowIPv6)
	h.key("right", "left", "left") // Static -> Off -> Static -> DHCPv6
	if f.ipv6.mode != netconfig.IPv6DHCP || slices.Contains(f.rows(), rowAddress6) {
		t.Fatalf("DHCPv6: rows %v, err %v; want the address hidden and ignored", f.rows(), f.err)
	}
	if got := f.errorsFor(rowIPv6); len(got) != 1 || got[0] != "IPv6 dhcp (DHCPv6) is not available: the DHCP client in use runs DHCPv4 only; choose IPv6 auto (SLAAC) or static." ||
		f.valid() || !strings.Contains(h.text(), "is not available") {
		t.Fatalf("DHCPv6 unavailable: errors under the mode row %q:\n%s", got, h.text())
	}
	previewAndApply := func() {
		h.m.form.setFocus(rowApply)
		h.key("enter")
		h.until("the preview", func() bool { return h.m.preview.Interface != "" || h.m.previewErr != "" })
		h.key("enter")
	}
	h.m.form.setFocus(rowIPv6)
	h.key("space") // Static: DHCPv6's error goes
	h.setField(rowAddress6, "2001:db8:7::20/64")
	h.setField(rowGateway6, "2001:db8:7::1")
	if !f.valid() {
		t.Fatalf("static IPv6: %v", f.err)
	}
	previewAndApply()
	h.until("the trial", func() bool { return h.m.phase == phaseTrial })
	h.key("y")
	h.until("the outcome", func() bool { return h.m.phase == phaseDone })
	h.key("enter")
	h.until("the list", func() bool { return h.m.phase == phaseList })
	h.openForm("mgmt0")
	f = &h.m.form
	if f.ipv6.mode != netconfig.IPv6Static || f.input(rowAddress6).Value() != "2001:db8:7::20/64" || f.dirty() {
		t.Errorf("reopened: mode %q, address %q, dirty %v; want the kept static IPv6", f.ipv6.mode, f.input(rowAddress6).Value(), f.dirty())
	}
	// mgmt0 now carries the IPv6 default route; the IPv4 one stays on eth0.
	if text := h.text(); !strings.Contains(text, "IPv6 now: 2001:db8:7::20/64 via 2001:db8:7::1") ||
		!strings.Contains(text, "Now: 198.51.100.20/24\n") {
		t.Errorf("the form's header: want the IPv6 address and gateway now, no IPv4 default route:\n%s", text)
	}
}

// TestIPv6KeptDNSWithAuto: IPv6 DNS servers kept with automatic IPv6 are
// shown (the row is otherwise only for static IPv6) and sent again with
// an IPv4 edit, not dropped.
func TestIPv6KeptDNSWithAuto(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	st, err := h.sim.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := netconfig.ParseForm(netconfig.Form{Interface: "mgmt0", Address: "198.51.100.20/24", IPv6: netconfig.IPv6Auto,
		DNS6: []string{"2001:db8:7::53"}}, st)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.mgr.Save(cfg); err != nil {
		t.Fatal(err)
	}
	h.key("r") // read the kept settings again
	h.until("the list", func() bool { return h.m.phase == phaseList })
	h.openForm("mgmt0")
	f := &h.m.form
	h.setField(rowMTU, "9000")
	if v := f.values(); !slices.Contains(f.rows(), rowDNS6) || v.IPv6 != netconfig.IPv6Auto || !slices.Equal(v.DNS6, []string{"2001:db8:7::53"}) {
		t.Errorf("rows %v, IPv6 %q, DNS6 %q; want the kept IPv6 DNS shown and sent", f.rows(), v.IPv6, v.DNS6)
	}
}

// TestIPv6DHCPAvailable: where the DHCP control runs DHCPv6, choosing it
// shows no reason under the mode row, and the form applies it.
func TestIPv6DHCPAvailable(t *testing.T) {
	h := newHarness(t, harnessOpts{tryTimeout: 60 * time.Second, dhcp6: true})
	h.openForm("mgmt0")
	f := &h.m.form
	h.m.form.setFocus(rowIPv6)
	h.key("space", "space") // Off -> Automatic -> DHCPv6
	if f.ipv6.mode != netconfig.IPv6DHCP || len(f.errorsFor(rowIPv6)) != 0 || !f.valid() || !strings.Contains(h.text(), "IPv6     < DHCPv6 >") {
		t.Fatalf("DHCPv6 available: mode %q, errors %q, err %v:\n%s", f.ipv6.mode, f.errorsFor(rowIPv6), f.err, h.text())
	}
	h.m.form.setFocus(rowApply)
	h.key("enter")
	h.until("the preview", func() bool { return h.m.preview.Interface != "" || h.m.previewErr != "" })
	h.key("enter")
	h.until("the trial", func() bool { return h.m.phase == phaseTrial })
	if got := h.m.trial.Config().IPv6; got != netconfig.IPv6DHCP {
		t.Errorf("applied IPv6 %q, want dhcp", got)
	}
}
