package network

import (
	"slices"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/nodeconsole/nodeconsole/tui/ui"
	"github.com/nodeconsole/nodeconsole/tui/uitest"
)

func TestFormErrorsAsYouType(t *testing.T) {
	tests := []struct {
		name                string
		addr, mask, gw, dns string
		want                []string // messages shown
		wantRow             int      // the first message sits under this row
	}{
		{"valid", "192.0.2.20/24", "", "192.0.2.1", "192.0.2.53", nil, 0},
		{"bad address", "192.0.2.300/24", "", "192.0.2.1", "", []string{`Address "192.0.2.300/24" is not an address`}, rowAddress},
		{"no prefix", "192.0.2.20", "", "192.0.2.1", "", []string{"needs a prefix length"}, rowAddress},
		{"netmask instead", "192.0.2.20", "255.255.255.0", "192.0.2.1", "", nil, 0},
		{"bad netmask", "192.0.2.20", "255.0.255.0", "192.0.2.1", "", []string{"not contiguous"}, rowNetmask},
		{"network address", "192.0.2.0/24", "", "192.0.2.1", "", []string{"network address of 192.0.2.0/24"}, rowAddress},
		{"gateway outside", "192.0.2.20/24", "", "198.51.100.1", "", []string{"outside the subnet 192.0.2.0/24"}, rowGateway},
		{"gateway is address", "192.0.2.20/24", "", "192.0.2.20", "", []string{"same as the address"}, rowGateway},
		{"no gateway", "192.0.2.20/24", "", "", "", []string{"Gateway is required for the default route"}, rowGateway},
		{"dns multicast", "192.0.2.20/24", "", "192.0.2.1", "224.0.0.1", []string{"not a unicast address"}, rowDNS1},
		{"ipv6", "2001:db8::5/64", "", "192.0.2.1", "", []string{"only IPv4 is supported"}, rowAddress},
		{"several at once", "192.0.2.255/24", "", "10.0.0.1", "x", []string{"broadcast address", `DNS server 1 "x"`}, rowAddress},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, harnessOpts{})
			h.openForm("eth0")
			h.setField(rowAddress, tt.addr)
			h.setField(rowNetmask, tt.mask)
			h.setField(rowGateway, tt.gw)
			h.setField(rowDNS1, tt.dns)
			h.setField(rowDNS2, "")
			text := h.text()
			if (len(tt.want) == 0) != h.m.form.valid() {
				t.Errorf("valid = %v, want %v (%v)", h.m.form.valid(), len(tt.want) == 0, h.m.form.err)
			}
			for _, w := range tt.want {
				if !strings.Contains(text, w) {
					t.Errorf("form lacks %q:\n%s", w, text)
				}
			}
			if len(tt.want) > 0 {
				if !strings.Contains(text, "disabled: fix the") {
					t.Errorf("Apply not shown disabled:\n%s", text)
				}
				if got := h.m.form.errorsFor(tt.wantRow); len(got) == 0 {
					t.Errorf("no message under row %d; errors %v", tt.wantRow, h.m.form.errs)
				}
				// Enter on the disabled Apply does nothing.
				h.m.form.setFocus(rowApply)
				h.key("enter")
				if h.m.phase != phaseForm {
					t.Error("Apply must be disabled while anything is invalid")
				}
			}
		})
	}
}

func TestFieldsCaptureKeys(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.openForm("eth1")
	if !h.m.CapturesInput() {
		t.Fatal("a focused text field must capture input")
	}
	h.typeText("q?1j")
	h.key("backspace")
	if v := h.m.form.input(rowAddress).Value(); v != "q?1" {
		t.Errorf("address field = %q; q, ?, digits, j and backspace belong to the field", v)
	}
	if uitest.Sent[ui.BackMsg](h.d) || h.m.phase != phaseForm {
		t.Error("typing must not navigate")
	}
	h.key("shift+tab", "shift+tab", "shift+tab") // past MTU and VLAN to the mode row
	if h.m.CapturesInput() {
		t.Error("the mode row must not capture input")
	}
	h.key("space")
	if !h.m.form.dhcp || !h.m.form.valid() || !strings.Contains(h.text(), "come from the DHCP server") {
		t.Errorf("space on the mode row must select DHCP:\n%s", h.text())
	}
	if rows := h.m.form.rows(); !slices.Equal(rows, []int{rowMode, rowVLAN, rowMTU, rowIPv6, rowApply}) {
		t.Errorf("DHCP rows %v: the address fields and routes are hidden, VLAN, MTU and IPv6 stay", rows)
	}
	// Enter moves on, as on every other row (the IPv6 mode, the default
	// route box): it flipped DHCP/static here, under a technician
	// stepping through the form with Enter.
	h.key("enter")
	if !h.m.form.dhcp || h.m.form.focus != rowVLAN {
		t.Errorf("enter on the mode row: DHCP %v, focus %d; want DHCP kept, focus on VLAN ID", h.m.form.dhcp, h.m.form.focus)
	}
}

func TestSmallSizesNeverPanic(t *testing.T) {
	for _, p := range []struct {
		name string
		prep func(h *harness)
	}{
		{"list", func(*harness) {}},
		{"form", func(h *harness) { fillStatic(h, "x", "y", "z", "w") }},
		{"trial", func(h *harness) { fillStatic(h, "192.0.2.20/24", "192.0.2.1", "", ""); applyAndCheck(h) }},
	} {
		h := newHarness(t, harnessOpts{profile: uitest.MonoASCII})
		p.prep(h)
		for w := 0; w <= 82; w += 7 {
			for hh := 0; hh <= 24; hh += 3 {
				h.handle(tea.WindowSizeMsg{Width: w, Height: hh})
				v := h.m.View()
				lines := strings.Split(v, "\n")
				if hh > 0 && w > 0 && len(lines) > hh {
					t.Errorf("%s %dx%d: %d lines", p.name, w, hh, len(lines))
				}
				for _, l := range lines {
					if ansi.StringWidth(l) > max(w, 0) {
						t.Errorf("%s %dx%d: line too wide: %q", p.name, w, hh, ansi.Strip(l))
					}
				}
			}
		}
	}
}

func TestDefaultRouteChoiceFollowsTheInterface(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.openForm("mgmt0")
	if h.m.form.defRoute || !h.m.form.valid() {
		t.Fatalf("mgmt0: default route %v, errors %v; want off and valid", h.m.form.defRoute, h.m.form.err)
	}
	text := h.text()
	if !strings.Contains(text, "[ ] Default route via this interface") || strings.Contains(text, "Gateway is required") {
		t.Errorf("mgmt0 form:\n%s", text)
	}
	// Turning it on asks for a gateway; Space on the row toggles it.
	h.m.form.setFocus(rowDefaultRoute)
	h.key("space")
	if !h.m.form.defRoute || h.m.form.valid() || !strings.Contains(h.text(), "[x] Default route via this interface") {
		t.Errorf("after space: default route %v, valid %v\n%s", h.m.form.defRoute, h.m.form.valid(), h.text())
	}
	if got := h.m.form.errorsFor(rowGateway); len(got) != 1 || !strings.Contains(got[0], "Gateway is required for the default route") {
		t.Errorf("gateway errors %q", got)
	}

	h2 := newHarness(t, harnessOpts{})
	h2.openForm("eth0")
	if !h2.m.form.defRoute || !h2.m.form.valid() {
		t.Errorf("eth0: default route %v, errors %v; want on and valid", h2.m.form.defRoute, h2.m.form.err)
	}
}
