package netconfig

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nodeconsole/nodeconsole/atomicfile"
)

// Values of DHCPOptions.Client (the config key network.dhcpClient).
const (
	// DHCPClientAuto picks networkd when a systemd-networkd process runs in
	// the network namespace, and process otherwise.
	DHCPClientAuto = "auto"
	// DHCPClientNetworkd tells systemd-networkd: during a trial a runtime
	// .network file that sorts before the saved one carries the trial
	// config, and networkd is reloaded; a revert removes it again.
	DHCPClientNetworkd = "networkd"
	// DHCPClientProcess stops and starts dhclient, dhcpcd or udhcpc
	// processes (or runs the configured commands).
	DHCPClientProcess = "process"
	// DHCPClientNone leaves the DHCP client alone (something else manages
	// it).
	DHCPClientNone = "none"
)

// DHCPClients are the valid values of DHCPOptions.Client.
var DHCPClients = []string{DHCPClientAuto, DHCPClientNetworkd, DHCPClientProcess, DHCPClientNone}

// Defaults of DHCPOptions.
const (
	DefaultNetworkdRuntimeDir = "/run/systemd/network"
	DefaultDHCPCommandTimeout = 20 * time.Second
	DefaultDHCP6PidFile       = "/run/dhclient6." + InterfacePlaceholder + ".pid"
	DefaultDHCP6LeaseFile     = "/var/lib/dhcp/dhclient6." + InterfacePlaceholder + ".leases"
)

// DefaultNetworkdReloadCommand makes systemd-networkd re-read its .network
// files; it reconfigures the links whose file changed.
var DefaultNetworkdReloadCommand = []string{"networkctl", "reload"}

// InterfacePlaceholder is replaced by the interface name in configured
// commands.
const InterfacePlaceholder = "{interface}"

// DHCPOptions configure SystemDHCP. The zero value is "auto" with the
// defaults below.
type DHCPOptions struct {
	// Client is one of DHCPClients; "" means auto.
	Client string
	// StartCommand starts a DHCP client on an interface and returns once it
	// runs in the background ({interface} is replaced), e.g.
	// [dhclient, -4, -nw, {interface}]. Empty: start the client that was
	// stopped, as it was started, else the first installed of dhclient,
	// dhcpcd and udhcpc.
	StartCommand []string
	// StopCommand stops the DHCP client of an interface, e.g. [sudo, -n,
	// /usr/sbin/dhclient, -x, -pf, /run/dhclient.{interface}.pid]. Empty:
	// SIGTERM to the dhclient, dhcpcd and udhcpc processes that name the
	// interface. It runs on every static apply, so it must also succeed
	// when no client runs; afterwards no client may be left.
	StopCommand []string
	// Start6Command and Stop6Command are StartCommand and StopCommand for
	// the DHCPv6 client of IPv6 dhcp (Client process). Empty: start the
	// DHCPv6 client that was stopped, else the first installed of
	// dhclient -6, dhcpcd -6 and (busybox) udhcpc6; stop by SIGTERM to the
	// DHCPv6 clients that name the interface.
	Start6Command, Stop6Command []string
	// PidFile6 and LeaseFile6 are the files of the DHCPv6 client started
	// by default ({interface} is replaced): dhclient -6 uses both,
	// udhcpc6 the pid file (dhcpcd keeps its own). Defaults:
	// DefaultDHCP6PidFile, DefaultDHCP6LeaseFile.
	PidFile6, LeaseFile6 string
	// NetworkdRuntimeDir receives the trial's .network file (default
	// /run/systemd/network: volatile, so a power cut mid-trial leaves
	// nothing behind).
	NetworkdRuntimeDir string
	// NetworkdReloadCommand reloads systemd-networkd (default networkctl
	// reload).
	NetworkdReloadCommand []string
	// Timeout bounds each command and each wait for a client to exit
	// (default 20 s).
	Timeout time.Duration
	// Logger receives a line per action; nil discards them.
	Logger *slog.Logger
	// NetNS is the network namespace acted in, as a path ("" is
	// /proc/self/ns/net): only processes in it are looked at or signalled.
	// Set it when the Backend works on another namespace.
	NetNS string
	// Proc is where procfs is mounted ("" is /proc).
	Proc string
}

