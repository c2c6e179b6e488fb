//go:build linux

package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/nodeconsole/nodeconsole/testenv"
)

// The DHCP lab is an nsLab whose veth0 starts without an address, a real
// DHCP server (busybox udhcpd) on the peer's gw0 handing out
// 192.0.2.100-150 with router 192.0.2.1, and client scripts that apply a
// lease to veth0 only (never to /etc/resolv.conf: the file system is the
// host's). nodeconsole's config starts udhcpc through
// network.dhcpStartCommand so that a client it starts uses those scripts
// too. Every process left in the node namespace is killed at the end.
type dhcpLab struct {
	*nsLab
	busybox    string
	udhcpcHook string // udhcpc -s script
	dhclientSF string // dhclient -sf script
}

const udhcpcHook = `#!/bin/sh
# udhcpc script for the test: apply the lease to $interface only. On
# deconfig (at start) it keeps what is there, so that a restarted client
# re-binding the same lease leaves the address in place throughout.
case "$1" in
bound|renew)
	ip addr replace "$ip/$mask" dev "$interface" valid_lft "$lease" preferred_lft "$lease"
	for r in $router; do ip route replace default via "$r" dev "$interface" proto dhcp; break; done ;;
esac
`

const dhclientHook = `#!/bin/sh
# dhclient-script for the test: apply the lease to $interface only.
case "$reason" in
PREINIT) ip link set dev "$interface" up ;;
BOUND|RENEW|REBIND|REBOOT)
	ip addr replace "$new_ip_address/$new_subnet_mask" dev "$interface" valid_lft "$new_dhcp_lease_time" preferred_lft "$new_dhcp_lease_time"
	for r in $new_routers; do ip route replace default via "$r" dev "$interface" proto dhcp; break; done ;;
EXPIRE|FAIL|RELEASE|STOP)
	[ -n "$old_ip_address" ] && ip addr del "$old_ip_address/$old_subnet_mask" dev "$interface" ;;
esac
exit 0
`

