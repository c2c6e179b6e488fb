//go:build linux

package netconfig

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// procEntry is a process in the control's network namespace.
type procEntry struct {
	pid  int
	argv []string
}

// nsID identifies a network namespace.
type nsID struct{ dev, ino uint64 }

func statNS(path string) (nsID, error) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return nsID{}, err
	}
	return nsID{dev: st.Dev, ino: st.Ino}, nil
}

// linkTable is the "index name" pairs of a namespace's IPv4 interfaces
// as /proc/PID/net/igmp lists them (readable without privileges).
func linkTable(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	var pairs []string
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) >= 2 && f[0] != "Idx" && !strings.HasPrefix(l, "\t") {
			if _, err := strconv.Atoi(f[0]); err == nil {
				pairs = append(pairs, f[0]+" "+strings.TrimSuffix(f[1], ":"))
			}
		}
	}
	slices.Sort(pairs)
	return strings.Join(pairs, ","), nil
}

// processes lists the processes in the control's network namespace. When
// the kernel does not say which namespace a process is in (another user's
// process, seen without privileges), it counts as in ours if its
// namespace has the same interfaces, by index and name, as ours: such a
// client is then reported (and cannot be signalled) rather than missed.
func (d *SystemDHCP) processes() ([]procEntry, error) {
	self, err := statNS(d.o.NetNS)
	if err != nil {
		return nil, fmt.Errorf("netconfig: find the network namespace %s: %w", d.o.NetNS, err)
	}
	selfLinks, linksRead := "", false
	ents, err := os.ReadDir(d.o.Proc)
	if err != nil {
		return nil, fmt.Errorf("netconfig: list processes: %w", err)
	}
	var out []procEntry
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		dir := filepath.Join(d.o.Proc, e.Name())
		argv := readCmdline(dir)
		if len(argv) == 0 {
			continue // a kernel thread, or gone
		}
		ns, err := statNS(filepath.Join(dir, "ns", "net"))
		switch {
		case err == nil && ns != self:
			continue
		case err != nil:
			if errors.Is(err, os.ErrNotExist) {
				continue // gone
			}
			if !linksRead {
				linksRead = true
				// Only the kernel's answer counts for another namespace.
				if d.o.NetNS == "/proc/self/ns/net" {
					selfLinks, _ = linkTable(filepath.Join(d.o.Proc, "self", "net", "igmp"))
				}
			}
			theirs, lerr := linkTable(filepath.Join(dir, "net", "igmp"))
			if lerr != nil || selfLinks == "" || theirs != selfLinks {
				continue
			}
		}
		out = append(out, procEntry{pid: pid, argv: argv})
	}
	return out, nil
}

func readCmdline(dir string) []string {
	b, err := os.ReadFile(filepath.Join(dir, "cmdline"))
	if err != nil || len(b) == 0 {
		return nil
	}
	return strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
}

func readEnviron(dir string) []string {
	b, err := os.ReadFile(filepath.Join(dir, "environ"))
	if err != nil || len(b) == 0 {
		return nil
	}
	return strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
}

// networkdRuns reports whether systemd-networkd runs in the namespace.
func (d *SystemDHCP) networkdRuns() (bool, error) {
	procs, err := d.processes()
	if err != nil {
		return false, err
	}
	for _, p := range procs {
		if filepath.Base(p.argv[0]) == "systemd-networkd" {
			return true, nil
		}
	}
	return false, nil
}

// clients lists the DHCP clients of family f running for ifname in the
// namespace.
func (d *SystemDHCP) clients(ifname string, f dhcpFamily) ([]dhcpProc, error) {
	procs, err := d.processes()
	if err != nil {
		return nil, err
	}
	var out []dhcpProc
	for _, p := range procs {
		name, args := clientName(p.argv)
		if name == "" || isDHCPv6(name, args) != f.v6 {
			continue
		}
		match, global := matchClient(name, args, ifname)
		if !match {
			continue
		}
		out = append(out, dhcpProc{PID: p.pid, Name: name, Argv: p.argv, Global: global,
			Env: readEnviron(filepath.Join(d.o.Proc, strconv.Itoa(p.pid)))})
	}
	return out, nil
}

