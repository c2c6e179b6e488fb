package deploy

import (
	"bytes"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/nodeconsole/nodeconsole/config"
	"github.com/nodeconsole/nodeconsole/testenv"
)

const testVersion = "1.2.3~test"

// debArch is the Debian name of the architecture the test runs on, which is
// what `make deb` builds for by default.
func debArch(t *testing.T) string {
	switch runtime.GOARCH {
	case "386":
		return "i386"
	case "arm":
		return "armhf"
	case "ppc64le":
		return "ppc64el"
	default:
		return runtime.GOARCH
	}
}

var (
	buildOnce sync.Once
	builtDeb  string
	buildErr  string
	buildDir  string
)

// TestMain removes the shared build directory.
func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// buildDeb runs `make deb-nodeconsole` once for all tests and returns the
// .deb's path.
func buildDeb(t *testing.T) string {
	t.Helper()
	testenv.RequireCommand(t, "make")
	testenv.RequireCommand(t, "dpkg-deb")
	testenv.RequireCommand(t, "go")
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "nodeconsole-deb-test-")
		if err != nil {
			buildErr = err.Error()
			return
		}
		buildDir = dir
		dist := filepath.Join(dir, "dist")
		cmd := exec.Command("make", "-s", "deb-nodeconsole", "DIST="+dist, "VERSION="+testVersion)
		cmd.Dir = ".."
		cmd.Env = append(os.Environ(), "NODECONSOLE_BIN=") // always build the real binary
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = "make deb-nodeconsole: " + err.Error() + "\n" + string(out)
			return
		}
		builtDeb = filepath.Join(dist, "nodeconsole_"+testVersion+"_"+debArch(t)+".deb")
		if _, err := os.Stat(builtDeb); err != nil {
			buildErr = "make deb-nodeconsole did not write the expected file: " + err.Error() + "\n" + string(out)
		}
	})
	if buildErr != "" {
		t.Fatal(buildErr)
	}
	return builtDeb
}

// extract unpacks the .deb, control area included (DEBIAN/), into a new
// directory.
func extract(t *testing.T, deb string) string {
	t.Helper()
	dir := t.TempDir()
	run(t, "", "dpkg-deb", "-R", deb, dir)
	return dir
}