func newDHCPLab(t *testing.T) *dhcpLab {
	t.Helper()
	l := &dhcpLab{nsLab: newNSLab(t), busybox: testenv.RequireCommand(t, "busybox")}
	t.Cleanup(func() { killNetns(t, l.node); killNetns(t, l.peer) })
	l.must("-n", l.node, "route", "flush", "dev", "veth0")
	l.must("-n", l.node, "addr", "flush", "dev", "veth0")

	l.udhcpcHook = filepath.Join(l.dir, "udhcpc.sh")
	l.dhclientSF = filepath.Join(l.dir, "dhclient.sh")
	for p, body := range map[string]string{l.udhcpcHook: udhcpcHook, l.dhclientSF: dhclientHook} {
		if err := os.WriteFile(p, []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	conf := filepath.Join(l.dir, "udhcpd.conf")
	os.WriteFile(filepath.Join(l.dir, "udhcpd.leases"), nil, 0o644)
	os.WriteFile(conf, []byte(fmt.Sprintf(`start 192.0.2.100
end 192.0.2.150
interface gw0
lease_file %s
pidfile %s
opt router 192.0.2.1
opt dns 192.0.2.53
opt subnet 255.255.255.0
opt lease 3600
`, filepath.Join(l.dir, "udhcpd.leases"), filepath.Join(l.dir, "udhcpd.pid"))), 0o644)
	l.start(t, "udhcpd", "netns", "exec", l.peer, l.busybox, "udhcpd", "-f", conf)

	// nodeconsole starts udhcpc (in the background, with the test's
	// script) when it switches to DHCP and no client ran before.
	start := []string{l.busybox, "udhcpc", "-b", "-i", "{interface}", "-s", l.udhcpcHook, "-p", filepath.Join(l.dir, "udhcpc.{interface}.pid")}
	cfg := fmt.Sprintf("network: {resolvConf: %q, networkdDir: %q, networkdRuntimeDir: %q, dhcpStartCommand: %s}\n",
		l.resolv, l.networkd, filepath.Join(l.dir, "run-network"), yamlList(start))
	if err := os.WriteFile(l.cfg, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return l
}

func yamlList(s []string) string {
	q := make([]string, len(s))
	for i, v := range s {
		q[i] = strconv.Quote(v)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// proc is a process the test started; exited is closed once it ended.
type proc struct {
	cmd    *exec.Cmd
	exited chan struct{}
	err    error
}

// start runs ip(8) with args (e.g. netns exec NS prog ...) as a child that
// is killed and reaped at the end of the test.
func (l *dhcpLab) start(t *testing.T, name string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(l.ip, args...)
	log, err := os.Create(filepath.Join(l.dir, name+".log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	p := &proc{cmd: cmd, exited: make(chan struct{})}
	go func() { p.err = cmd.Wait(); log.Close(); close(p.exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-p.exited
	})
	return p
}

// startClient starts a real DHCP client on veth0 in the node namespace, in
// the foreground, as the test's child: busybox udhcpc or ISC dhclient.
func (l *dhcpLab) startClient(t *testing.T, kind string) *proc {
	t.Helper()
	switch kind {
	case "udhcpc":
		return l.start(t, kind, "netns", "exec", l.node, l.busybox, "udhcpc", "-f", "-i", "veth0", "-s", l.udhcpcHook)
	case "dhclient":
		dhclient := testenv.RequireCommand(t, "dhclient")
		empty := filepath.Join(l.dir, "dhclient.conf")
		os.WriteFile(empty, nil, 0o644)
		return l.start(t, kind, "netns", "exec", l.node, dhclient, "-d", "-4", "-cf", empty, "-sf", l.dhclientSF,
			"-pf", filepath.Join(l.dir, "dhclient.pid"), "-lf", filepath.Join(l.dir, "dhclient.leases"), "veth0")
	}
	t.Fatalf("unknown client %s", kind)
	return nil
}

// waitLease waits, through netlink address events in the node namespace,
// until veth0 holds a lease (an address from the pool with a finite
// lifetime), and returns it.
func (l *dhcpLab) waitLease(t *testing.T, not string) string {
	t.Helper()
	_, h := testenv.NetnsHandle(t, l.node)
	veth, err := h.LinkByName("veth0")
	if err != nil {
		t.Fatal(err)
	}
	idx := veth.Attrs().Index
	u := l.awaitAddr(t, "a DHCP lease on veth0", func(u netlink.AddrUpdate) bool {
		a := u.LinkAddress.String()
		return u.NewAddr && u.LinkIndex == idx && u.ValidLft > 0 && u.ValidLft != 0xFFFFFFFF &&
			strings.HasPrefix(a, "192.0.2.1") && a != not
	})
	return u.LinkAddress.String()
}

// netnsProcs lists the processes in the named network namespace.
func netnsProcs(t *testing.T, name string) map[int]string {
	t.Helper()
	var want unix.Stat_t
	if err := unix.Stat("/run/netns/"+name, &want); err != nil {
		return nil
	}
	ents, _ := os.ReadDir("/proc")
	out := map[int]string{}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		var st unix.Stat_t
		if unix.Stat("/proc/"+e.Name()+"/ns/net", &st) != nil || st.Dev != want.Dev || st.Ino != want.Ino {
			continue
		}
		b, _ := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if len(b) > 0 {
			out[pid] = strings.TrimSpace(strings.ReplaceAll(string(b), "\x00", " "))
		}
	}
	return out
}

// killNetns kills every process in the named namespace and waits for them
// to go (daemonized DHCP clients are not the test's children).
func killNetns(t *testing.T, name string) {
	for pid := range netnsProcs(t, name) {
		fd, err := unix.PidfdOpen(pid, 0)
		if err != nil {
			continue
		}
		unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0)
		unix.Poll([]unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}, 10_000)
		unix.Close(fd)
	}
}

// clientsIn lists the DHCP client processes in the node namespace.
func (l *dhcpLab) clients(t *testing.T) []string {
	procs := netnsProcs(t, l.node)
	isClient := func(argv string) bool {
		f := strings.Fields(argv)
		name := filepath.Base(f[0])
		return name == "dhclient" || name == "udhcpc" || (name == "busybox" && len(f) > 1 && f[1] == "udhcpc")
	}
	var out []string
	for pid, argv := range procs {
		if !isClient(argv) {
			continue
		}
		// A client forks to run its hook script; until the child execs it
		// has the client's command line. It is not a second client.
		if pp, ok := procs[parentPID(pid)]; ok && isClient(pp) {
			continue
		}
		out = append(out, fmt.Sprintf("%d %s", pid, argv))
	}
	return out
}

// parentPID reads the parent of pid from /proc (0 when it is gone).
func parentPID(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name in parentheses may hold spaces: the fields start
	// after the last ')'. They are: state, ppid, ...
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 2 {
		return 0
	}
	pp, _ := strconv.Atoi(f[1])
	return pp
}

func (l *dhcpLab) waitExit(t *testing.T, p *proc, what string) {
	t.Helper()
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second): // only bounds a broken run
		t.Fatalf("%s still runs", what)
	}
}

// TestDHCPClientStoppedAndStartedInNetns runs real DHCP clients against a
// real DHCP server: switching to a static address stops the client, so the
// lease is gone and nothing is left that could bring it back; switching
// back to DHCP starts a client that gets a lease.
func TestDHCPClientStoppedAndStartedInNetns(t *testing.T) {
	for _, kind := range []string{"udhcpc", "dhclient"} {
		t.Run(kind, func(t *testing.T) {
			l := newDHCPLab(t)
			client := l.startClient(t, kind)
			lease := l.waitLease(t, "")
			if got := l.clients(t); len(got) != 1 {
				t.Fatalf("clients before: %v", got)
			}

			// DHCP -> static.
			code, out, errs := l.nodeconsole("network", "set", "--interface", "veth0", "--address", "192.0.2.10/24", "--gateway", "192.0.2.1", "--dns", "192.0.2.53")
			if code != 0 {
				t.Fatalf("set static: exit %d: %s\n%s", code, errs, out)
			}
			l.waitExit(t, client, "the DHCP client")
			if left := l.clients(t); len(left) != 0 {
				t.Errorf("a DHCP client is left in the namespace and could bring the lease back: %v", left)
			}
			want := "addr 192.0.2.10/24\ndefault via 192.0.2.1 dev veth0 proto static \n192.0.2.0/24 dev veth0 proto kernel scope link src 192.0.2.10 \n"
			if got := l.kernel(); got != want {
				t.Errorf("kernel after static (lease %s must be gone):\n%s\nwant:\n%s", lease, got, want)
			}
			logData := l.read(filepath.Join(l.state, "nodeconsole.log"))
			if !strings.Contains(logData, `"msg":"stopped DHCP client"`) || !strings.Contains(logData, fmt.Sprintf(`"pid":%d`, client.cmd.Process.Pid)) {
				t.Errorf("the log does not say which client was stopped:\n%s", logData)
			}

			// static -> DHCP: a client is started (network.dhcpStartCommand)
			// and gets a lease.
			code, out, errs = l.nodeconsole("network", "set", "--interface", "veth0", "--dhcp")
			if code != 0 {
				t.Fatalf("set dhcp: exit %d: %s\n%s", code, errs, out)
			}
			got := l.waitLease(t, "")
			// udhcpc -b returns once it has the lease, so the checks see it.
			if !strings.Contains(out, "OK   address  "+got+" is on veth0 (from DHCP)") || !strings.Contains(out, "OK   gateway  192.0.2.1 answers ARP") {
				t.Errorf("checks after switching to DHCP:\n%s", out)
			}
			if k := l.kernel(); strings.Contains(k, "192.0.2.10/24") || !strings.Contains(k, "default via 192.0.2.1 dev veth0 proto dhcp") {
				t.Errorf("kernel after DHCP (lease %s):\n%s", got, k)
			}
			if c := l.clients(t); len(c) != 1 || !strings.Contains(c[0], "udhcpc -b -i veth0") {
				t.Errorf("clients after switching to DHCP: %v", c)
			}
			if nd := l.read(filepath.Join(l.networkd, "10-nodeconsole-veth0.network")); !strings.Contains(nd, "DHCP=ipv4") {
				t.Errorf("networkd file:\n%s", nd)
			}
		})
	}
}

// TestDHCPClientBackAfterRevertInNetns: a static address tried and not kept
// brings back the client that was stopped, with its command line, and its
// lease.
func TestDHCPClientBackAfterRevertInNetns(t *testing.T) {
	l := newDHCPLab(t)
	client := l.startClient(t, "udhcpc")
	lease := l.waitLease(t, "")
	argv := strings.Join(client.cmd.Args[4:], " ") // after "ip netns exec NODE"

	cmd := exec.Command(l.ip, "netns", "exec", l.node, os.Args[0], "--config", l.cfg, "--state-dir", l.state,
		"network", "set", "--interface", "veth0", "--address", "192.0.2.10/24", "--gateway", "192.0.2.1", "--try", "60s")
	cmd.Env = append(os.Environ(), "NODECONSOLE_TEST_MAIN=1")
	cmd.Stdin = strings.NewReader("n\n")
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(string(out), "not kept; the previous settings were restored") {
		t.Fatalf("set --try answered n: %v\n%s", err, out)
	}
	l.waitExit(t, client, "the first DHCP client")
	// A snapshot of /proc can catch the client's short-lived fork for its
	// hook script (same command line until it execs, and gone before its
	// parent can be read): wait for one client, bounded.
	var c []string
	for end := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		c = l.clients(t)
		if len(c) == 1 || time.Now().After(end) {
			break
		}
	}
	if len(c) != 1 || !strings.HasSuffix(c[0], argv) {
		t.Fatalf("after the revert the stopped client must run again as %q; clients: %v", argv, c)
	}
	// The lease is back (restored exactly, then renewed by the client).
	if got := l.waitLease(t, ""); got != lease {
		t.Errorf("lease after revert = %s, want %s", got, lease)
	}
	if k := l.kernel(); !strings.Contains(k, "addr "+lease) || strings.Contains(k, "192.0.2.10") {
		t.Errorf("kernel after revert:\n%s", k)
	}
}

// trialRun is nodeconsole running a command with --try in the node
// namespace, stopped at "Keep these settings?".
type trialRun struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	out    string // stdout up to the question; the rest is discarded
	stderr *strings.Builder
	waited chan error // its exit
}

