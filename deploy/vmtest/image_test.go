package vmtest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nodeconsole/nodeconsole/testenv"
)

// Debian release and mirror of the VM; the mirror is what apt uses here.
const (
	suite  = "trixie"
	mirror = "http://deb.debian.org/debian"
)

// basePackages are the Debian packages of the base image: a kernel,
// systemd as init, console-setup (so tty1 has Debian's default console
// font, not the kernel's), what nodeconsole depends on, Debian 13's
// lintian to check the package with, and what the VLAN step uses.
var basePackages = []string{
	"linux-image-amd64", "systemd-sysv", "udev", "console-setup", "kbd",
	"sudo", "libcap2-bin", "iproute2", "passwd", "util-linux", "init-system-helpers",
	"dbus", // networkctl reload talks to networkd over D-Bus
	"lintian",
	"kmod",         // the kernel loads 8021q on the first VLAN link with modprobe
	"iputils-ping", // the peer namespace pings the VLAN address
}

// run runs a command and fails the test with its output when it fails.
func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// baseRootfs returns a tarball of the base image made with mmdebstrap. It
// is kept in a cache directory (NODECONSOLE_VMTEST_CACHE, else the user's
// cache directory) under a name that changes with the package list, so
// reruns skip the download; under CI=true it is always made afresh.
func baseRootfs(t *testing.T, mmdebstrap string) string {
	t.Helper()
	args := []string{"--variant=minbase", "--mode=root", "--format=tar",
		"--include=" + strings.Join(basePackages, ","),
		"--aptopt=Acquire::Languages \"none\"",
		"--dpkgopt=path-exclude=/usr/share/locale/*",
		suite}
	sum := sha256.Sum256([]byte(strings.Join(args, "\x00") + mirror))
	dir := os.Getenv("NODECONSOLE_VMTEST_CACHE")
	if dir == "" {
		if c, err := os.UserCacheDir(); err == nil {
			dir = filepath.Join(c, "nodeconsole-vmtest")
		}
	}
	if os.Getenv("CI") == "true" || dir == "" {
		dir = t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	tarball := filepath.Join(dir, suite+"-"+hex.EncodeToString(sum[:6])+".tar")
	if _, err := os.Stat(tarball); err == nil {
		t.Logf("base image: %s (cached)", tarball)
		return tarball
	}
	tmp := fmt.Sprintf("%s.%d.tmp", tarball, os.Getpid()) // concurrent runs each make their own
	run(t, mmdebstrap, append(args, tmp, mirror)...)
	if err := os.Rename(tmp, tarball); err != nil {
		t.Fatal(err)
	}
	t.Logf("base image: %s (made now)", tarball)
	return tarball
}

// buildDebs builds the node's package (with the per-device first password,
// INITIAL_PASSWORD=@mac) and the control plane's from this work tree with
// `make deb` (both packages).
func buildDebs(t *testing.T) (node, controlplane string) {
	t.Helper()
	dist := t.TempDir()
	run(t, "make", "-C", filepath.Join("..", ".."), "deb", "DIST="+dist, "INITIAL_PASSWORD=@mac")
	one := func(glob string) string {
		debs, _ := filepath.Glob(filepath.Join(dist, glob))
		if len(debs) != 1 {
			t.Fatalf("make deb made %v", debs)
		}
		return debs[0]
	}
	return one("nodeconsole_*.deb"), one("controlplane_*.deb")
}

// cidataISO makes a CIDATA ISO 9660 volume (as a site would, with
// xorriso) whose user-data is userData.
func cidataISO(t *testing.T, xorriso, userData string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "user-data"), []byte(userData), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "meta-data"), []byte("instance-id: vmtest\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	iso := filepath.Join(t.TempDir(), "cidata.iso")
	run(t, xorriso, "-as", "mkisofs", "-quiet", "-V", "CIDATA", "-J", "-R", "-o", iso, dir)
	return iso
}

// inRoot runs a shell script chrooted in root with /proc, /sys and /dev
// mounted in a private mount namespace (gone when it ends), as an image
// build does.
func inRoot(t *testing.T, root, script string) string {
	t.Helper()
	return run(t, "unshare", "--mount", "--propagation", "private", "sh", "-ec",
		`root=$1; mount -t proc proc "$root/proc"; mount -t sysfs sys "$root/sys"; mount --bind /dev "$root/dev"
		exec chroot "$root" sh -ec "$2"`, "sh", root, script)
}

// writeFile writes a file into the image.
func writeFile(t *testing.T, root, path, content string, mode os.FileMode) {
	t.Helper()
	p := filepath.Join(root, path)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
}

// requireTools skips or fails unless the machine can build and boot an image.
func requireTools(t *testing.T) map[string]string {
	t.Helper()
	testenv.RequireRoot(t)
	tools := map[string]string{}
	for _, c := range []string{"mmdebstrap", "qemu-system-x86_64", "mkfs.ext4", "tmux", "zbarimg", "dpkg-deb", "unshare", "make", "xorriso"} {
		tools[c] = testenv.RequireCommand(t, c)
	}
	return tools
}
