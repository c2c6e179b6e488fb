package main

import (
	"bufio"
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/nodeconsole/nodeconsole/lldp"
	"github.com/nodeconsole/nodeconsole/netconfig"
	"github.com/nodeconsole/nodeconsole/regclient"
)

// cmdNetwork is `nodeconsole network show [--json] | set ... | apply`.
func cmdNetwork(ctx context.Context, g globals, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usagef("network needs a command: show, set, apply, hostname, ntp, proxy, history or restore")
	}
	switch args[0] {
	case "show":
		return netShow(ctx, g, args[1:], stdout, stderr)
	case "set":
		return netSet(ctx, g, args[1:], stdin, stdout, stderr)
	case "apply":
		return netApply(ctx, g, args[1:], stdout, stderr)
	case "hostname":
		return netHostname(ctx, g, args[1:], stdout, stderr)
	case "ntp":
		return netNTP(ctx, g, args[1:], stdout, stderr)
	case "proxy":
		return netProxy(ctx, g, args[1:], stdin, stdout, stderr)
	case "history":
		return netHistory(ctx, g, args[1:], stdout, stderr)
	case "restore":
		return netRestore(ctx, g, args[1:], stdin, stdout, stderr)
	}
	return usagef("unknown network command %q (show, set, apply, hostname, ntp, proxy, history or restore)", args[0])
}

// netManager builds the Manager: the real netlink backend on a node, the
// simulated network in --demo. Paths come from the config (network.resolvConf,
// network.networkdDir) and --state-dir.
func (e *env) netManager() (*netconfig.Manager, error) { return e.netManagerTry(0) }

// netManagerTry is netManager with the trial length (0: 60 s).
func (e *env) netManagerTry(try time.Duration) (*netconfig.Manager, error) {
	// Read on the first TLS check, not before the first frame.
	roots := sync.OnceValues(func() (*x509.CertPool, error) {
		pool, err := e.netRootCAs()
		if err != nil {
			// Not fatal: the TLS check then fails and says why.
			e.log.Warn("network checks: CA bundle", "err", err)
		}
		return pool, err
	})
	o := netconfig.Options{
		StateDir:    e.g.stateDir,
		NetworkdDir: e.cfg.Network.NetworkdDir,
		Logger:      e.log,
		Endpoint:    e.cfg.Site.Endpoint,
		TryTimeout:  try,
		LinkWait:    e.linkWait,
	}
	var nb netconfig.NeighborResolver
	if e.demo != nil {
		// The simulated network has a simulated DHCP client: --demo never
		// touches a real one.
		o.Backend, o.Reader, o.DHCP, nb = e.demo.net, e.demo.net, e.demo.net.DHCPControl(), e.demo.net
	} else {
		b := netconfig.NewNetlinkBackend(nil, e.cfg.Network.ResolvConf, e.log)
		o.Backend, o.Reader, nb = b, netconfig.NewReader(e.cfg.Network.ResolvConf), b
		n := e.cfg.Network
		dhcp, err := netconfig.NewSystemDHCP(netconfig.DHCPOptions{
			Client: n.DHCPClient, StartCommand: n.DHCPStartCommand, StopCommand: n.DHCPStopCommand,
			Start6Command: n.DHCP6StartCommand, Stop6Command: n.DHCP6StopCommand, PidFile6: n.DHCP6PidFile, LeaseFile6: n.DHCP6LeaseFile,
			NetworkdRuntimeDir: n.NetworkdRuntimeDir, NetworkdReloadCommand: n.NetworkdReloadCommand,
			Logger: e.log,
		})
		if err != nil {
			return nil, fmt.Errorf("network: %w", err)
		}
		o.DHCP = dhcp
	}
	// The console's LLDP listener fills in the neighbours (nil: none).
	o.Reader = netconfig.WithLLDP(o.Reader, e.lldp)
	o.Prober = &netconfig.Prober{Reader: o.Reader, Neighbors: nb, Roots: roots}
	// The proxy layer of the checks: the way the registration client goes.
	o.Prober.Proxy = proberProxy(strings.TrimSpace(e.cfg.Network.HTTPSProxy), e.cfg.Network.NoProxy)
	if e.demo != nil {
		// Every probe runs against the simulated network (DNS, TCP, TLS,
		// clock); only the embedded control plane on loopback answers.
		o.Prober.Dial = e.demo.net.Dial
	}
	m, err := netconfig.NewManager(o)
	if err != nil {
		return nil, fmt.Errorf("network: %w", err)
	}
	// Whatever ends the command (log-out, a signal, an error), a change
	// still on trial must not outlive it: put the previous settings back.
	e.cleanup = append(e.cleanup, func() {
		ctx, cancel := context.WithTimeout(context.Background(), exitRevertTimeout)
		defer cancel()
		if reverted, err := m.RevertPending(ctx, "nodeconsole is exiting"); reverted || err != nil {
			e.log.Info("network trial reverted at exit", "audit", true, "err", netErrString(err))
		}
	})
	return m, nil
}