// startTrial runs this test binary as nodeconsole with args in the node
// namespace (ip netns exec execs it: same PID) and waits until it asks
// "Keep these settings?".
func (l *nsLab) startTrial(t *testing.T, args ...string) *trialRun {
	t.Helper()
	cmd := exec.Command(l.ip, append([]string{"netns", "exec", l.node, os.Args[0], "--config", l.cfg, "--state-dir", l.state}, args...)...)
	cmd.Env = append(os.Environ(), "NODECONSOLE_TEST_MAIN=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe()
	tr := &trialRun{cmd: cmd, stdin: stdin, stderr: &strings.Builder{}, waited: make(chan error, 1)}
	cmd.Stdout, cmd.Stderr = pw, tr.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	go func() { tr.waited <- cmd.Wait(); pw.Close() }()
	var out strings.Builder
	r := bufio.NewReader(pr)
	for !strings.Contains(out.String(), "Keep these settings?") {
		b, err := r.ReadByte()
		if err != nil {
			t.Fatalf("exited before asking: %v\n%s\n%s", err, out.String(), tr.stderr.String())
		}
		out.WriteByte(b)
	}
	go io.Copy(io.Discard, r)
	tr.out = out.String()
	return tr
}

// TestTrySignalRevertsInNetns: `network set --try 60s` stopped by SIGTERM,
// SIGINT or SIGHUP while it asks "Keep these settings?" restores the
// previous kernel state and resolv.conf before exiting, and saves nothing.
func TestTrySignalRevertsInNetns(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP} {
		t.Run(sig.String(), func(t *testing.T) {
			l := newNSLab(t)
			before, beforeResolv := l.kernel(), l.read(l.resolv)
			tr := l.startTrial(t, "network", "set", "--interface", "veth0", "--address", "192.0.2.20/24", "--gateway", "192.0.2.1", "--dns", "192.0.2.53", "--try", "60s")
			defer tr.stdin.Close() // open: no answer
			if got := l.kernel(); !strings.Contains(got, "addr 192.0.2.20/24") {
				t.Fatalf("the trial is not applied:\n%s", got)
			}
			if err := tr.cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			err := <-tr.waited
			if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 ||
				tr.stderr.String() != "nodeconsole: network set: stopped; the previous settings were restored\n" {
				t.Errorf("exit: %v, stderr %q", err, tr.stderr.String())
			}
			if got := l.kernel(); got != before {
				t.Errorf("kernel after %s:\n%s\nwant:\n%s", sig, got, before)
			}
			if got := l.read(l.resolv); got != beforeResolv {
				t.Errorf("resolv.conf after %s: %q, want %q", sig, got, beforeResolv)
			}
			if _, err := os.Stat(filepath.Join(l.state, "network.json")); err == nil {
				t.Error("a reverted trial saved the config")
			}
		})
	}
}

