package deploy

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/nodeconsole/nodeconsole/testenv"
)

// cpWantFiles is every regular file of the control plane's package.
var cpWantFiles = map[string]string{
	"./usr/bin/controlplane":                        "-rwxr-xr-x",
	"./usr/lib/systemd/system/controlplane.service": "-rw-r--r--",
	"./usr/lib/sysusers.d/controlplane.conf":        "-rw-r--r--",
	"./etc/controlplane/controlplane.env":           "-rw-r--r--",
	"./usr/share/doc/controlplane/operations.md":    "-rw-r--r--",
	"./usr/share/doc/controlplane/copyright":        "-rw-r--r--",
	"./usr/share/doc/controlplane/changelog.gz":     "-rw-r--r--",
	"./usr/share/lintian/overrides/controlplane":    "-rw-r--r--",
}

// cpInstallScript installs the control plane's package in a throwaway
// overlay root (overlayRoot), runs the unit's command as its
// user on a loopback port and asks /healthz, then purges the package.
const cpInstallScript = overlayRoot + `
cp "$deb" "$m/tmp/controlplane.deb"
c() { chroot "$m" "$@"; }
c dpkg -i /tmp/controlplane.deb >/dev/null 2>&1 && echo install.rc=0 || echo install.rc=$?
echo "passwd=$(c getent passwd controlplane | cut -d: -f6,7)"
echo "enabled=$(ls "$m/etc/systemd/system/multi-user.target.wants" | grep controlplane | tr '\n' ' ')"
# What StateDirectory= would do, then the unit's ExecStart as its user.
c install -d -o controlplane -g controlplane -m 0700 /var/lib/controlplane
chroot --userspec=controlplane:controlplane "$m" /usr/bin/controlplane --data /var/lib/controlplane --listen 127.0.0.1:0 >"$m/tmp/out" 2>"$m/tmp/err" &
pid=$!
i=0
until grep -q 'serving https://' "$m/tmp/out" 2>/dev/null || [ $i -ge 600 ]; do sleep 0.1; i=$((i+1)); done
url=$(sed -n 's/^controlplane: serving //p' "$m/tmp/out")
echo "healthz=$(curl -sS --cacert "$m/var/lib/controlplane/ca.pem" "$url/healthz")"
echo "state=$(c stat -c '%U:%a' /var/lib/controlplane/ca-key.pem)"
kill "$pid"; wait "$pid" || true   # chroot execs: $pid is the server itself
c dpkg --purge controlplane >/dev/null 2>&1 && echo purge.rc=0 || echo purge.rc=$?
echo "bin.after=$(c test -e /usr/bin/controlplane && echo present || echo absent)"
echo "data.after=$(c test -e /var/lib/controlplane/ca-key.pem && echo kept || echo gone)"
`

// TestMakeDebBuildsBoth: `make deb` writes both packages (with stand-in
// binaries: the packages' contents are TestDeb's and TestControlplaneDeb's).
func TestMakeDebBuildsBoth(t *testing.T) {
	testenv.RequireCommand(t, "make")
	testenv.RequireCommand(t, "dpkg-deb")
	testenv.RequireCommand(t, "go")
	dir := t.TempDir()
	bin := filepath.Join(dir, "stand-in")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	dist := filepath.Join(dir, "dist")
	cmd := exec.Command("make", "-s", "deb", "DIST="+dist, "VERSION="+testVersion)
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(), "NODECONSOLE_BIN="+bin, "CONTROLPLANE_BIN="+bin)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make deb: %v\n%s", err, out)
	}
	for _, name := range []string{"nodeconsole", "controlplane"} {
		deb := filepath.Join(dist, name+"_"+testVersion+"_"+debArch(t)+".deb")
		if got := strings.TrimSpace(run(t, "", "dpkg-deb", "-f", deb, "Package")); got != name {
			t.Errorf("%s: package %q, want %q", deb, got, name)
		}
	}
}

