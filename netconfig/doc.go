// Package netconfig reads, validates, applies, checks, reverts and persists
// the node's WAN network configuration (IPv4 only; IPv6 input is refused
// with a clear message).
//
// # Reading
//
// A Reader returns a Status: interfaces (state, MAC, addresses, which one
// carries the default route), the IPv4 default gateway and the
// nameservers. NewReader reads through netlink and a resolv.conf file;
// NewSimulated returns an in-memory network for --demo and tests that
// behaves like the kernel without touching the host.
//
// # Validating
//
// ParseForm turns what an operator typed (Form) into a Config and reports
// every problem at once; FieldErrors splits the error into one sentence per
// field for display under the fields. It is pure: call it on every edit.
// PreviewChanges (or Manager.Preview) gives the "current -> new" lines and
// a warning when the default-route interface is touched.
//
// # Applying
//
// A Manager applies a Config through a Backend (NewNetlinkBackend, or a
// Simulated): snapshot; stop the DHCP client (Options.DHCP); replace the
// addresses; link up; replace the default route; write DNS (for DHCP:
// remove the addresses and the default route, then start the client). Any
// failure restores the snapshot. Apply returns a Trial: run its Checks,
// then Confirm (which saves STATE/network.json and the systemd-networkd
// file) or Revert; Wait reverts by itself at the deadline or when its
// context ends. ApplySaved re-applies the saved config at boot.
//
// One Trial is open at a time. Manager.Pending returns it and
// RevertPending reverts it: a program that stops (log-out, SIGTERM,
// SIGHUP, SIGINT) calls it so that a change on trial never outlives it.
//
// The DHCP client is told through a DHCPControl: Apply before a static
// config replaces the addresses (stop) or after a DHCP config cleared them
// (start), Restore after a revert, Commit once saved. NewSystemDHCP is the
// one of a node: systemd-networkd gets the trial's .network file in its
// runtime directory and a reload; dhclient, dhcpcd and udhcpc processes
// naming the interface are stopped with SIGTERM (waited for through a
// pidfd) and started again on revert with their own command lines, or
// configured commands run instead. It only looks at processes in its own
// network namespace. For IPv6 dhcp it also runs the DHCPv6 client
// (DHCPv6Control: Apply6 once the IPv6 settings are applied, Stop6 before
// a revert puts the snapshot back): dhclient -6, dhcpcd -6 or udhcpc6,
// told apart from the DHCPv4 clients so that each family is stopped and
// started alone. DHCPHook adapts a function (Simulated.DHCP);
// Simulated.DHCPControl is the simulated network's, DHCPv6 included.
//
// A CLI (`nodeconsole network set ... --try 3s`):
//
//	m, _ := netconfig.NewManager(netconfig.Options{
//		Backend: netconfig.NewNetlinkBackend(nil, resolvConf, log),
//		Reader:  netconfig.NewReader(resolvConf),
//		StateDir: stateDir, NetworkdDir: networkdDir, Logger: log,
//		Endpoint: endpoint, TryTimeout: try,
//	})
//	st, _ := m.Status(ctx)
//	cfg, err := netconfig.ParseForm(form, st) // exit 2 if err != nil
//	preview, _ := m.Preview(ctx, cfg)         // print preview.Lines()
//	outcome, err := m.Try(ctx, cfg, answers, printResult)
//
// where answers receives true when stdin says yes (false or EOF: revert).
// Without --try a CLI can Apply and Confirm at once.
//
// A TUI screen calls ParseForm on each edit, Manager.Preview before
// applying, then Manager.Apply in a tea.Cmd; it runs each of Trial.Checks
// in its own tea.Cmd to show results live, shows a countdown to
// Trial.Deadline, runs Trial.Wait in a tea.Cmd (it returns the Outcome
// when decided), and calls Trial.Confirm or Trial.Revert from key presses.
// A diagnostics screen uses Manager.Prober: Carrier, Address, Gateway
// (ARP through the kernel), DNS and Lookup (asking the given servers
// only), TCP, TLS (naming the presented issuer on failure) and ClockSkew,
// each returning a Result with OK, a detail and a one-line hint.
package netconfig