// terminate sends SIGTERM to p and waits until it exits, escalating to
// SIGKILL when it outlives the timeout. A pidfd pins the process, so a
// reused PID is never signalled.
func (d *SystemDHCP) terminate(ctx context.Context, p dhcpProc) error {
	fd, err := unix.PidfdOpen(p.PID, 0)
	if errors.Is(err, unix.ESRCH) {
		return nil // already gone
	}
	if err != nil {
		return fmt.Errorf("open pidfd: %w", err)
	}
	defer unix.Close(fd)
	if !slices.Equal(readCmdline(filepath.Join(d.o.Proc, strconv.Itoa(p.PID))), p.Argv) {
		return nil // gone, and the PID was reused
	}
	if err := unix.PidfdSendSignal(fd, unix.SIGTERM, nil, 0); err != nil {
		if errors.Is(err, unix.ESRCH) {
			return nil
		}
		if errors.Is(err, unix.EPERM) {
			return fmt.Errorf("%w (it runs as another user: set network.dhcpStopCommand, e.g. through sudo)", err)
		}
		return fmt.Errorf("send SIGTERM: %w", err)
	}
	if err := pollExit(ctx, fd, d.o.Timeout); err == nil {
		return nil
	}
	d.log.Warn("DHCP client ignored SIGTERM; killing it", "client", p.Name, "pid", p.PID)
	if err := unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0); err != nil && !errors.Is(err, unix.ESRCH) {
		return fmt.Errorf("send SIGKILL: %w", err)
	}
	return pollExit(context.WithoutCancel(ctx), fd, d.o.Timeout)
}

// waitGone waits until p exits (the configured stop command may signal it
// and return at once).
func (d *SystemDHCP) waitGone(ctx context.Context, p dhcpProc) error {
	fd, err := unix.PidfdOpen(p.PID, 0)
	if errors.Is(err, unix.ESRCH) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("open pidfd: %w", err)
	}
	defer unix.Close(fd)
	return pollExit(ctx, fd, d.o.Timeout)
}

// pollExit waits until the process behind pidfd exits, for at most
// timeout or until ctx ends.
func pollExit(ctx context.Context, fd int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return errors.New("still running after " + timeout.String())
		}
		// Short slices, so that a cancelled ctx is noticed.
		ms := int(min(left, 250*time.Millisecond) / time.Millisecond)
		n, err := unix.Poll([]unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}, max(ms, 1))
		switch {
		case errors.Is(err, unix.EINTR):
		case err != nil:
			return fmt.Errorf("wait for exit: %w", err)
		case n > 0:
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

// spawn starts p's command line again, detached: its own session (a
// console hang-up does not reach it), stdio on /dev/null, "/" as working
// directory, its old environment when it could be read. The child is
// reaped when it exits.
func (d *SystemDHCP) spawn(p dhcpProc) (int, error) {
	cmd := exec.Command(p.Argv[0], p.Argv[1:]...)
	cmd.Env = p.Env
	if cmd.Env == nil {
		cmd.Env = os.Environ()
	}
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	go func() {
		err := cmd.Wait()
		d.log.Info("DHCP client exited", "client", p.Name, "pid", cmd.Process.Pid, "err", errString(err))
	}()
	return cmd.Process.Pid, nil
}

// run runs a command to its end, bounded by the timeout. Its output goes
// to an in-memory file rather than a pipe: a client that daemonizes keeps
// the descriptor, and a pipe would hold up Wait (or, once closed, kill the
// daemon with SIGPIPE).
func (d *SystemDHCP) run(ctx context.Context, what string, argv []string) error {
	if len(argv) == 0 {
		return fmt.Errorf("netconfig: %s: empty command", what)
	}
	ctx, cancel := context.WithTimeout(ctx, d.o.Timeout)
	defer cancel()
	out, err := memfile("nodeconsole-dhcp-command")
	if err != nil {
		return fmt.Errorf("netconfig: %s: %w", what, err)
	}
	defer out.Close()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	start := time.Now()
	err = cmd.Run()
	_, _ = out.Seek(0, io.SeekStart)
	output, _ := io.ReadAll(io.LimitReader(out, 64<<10))
	d.log.Info("ran command", "what", what, "argv", argv, "took", time.Since(start).Round(time.Millisecond).String(),
		"err", errString(err), "output", string(bytes.TrimSpace(output)))
	if err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (%w)", err, ctx.Err())
		}
		if t := errTail(output); t != "" {
			err = fmt.Errorf("%w: %s", err, t)
		}
		return fmt.Errorf("netconfig: %s: %s: %w", what, strings.Join(argv, " "), err)
	}
	return nil
}

// memfile returns an anonymous in-memory file.
func memfile(name string) (*os.File, error) {
	fd, err := unix.MemfdCreate(name, unix.MFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("memfd_create: %w", err)
	}
	return os.NewFile(uintptr(fd), name), nil
}