// run runs a command and returns its stdout; any failure or stderr output
// fails the test.
func run(t *testing.T, dir, name string, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil || stderr.Len() > 0 {
		t.Fatalf("%s %s: %v\nstdout:\n%s\nstderr:\n%s", name, strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// wantFiles is every regular file in the package with its mode as dpkg-deb -c
// prints it. Anything missing, extra or with another mode fails the test.
var wantFiles = map[string]string{
	"./usr/bin/nodeconsole":                                                     "-rwxr-xr-x",
	"./usr/lib/nodeconsole/login-shell":                                         "-rwxr-xr-x",
	"./usr/lib/nodeconsole/register-condition":                                  "-rwxr-xr-x",
	"./usr/lib/nodeconsole/initial-password":                                    "-rwxr-xr-x",
	"./usr/lib/systemd/system/nodeconsole-initial-password.service":             "-rw-r--r--",
	"./usr/lib/systemd/system/nodeconsole-network.service":                      "-rw-r--r--",
	"./usr/lib/systemd/system/nodeconsole-register.service":                     "-rw-r--r--",
	"./usr/lib/systemd/system/nodeconsole-userdata.service":                     "-rw-r--r--",
	"./usr/lib/systemd/system/nodeconsole-renew.service":                        "-rw-r--r--",
	"./usr/lib/systemd/system/nodeconsole-renew.timer":                          "-rw-r--r--",
	"./usr/lib/udev/rules.d/61-nodeconsole-cidata.rules":                        "-rw-r--r--",
	"./usr/lib/systemd/system/getty@tty1.service.d/10-nodeconsole.conf":         "-rw-r--r--",
	"./usr/lib/systemd/system/serial-getty@ttyS0.service.d/10-nodeconsole.conf": "-rw-r--r--",
	"./usr/lib/sysusers.d/nodeconsole.conf":                                     "-rw-r--r--",
	"./usr/lib/tmpfiles.d/nodeconsole.conf":                                     "-rw-r--r--",
	"./usr/lib/sysctl.d/60-nodeconsole.conf":                                    "-rw-r--r--",
	"./etc/nodeconsole/config.yaml":                                             "-rw-r-----",
	"./etc/sudoers.d/nodeconsole":                                               "-r--r-----",
	"./etc/issue.d/nodeconsole.issue":                                           "-rw-r--r--",
	"./usr/share/doc/nodeconsole/deploy.md":                                     "-rw-r--r--",
	"./usr/share/doc/nodeconsole/examples/autologin.conf":                       "-rw-r--r--",
	"./usr/share/doc/nodeconsole/examples/config.yaml":                          "-rw-r--r--",
	"./usr/share/doc/nodeconsole/copyright":                                     "-rw-r--r--",
	"./usr/share/doc/nodeconsole/changelog.gz":                                  "-rw-r--r--",
	"./usr/share/man/man1/nodeconsole.1.gz":                                     "-rw-r--r--",
	"./usr/share/lintian/overrides/nodeconsole":                                 "-rw-r--r--",
}

// TestDebContents checks the file list of `dpkg-deb -c`: every file with its
// mode, owned by root, and nothing else.
func TestDebContents(t *testing.T) {
	deb := buildDeb(t)
	if base := filepath.Base(deb); base != "nodeconsole_"+testVersion+"_"+debArch(t)+".deb" {
		t.Errorf("package file name %q", base)
	}
	got := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(run(t, "", "dpkg-deb", "-c", deb)), "\n") {
		// drwxr-xr-x root/root 0 2026-11-21 16:29 ./etc/
		f := strings.Fields(line)
		if len(f) < 6 {
			t.Fatalf("unexpected dpkg-deb -c line %q", line)
		}
		mode, owner, path := f[0], f[1], f[5]
		if owner != "root/root" {
			t.Errorf("%s is owned by %s, want root/root", path, owner)
		}
		switch mode[0] {
		case 'd':
			if mode != "drwxr-xr-x" && !strings.HasPrefix(path, "./etc/nodeconsole/") {
				t.Errorf("directory %s has mode %s", path, mode)
			}
		case '-':
			got[path] = mode
		default:
			t.Errorf("unexpected entry %q", line)
		}
	}
	for path, mode := range wantFiles {
		switch g, ok := got[path]; {
		case !ok:
			t.Errorf("missing %s", path)
		case g != mode:
			t.Errorf("%s has mode %s, want %s", path, g, mode)
		}
	}
	for path := range got {
		if _, ok := wantFiles[path]; !ok {
			t.Errorf("unexpected file %s", path)
		}
	}
}

// TestDebControl checks `dpkg-deb -I`: the control fields, the maintainer
// scripts and the conffiles.
func TestDebControl(t *testing.T) {
	deb := buildDeb(t)
	fields := map[string]string{
		"Package":      "nodeconsole",
		"Version":      testVersion,
		"Architecture": debArch(t),
	}
	for k, want := range fields {
		if got := strings.TrimSpace(run(t, "", "dpkg-deb", "-f", deb, k)); got != want {
			t.Errorf("control field %s = %q, want %q", k, got, want)
		}
	}
	depends := run(t, "", "dpkg-deb", "-f", deb, "Depends")
	for _, dep := range []string{"systemd", "sudo", "libcap2-bin", "passwd"} {
		if !strings.Contains(depends, dep) {
			t.Errorf("Depends %q lacks %s", strings.TrimSpace(depends), dep)
		}
	}
	info := run(t, "", "dpkg-deb", "-I", deb)
	for _, member := range []string{"control", "conffiles", "md5sums", "postinst", "prerm", "postrm"} {
		if !strings.Contains(info, " "+member) {
			t.Errorf("control area lacks %s:\n%s", member, info)
		}
	}
	conffiles := strings.Fields(run(t, "", "dpkg-deb", "-I", deb, "conffiles"))
	slices.Sort(conffiles)
	want := []string{"/etc/issue.d/nodeconsole.issue", "/etc/nodeconsole/config.yaml", "/etc/sudoers.d/nodeconsole"}
	if !slices.Equal(conffiles, want) {
		t.Errorf("conffiles = %q, want %q", conffiles, want)
	}
}

// TestDebBinary checks that the packaged binary is static, runs, and carries
// the package version.
func TestDebBinary(t *testing.T) {
	root := extract(t, buildDeb(t))
	bin := filepath.Join(root, "usr/bin/nodeconsole")
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("%s is dynamically linked; want CGO_ENABLED=0", bin)
		}
	}
	if out := run(t, "", bin, "version"); !strings.Contains(out, testVersion) {
		t.Errorf("nodeconsole version printed %q, want it to contain %q (-X main.version)", out, testVersion)
	}
	// Issue 7's size budget: the stripped static release binary (built
	// with -tags nodemo, without the demo's embedded control plane).
	const maxBinary = 12 << 20
	if fi, err := os.Stat(bin); err != nil || fi.Size() > maxBinary {
		t.Errorf("packaged binary is %d B (%v), budget %d B", fi.Size(), err, maxBinary)
	}
}