// TestControlplaneDeb builds `make deb-controlplane` and checks its files,
// its unit (systemd-analyze verify, security exposure at most 3.0) and,
// as root, that it installs, its command serves /healthz as the package's
// user, and purge keeps the CA and data.
func TestControlplaneDeb(t *testing.T) {
	testenv.RequireCommand(t, "make")
	testenv.RequireCommand(t, "dpkg-deb")
	testenv.RequireCommand(t, "go")
	dist := t.TempDir()
	cmd := exec.Command("make", "-s", "deb-controlplane", "DIST="+dist, "VERSION="+testVersion)
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(), "CONTROLPLANE_BIN=")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make deb-controlplane: %v\n%s", err, out)
	}
	deb := filepath.Join(dist, "controlplane_"+testVersion+"_"+debArch(t)+".deb")

	t.Run("contents", func(t *testing.T) {
		got := map[string]string{}
		for _, line := range strings.Split(strings.TrimSpace(run(t, "", "dpkg-deb", "-c", deb)), "\n") {
			f := strings.Fields(line)
			if len(f) >= 6 && f[0][0] == '-' {
				got[f[5]] = f[0]
			}
		}
		for p, mode := range cpWantFiles {
			if got[p] != mode {
				t.Errorf("%s: mode %q, want %q", p, got[p], mode)
			}
		}
		for p := range got {
			if _, ok := cpWantFiles[p]; !ok {
				t.Errorf("unexpected file %s", p)
			}
		}
		if cf := run(t, "", "dpkg-deb", "-f", deb, "Package"); strings.TrimSpace(cf) != "controlplane" {
			t.Errorf("Package: %q", cf)
		}
	})

	t.Run("unit", func(t *testing.T) {
		sa := testenv.RequireCommand(t, "systemd-analyze")
		root := extract(t, deb)
		stock := "/usr/lib/systemd/system"
		if _, err := os.Stat(filepath.Join(stock, "multi-user.target")); err != nil {
			stock = "/lib/systemd/system"
		}
		run(t, "", "cp", "-a", stock+"/.", mkdir(t, filepath.Join(root, "usr/lib/systemd/system")))
		run(t, "", sa, "verify", "--root="+root, "controlplane.service")
		out := runAny(t, "", sa, "security", "--offline=yes", "--root="+root, "controlplane.service")
		m := regexp.MustCompile(`Overall exposure level for controlplane.service: ([0-9.]+)`).FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("no exposure level in:\n%s", out)
		}
		if v, _ := strconv.ParseFloat(m[1], 64); v > 3.0 {
			t.Errorf("exposure %s, want at most 3.0:\n%s", m[1], out)
		}
		t.Logf("systemd-analyze security exposure: %s", m[1])
	})

	t.Run("install", func(t *testing.T) {
		testenv.RequireRoot(t)
		for _, c := range []string{"unshare", "chroot", "curl", "systemd-sysusers", "deb-systemd-helper"} {
			testenv.RequireCommand(t, c)
		}
		out, err := exec.Command("unshare", "-m", "sh", "-c", cpInstallScript, "sh", deb, t.TempDir()).CombinedOutput()
		t.Logf("transcript:\n%s", out)
		if err != nil {
			t.Fatalf("install script: %v", err)
		}
		got := map[string]string{}
		for _, line := range strings.Split(string(out), "\n") {
			if k, v, ok := strings.Cut(line, "="); ok && !strings.ContainsAny(k, " /") {
				got[k] = strings.TrimSpace(v)
			}
		}
		for k, w := range map[string]string{
			"install.rc": "0", "passwd": "/var/lib/controlplane:/usr/sbin/nologin", "enabled": "controlplane.service",
			"healthz": "ok", "state": "controlplane:600", "purge.rc": "0", "bin.after": "absent", "data.after": "kept",
		} {
			if got[k] != w {
				t.Errorf("%s = %q, want %q", k, got[k], w)
			}
		}
	})
}