// TestConsoleSignalRevertsTrialInNetns: the console, on a pty inside a
// network namespace, applies a static address from the Network screen and
// is stopped by SIGHUP (the serial line dropped) or SIGTERM while "Keep
// these settings?" counts down. The previous kernel state and resolv.conf
// are back when it has exited, and nothing was saved.
func TestConsoleSignalRevertsTrialInNetns(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGHUP, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			l := newNSLab(t)
			before, beforeResolv := l.kernel(), l.read(l.resolv)
			cmd := exec.Command(l.ip, "netns", "exec", l.node, os.Args[0], "--config", l.cfg, "--state-dir", l.state)
			cmd.Env = []string{"NODECONSOLE_TEST_MAIN=1", "HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH"),
				"TERM=xterm-256color", "LANG=C.UTF-8"}
			r := startPty(t, cmd, 80, 24)
			r.waitFor("Log out")
			io.WriteString(r.tty, "\r") // Network settings
			r.waitFor("Addresses")
			io.WriteString(r.tty, "1") // veth0
			r.waitFor("Netmask")
			io.WriteString(r.tty, "\x15192.0.2.20/24\t\t\t\t\t\t\t\t\r") // ctrl+u, address, tab past IPv6 and Add route to Apply, preview
			r.waitFor("unchanged")
			io.WriteString(r.tty, "\r") // apply
			l.waitAddr(t, "192.0.2.20/24")
			r.waitFor("Keep these")

			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			if err := r.wait(); err != nil {
				t.Errorf("console exit after %s: %v\n%s", sig, err, r.output())
			}
			if got := l.kernel(); got != before {
				t.Errorf("kernel after %s:\n%s\nwant:\n%s", sig, got, before)
			}
			if got := l.read(l.resolv); got != beforeResolv {
				t.Errorf("resolv.conf after %s: %q, want %q", sig, got, beforeResolv)
			}
			if _, err := os.Stat(filepath.Join(l.state, "network.json")); err == nil {
				t.Error("a reverted trial saved the config")
			}
			if logData := l.read(filepath.Join(l.state, "nodeconsole.log")); !strings.Contains(logData, "network trial reverted at exit") {
				t.Errorf("the log does not record the revert:\n%s", logData)
			}
		})
	}
}