// SystemDHCP is the DHCPControl of a real node. It finds out what runs DHCP
// on the interface (see DHCPClients) and stops it before a static config
// replaces the addresses, so that no lease comes back, starts it for a DHCP
// config, and undoes both when the trial is reverted; with client
// processes it does the same for the DHCPv6 client of IPv6 dhcp (see
// DHCPv6Control). It only ever looks at processes in its network
// namespace (DHCPOptions.NetNS). Every command and wait is bounded by
// DHCPOptions.Timeout.
type SystemDHCP struct {
	o   DHCPOptions
	log *slog.Logger

	mu   sync.Mutex           // serialises the calls; guards undo
	undo map[string]*dhcpUndo // per interface: what the open change did
}

var _ DHCPControl = (*SystemDHCP)(nil)

// dhcpUndo is what Apply did to the client of one interface, so that
// Restore can undo it and Commit can finish it.
type dhcpUndo struct {
	mode      string
	trialFile string     // networkd: the runtime file written
	stopped   []dhcpProc // process: clients stopped, to start again
	started   bool       // process: a client was (being) started
	// The same for the DHCPv6 clients (Apply6); seen6 once they were
	// looked at.
	stopped6        []dhcpProc
	started6, seen6 bool
}

// dhcpProc is a DHCP client process.
type dhcpProc struct {
	PID  int
	Name string // dhclient, dhcpcd, udhcpc or udhcpc6
	Argv []string
	Env  []string // nil when unreadable
	// Global is set for a client that names no interface (a dhcpcd
	// manager serving every interface): it cannot be stopped for one.
	Global bool
}

func (p dhcpProc) String() string { return fmt.Sprintf("%s (pid %d)", p.Name, p.PID) }

// NewSystemDHCP returns the DHCP control of a node, or an error naming a
// bad option.
func NewSystemDHCP(o DHCPOptions) (*SystemDHCP, error) {
	if o.Client == "" {
		o.Client = DHCPClientAuto
	}
	if !slices.Contains(DHCPClients, o.Client) {
		return nil, fmt.Errorf("netconfig: DHCP client %q is not one of %s", o.Client, strings.Join(DHCPClients, ", "))
	}
	if o.NetworkdRuntimeDir == "" {
		o.NetworkdRuntimeDir = DefaultNetworkdRuntimeDir
	}
	if len(o.NetworkdReloadCommand) == 0 {
		o.NetworkdReloadCommand = DefaultNetworkdReloadCommand
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultDHCPCommandTimeout
	}
	if o.PidFile6 == "" {
		o.PidFile6 = DefaultDHCP6PidFile
	}
	if o.LeaseFile6 == "" {
		o.LeaseFile6 = DefaultDHCP6LeaseFile
	}
	if o.NetNS == "" {
		o.NetNS = "/proc/self/ns/net"
	}
	if o.Proc == "" {
		o.Proc = "/proc"
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &SystemDHCP{o: o, log: log.With("component", "dhcp"), undo: map[string]*dhcpUndo{}}, nil
}

// TrialNetworkdFileName is the runtime .network file that carries a trial
// config for ifname; it sorts before NetworkdFileName and any image file,
// so systemd-networkd matches it first.
func TrialNetworkdFileName(ifname string) string {
	return "05-nodeconsole-trial-" + ifname + ".network"
}

// mode resolves auto.
func (d *SystemDHCP) mode() (string, error) {
	if d.o.Client != DHCPClientAuto {
		return d.o.Client, nil
	}
	running, err := d.networkdRuns()
	if err != nil {
		return "", err
	}
	if running {
		return DHCPClientNetworkd, nil
	}
	return DHCPClientProcess, nil
}

// Apply implements DHCPControl.
func (d *SystemDHCP) Apply(ctx context.Context, cfg Config, trial bool) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	ifname := cfg.Interface
	mode, err := d.mode()
	if err != nil {
		return err
	}
	u := d.undo[ifname]
	first := u == nil
	if first {
		u = &dhcpUndo{mode: mode}
		d.undo[ifname] = u
	}
	d.log.Info("DHCP client", "interface", ifname, "mode", string(cfg.Mode), "client", mode, "trial", trial)
	switch mode {
	case DHCPClientNone:
		return nil
	case DHCPClientNetworkd:
		if !trial {
			// At boot systemd-networkd reads the saved file itself.
			return nil
		}
		dir := d.o.NetworkdRuntimeDir
		path := filepath.Join(dir, TrialNetworkdFileName(ifname))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("netconfig: write the trial networkd file: %w", err)
		}
		if err := atomicfile.WriteFile(path, RenderNetworkd(cfg), 0o644); err != nil {
			return fmt.Errorf("netconfig: write the trial networkd file: %w", err)
		}
		u.trialFile = path
		d.log.Info("wrote trial networkd file", "interface", ifname, "path", path)
		return d.reloadNetworkd(ctx)
	}
	v4 := d.v4()
	running, err := d.clients(ifname, v4)
	if err != nil {
		return err
	}
	if first {
		u.stopped = running
	}
	if err := d.stop(ctx, ifname, running, v4); err != nil {
		return err
	}
	if cfg.Mode != ModeDHCP {
		return nil
	}
	u.started = true
	return d.start(ctx, ifname, u.stopped, v4)
}

