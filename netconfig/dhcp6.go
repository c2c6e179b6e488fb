package netconfig

import (
	"context"
	"errors"
	"os/exec"
	"slices"
	"strings"
	"time"
)

// DHCPv6Control is implemented by a DHCPControl that runs the DHCPv6
// client of IPv6 dhcp itself (SystemDHCP with client processes). The
// Manager calls, besides DHCPControl's calls:
//
//   - Apply6 once the IPv6 settings are applied (IPv6 is on, with router
//     advertisements accepted): for IPv6 dhcp start the DHCPv6 client, for
//     another IPv6 mode stop it; IPv6Unset leaves it alone.
//   - Stop6 first when a snapshot is put back: stop the DHCPv6 client
//     Apply6 started, so that it cannot add an address after the restore.
//     Restore (after the snapshot is back) starts again what Apply6
//     stopped.
type DHCPv6Control interface {
	Apply6(ctx context.Context, cfg Config, trial bool) error
	Stop6(ctx context.Context, ifname string) error
}

var (
	_ DHCPv6Support = (*SystemDHCP)(nil)
	_ DHCPv6Control = (*SystemDHCP)(nil)
)

// DHCPv6 implements DHCPv6Support: systemd-networkd runs DHCPv6 from the
// rendered .network file (DHCP=ipv6), and with network.dhcpClient none
// whatever manages the client is trusted to. With client processes
// nodeconsole starts one itself: network.dhcp6StartCommand, or the first
// installed of dhclient, dhcpcd and busybox udhcpc6; without any DHCPv6
// is not available, and the error says so in one clause.
func (d *SystemDHCP) DHCPv6() error {
	mode, err := d.mode()
	if err != nil || mode != DHCPClientProcess || len(d.o.Start6Command) > 0 {
		return err
	}
	_, err = d.v6().defaultStart(InterfacePlaceholder)
	return err
}

// v6 is the DHCPv6 family of clients (see v4).
func (d *SystemDHCP) v6() dhcpFamily {
	return dhcpFamily{v6: true, what: "DHCPv6 client", startCmd: d.o.Start6Command, stopCmd: d.o.Stop6Command,
		startKey: "network.dhcp6StartCommand", stopKey: "network.dhcp6StopCommand",
		defaultStart: func(ifname string) ([]string, error) {
			client, argv0, err := dhcp6Client()
			if err != nil {
				return nil, err
			}
			argv := start6Argv(client, ifname, substitute([]string{d.o.PidFile6, d.o.LeaseFile6}, ifname))
			return append(argv0, argv[1:]...), nil
		}}
}

// start6Argv is how a DHCPv6 client is started on ifname when nothing
// says how, with files [pid file, lease file]. dhclient waits for the
// link-local address to leave duplicate address detection (its script
// does, given --dad-wait-time), as DHCPv6 is sent from it.
func start6Argv(client, ifname string, files []string) []string {
	switch client {
	case "dhclient":
		return []string{"dhclient", "-6", "-nw", "--dad-wait-time", "5", "-pf", files[0], "-lf", files[1], ifname}
	case "dhcpcd":
		return []string{"dhcpcd", "-6", "-b", ifname}
	}
	return []string{"udhcpc6", "-b", "-R", "-i", ifname, "-p", files[0]}
}

// errNoDHCPv6Client is DHCPv6's answer where no DHCPv6 client is
// installed.
var errNoDHCPv6Client = errors.New("none of dhclient, dhcpcd or busybox udhcpc6 is installed to run it " +
	"(install isc-dhcp-client, or set network.dhcp6StartCommand)")

// dhcp6Client finds the DHCPv6 client to start: the first installed of
// dhclient, dhcpcd and udhcpc6 (a program in PATH or sbinDirs, or
// busybox's applet), with the words that run it ([busybox, udhcpc6] for
// the applet).
func dhcp6Client() (string, []string, error) {
	for _, c := range []string{"dhclient", "dhcpcd", "udhcpc6"} {
		if p, err := lookProgram(c); err == nil {
			return c, []string{p}, nil
		}
	}
	if bb, err := lookProgram("busybox"); err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, bb, "--list").Output()
		if err == nil && slices.Contains(strings.Fields(string(out)), "udhcpc6") {
			return "udhcpc6", []string{bb, "udhcpc6"}, nil
		}
	}
	return "", nil, errNoDHCPv6Client
}

// Apply6 implements DHCPv6Control. Only client processes are acted on:
// systemd-networkd runs DHCPv6 from the .network file Apply wrote, and
// with network.dhcpClient none something else does. The DHCPv6 clients
// that ran before are stopped (whatever the IPv6 mode: a static or SLAAC
// address must not get a lease beside it) and remembered for Restore.
func (d *SystemDHCP) Apply6(ctx context.Context, cfg Config, trial bool) error {
	if cfg.IPv6 == IPv6Unset {
		return nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	mode, err := d.mode()
	if err != nil || mode != DHCPClientProcess {
		return err
	}
	ifname, v6 := cfg.Interface, d.v6()
	u := d.undo[ifname]
	if u == nil {
		u = &dhcpUndo{mode: mode}
		d.undo[ifname] = u
	}
	running, err := d.clients(ifname, v6)
	if err != nil {
		return err
	}
	if !u.seen6 {
		u.seen6, u.stopped6 = true, running
	}
	d.log.Info("DHCPv6 client", "interface", ifname, "ipv6", string(cfg.IPv6), "running", len(running), "trial", trial)
	if err := d.stop(ctx, ifname, running, v6); err != nil {
		return err
	}
	if cfg.IPv6 != IPv6DHCP {
		return nil
	}
	u.started6 = true
	return d.start(ctx, ifname, u.stopped6, v6)
}

// Stop6 implements DHCPv6Control: it stops the DHCPv6 client Apply6
// started on ifname, if any.
func (d *SystemDHCP) Stop6(ctx context.Context, ifname string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	u := d.undo[ifname]
	if u == nil || !u.started6 {
		return nil
	}
	v6 := d.v6()
	running, err := d.clients(ifname, v6)
	if err != nil {
		return err
	}
	return d.stop(ctx, ifname, running, v6)
}