// wait waits for the program to exit.
func (r *ptyRun) wait() error {
	errc := make(chan error, 1)
	go func() { errc <- r.cmd.Wait() }()
	select {
	case err := <-errc:
		return err
	case <-time.After(60 * time.Second): // only bounds a broken run
		return fmt.Errorf("did not exit; output:\n%q", r.output())
	}
}

// waitAddr waits, through netlink address events in the node namespace,
// until veth0 has cidr.
func (l *nsLab) waitAddr(t *testing.T, cidr string) {
	t.Helper()
	l.awaitAddr(t, cidr, func(u netlink.AddrUpdate) bool { return u.NewAddr && u.LinkAddress.String() == cidr })
}

// awaitAddr waits for the first netlink address event in the node
// namespace (existing addresses included) that match accepts, and returns
// it; what names it when it never comes.
func (l *nsLab) awaitAddr(t *testing.T, what string, match func(netlink.AddrUpdate) bool) netlink.AddrUpdate {
	t.Helper()
	ns, err := netns.GetFromName(l.node)
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close()
	ch, done := make(chan netlink.AddrUpdate, 64), make(chan struct{})
	defer close(done)
	if err := netlink.AddrSubscribeWithOptions(ch, done, netlink.AddrSubscribeOptions{Namespace: &ns, ListExisting: true}); err != nil {
		t.Fatal(err)
	}
	limit := time.After(60 * time.Second) // only bounds a broken run
	for {
		select {
		case u := <-ch:
			if match(u) {
				return u
			}
		case <-limit:
			t.Fatalf("%s never appeared; kernel:\n%s", what, l.kernel())
		}
	}
}