// Restore implements DHCPControl.
func (d *SystemDHCP) Restore(ctx context.Context, snap *Snapshot) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	ifname := snap.Interface
	u := d.undo[ifname]
	delete(d.undo, ifname)
	if u == nil {
		return nil // Apply never reached the client
	}
	switch u.mode {
	case DHCPClientNetworkd:
		return d.removeTrialFile(ctx, u)
	case DHCPClientProcess:
		v4, v6 := d.v4(), d.v6()
		// DHCPv6 first: Stop6 has stopped the client it started.
		err := d.undoFamily(ctx, ifname, v6, u.started6, u.stopped6, false)
		return errors.Join(err, d.undoFamily(ctx, ifname, v4, u.started, u.stopped, snap.HadLease()))
	}
	return nil
}

// undoFamily undoes what Apply (or Apply6) did to the clients of one
// family on ifname: stops the one started, and starts those stopped again
// (or, with the configured commands and hadLease, a client).
func (d *SystemDHCP) undoFamily(ctx context.Context, ifname string, f dhcpFamily, started bool, stopped []dhcpProc, hadLease bool) error {
	if started {
		running, err := d.clients(ifname, f)
		if err != nil {
			return err
		}
		if err := d.stop(ctx, ifname, running, f); err != nil {
			return err
		}
	}
	switch {
	case len(stopped) > 0 && len(f.stopCmd) == 0:
		// Stopped by a signal: start exactly what ran before.
		return d.respawn(ifname, stopped)
	case len(stopped) > 0 || (hadLease && len(f.startCmd) > 0):
		// The configured commands own the client.
		return d.start(ctx, ifname, stopped, f)
	}
	return nil
}

// Commit implements DHCPControl.
func (d *SystemDHCP) Commit(ctx context.Context, cfg Config) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	u := d.undo[cfg.Interface]
	delete(d.undo, cfg.Interface)
	if u == nil || u.mode != DHCPClientNetworkd {
		return nil
	}
	// The saved file (networkdDir) now says the same as the trial file.
	return d.removeTrialFile(ctx, u)
}

func (d *SystemDHCP) removeTrialFile(ctx context.Context, u *dhcpUndo) error {
	if u.trialFile == "" {
		return nil
	}
	if err := atomicfile.Remove(u.trialFile); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("netconfig: remove the trial networkd file: %w", err)
	}
	d.log.Info("removed trial networkd file", "path", u.trialFile)
	return d.reloadNetworkd(ctx)
}

// reloadNetworkd runs the reload command if systemd-networkd runs (when it
// does not, it reads the files when it starts).
func (d *SystemDHCP) reloadNetworkd(ctx context.Context) error {
	running, err := d.networkdRuns()
	if err != nil {
		return err
	}
	if !running {
		d.log.Info("systemd-networkd is not running; not reloading it")
		return nil
	}
	return d.run(ctx, "reload systemd-networkd", d.o.NetworkdReloadCommand)
}

// dhcpFamily is what differs between the DHCPv4 and the DHCPv6 client of
// an interface: which processes are its clients, its configured commands
// (and their config keys, for messages), and how one is started when
// nothing says how.
type dhcpFamily struct {
	v6                bool
	what              string // "DHCP client" or "DHCPv6 client"
	startCmd, stopCmd []string
	startKey, stopKey string
	defaultStart      func(ifname string) ([]string, error)
}

// v4 is the DHCPv4 family (Apply); v6 the DHCPv6 one (Apply6).
func (d *SystemDHCP) v4() dhcpFamily {
	return dhcpFamily{what: "DHCP client", startCmd: d.o.StartCommand, stopCmd: d.o.StopCommand,
		startKey: "network.dhcpStartCommand", stopKey: "network.dhcpStopCommand", defaultStart: defaultStartCommand}
}

