// Command nodeconsole is the local console of an edge network appliance: a
// menu-driven terminal UI shown after the console user logs in, plus
// subcommands for scripts (status, version, ...).
//
//	nodeconsole [--config FILE] [--state-dir DIR] [--endpoint URL] [--ca-file FILE]
//	            [--demo] [--ascii] [--size COLSxROWS] [--log FILE] [command]
//
// Exit codes: 0 done, 2 bad input or usage (nothing changed), 1 anything else,
// always with one line on stderr saying what and why.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags '-X main.version=...'.
var version = "dev"

func main() {
	// A signal cancels ctx rather than killing the process, so that what
	// runs can finish cleanly: a network change on trial is reverted
	// before the program exits (a serial line that drops sends SIGHUP,
	// systemd SIGTERM, ^C at a CLI prompt SIGINT).
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGHUP, syscall.SIGINT)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// usageError marks bad input: exit code 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return usageError{fmt.Sprintf(format, a...)} }

// run is main without the process: it parses args, dispatches and returns the
// exit code, writing at most one line to stderr on failure.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	g, rest, err := parseGlobal(args)
	if err == nil {
		err = dispatch(ctx, g, rest, stdin, stdout, stderr)
	}
	if err == nil {
		return 0
	}
	if errors.Is(err, errHelp) {
		fmt.Fprint(stdout, usageText)
		return 0
	}
	fmt.Fprintln(stderr, "nodeconsole: "+err.Error())
	var ue usageError
	if errors.As(err, &ue) {
		return 2
	}
	return 1
}

var errHelp = errors.New("help requested")

const usageText = `Usage: nodeconsole [global flags] [command]

With no command, runs the console UI.

Global flags:
  --config FILE        config file (default /etc/nodeconsole/config.yaml)
  --state-dir DIR      state directory (default /var/lib/nodeconsole)
  --endpoint URL       control-plane endpoint (overrides site.endpoint)
  --ca-file FILE       extra CA bundle trusted for the control plane
  --demo               run with a temporary state dir and a simulated network
  --ascii              ASCII borders and glyphs
  --size COLSxROWS     force the screen size (serial consoles report 0x0)
  --profile MODE       drawing profile: auto, default or serial
  --log FILE           log file (default STATE-DIR/nodeconsole.log)

Commands:
  status [--json]      print the node status
  network show [--json] [--lldp DURATION]
                       --lldp: listen for LLDP that long and show the switch, port and VLAN per NIC
  network set --interface IF (--dhcp | --address CIDR [--gateway IP] [--dns IP[,IP...]]) [--try DURATION]
                       [--default-route|--no-default-route]: a gateway takes the default route
                       unless --no-default-route; without one the default route stays where it is
                       [--netmask MASK] (with --address IP instead of a CIDR)
                       [--vlan ID] [--mtu N] [--route CIDR@GATEWAY ...] (IPv4 or IPv6, repeatable)
                       [--ipv6 off|auto|dhcp|static] [--address6 CIDR] [--gateway6 IP]
  network apply        re-apply the saved network config (boot)
  network hostname NAME
                       write NAME to network.hostnameFile and run network.hostnameCommand
  network ntp SERVER[,SERVER...]
                       the servers of the time service (timesyncd drop-in or chrony sources file)
  network proxy (URL [--no-proxy LIST] | --clear)
                       proxy for the control plane, into config.d (URL -: read it from stdin)
  network history [--json]
                       the last 5 kept network settings, when, and what each changed
  network restore N [--try DURATION]
                       put entry N of the history back, with the same checks and revert as set
  register [--token-file FILE] [--pairing-key-file FILE] [--timeout DURATION]
                       (or $NODECONSOLE_REGISTRATION_TOKEN; --token TOKEN works but shows in ps)
  deregister --confirm DEREGISTER [--local]
  renew [--force]      renew the node certificate when 2/3 of its life passed (daily timer)
  userdata apply [--source DEV|IMAGE|DIR|imds] [--dry-run]
                       apply site settings from a CIDATA volume or the cloud's user data (boot)
  userdata show        where the applied user data came from, when, and what it set
  config check         print every config problem (FILE:LINE: KEY: what); exit 2 if any
  version              print the version
`

func dispatch(ctx context.Context, g globals, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return runConsole(ctx, g)
	}
	switch args[0] {
	case "status":
		return cmdStatus(ctx, g, args[1:], stdout, stderr)
	case "network":
		return cmdNetwork(ctx, g, args[1:], stdin, stdout, stderr)
	case "register":
		return cmdRegister(ctx, g, args[1:], stdin, stdout, stderr)
	case "deregister":
		return cmdDeregister(ctx, g, args[1:], stdin, stdout, stderr)
	case "renew":
		return cmdRenew(ctx, g, args[1:], stdout, stderr)
	case "userdata":
		return cmdUserdata(ctx, g, args[1:], stdout)
	case "config":
		return cmdConfig(g, args[1:], stdout)
	case "version":
		if len(args) > 1 {
			return usagef("version takes no arguments")
		}
		fmt.Fprintln(stdout, "nodeconsole "+version)
		return nil
	case "help":
		return errHelp
	}
	return usagef("unknown command %q (run 'nodeconsole --help' for the list)", args[0])
}
