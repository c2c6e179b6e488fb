package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/nodeconsole/nodeconsole/netconfig"
)

// ntpOptions are the NTP paths and commands from the config.
func (e *env) ntpOptions() netconfig.NTPOptions {
	n := e.cfg.Network
	return netconfig.NTPOptions{Client: n.NTPClient, TimesyncdDropIn: n.TimesyncdDropIn,
		ChronySources: n.ChronySources, ReloadCommand: n.NTPReloadCommand}
}

// site is where network hostname, ntp and proxy and the console's Site
// settings write: the config's paths and commands (a temporary dir in
// --demo, where the proxy drop-in goes to the demo's state dir).
func (e *env) site() netconfig.Site {
	n := e.cfg.Network
	dir := e.g.configDropInDir()
	if e.demo != nil {
		dir = filepath.Join(e.demo.stateDir, "config.d")
	}
	return netconfig.Site{HostnameFile: n.HostnameFile, HostnameCommand: n.HostnameCommand, NTP: e.ntpOptions(), ProxyDir: dir}
}

// systemCommandTimeout bounds the hostname and NTP reload commands.
const systemCommandTimeout = 30 * time.Second

// netHostname is `nodeconsole network hostname NAME`: it writes NAME to
// network.hostnameFile and runs network.hostnameCommand.
func netHostname(ctx context.Context, g globals, args []string, stdout, stderr io.Writer) error {
	if len(args) != 1 || strings.HasPrefix(args[0], "-") {
		return usagef("network hostname takes one host name, like node-12.example.com")
	}
	name := args[0]
	if err := netconfig.ValidateHostname(name); err != nil {
		return usagef("network hostname: %s", err)
	}
	e, err := newEnv(ctx, g, envOpts{log: true, problems: stderr})
	if err != nil {
		return err
	}
	defer e.close()
	ctx, cancel := context.WithTimeout(ctx, systemCommandTimeout)
	defer cancel()
	n := e.cfg.Network
	if err := e.site().SetHostname(ctx, name); err != nil {
		e.log.Info("network hostname failed", "audit", true, "hostname", name, "err", err.Error())
		return fmt.Errorf("network hostname: %w", err)
	}
	e.log.Info("network hostname", "audit", true, "hostname", name, "file", n.HostnameFile)
	fmt.Fprintf(stdout, "Host name set to %s (%s).\n", name, n.HostnameFile)
	return nil
}

// netNTP is `nodeconsole network ntp SERVER[,SERVER...]`: it writes the
// servers for the configured time service and reloads it.
func netNTP(ctx context.Context, g globals, args []string, stdout, stderr io.Writer) error {
	if len(args) != 1 || strings.HasPrefix(args[0], "-") {
		return usagef("network ntp takes the servers as one argument, like ntp1.example.com,192.0.2.123")
	}
	servers, err := netconfig.ParseNTPServers(args[0])
	if err != nil {
		return usagef("network ntp: %s", netconfig.FieldMessages(err))
	}
	e, err := newEnv(ctx, g, envOpts{log: true, problems: stderr})
	if err != nil {
		return err
	}
	defer e.close()
	ctx, cancel := context.WithTimeout(ctx, systemCommandTimeout)
	defer cancel()
	path, err := e.site().SetNTP(ctx, servers)
	if err != nil {
		e.log.Info("network ntp failed", "audit", true, "servers", strings.Join(servers, ","), "err", err.Error())
		return fmt.Errorf("network ntp: %w", err)
	}
	e.log.Info("network ntp", "audit", true, "servers", strings.Join(servers, ","), "file", path)
	fmt.Fprintf(stdout, "NTP servers %s written to %s.\n", strings.Join(servers, ", "), path)
	return nil
}