// stop stops the clients of ifname: the configured command, or SIGTERM to
// each. Afterwards no client of the family may be left.
func (d *SystemDHCP) stop(ctx context.Context, ifname string, running []dhcpProc, f dhcpFamily) error {
	if len(f.stopCmd) > 0 {
		if err := argvIfname(ifname, "stop the "+f.what); err != nil {
			return err
		}
		if err := d.run(ctx, "stop the "+f.what+" ("+f.stopKey+")", substitute(f.stopCmd, ifname)); err != nil {
			return err
		}
		left, err := d.clients(ifname, f)
		if err != nil {
			return err
		}
		var errs []error
		for _, p := range left {
			if err := d.waitGone(ctx, p); err != nil {
				errs = append(errs, fmt.Errorf("netconfig: %s still runs on %s after %s: %w", p, ifname, f.stopKey, err))
			}
		}
		return errors.Join(errs...)
	}
	var errs []error
	for _, p := range running {
		if p.Global {
			errs = append(errs, fmt.Errorf("netconfig: %s serves every interface, so it cannot be stopped for %s alone; set %s and %s", p, ifname, f.stopKey, f.startKey))
			continue
		}
		if err := d.terminate(ctx, p); err != nil {
			errs = append(errs, fmt.Errorf("netconfig: stop %s %s on %s: %w", f.what, p, ifname, err))
			continue
		}
		d.log.Info("stopped "+f.what, "interface", ifname, "client", p.Name, "pid", p.PID, "argv", p.Argv)
	}
	return errors.Join(errs...)
}

// start starts a client on ifname: the configured command, else the
// clients stopped before as they were started, else the family's default
// (the first installed client).
func (d *SystemDHCP) start(ctx context.Context, ifname string, stopped []dhcpProc, f dhcpFamily) error {
	if err := argvIfname(ifname, "start the "+f.what); err != nil {
		return err
	}
	switch {
	case len(f.startCmd) > 0:
		return d.run(ctx, "start the "+f.what+" ("+f.startKey+")", substitute(f.startCmd, ifname))
	case len(stopped) > 0:
		return d.respawn(ifname, stopped)
	}
	argv, err := f.defaultStart(ifname)
	if err != nil {
		return err
	}
	return d.run(ctx, "start the "+f.what, argv)
}

// respawn starts the stopped clients again with their command lines.
func (d *SystemDHCP) respawn(ifname string, stopped []dhcpProc) error {
	var errs []error
	for _, p := range stopped {
		pid, err := d.spawn(p)
		if err != nil {
			errs = append(errs, fmt.Errorf("netconfig: start DHCP client %s on %s again: %w", p.Name, ifname, err))
			continue
		}
		d.log.Info("started DHCP client again", "interface", ifname, "client", p.Name, "pid", pid, "argv", p.Argv)
	}
	return errors.Join(errs...)
}

// dhcpClients are the DHCP clients netconfig knows (finds running, stops,
// starts), in the order defaultStartCommand prefers them.
var dhcpClients = []string{"dhclient", "dhcpcd", "udhcpc"}

// startArgv is how client is started on ifname when nothing says how.
func startArgv(client, ifname string) []string {
	switch client {
	case "dhclient":
		return []string{"dhclient", "-4", "-nw", "-pf", "/run/dhclient." + ifname + ".pid",
			"-lf", "/var/lib/dhcp/dhclient." + ifname + ".leases", ifname}
	case "dhcpcd":
		return []string{"dhcpcd", "-4", "-b", ifname}
	}
	return []string{"udhcpc", "-b", "-R", "-i", ifname, "-p", "/run/udhcpc." + ifname + ".pid"}
}

// defaultStartCommand is how a client is started when nothing says how:
// the first of dhcpClients installed, else busybox's udhcpc.
func defaultStartCommand(ifname string) ([]string, error) {
	for _, c := range dhcpClients {
		if p, err := lookProgram(c); err == nil {
			argv := startArgv(c, ifname)
			argv[0] = p
			return argv, nil
		}
	}
	if bb, err := lookProgram("busybox"); err == nil {
		return append([]string{bb}, startArgv("udhcpc", ifname)...), nil
	}
	return nil, fmt.Errorf("netconfig: start a DHCP client on %s: none of %s or busybox is installed; install one or set network.dhcpStartCommand",
		ifname, strings.Join(dhcpClients, ", "))
}

// sbinDirs are where DHCP clients are installed (Debian: /usr/sbin/dhclient,
// /usr/sbin/dhcpcd), which an unprivileged user's PATH often lacks.
var sbinDirs = []string{"/usr/sbin", "/sbin"}

