//go:build linux

package netconfig

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nodeconsole/nodeconsole/testenv"
)

// namedNetns is testenv.NamedNetns.
func namedNetns(t *testing.T, tag string) string {
	t.Helper()
	return testenv.NamedNetns(t, tag)
}

// startIn starts argv inside the named namespace as the test's child,
// killed and reaped at the end; the returned channel closes when it exits.
func startIn(t *testing.T, ns string, argv ...string) (*exec.Cmd, chan struct{}) {
	t.Helper()
	cmd := exec.Command("ip", append([]string{"netns", "exec", ns}, argv...)...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() { cmd.Process.Kill(); <-exited })
	return cmd, exited
}

// waitArgv waits until the process pid has exec'd into a command line
// starting with prefix (ip netns exec execs the program in place).
func waitArgv(t *testing.T, pid int, prefix string) {
	t.Helper()
	limit := time.Now().Add(30 * time.Second) // only bounds a broken run
	for {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if strings.HasPrefix(strings.ReplaceAll(string(b), "\x00", " "), prefix) {
			return
		}
		if time.Now().After(limit) {
			t.Fatalf("pid %d never ran %q (cmdline %q)", pid, prefix, b)
		}
		time.Sleep(5 * time.Millisecond) // polling /proc for an exec, not the UI
	}
}

// TestSystemDHCPOnlySeesItsNamespace: a real DHCP client (busybox udhcpc on
// lo) in namespace A is invisible to a control acting in namespace B, and
// a control acting in A finds it and stops it.
func TestSystemDHCPOnlySeesItsNamespace(t *testing.T) {
	busybox := testenv.RequireCommand(t, "busybox")
	a, b := namedNetns(t, "a"), namedNetns(t, "b")
	cmd, exited := startIn(t, a, busybox, "udhcpc", "-f", "-i", "lo", "-s", "/bin/true")
	waitArgv(t, cmd.Process.Pid, busybox+" udhcpc")

	inB, err := NewSystemDHCP(DHCPOptions{Client: DHCPClientProcess, NetNS: "/run/netns/" + b})
	if err != nil {
		t.Fatal(err)
	}
	if c, err := inB.clients("lo", inB.v4()); err != nil || len(c) != 0 {
		t.Fatalf("a control in %s sees %v (%v); it must see nothing of %s", b, c, err, a)
	}
	// Stopping in B leaves A's client alone.
	if err := inB.Apply(context.Background(), Config{Interface: "lo", Mode: ModeStatic}, true); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
		t.Fatal("a control in another namespace stopped the client")
	default:
	}

	inA, err := NewSystemDHCP(DHCPOptions{Client: DHCPClientProcess, NetNS: "/run/netns/" + a})
	if err != nil {
		t.Fatal(err)
	}
	c, err := inA.clients("lo", inA.v4())
	if err != nil || len(c) != 1 || c[0].PID != cmd.Process.Pid || c[0].Name != "udhcpc" || c[0].Global {
		t.Fatalf("clients in %s = %+v, %v", a, c, err)
	}
	if err := inA.Apply(context.Background(), Config{Interface: "lo", Mode: ModeStatic}, true); err != nil {
		t.Fatal(err)
	}
	// terminate waited for the exit: the client is a zombie (until the
	// test reaps it) or gone.
	if st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", cmd.Process.Pid)); err == nil {
		if _, rest, _ := strings.Cut(string(st), ") "); !strings.HasPrefix(rest, "Z") {
			t.Fatalf("Apply returned before the client exited: %s", st)
		}
	}
	<-exited
	if u := inA.undo["lo"]; u == nil || len(u.stopped) != 1 || strings.Join(u.stopped[0].Argv, " ") != busybox+" udhcpc -f -i lo -s /bin/true" {
		t.Errorf("undo record = %+v", u)
	}
	// Commit forgets it: the stopped client is not started again.
	if err := inA.Commit(context.Background(), Config{Interface: "lo", Mode: ModeStatic}); err != nil || len(inA.undo) != 0 {
		t.Errorf("Commit: %v, undo %v", err, inA.undo)
	}
}

