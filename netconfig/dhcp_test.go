package netconfig

import (
	"strings"
	"testing"
)

func TestMatchClient(t *testing.T) {
	tests := []struct {
		argv          string
		ifname        string
		match, global bool
	}{
		// ifupdown's dhclient
		{"/sbin/dhclient -4 -v -i -pf /run/dhclient.eth0.pid -lf /var/lib/dhcp/dhclient.eth0.leases -I -df /var/lib/dhcp/dhclient6.eth0.leases eth0", "eth0", true, false},
		{"/sbin/dhclient -4 -v -i -pf /run/dhclient.eth0.pid -lf /var/lib/dhcp/dhclient.eth0.leases -I -df /var/lib/dhcp/dhclient6.eth0.leases eth0", "eth1", false, false},
		// dhclient without an interface serves them all
		{"dhclient -nw", "eth0", true, true},
		{"dhclient -v eth1", "eth0", false, false},
		// dhcpcd per interface, and as a manager
		{"dhcpcd -4 -b eth0", "eth0", true, false},
		{"dhcpcd -4 -b eth1", "eth0", false, false},
		{"/usr/sbin/dhcpcd -q -b", "eth0", true, true},
		{"dhcpcd -h node1 -v vendor eth1", "eth0", false, false},
		// udhcpc (busybox applet or symlink); without -i it serves eth0
		{"busybox udhcpc -f -i veth0 -s /tmp/x.sh", "veth0", true, false},
		{"udhcpc -i eth1 -b", "eth0", false, false},
		{"udhcpc -ieth0", "eth0", true, false},
		{"udhcpc --interface=eth0", "eth0", true, false},
		{"udhcpc -b -R", "eth0", true, false},
		{"udhcpc -b -R", "eth1", false, false},
		// not clients
		{"/bin/sh /tmp/udhcpc.sh bound", "eth0", false, false},
		{"sshd: eth0", "eth0", false, false},
		{"busybox", "eth0", false, false},
	}
	for _, tt := range tests {
		name, args := clientName(strings.Fields(tt.argv))
		var match, global bool
		if name != "" {
			match, global = matchClient(name, args, tt.ifname)
		}
		if match != tt.match || global != tt.global {
			t.Errorf("%q on %s: match %v global %v, want %v %v", tt.argv, tt.ifname, match, global, tt.match, tt.global)
		}
	}
}

func TestSubstituteAndOptions(t *testing.T) {
	got := strings.Join(substitute([]string{"dhclient", "-pf", "/run/dhclient.{interface}.pid", "{interface}"}, "eth0"), " ")
	if got != "dhclient -pf /run/dhclient.eth0.pid eth0" {
		t.Errorf("substitute = %q", got)
	}
	if _, err := NewSystemDHCP(DHCPOptions{Client: "dhclient"}); err == nil || !strings.Contains(err.Error(), "auto, networkd, process, none") {
		t.Errorf("a bad client kind: %v", err)
	}
	d, err := NewSystemDHCP(DHCPOptions{})
	if err != nil || d.o.Client != DHCPClientAuto || d.o.NetworkdRuntimeDir != "/run/systemd/network" ||
		strings.Join(d.o.NetworkdReloadCommand, " ") != "networkctl reload" || d.o.Timeout != DefaultDHCPCommandTimeout {
		t.Errorf("defaults: %+v, %v", d.o, err)
	}
}

// TestDHCPv6Support: IPv6 dhcp is offered where systemd-networkd runs the
// client (it renders DHCP=ipv6) or something else manages it, and refused
// with the reason where nodeconsole starts a DHCPv4 client process.
func TestDHCPv6Support(t *testing.T) {
	for client, ok := range map[string]bool{DHCPClientNetworkd: true, DHCPClientNone: true, DHCPClientProcess: false} {
		d, err := NewSystemDHCP(DHCPOptions{Client: client})
		if err != nil {
			t.Fatal(err)
		}
		if err := d.DHCPv6(); (err == nil) != ok || (err != nil && !strings.Contains(err.Error(), "DHCPv4 only")) {
			t.Errorf("%s: DHCPv6() = %v", client, err)
		}
	}
}
