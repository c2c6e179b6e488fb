package netconfig

import (
	"context"
	"os"
	"path/filepath"
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
// client (it renders DHCP=ipv6) or something else manages it; with client
// processes where a DHCPv6 client is installed or
// network.dhcp6StartCommand says how to start one, and refused with the
// reason where neither.
func TestDHCPv6Support(t *testing.T) {
	bin, sbin := t.TempDir(), t.TempDir()
	t.Setenv("PATH", bin) // no client installed
	defer func(dirs []string) { sbinDirs = dirs }(sbinDirs)
	sbinDirs = []string{sbin}
	for _, tt := range []struct {
		client string
		start6 []string
		ok     bool
	}{
		{DHCPClientNetworkd, nil, true},
		{DHCPClientNone, nil, true},
		{DHCPClientProcess, nil, false},
		{DHCPClientProcess, []string{"/opt/dhcp6/start", "{interface}"}, true},
	} {
		d, err := NewSystemDHCP(DHCPOptions{Client: tt.client, Start6Command: tt.start6})
		if err != nil {
			t.Fatal(err)
		}
		err = d.DHCPv6()
		if (err == nil) != tt.ok || (err != nil && err.Error() != "none of dhclient, dhcpcd or busybox udhcpc6 is installed to run it (install isc-dhcp-client, or set network.dhcp6StartCommand)") {
			t.Errorf("%s %v: DHCPv6() = %v", tt.client, tt.start6, err)
		}
	}
	// dhclient installed (in sbin, which PATH lacks): available, and
	// started with its own files.
	if err := os.WriteFile(filepath.Join(sbin, "dhclient"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	d, err := NewSystemDHCP(DHCPOptions{Client: DHCPClientProcess, PidFile6: "/tmp/lab/dh6.{interface}.pid"})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.DHCPv6(); err != nil {
		t.Errorf("dhclient installed: DHCPv6() = %v", err)
	}
	argv, err := d.v6().defaultStart("eth0")
	want := filepath.Join(sbin, "dhclient") + " -6 -nw --dad-wait-time 5 -pf /tmp/lab/dh6.eth0.pid -lf /var/lib/dhcp/dhclient6.eth0.leases eth0"
	if got := strings.Join(argv, " "); err != nil || got != want {
		t.Errorf("default DHCPv6 start = %q, %v; want %q", got, err, want)
	}
	for client, want := range map[string]string{
		"dhcpcd":  "dhcpcd -6 -b eth0",
		"udhcpc6": "udhcpc6 -b -R -i eth0 -p /p",
	} {
		if got := strings.Join(start6Argv(client, "eth0", []string{"/p", "/l"}), " "); got != want {
			t.Errorf("%s: %q, want %q", client, got, want)
		}
	}
}

// TestDHCPFamilies: DHCPv6 clients (dhclient -6, dhcpcd -6, udhcpc6) are
// told apart from DHCPv4 ones, so that each family is stopped and started
// on its own.
func TestDHCPFamilies(t *testing.T) {
	for argv, v6 := range map[string]bool{
		"/sbin/dhclient -6 -nw -pf /run/dhclient6.eth0.pid eth0": true,
		"dhclient -4 -nw eth0":         false,
		"dhclient -nw eth0":            false, // dhclient defaults to DHCPv4
		"dhcpcd -6 -b eth0":            true,
		"dhcpcd --ipv6only eth0":       true,
		"dhcpcd -4 -b eth0":            false,
		"busybox udhcpc6 -i eth0 -b":   true,
		"udhcpc6 -i eth0":              true,
		"busybox udhcpc -i eth0 -b -R": false,
	} {
		name, args := clientName(strings.Fields(argv))
		if name == "" {
			t.Errorf("%q is not recognised as a DHCP client", argv)
			continue
		}
		if got := isDHCPv6(name, args); got != v6 {
			t.Errorf("%q: DHCPv6 %v, want %v", argv, got, v6)
		}
		if match, _ := matchClient(name, args, "eth0"); !match {
			t.Errorf("%q does not match eth0", argv)
		}
	}
}

// An interface name with a leading '-' (Linux allows one) never reaches a
// DHCP client's command line, where it would be an option: nothing runs.
func TestDHCPIfnameIsNotAnOption(t *testing.T) {
	marker := filepath.Join(t.TempDir(), "ran")
	argv := []string{"touch", marker, "{interface}"}
	d, err := NewSystemDHCP(DHCPOptions{Client: DHCPClientProcess, StartCommand: argv, StopCommand: argv, Start6Command: argv})
	if err != nil {
		t.Fatal(err)
	}
	for name, run := range map[string]func() error{
		"start":  func() error { return d.start(context.Background(), "-cf", nil, d.v4()) },
		"stop":   func() error { return d.stop(context.Background(), "-cf", nil, d.v4()) },
		"start6": func() error { return d.start(context.Background(), "-cf", nil, d.v6()) },
	} {
		if err := run(); err == nil || !strings.Contains(err.Error(), `the interface name "-cf" starts with '-'`) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("a command ran with the interface name as an option")
	}
}