// TestSystemDHCPNetworkd: with systemd-networkd running in the namespace
// (here a stand-in process of that name: a real one would share the host's
// /run/systemd/netif), a trial writes the runtime .network file and
// reloads networkd; Restore and Commit remove it and reload again; a boot
// apply (trial false) leaves networkd to its saved file.
func TestSystemDHCPNetworkd(t *testing.T) {
	bash := testenv.RequireCommand(t, "bash")
	withNetworkd, without := namedNetns(t, "nd"), namedNetns(t, "no")
	cmd, _ := startIn(t, withNetworkd, bash, "-c", "exec -a systemd-networkd sleep 1000")
	waitArgv(t, cmd.Process.Pid, "systemd-networkd")

	dir := t.TempDir()
	calls := filepath.Join(dir, "calls")
	mk := func(ns string) *SystemDHCP {
		d, err := NewSystemDHCP(DHCPOptions{NetNS: "/run/netns/" + ns, NetworkdRuntimeDir: filepath.Join(dir, "run"),
			NetworkdReloadCommand: []string{"sh", "-c", "echo reload >> " + calls}})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	if m, err := mk(without).mode(); m != DHCPClientProcess || err != nil {
		t.Errorf("mode without networkd = %q, %v", m, err)
	}
	d := mk(withNetworkd)
	if m, err := d.mode(); m != DHCPClientNetworkd || err != nil {
		t.Fatalf("mode with networkd = %q, %v", m, err)
	}
	ctx := context.Background()
	trialFile := filepath.Join(dir, "run", "05-nodeconsole-trial-eth0.network")
	reloads := func() int {
		b, _ := os.ReadFile(calls)
		return strings.Count(string(b), "reload")
	}
	static := cfgStatic("eth0", "192.0.2.10/24", "192.0.2.1", "192.0.2.53")

	if err := d.Apply(ctx, static, true); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(trialFile); err != nil || string(b) != string(RenderNetworkd(static)) || reloads() != 1 {
		t.Fatalf("after a static trial: file %q (%v), %d reloads", b, err, reloads())
	}
	if err := d.Restore(ctx, &Snapshot{Interface: "eth0"}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(trialFile); !os.IsNotExist(err) || reloads() != 2 {
		t.Fatalf("after Restore: %v, %d reloads", err, reloads())
	}

	dhcp := Config{Interface: "eth0", Mode: ModeDHCP}
	if err := d.Apply(ctx, dhcp, true); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(trialFile); !strings.Contains(string(b), "DHCP=ipv4") || reloads() != 3 {
		t.Fatalf("after a DHCP trial: file %q, %d reloads", b, reloads())
	}
	if err := d.Commit(ctx, dhcp); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(trialFile); !os.IsNotExist(err) || reloads() != 4 {
		t.Fatalf("after Commit: %v, %d reloads", err, reloads())
	}

	// At boot (ApplySaved) networkd reads the saved file by itself.
	if err := d.Apply(ctx, static, false); err != nil {
		t.Fatal(err)
	}
	if err := d.Commit(ctx, static); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(trialFile); !os.IsNotExist(err) || reloads() != 4 {
		t.Errorf("a boot apply wrote a trial file or reloaded: %v, %d reloads", err, reloads())
	}

	// A reload that fails fails the apply, naming the command.
	d.o.NetworkdReloadCommand = []string{"sh", "-c", "echo no bus >&2; exit 3"}
	err := d.Apply(ctx, static, true)
	if err == nil || !strings.Contains(err.Error(), "reload systemd-networkd: sh -c") || !strings.Contains(err.Error(), "no bus") {
		t.Errorf("failing reload: %v", err)
	}
}

// TestSystemDHCPStopCommand: a configured stop command replaces the
// signal, and the apply fails, naming the client, when a client is still
// there afterwards.
func TestSystemDHCPStopCommand(t *testing.T) {
	busybox := testenv.RequireCommand(t, "busybox")
	ns := namedNetns(t, "stop")
	cmd, exited := startIn(t, ns, busybox, "udhcpc", "-f", "-i", "lo", "-s", "/bin/true")
	waitArgv(t, cmd.Process.Pid, busybox+" udhcpc")
	ctx, static := context.Background(), Config{Interface: "lo", Mode: ModeStatic}

	noop, err := NewSystemDHCP(DHCPOptions{Client: DHCPClientProcess, NetNS: "/run/netns/" + ns,
		StopCommand: []string{"true", "{interface}"}, Timeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	err = noop.Apply(ctx, static, true)
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("udhcpc (pid %d) still runs on lo after network.dhcpStopCommand", cmd.Process.Pid)) {
		t.Fatalf("a stop command that stops nothing: %v", err)
	}

	kill, err := NewSystemDHCP(DHCPOptions{Client: DHCPClientProcess, NetNS: "/run/netns/" + ns,
		StopCommand: []string{"kill", fmt.Sprint(cmd.Process.Pid)}})
	if err != nil {
		t.Fatal(err)
	}
	if err := kill.Apply(ctx, static, true); err != nil {
		t.Fatalf("stop command: %v", err)
	}
	<-exited
}

// TestSystemDHCPFamiliesInNetns: with a DHCPv4 and a DHCPv6 client on lo
// (perl processes whose command lines are dhclient -4 lo and dhclient -6
// lo), a static IPv4 apply stops only the DHCPv4 client and Apply6 with
// static IPv6 only the DHCPv6 one; a DHCPv4 change leaves IPv6's client
// alone, and the other way round.
func TestSystemDHCPFamiliesInNetns(t *testing.T) {
	perl := testenv.RequireCommand(t, "perl")
	ns := namedNetns(t, "fam")
	fake := func(family string) (*exec.Cmd, chan struct{}) {
		cmd, exited := startIn(t, ns, "bash", "-c", `exec -a dhclient "$0" -e 'sleep 1000' -- "$1" lo`, perl, family)
		waitArgv(t, cmd.Process.Pid, "dhclient -e sleep 1000 -- "+family+" lo")
		return cmd, exited
	}
	_, v4exited := fake("-4")
	_, v6exited := fake("-6")
	d, err := NewSystemDHCP(DHCPOptions{Client: DHCPClientProcess, NetNS: "/run/netns/" + ns})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := d.Apply(ctx, Config{Interface: "lo", Mode: ModeStatic}, true); err != nil {
		t.Fatal(err)
	}
	<-v4exited // Apply waited for it
	select {
	case <-v6exited:
		t.Fatal("a static IPv4 apply stopped the DHCPv6 client")
	default:
	}
	if err := d.Apply6(ctx, Config{Interface: "lo", Mode: ModeStatic, IPv6: IPv6Static}, true); err != nil {
		t.Fatal(err)
	}
	<-v6exited
	if u := d.undo["lo"]; u == nil || len(u.stopped) != 1 || len(u.stopped6) != 1 || u.started6 ||
		!slices.Contains(u.stopped6[0].Argv, "-6") || !slices.Contains(u.stopped[0].Argv, "-4") {
		t.Errorf("undo record = %+v", u)
	}
	if err := d.Commit(ctx, Config{Interface: "lo"}); err != nil {
		t.Fatal(err)
	}
}