// exitRevertTimeout bounds reverting a trial when the program exits
// (netlink is quick; DHCP client commands have their own 20 s bound).
const exitRevertTimeout = 2 * time.Minute

// netRootCAs is the pool the TLS check verifies the control plane with: the
// system roots plus --ca-file and site.caCerts (file paths or PEM blocks).
// On an error it still returns the pool with what could be read.
//
// Without --ca-file and site.caCerts it is nil, which the TLS check takes as
// the system roots: crypto/x509 then reads them on first use, not at start-up,
// where they cost 20-35 ms and about 1 MiB before the console's first frame
// (docs/performance.md).
func (e *env) netRootCAs() (*x509.CertPool, error) {
	o := regclient.ConfigOptions(e.cfg, e.g.caFile, e.log, version)
	if len(o.CAPEMs) == 0 && len(o.CAFiles) == 0 {
		return nil, nil
	}
	pool, errs := regclient.RootCAs(o.CAPEMs, o.CAFiles)
	return pool, errors.Join(errs...)
}

// showJSON is the `network show --json` document.
type showJSON struct {
	Interfaces       []showIf `json:"interfaces"`
	Gateway          string   `json:"gateway,omitempty"`
	GatewayInterface string   `json:"gatewayInterface,omitempty"`
	// Gateway6 is the IPv6 default gateway, through Gateway6Interface.
	Gateway6          string            `json:"gateway6,omitempty"`
	Gateway6Interface string            `json:"gateway6Interface,omitempty"`
	DNS               []string          `json:"dns"`
	Saved             *netconfig.Config `json:"saved"`
	// ShadowedBy are .network files systemd-networkd uses instead of the
	// saved settings' file (netconfig.ShadowingFiles).
	ShadowedBy []string `json:"shadowedBy,omitempty"`
	// Hostname is the name in network.hostnameFile ("" when none).
	Hostname string  `json:"hostname"`
	NTP      showNTP `json:"ntp"`
	// Proxy is network.httpsProxy without credentials; nil when none.
	Proxy *showProxy `json:"proxy"`
}

// showIPv6 is the IPv6 of an interface.
type showIPv6 struct {
	Mode      string   `json:"mode,omitempty"`
	Addresses []string `json:"addresses"`
	// Default: it carries an IPv6 default route.
	Default bool `json:"default,omitempty"`
}

// showProxy is network.httpsProxy without its credentials.
type showProxy struct {
	URL     string `json:"url"`
	NoProxy string `json:"noProxy,omitempty"`
}

// showNTP is the time service and the servers nodeconsole wrote for it.
type showNTP struct {
	Client  string   `json:"client"`
	Servers []string `json:"servers"`
}

type showIf struct {
	Name      string   `json:"name"`
	MAC       string   `json:"mac,omitempty"`
	State     string   `json:"state"`
	Ethernet  bool     `json:"ethernet"`
	Addresses []string `json:"addresses"`
	Default   bool     `json:"default"`
	MTU       int      `json:"mtu,omitempty"`
	// VLANParent and VLANID are set on an 802.1Q link.
	VLANParent string `json:"vlanParent,omitempty"`
	VLANID     int    `json:"vlanId,omitempty"`
	// Routes are the static routes through it, "DST@GATEWAY".
	Routes []string `json:"routes"`
	// IPv6 is its IPv6 mode (off, auto, dhcp, static; see
	// netconfig.KernelIPv6Mode) and its global IPv6 addresses (also in
	// Addresses).
	IPv6 showIPv6 `json:"ipv6"`
	// LLDP are the switch ports heard with --lldp (nil: not listened).
	LLDP []lldp.Neighbor `json:"lldp"`
	// default4: it carries the IPv4 default route (Default: one of
	// either family; IPv6.Default: the IPv6 one).
	default4 bool
}

