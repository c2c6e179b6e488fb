package vmtest

import (
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nodeconsole/nodeconsole/controlplane"
	"github.com/nodeconsole/nodeconsole/controlplane/cptest"
)

// The console user's password after the forced change at first login
// (only letters and digits: it is typed with QEMU's sendkey too).
const newPassword = "k8vmtestpw42x"

// artifactsDir is where the screenshots and logs are kept for a person to
// look at: NODECONSOLE_ARTIFACTS, else TMPDIR/nodeconsole-vmtest (emptied
// at the start of each run).
func artifactsDir(t *testing.T) string {
	dir := os.Getenv("NODECONSOLE_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "nodeconsole-vmtest")
		os.RemoveAll(dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("artifacts (screenshots, lintian, serial screens): %s", dir)
	return dir
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestVM builds a Debian 13 image with the package from this tree, boots
// it in QEMU and uses it as a technician would:
//
//   - first boot: a CIDATA CD-ROM's user data is applied
//     (config.d/50-user-data.yaml, and the home screen says so); the
//     console user's first password is eth0's MAC address
//     (INITIAL_PASSWORD=@mac); the control plane's own .deb, installed in
//     the image, runs under systemd and answers /healthz;
//   - VLANs on a kernel with 802.1Q (vlanInGuest): the installed CLI
//     creates, reverts, keeps, persists and re-applies IF.100 on a veth in
//     the guest's namespaces, reached from the peer's VLAN link; and
//     netconfig's TestNetlinkVLAN, which skips where 8021q is missing,
//     passes in the guest;
//   - ttyS0 (a terminal emulator on the serial line): first login with the
//     forced password change, the home screen, a static address on the
//     second NIC (applied, checked, kept), Register Node;
//   - tty1 (VGA, typed on with the monitor's sendkey): login, Register
//     Node; the QR code on the screenshot decodes (zbarimg) to the
//     activation URL with the code the control plane holds, drawn with
//     the half blocks the console added to console-setup's font, at the
//     VT's size and again once tty1 is resized to 80x25;
//   - an admin licenses the code through the admin API of a control plane
//     on the host's loopback (10.0.2.2 in the guest); ttyS0 shows
//     "Registered as NAME" and the node reboots from the console;
//   - after the reboot the node is registered and eth1 has its static
//     address again.
//
// Lintian from Debian 13 checks the package inside the image.
func TestVM(t *testing.T) {
	tools := requireTools(t)
	begin := time.Now()
	art := artifactsDir(t)
	cp := cptest.NewWith(t, controlplane.Options{Hostnames: []string{"10.0.2.2"}})
	u, err := url.Parse(cp.URL)
	if err != nil {
		t.Fatal(err)
	}
	endpoint := "https://" + net.JoinHostPort("10.0.2.2", u.Port())

	// The image.
	base := baseRootfs(t, tools["mmdebstrap"])
	tBase := time.Since(begin)
	deb, cpDeb := buildDebs(t)
	work := t.TempDir()
	root := filepath.Join(work, "root")
	if err := os.Mkdir(root, 0o755); err != nil {
		t.Fatal(err)
	}
	run(t, "tar", "-xf", base, "-C", root, "--numeric-owner")
	copyFile(t, deb, filepath.Join(root, "tmp", "nodeconsole.deb"))
	copyFile(t, cpDeb, filepath.Join(root, "tmp", "controlplane.deb"))
	inRoot(t, root, "dpkg -i /tmp/nodeconsole.deb /tmp/controlplane.deb")
	testBin := filepath.Join(root, netconfigTestInGuest)
	if err := os.MkdirAll(filepath.Dir(testBin), 0o755); err != nil {
		t.Fatal(err)
	}
	copyFile(t, buildNetconfigTest(t), testBin)
	if err := os.Chmod(testBin, 0o755); err != nil {
		t.Fatal(err)
	}
	lintian(t, root, art)
	configure(t, root, endpoint, cp.CAPEM)
	kernels, _ := filepath.Glob(filepath.Join(root, "boot", "vmlinuz-*"))
	initrds, _ := filepath.Glob(filepath.Join(root, "boot", "initrd.img-*"))
	if len(kernels) != 1 || len(initrds) != 1 {
		t.Fatalf("kernels %v, initrds %v", kernels, initrds)
	}
	kernel, initrd := filepath.Join(work, "vmlinuz"), filepath.Join(work, "initrd.img")
	copyFile(t, kernels[0], kernel)
	copyFile(t, initrds[0], initrd)
	disk := filepath.Join(work, "disk.img")
	run(t, tools["mkfs.ext4"], "-q", "-F", "-L", "root", "-d", root, disk, "2G")
	if err := os.RemoveAll(root); err != nil {
		t.Fatal(err)
	}
	tImage := time.Since(begin)

	// First-boot user data on a CIDATA CD-ROM: the same endpoint, and a
	// tag that only the user data sets.
	iso := cidataISO(t, tools["xorriso"], "#cloud-config\nhostname: ignored-by-nodeconsole\nnodeconsole:\n  site:\n    endpoint: "+endpoint+"\n    tags: {site: vmtest-cidata}\n")
	v := startVM(t, tools["tmux"], vmConfig{qemu: tools["qemu-system-x86_64"], kernel: kernel, initrd: initrd, disk: disk, cdrom: iso,
		// TCG on a busy machine is slow: let systemd wait for devices
		// and units rather than give up after 90 s.
		append: "root=/dev/vda rw console=tty0 console=ttyS0,115200 net.ifnames=0 quiet loglevel=3 " +
			"systemd.default_device_timeout_sec=900 systemd.default_timeout_start_sec=900"})
	shot := func(name string) string {
		t.Helper()
		p := filepath.Join(art, name+".png")
		if err := v.mon.screendump(p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	keepSerial := func(name, screen string) {
		os.WriteFile(filepath.Join(art, name+".txt"), []byte(screen+"\n"), 0o644)
	}
	enter := func() { v.send(false, "Enter") }
	typeLine := func(s string) { v.send(true, s); enter() }

	// ttyS0: the first login changes the expired per-device password,
	// set at first boot from eth0's MAC address.
	v.waitSerial("vmnode login:")
	tBoot := time.Since(v.started)
	typeLine("nodeadmin")
	v.waitSerial("Password:")
	typeLine(wanMAC)
	v.waitSerial("Current password:")
	typeLine(wanMAC)
	v.waitSerial("New password:")
	typeLine(newPassword)
	v.waitSerial("Retype new password:")
	typeLine(newPassword)
	home := v.waitSerial("Network settings", "Register Node", "Unregistered", "eth1")
	keepSerial("ttyS0-home", home)
	tLogin := time.Since(v.started)

	// First boot applied the CIDATA user data: the drop-in holds it and
	// the home screen says so.
	dropIn := v.guestSh("cat /etc/nodeconsole/config.d/50-user-data.yaml")
	os.WriteFile(filepath.Join(art, "50-user-data.yaml"), []byte(dropIn), 0o644)
	if !strings.Contains(dropIn, "vmtest-cidata") || !strings.Contains(dropIn, endpoint) {
		t.Errorf("config.d/50-user-data.yaml after the first boot:\n%s\nunit: %s", dropIn, v.unitState("nodeconsole-userdata.service"))
	}
	if !strings.Contains(home, "Site settings loaded from CIDATA") {
		t.Errorf("the home screen does not say the user data was applied:\n%s", home)
	}

	// The control plane's package: its unit started under systemd and
	// answers /healthz in the guest (HTTPS, its own CA); its exposure.
	controlplaneInGuest(t, v, art)

	// VLANs on a kernel with 802.1Q, in namespaces of the guest's own.
	tVLAN := time.Now()
	vlanInGuest(t, v, art)
	dVLAN := time.Since(tVLAN)

	// A static address on eth1, applied, checked and kept.
	v.send(true, "1")
	v.waitSerial("Choose the interface")
	v.send(true, "2")
	v.waitSerial("Interface eth1", "Address is required")
	// An address only: no gateway, so the default route stays on eth0.
	v.send(true, "192.0.2.10/24")
	// The form validates as it is typed into: wait for the address to
	// count before walking to the button (on a loaded machine the guest
	// lags behind the keys).
	v.poll("the address to be taken", func() bool {
		s := strings.Join(v.serial(), "\n")
		return strings.Contains(s, "192.0.2.10/24") && !strings.Contains(s, "Address is required") && !strings.Contains(s, "disabled:")
	})
	for i := 0; !strings.Contains(strings.Join(v.serial(), "\n"), "> [ Preview and apply ]"); i++ {
		if i == 30 {
			t.Fatalf("Tab never reached Preview and apply:\n%s", strings.Join(v.serial(), "\n"))
		}
		before := focusedLine(v.serial())
		v.send(false, "Tab")
		// The serial line redraws in pieces: wait until the marker is
		// drawn on another line, not merely gone from the old one.
		v.poll("the focus to move", func() bool {
			now := focusedLine(v.serial())
			return now != "" && now != before
		})
	}
	enter()
	v.waitSerial("Preview: eth1", "192.0.2.10/24")
	enter()
	keep := v.waitSerial("Keep these settings?")
	keepSerial("ttyS0-network-keep", keep)
	v.send(true, "y")
	v.waitSerial("The new settings are kept and saved")
	enter()
	v.waitSerial("Choose the interface", "192.0.2.10/24")
	v.send(false, "Escape")
	v.waitSerial("Network settings", "192.0.2.10/24")

	// tty1: log in with the new password, open Register Node, scan.
	v.waitTTY1("vmnode login:")
	v.mon.typeText("nodeadmin\n")
	v.waitTTY1("Password:")
	v.mon.typeText(newPassword + "\n")
	tty1Home := v.waitTTY1("Network settings", "Register Node", "192.0.2.10/24")
	os.WriteFile(filepath.Join(art, "tty1-home.txt"), []byte(tty1Home+"\n"), 0o644)
	shot("tty1-home")
	v.mon.typeText("3")
	v.waitTTY1("Check these values")
	v.mon.key("ret")
	tty1Reg := v.waitTTY1("Waiting for activation")
	os.WriteFile(filepath.Join(art, "tty1-register.txt"), []byte(tty1Reg+"\n"), 0o644)
	png := shot("tty1-register")
	code := scanTTY1(t, tools["zbarimg"], png, tty1Reg, endpoint)
	act, err := cp.FindCode(code)
	if err != nil {
		t.Fatalf("the code %s in the QR code is unknown to the control plane: %v", code, err)
	}
	if !strings.Contains(home, act.NodeID) {
		t.Errorf("the code on tty1 is for node %s, not this node", act.NodeID)
	}
	fontLog := strings.TrimSpace(v.guestSh("grep -h 'console font' /var/lib/nodeconsole/nodeconsole.log"))
	t.Logf("tty1: the console's font log: %s", fontLog)
	if !strings.ContainsAny(tty1Reg, "▀▄") {
		t.Errorf("tty1 drew the QR code without half blocks: the font patch did not happen:\n%s", tty1Reg)
	}
	t.Logf("tty1 (%dx%d): the QR code reads code %s (node %s)", v.cols, v.rows, code, act.NodeID)

	// The same screen on an 80x25 VT (a VGA text console's size): tty1
	// is resized in the guest (TIOCSWINSZ resizes a VT), the console
	// redraws, and the top-left 80x25 cells of the screendump are what
	// such a display shows. The code fits only with half blocks, which
	// console-setup's font has only because the console added them.
	cellW, cellH := pngCell(t, png, v.cols, v.rows)
	v.guestSh("stty -F /dev/tty1 rows 25 cols 80")
	small := v.waitTTY1Size(80, 25, "Waiting for activation", "Code")
	os.WriteFile(filepath.Join(art, "tty1-register-80x25.txt"), []byte(small+"\n"), 0o644)
	png80 := filepath.Join(art, "tty1-register-80x25.png")
	cropPNG(t, shot("tty1-register-80x25-full"), png80, 80*cellW, 25*cellH)
	if c := scanTTY1(t, tools["zbarimg"], png80, small, endpoint); c != code {
		t.Errorf("at 80x25 the QR code reads code %s, before %s", c, code)
	}
	t.Logf("tty1 at 80x25: the QR code reads code %s", code)

	// tty1: the technician walks away: cancelling the wait there cancels
	// that code on the control plane too; log out.
	v.mon.key("esc")
	v.waitTTY1("Cancel the registration?")
	v.mon.typeText("y")
	v.poll("tty1 to leave the cancel question", func() bool {
		return !strings.Contains(strings.Join(v.tty1(), "\n"), "Cancel the registration?")
	})
	if !strings.Contains(strings.Join(v.tty1(), "\n"), "Log out") {
		v.mon.key("esc") // from the cancelled registration back home
	}
	v.waitTTY1("Network settings", "Log out")
	if m := halfBlocksMapped(v); m != "mapped" {
		t.Errorf("while the console runs, tty1's font map has the half blocks %s", m)
	}
	v.mon.typeText("q")
	v.waitTTY1("vmnode login:")
	// The console put the font back on its way out.
	if m := halfBlocksMapped(v); m != "unmapped" {
		t.Errorf("after the console exited, tty1's font map has the half blocks %s; want them gone (font restored)", m)
	}
	if _, err := cp.FindCode(code); err == nil {
		t.Errorf("the code %s cancelled on tty1 is still open on the control plane", code)
	}

	// ttyS0: Register Node gets a new code for the same node; an admin
	// licenses it through the admin API.
	v.send(true, "3")
	v.waitSerial("Check these values")
	enter()
	reg := v.waitSerial("Code  ", "Waiting for activation")
	keepSerial("ttyS0-register", reg)
	serialCode := ""
	for _, l := range strings.Split(reg, "\n") {
		if f := strings.Fields(l); len(f) == 2 && f[0] == "Code" {
			serialCode = f[1]
		}
	}
	sact, err := cp.FindCode(serialCode)
	if err != nil || sact.NodeID != act.NodeID {
		t.Fatalf("the code %q on ttyS0: %+v, %v; want node %s", serialCode, sact, err, act.NodeID)
	}
	if _, err := cp.License(serialCode, "vm-node-1", ""); err != nil {
		t.Fatal(err)
	}
	keepSerial("ttyS0-registered", v.waitSerial("Registered as vm-node-1"))
	tRegistered := time.Since(v.started)

	// Reboot later, from the console's menu; the node comes back
	// registered with its static address. The pane is reset once the
	// kernel restarts, so that the old login transcript cannot match.
	v.send(false, "Escape")
	v.waitSerial("Reboot later to finish")
	v.send(false, "Escape")
	home = v.waitSerial("Registered as vm-node-1", "Reboot", "Shut down")
	digit := menuDigit(t, home, "Reboot")
	v.send(true, digit)
	v.waitSerial("Reboot this node?")
	v.send(true, "y")
	v.waitSerial("reboot: Restarting system") // the kernel's last words
	v.tm("send-keys", "-R", "-t", "0")
	v.tm("clear-history", "-t", "0")
	v.waitSerial("vmnode login:")
	tReboot := time.Since(v.started)
	typeLine("nodeadmin")
	v.waitSerial("Password:")
	typeLine(newPassword)
	after := v.waitSerial("Registered as vm-node-1", "192.0.2.10/24")
	keepSerial("ttyS0-after-reboot", after)
	// The hardened boot unit re-applied the address (networkd reads the
	// same settings from the .network file the console wrote).
	for _, u := range []string{"nodeconsole-network.service", "nodeconsole-register.service", "nodeconsole-userdata.service"} {
		st := v.unitState(u)
		t.Logf("after the reboot: %s %s", u, st)
		if u == "nodeconsole-network.service" && !(strings.Contains(st, "ActiveState=active") && strings.Contains(st, "Result=success")) {
			t.Errorf("%s: %s", u, st)
		}
		if strings.Contains(st, "failed") {
			t.Errorf("%s: %s", u, st)
		}
	}
	shot("tty1-after-reboot")
	if n, err := cp.Node(act.NodeID); err != nil || n.Status != "registered" || n.Name != "vm-node-1" {
		t.Errorf("control plane: node %+v, %v", n, err)
	}
	v.send(true, "q")
	v.waitSerial("vmnode login:")

	t.Logf("cost: base image %s, image ready %s; boot to login %s, first login %s, VLAN step %s, registered %s, back after reboot %s; whole test %s",
		tBase.Round(time.Second), tImage.Round(time.Second), tBoot.Round(time.Second), tLogin.Round(time.Second),
		dVLAN.Round(time.Second), tRegistered.Round(time.Second), tReboot.Round(time.Second), time.Since(begin).Round(time.Second))
}

// halfBlocksMapped is "mapped" when tty1's font map (GIO_UNIMAP, read in
// the guest with perl, the one scripting language of a minbase image)
// has ▀ or ▄, else "unmapped", or perl's error.
func halfBlocksMapped(v *vm) string {
	return strings.TrimSpace(v.guestSh(`perl -e 'open(T, "<", "/dev/tty1") or die "$!"; $b = "\0" x 65536; $d = pack("S x6 P", 16384, $b); ioctl(T, 0x4B66, $d) or die "GIO_UNIMAP: $!"; @p = unpack("S*", substr($b, 0, 4 * unpack("S", $d))); for ($i = 0; $i < @p; $i += 2) { $m = 1 if $p[$i] == 0x2580 || $p[$i] == 0x2584 } print $m ? "mapped" : "unmapped"'`))
}

// scanTTY1 decodes the QR code of a tty1 screenshot with zbarimg and
// returns its activation code; it must be an activation URL of endpoint
// and the code the screen's text shows.
func scanTTY1(t *testing.T, zbarimg, png, screen, endpoint string) string {
	t.Helper()
	out, err := exec.Command(zbarimg, "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", png).Output()
	if err != nil {
		t.Fatalf("zbarimg read no QR code in %s (%v); screen:\n%s", png, err, screen)
	}
	qrURL := strings.TrimSpace(string(out))
	qu, err := url.Parse(qrURL)
	if err != nil || qu.Query().Get("code") == "" || !strings.HasPrefix(qrURL, endpoint+"/") {
		t.Fatalf("the QR code in %s reads %q: not an activation URL of %s", png, qrURL, endpoint)
	}
	code := qu.Query().Get("code")
	if !regexp.MustCompile(`(?m)^\s*Code\s+` + regexp.QuoteMeta(code) + `\b`).MatchString(screen) {
		t.Errorf("%s: the screen shows another code than its QR code (%s):\n%s", png, code, screen)
	}
	return code
}

// controlplaneInGuest checks that controlplane.service (installed from its
// .deb into the image) is active under the guest's systemd and answers
// /healthz on its port, and logs and keeps its systemd-analyze security
// exposure (controlplane-security.txt).
func controlplaneInGuest(t *testing.T, v *vm, art string) {
	t.Helper()
	var state, health string
	v.poll("controlplane.service to answer /healthz", func() bool {
		state = strings.TrimSpace(v.guestSh("systemctl is-active controlplane.service"))
		health = v.guestSh("printf 'GET /healthz HTTP/1.0\\r\\n\\r\\n' | timeout 10 openssl s_client -quiet -verify_return_error -CAfile /var/lib/controlplane/ca.pem -connect 127.0.0.1:8443 2>/dev/null")
		return state == "failed" || strings.Contains(health, "200 OK") && strings.HasSuffix(strings.TrimRight(health, "\r\n"), "ok")
	})
	if state != "active" {
		t.Errorf("controlplane.service is %s:\n%s", state, v.guestSh("systemctl status --no-pager -n 20 controlplane.service"))
	}
	health = strings.TrimSpace(health)
	t.Logf("controlplane.service %s; /healthz: %q", state, health[strings.LastIndex(health, "\n")+1:])
	sec := v.guestSh("systemd-analyze security --no-pager controlplane.service")
	os.WriteFile(filepath.Join(art, "controlplane-security.txt"), []byte(sec), 0o644)
	lines := strings.Split(strings.TrimSpace(sec), "\n")
	t.Logf("systemd-analyze security in the VM: %s", lines[len(lines)-1])
}

// focusedLine is the form line with the focus marker (" > Address ...").
func focusedLine(screen []string) string {
	for _, l := range screen[1:] {
		if strings.HasPrefix(strings.TrimLeft(l, " "), "> ") {
			return l
		}
	}
	return ""
}

// menuDigit is the shortcut digit of a home-menu entry ("  6   Reboot").
func menuDigit(t *testing.T, screen, label string) string {
	t.Helper()
	for _, l := range strings.Split(screen, "\n") {
		f := strings.Fields(l)
		for i := 0; i+1 < len(f); i++ {
			if len(f[i]) == 1 && f[i][0] >= '1' && f[i][0] <= '9' {
				rest := strings.Join(f[i+1:], " ")
				rest = strings.TrimSpace(strings.TrimLeft(rest, ">*"))
				if rest == label {
					return f[i]
				}
			}
		}
	}
	t.Fatalf("no menu entry %q on:\n%s", label, screen)
	return ""
}

// lintian checks the packages (nodeconsole's and the control plane's) with
// the image's (Debian 13) lintian: no errors; the report is kept as lintian.txt, and the boot units' scores
// from systemd-analyze security as security.txt.
func lintian(t *testing.T, root, art string) {
	t.Helper()
	out, err := exec.Command("unshare", "--mount", "--propagation", "private", "sh", "-c",
		`root=$1; mount -t proc proc "$root/proc"; exec chroot "$root" lintian --fail-on error --display-info --tag-display-limit 0 /tmp/nodeconsole.deb /tmp/controlplane.deb`,
		"sh", root).CombinedOutput()
	os.WriteFile(filepath.Join(art, "lintian.txt"), out, 0o644)
	t.Logf("lintian (Debian 13):\n%s", out)
	if err != nil {
		t.Errorf("lintian reports errors (%v):\n%s", err, out)
	}
	// The boot units' exposure as Debian 13's systemd rates it.
	sec, _ := exec.Command("unshare", "--mount", "--propagation", "private", "sh", "-c",
		`root=$1; mount -t proc proc "$root/proc"; exec chroot "$root" sh -c 'for u in /usr/lib/systemd/system/nodeconsole-*.service; do systemd-analyze security --offline=true "$u" 2>&1 | tail -n 1; done'`,
		"sh", root).CombinedOutput()
	os.WriteFile(filepath.Join(art, "security.txt"), sec, 0o644)
	t.Logf("systemd-analyze security (Debian 13):\n%s", sec)
}