// lookProgram finds the program name in PATH, else in sbinDirs.
func lookProgram(name string) (string, error) {
	p, err := exec.LookPath(name)
	if err == nil {
		return p, nil
	}
	for _, dir := range sbinDirs {
		if q, qerr := exec.LookPath(filepath.Join(dir, name)); qerr == nil {
			return q, nil
		}
	}
	return "", err
}

// argvIfname refuses an interface name a DHCP client would read as an
// option (Linux allows a leading '-'): it goes into command lines that
// run with the console's rights.
func argvIfname(ifname, what string) error {
	if strings.HasPrefix(ifname, "-") {
		return fmt.Errorf("netconfig: %s: the interface name %q starts with '-', which the client would read as an option; rename the interface", what, ifname)
	}
	return nil
}

// substitute replaces {interface} in each argument.
func substitute(argv []string, ifname string) []string {
	out := make([]string, len(argv))
	for i, a := range argv {
		out[i] = strings.ReplaceAll(a, InterfacePlaceholder, ifname)
	}
	return out
}

// clientName returns which DHCP client argv runs ("" for none) and the
// arguments after the program name.
func clientName(argv []string) (string, []string) {
	if len(argv) == 0 {
		return "", nil
	}
	name, args := filepath.Base(argv[0]), argv[1:]
	if name == "busybox" && len(args) > 0 {
		name, args = filepath.Base(args[0]), args[1:]
	}
	if slices.Contains(dhcpClients, name) || name == "udhcpc6" {
		return name, args
	}
	return "", nil
}

// isDHCPv6 reports whether a client command line runs DHCPv6: udhcpc6, or
// dhclient or dhcpcd with -6 (dhcpcd also --ipv6only). The others run
// DHCPv4 (dhcpcd without -4 or -6 both: it counts as DHCPv4, as before
// DHCPv6 was started by nodeconsole).
func isDHCPv6(name string, args []string) bool {
	switch name {
	case "udhcpc6":
		return true
	case "dhclient":
		return slices.Contains(args, "-6")
	case "dhcpcd":
		return slices.Contains(args, "-6") || slices.Contains(args, "--ipv6only")
	}
	return false
}

// namesInterface reports whether client arguments name ifname: as a word,
// or as the value of -i/--interface (udhcpc).
func namesInterface(args []string, ifname string) bool {
	for _, a := range args {
		if a == ifname || a == "-i"+ifname || a == "--interface="+ifname {
			return true
		}
	}
	return false
}

// matchClient reports whether a client of the given name with args runs
// DHCP on ifname, and whether it serves every interface instead (dhclient
// or dhcpcd naming none; udhcpc or udhcpc6 without -i serves eth0).
func matchClient(name string, args []string, ifname string) (match, global bool) {
	if namesInterface(args, ifname) {
		return true, false
	}
	switch name {
	case "udhcpc", "udhcpc6":
		for _, a := range args {
			if a == "-i" || strings.HasPrefix(a, "--interface") || (strings.HasPrefix(a, "-i") && len(a) > 2) {
				return false, false
			}
		}
		return ifname == "eth0", false
	case "dhclient", "dhcpcd":
		if !namesAnyInterface(name, args) {
			return true, true
		}
	}
	return false, false
}

// Options of dhclient and dhcpcd that take the next word as their value.
var (
	dhclientValueOpts = []string{"-p", "-cf", "-df", "-lf", "-pf", "-sf", "-s", "-g", "-e", "--timeout",
		"--dad-wait-time", "--prefix-len-hint", "--decline-wait-time", "--address-prefix-len"}
	dhcpcdValueOpts = []string{"-c", "-e", "-f", "-h", "-i", "-j", "-l", "-m", "-o", "-r", "-s", "-t", "-u",
		"-v", "-y", "-z", "-C", "-F", "-I", "-O", "-Q", "-S", "-X", "-Z"}
)

// namesAnyInterface reports whether dhclient or dhcpcd arguments name an
// interface: a word that is neither an option nor an option's value.
func namesAnyInterface(name string, args []string) bool {
	withValue := dhclientValueOpts
	if name == "dhcpcd" {
		withValue = dhcpcdValueOpts
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case slices.Contains(withValue, a):
			i++
		case strings.HasPrefix(a, "-"):
		default:
			return true
		}
	}
	return false
}

// errTail is the last part of a command's output, for an error message.
func errTail(out []byte) string {
	s := strings.TrimSpace(string(out))
	if len(s) > 300 {
		s = "..." + s[len(s)-300:]
	}
	return strings.Join(strings.Fields(s), " ")
}