func netShow(ctx context.Context, g globals, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("network show", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	asJSON := fs.Bool("json", false, "")
	lldpWait := fs.Duration("lldp", 0, "")
	if err := fs.Parse(args); err != nil {
		return flagErr("network show", err, args)
	}
	if *lldpWait < 0 || *lldpWait > maxLLDPWait {
		return usagef("network show: --lldp takes a duration up to %s, like 30s (switches send LLDP every 30 s)", maxLLDPWait)
	}
	if fs.NArg() > 0 {
		return usagef("network show takes no arguments, got %q", fs.Arg(0))
	}
	e, err := newEnv(ctx, g, envOpts{readOnly: true, problems: stderr})
	if err != nil {
		return err
	}
	defer e.close()
	m, err := e.netManager()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	st, err := m.Status(ctx)
	if err != nil {
		return fmt.Errorf("network show: %w", err)
	}
	var saved *netconfig.Config
	switch c, err := m.Saved(); {
	case err == nil:
		saved = &c
	case !errors.Is(err, netconfig.ErrNoSavedConfig):
		return fmt.Errorf("network show: %w", err)
	}
	doc := showJSON{Interfaces: []showIf{}, DNS: []string{}, Saved: saved, ShadowedBy: m.Shadowed()}
	for _, ifc := range st.Interfaces {
		si := showIf{Name: ifc.Name, MAC: ifc.MAC, State: string(ifc.State), Ethernet: ifc.Ethernet, Default: ifc.Default,
			MTU: ifc.MTU, VLANParent: ifc.VLANParent, VLANID: ifc.VLANID, Addresses: []string{}, Routes: []string{}}
		si.IPv6 = showIPv6{Mode: string(ipv6Mode(e, saved, ifc.Name)), Addresses: []string{}, Default: ifc.Default6}
		si.default4 = ifc.Default4
		for _, a := range ifc.Addrs {
			si.Addresses = append(si.Addresses, a.String())
			if a.Addr().Is6() {
				si.IPv6.Addresses = append(si.IPv6.Addresses, a.String())
			}
		}
		for _, r := range ifc.Routes {
			si.Routes = append(si.Routes, r.String())
		}
		if *lldpWait > 0 && ifc.Ethernet {
			si.LLDP = []lldp.Neighbor{}
		}
		doc.Interfaces = append(doc.Interfaces, si)
	}
	switch {
	case *lldpWait > 0 && e.demo == nil:
		if err := listenLLDP(ctx, doc.Interfaces, st, *lldpWait); err != nil {
			return fmt.Errorf("network show: %w", err)
		}
	case *lldpWait > 0:
		// The demo's simulated switch, as the console's list shows it.
		var heard netconfig.LLDPTable
		e.demo.lldp(&heard)
		for i, ifc := range doc.Interfaces {
			if ifc.LLDP != nil {
				doc.Interfaces[i].LLDP = append(ifc.LLDP, heard.Get(ifc.Name)...)
			}
		}
	}
	if st.Gateway.IsValid() {
		doc.Gateway, doc.GatewayInterface = st.Gateway.String(), st.GatewayInterface
	}
	if st.Gateway6.IsValid() {
		doc.Gateway6, doc.Gateway6Interface = st.Gateway6.String(), st.Gateway6Interface
	}
	for _, d := range st.DNS {
		doc.DNS = append(doc.DNS, d.String())
	}
	if doc.Hostname, err = netconfig.ReadHostname(e.cfg.Network.HostnameFile); err != nil {
		return fmt.Errorf("network show: %w", err)
	}
	servers, client, err := netconfig.ReadNTP(e.ntpOptions())
	if err != nil {
		return fmt.Errorf("network show: %w", err)
	}
	doc.NTP = showNTP{Client: client, Servers: append([]string{}, servers...)}
	if n := e.cfg.Network; strings.TrimSpace(n.HTTPSProxy) != "" {
		doc.Proxy = &showProxy{URL: netconfig.ProxyShown(n.HTTPSProxy), NoProxy: n.NoProxy}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(doc)
	}
	w := func(k, v string) { fmt.Fprintf(stdout, "%-10s %s\n", k+":", v) }
	for _, ifc := range doc.Interfaces {
		line := fmt.Sprintf("%s %s %s %s", ifc.Name, ifc.State, orDash(ifc.MAC), orDash(strings.Join(ifc.Addresses, " ")))
		if ifc.VLANID != 0 {
			line += fmt.Sprintf(" (VLAN %d on %s)", ifc.VLANID, orDash(ifc.VLANParent))
		}
		if ifc.MTU != 0 && ifc.MTU != 1500 {
			line += fmt.Sprintf(" mtu %d", ifc.MTU)
		}
		if len(ifc.Routes) > 0 {
			line += " routes " + strings.Join(ifc.Routes, ",")
		}
		if ifc.IPv6.Mode != "" {
			line += " ipv6 " + ifc.IPv6.Mode
		}
		for _, n := range ifc.LLDP {
			line += " [switch " + orDash(n.SystemName) + " " + n.ChassisID + " port " + n.PortID
			if n.VLAN != 0 {
				line += fmt.Sprintf(" vlan %d", n.VLAN)
			}
			line += "]"
		}
		switch {
		case ifc.default4 && ifc.IPv6.Default:
			line += " (default route, IPv6 default route)"
		case ifc.IPv6.Default:
			line += " (IPv6 default route)"
		case ifc.Default:
			line += " (default route)"
		}
		if !ifc.Ethernet {
			line += " (not Ethernet)"
		}
		w("Interface", line)
	}
	if doc.Gateway != "" {
		w("Gateway", doc.Gateway+" via "+doc.GatewayInterface)
	} else {
		w("Gateway", "none")
	}
	if doc.Gateway6 != "" {
		w("Gateway6", doc.Gateway6+" via "+doc.Gateway6Interface)
	}
	w("DNS", orDash(strings.Join(doc.DNS, ", ")))
	w("Hostname", orDash(doc.Hostname))
	if doc.Proxy != nil {
		w("Proxy", doc.Proxy.URL+" no-proxy "+orDash(doc.Proxy.NoProxy))
	} else {
		w("Proxy", "none")
	}
	w("NTP", orDash(strings.Join(doc.NTP.Servers, ", "))+" ("+doc.NTP.Client+")")
	if saved == nil {
		w("Saved", "none")
	} else {
		w("Saved", saved.Describe())
	}
	if n := netconfig.ShadowedNotice(doc.ShadowedBy); n != "" {
		w("Warning", n)
	}
	return nil
}

// maxLLDPWait bounds network show --lldp: LLDP frames come every 30 s.
const maxLLDPWait = 2 * time.Minute

// listenLLDP listens on every Ethernet interface at once for d and fills
// in the neighbours heard.
func listenLLDP(ctx context.Context, ifs []showIf, st netconfig.Status, d time.Duration) error {
	var wg sync.WaitGroup
	errs := make([]error, len(ifs))
	for i := range ifs {
		ifc, ok := st.Interface(ifs[i].Name)
		if !ok || !ifc.Ethernet {
			continue
		}
		c, err := lldp.Open(ifc.Index)
		if err != nil {
			return fmt.Errorf("listen for LLDP on %s: %w", ifc.Name, err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.Close()
			nbs, err := c.Collect(ctx, d)
			ifs[i].LLDP = append(ifs[i].LLDP, nbs...)
			errs[i] = err
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// ipv6Mode is the IPv6 mode of interface name: the saved one for the
// saved link (only it tells DHCPv6 apart), else what the kernel's settings
// say; "" in --demo or when unknown.
func ipv6Mode(e *env, saved *netconfig.Config, name string) netconfig.IPv6Mode {
	if saved != nil && saved.Link() == name && saved.IPv6 != netconfig.IPv6Unset {
		return saved.IPv6
	}
	if e.demo != nil {
		return netconfig.IPv6Unset
	}
	return netconfig.KernelIPv6Mode(name)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func netSet(ctx context.Context, g globals, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("network set", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var form netconfig.Form
	var try time.Duration
	var dnsSet bool
	fs.StringVar(&form.Interface, "interface", "", "")
	fs.BoolVar(&form.DHCP, "dhcp", false, "")
	fs.StringVar(&form.Address, "address", "", "")
	fs.StringVar(&form.Netmask, "netmask", "", "")
	fs.StringVar(&form.Gateway, "gateway", "", "")
	// A gateway means the default route (as before the choice existed)
	// unless --no-default-route; --default-route without one is refused.
	var defRoute, noDefRoute bool
	fs.BoolVar(&defRoute, "default-route", false, "")
	fs.BoolVar(&noDefRoute, "no-default-route", false, "")
	// IPv6 servers in --dns are the IPv6 DNS servers (IPv6 auto or static).
	var dns6 string
	fs.Func("dns", "", func(s string) error {
		dnsSet = true
		for _, d := range strings.Split(s, ",") {
			d = strings.TrimSpace(d)
			if a, err := netip.ParseAddr(d); err == nil && a.Is6() && !a.Is4In6() {
				form.DNS6 = append(form.DNS6, d)
				dns6 = d
				continue
			}
			form.DNS = append(form.DNS, d)
		}
		return nil
	})
	var ipv6 string
	fs.StringVar(&ipv6, "ipv6", "", "")
	fs.StringVar(&form.Address6, "address6", "", "")
	fs.StringVar(&form.Gateway6, "gateway6", "", "")
	fs.StringVar(&form.MTU, "mtu", "", "")
	fs.StringVar(&form.VLAN, "vlan", "", "")
	fs.Func("route", "", func(s string) error {
		form.Routes = append(form.Routes, s)
		return nil
	})
	fs.DurationVar(&try, "try", 0, "")
	if err := fs.Parse(args); err != nil {
		return flagErr("network set", err, args)
	}
	switch {
	case fs.NArg() > 0:
		return usagef("network set takes no arguments, got %q", fs.Arg(0))
	case form.Interface == "":
		return usagef("network set: --interface is required")
	case form.DHCP && (form.Address != "" || form.Netmask != "" || form.Gateway != "" || dnsSet):
		return usagef("network set: --dhcp cannot be combined with --address, --netmask, --gateway or --dns")
	case !form.DHCP && form.Address == "":
		return usagef("network set: give --dhcp, or --address CIDR [--gateway IP]")
	case defRoute && noDefRoute:
		return usagef("network set: --default-route and --no-default-route contradict each other")
	case form.DHCP && (defRoute || noDefRoute):
		return usagef("network set: --default-route and --no-default-route apply to a static address; DHCP takes the route the server gives")
	case try < 0:
		return usagef("network set: --try must be a positive duration like 60s")
	case (form.Address6 != "" || form.Gateway6 != "") && ipv6 != string(netconfig.IPv6Static):
		return usagef("network set: --address6 and --gateway6 need --ipv6 static")
	case dns6 != "" && ipv6 != string(netconfig.IPv6Static) && ipv6 != string(netconfig.IPv6Auto):
		return usagef("network set: --dns %s is an IPv6 server; IPv6 DNS servers need --ipv6 auto or static", dns6)
	}
	form.IPv6 = netconfig.IPv6Mode(ipv6)
	form.DefaultRoute = defRoute || (form.Gateway != "" && !noDefRoute)
	e, err := newEnv(ctx, g, envOpts{log: true, problems: stderr})
	if err != nil {
		return err
	}
	defer e.close()
	m, err := e.netManagerTry(try)
	if err != nil {
		return err
	}
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	st, err := m.Status(rctx)
	cancel()
	if err != nil {
		return fmt.Errorf("network set: %w", err)
	}
	cfg, err := netconfig.ParseForm(form, st)
	if err == nil {
		// What the form cannot know: whether DHCPv6 is available.
		err = m.Validate(ctx, cfg)
	}
	if netconfig.IsInvalid(err) {
		msgs := netconfig.FieldMessages(err)
		e.log.Info("network set refused", "audit", true, "reason", msgs)
		return usagef("network set: %s", msgs)
	}
	if err != nil {
		return fmt.Errorf("network set: %w", err)
	}
	return tryConfig(ctx, e, m, st, cfg, try, stdin, stdout, "network set")
}

// tryConfig previews cfg, applies it, runs the checks and keeps it (no
// try) or asks on stdin until the try deadline reverts it: the trial of
// network set and network restore. op names the command in errors.
func tryConfig(ctx context.Context, e *env, m *netconfig.Manager, st netconfig.Status, cfg netconfig.Config, try time.Duration,
	stdin io.Reader, stdout io.Writer, op string) error {
	fmt.Fprintln(stdout, strings.Join(netconfig.PreviewChanges(st, cfg).Lines(), "\n"))
	e.log.Info("network apply", "audit", true, "config", cfg.Describe(), "try", try.String())
	report := func(r netconfig.Result) { fmt.Fprintln(stdout, r.String()) }

	t, err := m.Apply(ctx, cfg)
	if err != nil {
		return fmt.Errorf(op+": %w", err)
	}
	fmt.Fprintln(stdout, "Applied. Checks:")
	t.RunChecks(ctx, report)
	if ctx.Err() != nil {
		// Stopped by a signal before anything was kept: revert.
		outcome, err := t.Wait(ctx)
		e.log.Info("network trial ended", "audit", true, "interface", cfg.Interface, "outcome", string(outcome), "err", netErrString(err))
		if err != nil {
			return fmt.Errorf(op+": restoring the previous settings failed: %w", err)
		}
		return errors.New(op + ": stopped; the previous settings were restored")
	}
	if try == 0 {
		if err := t.Confirm(ctx); err != nil {
			return fmt.Errorf(op+": the settings are in use but were not saved: %w", err)
		}
		e.log.Info("network confirm", "audit", true, "interface", cfg.Interface)
		fmt.Fprintln(stdout, "Kept and saved.")
		return nil
	}
	left := time.Until(t.Deadline()).Round(time.Second)
	fmt.Fprintf(stdout, "Keep these settings? [y/N] (reverting in %s) ", max(left, 0))
	go func() {
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && line == "" {
			return // no stdin, or EOF: no answer; the deadline reverts
		}
		if a := strings.ToLower(strings.TrimSpace(line)); a == "y" || a == "yes" {
			_ = t.Confirm(ctx)
		} else {
			_ = t.Revert(ctx)
		}
	}()
	outcome, err := t.Wait(ctx)
	fmt.Fprintln(stdout)
	e.log.Info("network trial ended", "audit", true, "interface", cfg.Interface, "outcome", string(outcome), "err", netErrString(err))
	switch {
	case outcome == netconfig.OutcomeConfirmed && err != nil:
		return fmt.Errorf(op+": the settings are in use but were not saved: %w", err)
	case outcome == netconfig.OutcomeConfirmed:
		fmt.Fprintln(stdout, "Kept and saved.")
		return nil
	case err != nil:
		return fmt.Errorf(op+": restoring the previous settings failed: %w", err)
	case outcome == netconfig.OutcomeExpired:
		return fmt.Errorf(op+": no answer within %s; the previous settings were restored", try)
	case outcome == netconfig.OutcomeCancelled:
		return errors.New(op + ": stopped; the previous settings were restored")
	}
	return errors.New(op + ": not kept; the previous settings were restored")
}

func netErrString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func netApply(ctx context.Context, g globals, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		return usagef("network apply takes no arguments, got %q", args[0])
	}
	e, err := newEnv(ctx, g, envOpts{log: true, problems: stderr})
	if err != nil {
		return err
	}
	defer e.close()
	m, err := e.netManager()
	if err != nil {
		return err
	}
	cfg, err := m.ApplySaved(ctx)
	if errors.Is(err, netconfig.ErrNoSavedConfig) {
		fmt.Fprintln(stdout, "No network settings have been saved yet; nothing to apply.")
		return nil
	}
	if err != nil {
		return fmt.Errorf("network apply: %w", err)
	}
	e.log.Info("network apply saved", "audit", true, "config", cfg.Describe())
	fmt.Fprintln(stdout, "Applied the saved settings: "+cfg.Describe())
	return nil
}
