package deploy

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/nodeconsole/nodeconsole/testenv"
)

// overlayRoot starts a script (sh -c SCRIPT sh DEB WORKDIR, inside
// unshare -m) in a throwaway root: an overlay of / with its upper layer in
// a tmpfs on WORKDIR, at $m, with /proc, /dev, /run and /tmp.
const overlayRoot = `
set -eu
deb=$1 work=$2
mount --make-rprivate /
mount -t tmpfs tmpfs "$work"
mkdir "$work/u" "$work/w" "$work/m"
mount -t overlay overlay -o "lowerdir=/,upperdir=$work/u,workdir=$work/w" "$work/m"
m=$work/m
mount -t proc proc "$m/proc"
mount --rbind /dev "$m/dev"
mount -t tmpfs tmpfs "$m/run"
mount -t tmpfs tmpfs "$m/tmp"
`

// installScript installs and purges the package in a throwaway root: an
// overlay of this machine's root file system with a tmpfs on top, in a
// private mount namespace (unshare -m), entered with chroot. Nothing reaches
// the real root. No systemd runs in it (like an image build), so nothing is
// started. It prints "key=value" lines that the test compares.
const installScript = overlayRoot + `
cp "$deb" "$m/tmp/nodeconsole.deb"
c() { chroot "$m" "$@"; }
mode() { c stat -c '%U:%G:%a' "$1" 2>/dev/null || echo absent; }
sums() { c md5sum /etc/passwd /etc/group /etc/shadow /etc/gshadow /etc/shells | cut -d' ' -f1 | tr '\n' ' '; }

echo "netdir.before=$(mode /etc/systemd/network)"
before=$(sums)

echo "== dpkg -i"
c dpkg -i /tmp/nodeconsole.deb 2>&1
echo "install.rc=$?"
echo "passwd=$(c getent passwd nodeadmin | cut -d: -f1,6,7)"
echo "group=$(c id -gn nodeadmin)"
echo "pwchange=$(c getent shadow nodeadmin | cut -d: -f3)"
echo "pwlocked=$(c getent shadow nodeadmin | cut -d: -f2 | cut -c1)"
echo "shells=$(c grep -c '^/usr/lib/nodeconsole/login-shell$' /etc/shells)"
echo "bin=$(mode /usr/bin/nodeconsole)"
echo "caps=$(c getcap /usr/bin/nodeconsole)"
echo "config=$(mode /etc/nodeconsole/config.yaml)"
echo "etcdir=$(mode /etc/nodeconsole)"
echo "confdir=$(mode /etc/nodeconsole/config.d)"
echo "netdir=$(mode /etc/systemd/network)"
echo "state=$(mode /var/lib/nodeconsole)"
echo "sudoers=$(mode /etc/sudoers.d/nodeconsole)"
echo "enabled=$(ls "$m/etc/systemd/system/multi-user.target.wants" | grep nodeconsole | tr '\n' ' ')"
echo "visudo=$(c visudo -c 2>&1 | grep -c 'nodeconsole: parsed OK')"
echo "sudo=$(c sudo -l -U nodeadmin | grep NOPASSWD | tr -s ' ')"
echo "runas.console=$(c runuser -u nodeadmin -- /usr/bin/nodeconsole version 2>&1 | head -n 1)"
echo "userdata.write=$(c runuser -u nodeadmin -- sh -c 'echo "site: {}" >/etc/nodeconsole/config.d/50-user-data.yaml' 2>&1 && echo ok)"
echo "runas.nobody=$(c runuser -u nobody -- /usr/bin/nodeconsole version >/dev/null 2>&1 && echo allowed || echo denied)"

echo "== dpkg --purge"
c dpkg --purge nodeconsole 2>&1
echo "purge.rc=$?"
echo "passwd.after=$(c getent passwd nodeadmin || echo none)"
echo "group.after=$(c getent group nodeconsole || echo none)"
echo "files.after=$(mode /etc/nodeconsole) $(mode /var/lib/nodeconsole) $(mode /usr/bin/nodeconsole)"
echo "netdir.after=$(mode /etc/systemd/network)"
echo "statoverride.after=$(c dpkg-statoverride --list | grep -c nodeconsole || true)"
[ "$before" = "$(sums)" ] && echo "accounts.after=unchanged" || echo "accounts.after=changed"
echo "leftovers=$(cd "$work/u" && find . -path ./var/lib/dpkg -prune -o -path ./var/log -prune -o -path ./tmp -prune -o -print | grep -i nodeconsole | tr '\n' ' ')"
`

// TestDebInstallPurge installs the .deb into a throwaway overlay root and
// purges it again: the account, rights and units are set up as
// docs/deploy.md says, and purge leaves nothing behind. Needs root (CI).
func TestDebInstallPurge(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireCommand(t, "unshare")
	testenv.RequireCommand(t, "chroot")
	for _, dep := range []string{"sudo", "setcap", "systemd-sysusers", "deb-systemd-helper"} {
		testenv.RequireCommand(t, dep) // the package's dependencies, from the host
	}
	deb := buildDeb(t)
	out, err := exec.Command("unshare", "-m", "sh", "-c", installScript, "sh", deb, t.TempDir()).CombinedOutput()
	t.Logf("install/purge transcript:\n%s", out)
	if err != nil {
		t.Fatalf("install/purge script: %v", err)
	}
	got := map[string]string{}
	for _, line := range strings.Split(string(out), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok && !strings.ContainsAny(k, " /") {
			got[k] = strings.TrimSpace(v)
		}
	}
	want := map[string]string{
		"install.rc":         "0",
		"passwd":             "nodeadmin:/var/lib/nodeconsole:/usr/lib/nodeconsole/login-shell",
		"group":              "nodeconsole",
		"pwchange":           "0", // expired: must change at first login
		"shells":             "1",
		"bin":                "root:nodeconsole:750",
		"caps":               "/usr/bin/nodeconsole cap_net_admin,cap_net_raw=ep",
		"config":             "root:nodeconsole:640",
		"etcdir":             "root:nodeconsole:750",
		"confdir":            "root:nodeconsole:2770",
		"netdir":             "root:nodeconsole:3775",
		"state":              "nodeadmin:nodeconsole:750",
		"sudoers":            "root:root:440",
		"enabled":            "nodeconsole-initial-password.service nodeconsole-network.service nodeconsole-register.service nodeconsole-userdata.service",
		"visudo":             "1",
		"sudo":               "(root) NOPASSWD: /usr/bin/systemctl reboot, /usr/bin/systemctl poweroff, /usr/bin/networkctl reload",
		"runas.console":      "", // checked below
		"runas.nobody":       "denied",
		"userdata.write":     "ok", // nodeconsole-userdata.service writes config.d; purge removes it
		"purge.rc":           "0",
		"passwd.after":       "none",
		"group.after":        "none",
		"files.after":        "absent absent absent",
		"netdir.after":       got["netdir.before"],
		"statoverride.after": "0",
		"accounts.after":     "unchanged",
		"leftovers":          "",
	}
	for k, w := range want {
		g, ok := got[k]
		switch {
		case !ok:
			t.Errorf("%s: not reported", k)
		case k == "runas.console":
			if !strings.Contains(g, testVersion) {
				t.Errorf("the console user running nodeconsole version got %q", g)
			}
		case g != w:
			t.Errorf("%s = %q, want %q", k, g, w)
		}
	}
	if got["pwlocked"] == "!" {
		t.Errorf("the console user's password is locked; want the expired initial password")
	}
}