// TestDebConfig checks that the packaged config loads without problems and
// that its reboot command is one the sudoers file allows.
func TestDebConfig(t *testing.T) {
	root := extract(t, buildDeb(t))
	cfg, probs := config.Load(filepath.Join(root, "etc/nodeconsole/config.yaml"), false)
	if len(probs) > 0 {
		t.Fatalf("packaged config: %v", probs)
	}
	if got, want := cfg.Console.RebootCommand, []string{"sudo", "-n", "/usr/bin/systemctl", "reboot"}; !slices.Equal(got, want) {
		t.Errorf("console.rebootCommand = %q, want %q", got, want)
	}
	sudoers, err := os.ReadFile(filepath.Join(root, "etc/sudoers.d/nodeconsole"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := cfg.Console.PoweroffCommand, []string{"sudo", "-n", "/usr/bin/systemctl", "poweroff"}; !slices.Equal(got, want) {
		t.Errorf("console.poweroffCommand = %q, want %q", got, want)
	}
	for _, c := range [][]string{cfg.Console.RebootCommand, cfg.Console.PoweroffCommand} {
		if len(c) < 3 || !strings.Contains(string(sudoers), strings.Join(c[2:], " ")) {
			t.Errorf("sudoers does not allow the command %q:\n%s", c, sudoers)
		}
	}
	if r := cfg.Network.NetworkdReloadCommand; len(r) < 3 || r[0] != "sudo" || !strings.Contains(string(sudoers), strings.Join(r[2:], " ")) {
		t.Errorf("sudoers does not allow network.networkdReloadCommand %q:\n%s", r, sudoers)
	}
	if cfg.Network.DHCPClient != "auto" || cfg.Network.NetworkdRuntimeDir != "/run/systemd/network" {
		t.Errorf("network.dhcpClient %q, networkdRuntimeDir %q", cfg.Network.DHCPClient, cfg.Network.NetworkdRuntimeDir)
	}
	if cfg.Network.NetworkdDir != "/etc/systemd/network" || !strings.HasPrefix(cfg.Network.ResolvConf, "/var/lib/nodeconsole/") {
		t.Errorf("network paths %q, %q are not the ones the privilege model makes writable", cfg.Network.NetworkdDir, cfg.Network.ResolvConf)
	}
}

// TestDebSudoers validates the sudoers file with visudo.
func TestDebSudoers(t *testing.T) {
	visudo := testenv.RequireCommand(t, "visudo")
	root := extract(t, buildDeb(t))
	run(t, "", visudo, "-cf", filepath.Join(root, "etc/sudoers.d/nodeconsole"))
}

// TestDebUnits runs systemd-analyze verify on the two services and the two
// getty drop-ins, in a root holding the package plus this machine's stock
// units (getty@.service, targets). Warnings count as failures.
func TestDebUnits(t *testing.T) {
	sa := testenv.RequireCommand(t, "systemd-analyze")
	root := extract(t, buildDeb(t))
	stock := "/usr/lib/systemd/system"
	if _, err := os.Stat(filepath.Join(stock, "getty@.service")); err != nil {
		stock = "/lib/systemd/system"
	}
	run(t, "", "cp", "-a", stock+"/.", mkdir(t, filepath.Join(root, "usr/lib/systemd/system")))
	run(t, "", sa, "verify", "--root="+root,
		"nodeconsole-network.service", "nodeconsole-register.service", "nodeconsole-userdata.service",
		"nodeconsole-renew.service", "nodeconsole-renew.timer", "nodeconsole-initial-password.service",
		"getty@tty1.service", "serial-getty@ttyS0.service")
}

// runAny is run for commands that report progress on stderr: only the exit
// status counts.
func runAny(t *testing.T, dir, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func mkdir(t *testing.T, dir string) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestDebAccount applies the sysusers.d and tmpfiles.d entries to a scratch
// root: the console user, its group, login shell and home, the state
// directory's owner and mode, and networkd's runtime directory.
func TestDebAccount(t *testing.T) {
	sysusers := testenv.RequireCommand(t, "systemd-sysusers")
	tmpfiles := testenv.RequireCommand(t, "systemd-tmpfiles")
	root := extract(t, buildDeb(t))
	mkdir(t, filepath.Join(root, "etc"))
	runAny(t, "", sysusers, "--root="+root, "nodeconsole.conf")
	passwd, _ := os.ReadFile(filepath.Join(root, "etc/passwd"))
	var uid, gid string
	for _, line := range strings.Split(string(passwd), "\n") {
		f := strings.Split(line, ":")
		if len(f) == 7 && f[0] == "nodeadmin" {
			uid, gid = f[2], f[3]
			if f[5] != "/var/lib/nodeconsole" || f[6] != "/usr/lib/nodeconsole/login-shell" {
				t.Errorf("passwd entry %q: want home /var/lib/nodeconsole, shell /usr/lib/nodeconsole/login-shell", line)
			}
		}
	}
	if uid == "" {
		t.Fatalf("no nodeadmin in passwd:\n%s", passwd)
	}
	group, _ := os.ReadFile(filepath.Join(root, "etc/group"))
	if !strings.Contains(string(group), "nodeconsole:x:"+gid+":") {
		t.Errorf("nodeadmin's primary group %s is not nodeconsole:\n%s", gid, group)
	}
	runAny(t, "", tmpfiles, "--root="+root, "--create", "nodeconsole.conf")
	st := run(t, "", "stat", "-c", "%u %g %a", filepath.Join(root, "var/lib/nodeconsole"))
	if want := uid + " " + gid + " 750"; strings.TrimSpace(st) != want {
		t.Errorf("state dir uid gid mode = %q, want %q", strings.TrimSpace(st), want)
	}
	// A network change on trial goes to networkd's runtime directory.
	st = run(t, "", "stat", "-c", "%u %g %a", filepath.Join(root, "run/systemd/network"))
	if want := "0 " + gid + " 3775"; strings.TrimSpace(st) != want { // sticky: the group replaces only its own files
		t.Errorf("/run/systemd/network uid gid mode = %q, want %q", strings.TrimSpace(st), want)
	}
}

// TestDebScripts checks the shell syntax of the maintainer scripts and
// helpers (and runs shellcheck when it is installed).
func TestDebScripts(t *testing.T) {
	root := extract(t, buildDeb(t))
	scripts := []string{"DEBIAN/postinst", "DEBIAN/prerm", "DEBIAN/postrm",
		"usr/lib/nodeconsole/login-shell", "usr/lib/nodeconsole/register-condition", "usr/lib/nodeconsole/initial-password"}
	for _, s := range scripts {
		run(t, root, "sh", "-n", s)
	}
	if sc, err := exec.LookPath("shellcheck"); err == nil {
		run(t, root, sc, append([]string{"-s", "sh"}, scripts...)...)
	}
}
