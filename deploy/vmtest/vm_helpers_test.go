package vmtest

import (
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// vm is a QEMU virtual machine whose serial line is a tmux pane of 80x24
// (a terminal emulator, as a technician's), with its monitor and the
// test image's tty1 dump port on unix sockets.
type vm struct {
	t       *testing.T
	tmux    string
	sock    string // tmux server name
	dir     string
	mon     *monitor
	vtdump  net.Conn
	started time.Time
	// cols and rows are tty1's size at the last tty1().
	cols, rows int
}

// wanMAC is the MAC address of the VM's first NIC (eth0): the console
// user's first password (INITIAL_PASSWORD=@mac).
const wanMAC = "52:54:00:12:34:56"

// vmConfig is what boots.
type vmConfig struct {
	qemu, kernel, initrd, disk, append string
	// cdrom is an ISO attached as the IDE CD-ROM, "" for none.
	cdrom string
}

// startVM boots the image in TCG (the nested KVM of CI machines stops the
// Debian kernel with an internal error) with two NICs on QEMU user
// networking: eth0 reaches the host's loopback at 10.0.2.2, eth1 is a
// restricted second NIC for the static address.
func startVM(t *testing.T, tmux string, c vmConfig) *vm {
	t.Helper()
	dir := t.TempDir()
	v := &vm{t: t, tmux: tmux, sock: fmt.Sprintf("nc-vmtest-%d", os.Getpid()), dir: dir, started: time.Now()}
	args := []string{c.qemu, "-accel", "tcg", "-smp", "2", "-m", "1024", "-nodefaults", "-no-user-config",
		"-kernel", c.kernel, "-initrd", c.initrd, "-append", c.append,
		"-drive", "file=" + c.disk + ",format=raw,if=virtio",
		"-netdev", "user,id=n0", "-device", "virtio-net-pci,netdev=n0,romfile=,mac=" + wanMAC,
		"-netdev", "user,id=n1,restrict=on,net=192.0.2.0/24,host=192.0.2.1", "-device", "virtio-net-pci,netdev=n1,romfile=",
		"-vga", "std", "-display", "none",
		"-monitor", "unix:" + filepath.Join(dir, "mon.sock") + ",server=on,wait=off",
		"-device", "virtio-serial",
		"-chardev", "socket,id=dump,path=" + filepath.Join(dir, "dump.sock") + ",server=on,wait=off",
		"-device", "virtserialport,chardev=dump,name=vtdump",
		"-chardev", "stdio,id=s0,signal=off", "-serial", "chardev:s0",
	}
	if c.cdrom != "" {
		args = append(args, "-drive", "file="+c.cdrom+",format=raw,media=cdrom,readonly=on,if=ide")
	}
	script := "#!/bin/sh\nexec"
	for _, a := range args {
		script += " '" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	script += " 2>" + filepath.Join(dir, "qemu.err") + "\n"
	if err := os.WriteFile(filepath.Join(dir, "run.sh"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := v.tm("new-session", "-d", "-x", "80", "-y", "24", filepath.Join(dir, "run.sh")); err != nil {
		t.Fatalf("tmux: %v %s", err, out)
	}
	v.tm("set-option", "-g", "remain-on-exit", "on")
	t.Cleanup(v.stop)
	// The sockets exist once QEMU runs.
	v.poll("QEMU's monitor socket", func() bool {
		m, err := dialMonitor(filepath.Join(dir, "mon.sock"))
		if err != nil {
			return false
		}
		v.mon = m
		return true
	})
	d, err := net.Dial("unix", filepath.Join(dir, "dump.sock"))
	if err != nil {
		t.Fatal(err)
	}
	v.vtdump = d
	return v
}

func (v *vm) tm(args ...string) (string, error) {
	out, err := exec.Command(v.tmux, append([]string{"-L", v.sock, "-f", "/dev/null"}, args...)...).CombinedOutput()
	return string(out), err
}

func (v *vm) stop() {
	if v.mon != nil {
		v.mon.do("quit")
		v.mon.conn.Close()
	}
	if v.vtdump != nil {
		v.vtdump.Close()
	}
	v.tm("kill-server")
}

// alive fails the test when QEMU has exited or the guest kernel panicked
// (TCG has been seen to crash the guest kernel on a loaded machine).
func (v *vm) alive() {
	out, _ := v.tm("list-panes", "-F", "#{pane_dead}")
	if strings.TrimSpace(out) != "0" {
		b, _ := os.ReadFile(filepath.Join(v.dir, "qemu.err"))
		v.t.Fatalf("QEMU exited: %s\nserial:\n%s", b, strings.Join(v.serial(), "\n"))
	}
	if s := strings.Join(v.serial(), "\n"); strings.Contains(s, "Kernel panic - not syncing") {
		v.t.Fatalf("the guest kernel panicked:\n%s", s)
	}
}

// poll checks cond until it holds. It reads a terminal emulator's screen
// or the VM's, which cannot notify; a test timeout bounds it.
func (v *vm) poll(what string, cond func() bool) {
	v.t.Helper()
	for i := 0; !cond(); i++ {
		if i%300 == 299 {
			v.t.Logf("%s: still waiting for %s", time.Since(v.started).Round(time.Second), what)
		}
		time.Sleep(200 * time.Millisecond)
		if v.mon != nil {
			v.alive()
		}
	}
}

// serial is the serial console's screen (80x24) as a technician sees it.
func (v *vm) serial() []string {
	out, _ := v.tm("capture-pane", "-p", "-t", "0")
	return strings.Split(strings.TrimRight(out, "\n"), "\n")
}

// waitSerial waits until the serial screen contains all of want, and
// returns the screen.
func (v *vm) waitSerial(want ...string) string {
	v.t.Helper()
	var s string
	v.poll(fmt.Sprintf("%q on ttyS0", want), func() bool {
		s = strings.Join(v.serial(), "\n")
		for _, w := range want {
			if !strings.Contains(s, w) {
				return false
			}
		}
		return true
	})
	return s
}

// send types on the serial line: tmux key names ("Enter", "Escape",
// "Down") or, with literal, text.
func (v *vm) send(literal bool, keys ...string) {
	v.t.Helper()
	args := []string{"send-keys", "-t", "0"}
	if literal {
		args = append(args, "-l")
	}
	if out, err := v.tm(append(args, keys...)...); err != nil {
		v.t.Fatalf("tmux send-keys: %v %s", err, out)
	}
}

// tty1 is the text on the first virtual terminal, read in the guest by
// the test image's vtdump service (vcsa header and vcsu cells).
func (v *vm) tty1() []string {
	v.t.Helper()
	if _, err := io.WriteString(v.vtdump, "dump\n"); err != nil {
		v.t.Fatalf("vtdump: %v", err)
	}
	var hdr [4]byte
	if _, err := io.ReadFull(v.vtdump, hdr[:]); err != nil {
		v.t.Fatalf("vtdump: %v", err)
	}
	cells := make([]byte, 4*int(hdr[0])*int(hdr[1]))
	if _, err := io.ReadFull(v.vtdump, cells); err != nil {
		v.t.Fatalf("vtdump: %v", err)
	}
	v.rows, v.cols = int(hdr[0]), int(hdr[1])
	return vtText(hdr, cells)
}

// unitState is "ActiveState=... Result=..." of a unit in the guest.
func (v *vm) unitState(name string) string {
	v.t.Helper()
	return strings.Join(strings.Fields(v.guest("unit "+name)), " ")
}

// guestSh runs a shell command as root in the guest (the vtdump service)
// and returns what it printed, stdout and stderr.
func (v *vm) guestSh(cmd string) string {
	v.t.Helper()
	return v.guest("sh " + cmd)
}

// guest sends one request line to the vtdump service and returns its
// answer, up to the NUL that ends it.
func (v *vm) guest(req string) string {
	v.t.Helper()
	if strings.Contains(req, "\n") {
		v.t.Fatalf("vtdump: a request is one line: %q", req)
	}
	if _, err := io.WriteString(v.vtdump, req+"\n"); err != nil {
		v.t.Fatalf("vtdump: %v", err)
	}
	var b []byte
	one := make([]byte, 1)
	for {
		if _, err := io.ReadFull(v.vtdump, one); err != nil {
			v.t.Fatalf("vtdump: %v", err)
		}
		if one[0] == 0 {
			return string(b)
		}
		b = append(b, one[0])
	}
}

// waitTTY1 waits until tty1 shows all of want, and returns its text.
func (v *vm) waitTTY1(want ...string) string {
	v.t.Helper()
	var s string
	v.poll(fmt.Sprintf("%q on tty1", want), func() bool {
		s = strings.Join(v.tty1(), "\n")
		for _, w := range want {
			if !strings.Contains(s, w) {
				return false
			}
		}
		return true
	})
	return s
}

// waitTTY1Size waits until tty1 is cols x rows and shows all of want, and
// returns its text.
func (v *vm) waitTTY1Size(cols, rows int, want ...string) string {
	v.t.Helper()
	var s string
	v.poll(fmt.Sprintf("tty1 at %dx%d showing %q", cols, rows, want), func() bool {
		s = strings.Join(v.tty1(), "\n")
		if v.cols != cols || v.rows != rows {
			return false
		}
		for _, w := range want {
			if !strings.Contains(s, w) {
				return false
			}
		}
		return true
	})
	return s
}
