package vmtest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// netconfigTestInGuest is where the image holds netconfig's test binary.
const netconfigTestInGuest = "/usr/local/lib/nodeconsole-vmtest/netconfig.test"

// buildNetconfigTest compiles netconfig's tests into one static binary
// (go test -c) for the guest: TestNetlinkVLAN needs a kernel with 802.1Q,
// which Debian's has and this machine's may not.
func buildNetconfigTest(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "netconfig.test")
	cmd := exec.Command("go", "test", "-c", "-o", bin, "./netconfig")
	cmd.Dir = filepath.Join("..", "..")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go test -c ./netconfig: %v\n%s", err, out)
	}
	return bin
}

// vlanInGuest proves VLANs on the Debian kernel, whose 8021q module this
// machine's and CI's kernels lack (there netconfig's TestNetlinkVLAN only
// checks that the apply fails cleanly, and skips):
//
//   - the installed package, as the console user (its file capabilities,
//     not root), in a node namespace with a veth NIC lan0 (untagged
//     198.51.100.10/24) whose other end is in a peer namespace:
//     `network set --vlan 100 --address 192.0.2.10/24 --try` creates
//     lan0.100, which the peer's own VLAN link gw0.100 reaches (ping, and
//     its neighbour entry is lan0's MAC); answering no removes lan0.100 and
//     leaves the namespace exactly as it was (lan0 still answers untagged);
//   - kept (no --try): the .netdev and both .network files are written, and
//     `network show` lists lan0.100 as VLAN 100 on lan0;
//   - `network apply` in fresh namespaces (lan0 down, no VLAN link)
//     recreates lan0.100 with its address, and the fresh peer reaches it;
//   - netconfig's TestNetlinkVLAN runs in the guest and must pass, not skip.
//
// It keeps what it saw as vlan.txt.
func vlanInGuest(t *testing.T, v *vm, art string) {
	var transcript strings.Builder
	defer func() { os.WriteFile(filepath.Join(art, "vlan.txt"), []byte(transcript.String()), 0o644) }()
	// sh runs a one-line shell command in the guest and returns its
	// output and exit status.
	sh := func(cmd string) (string, int) {
		t.Helper()
		out := v.guestSh("(" + cmd + ") 2>&1; echo \"[exit $?]\"")
		fmt.Fprintf(&transcript, "# %s\n%s\n", cmd, out)
		i := strings.LastIndex(out, "[exit ")
		code := -1
		if i >= 0 {
			fmt.Sscanf(out[i:], "[exit %d]", &code)
			out = out[:i]
		}
		return out, code
	}
	must := func(cmd string) string {
		t.Helper()
		out, code := sh(cmd)
		if code != 0 {
			t.Fatalf("in the guest, %s: exit %d\n%s", cmd, code, out)
		}
		return out
	}
	begin := time.Now()

	// lab makes namespaces node and peer joined by a veth pair, lan0
	// (the node's NIC, down) and gw0 (up).
	lab := func(node, peer string) string {
		return fmt.Sprintf("ip netns add %[1]s && ip netns add %[2]s && ip -n %[1]s link set lo up && ip -n %[2]s link set lo up && "+
			"ip -n %[1]s link add lan0 address 02:00:00:00:01:10 type veth peer name gw0 netns %[2]s && ip -n %[2]s link set gw0 up", node, peer)
	}
	// peerVLAN gives peer the VLAN link gw0.100 with 192.0.2.1/24.
	peerVLAN := func(peer string) string {
		return fmt.Sprintf("ip -n %[1]s link add link gw0 name gw0.100 type vlan id 100 && ip -n %[1]s addr add 192.0.2.1/24 dev gw0.100 && ip -n %[1]s link set gw0.100 up", peer)
	}
	// nodeconsole runs the installed binary in namespace node as the
	// console user, with the lab's config (no DHCP client, networkd files
	// in the lab) and state directory.
	nodeconsole := func(node string) string {
		return "ip netns exec " + node + " runuser -u nodeadmin -- nodeconsole --config /tmp/vlan/config.yaml --state-dir /tmp/vlan/state "
	}
	// ping waits until addr answers a ping from namespace ns (like every
	// wait here, bounded by the test's timeout, not a clock).
	ping := func(ns, addr string) {
		t.Helper()
		v.poll(addr+" to answer a ping from namespace "+ns, func() bool {
			_, code := sh("ip netns exec " + ns + " ping -n -c 1 -W 2 " + addr)
			return code == 0
		})
	}
	// state is namespace ns's links (without the operational state and
	// NO-CARRIER, which the kernel settles in its own time), IPv4
	// addresses and routes.
	state := func(ns string) string {
		return must(fmt.Sprintf("ip -n %[1]s -o link | sed -E 's/ state [A-Z]+//; s/NO-CARRIER,//'; ip -n %[1]s -4 -o addr; ip -n %[1]s -4 route", ns))
	}
	vlanUp := func(ns string) {
		t.Helper()
		link := must("ip -n " + ns + " -d -o link show lan0.100")
		addr := must("ip -n " + ns + " -4 -o addr show dev lan0.100")
		if !strings.Contains(link, "lan0.100@lan0") || !strings.Contains(link, "vlan protocol 802.1Q id 100") || !strings.Contains(addr, "192.0.2.10/24") {
			t.Errorf("in namespace %s, lan0.100 is not VLAN 100 on lan0 with 192.0.2.10/24:\n%s%s", ns, link, addr)
		}
	}

	must("install -d -o nodeadmin /tmp/vlan && printf 'network: {resolvConf: /tmp/vlan/resolv.conf, networkdDir: /tmp/vlan/networkd, dhcpClient: none}\\n' >/tmp/vlan/config.yaml && mkfifo /tmp/vlan/answer")
	// lan0's own address has a broadcast address, as networkd and DHCP
	// clients set it (a revert puts the NIC's addresses back with one).
	must(lab("vlnode", "vlpeer") + " && ip -n vlpeer addr add 198.51.100.1/24 dev gw0 && ip -n vlnode addr add 198.51.100.10/24 brd + dev lan0 && ip -n vlnode link set lan0 up")
	ping("vlpeer", "198.51.100.10")
	before := state("vlnode")
	modBefore, _ := sh("test -d /sys/module/8021q && echo loaded || echo 'not loaded'")

	// On trial: the answer comes through a FIFO (opened read-write, so
	// nodeconsole does not wait for a writer), written once the peer has
	// reached the VLAN address.
	must("(" + nodeconsole("vlnode") + "network set --interface lan0 --vlan 100 --address 192.0.2.10/24 --try 10m 0<>/tmp/vlan/answer; echo \"[trial exit $?]\") >/tmp/vlan/try.out 2>&1 3>&- &")
	var trial string
	v.poll("network set --try to ask whether to keep the VLAN", func() bool {
		trial = v.guestSh("cat /tmp/vlan/try.out")
		return strings.Contains(trial, "Keep these settings?") || strings.Contains(trial, "[trial exit")
	})
	if !strings.Contains(trial, "Keep these settings?") {
		t.Fatalf("network set --vlan 100 --try ended without asking:\n%s", trial)
	}
	modAfter, _ := sh("test -d /sys/module/8021q && echo loaded || echo 'not loaded'")
	vlanUp("vlnode")
	must(peerVLAN("vlpeer"))
	ping("vlpeer", "192.0.2.10")
	if n := must("ip -n vlpeer neigh show 192.0.2.10 dev gw0.100"); !strings.Contains(n, "02:00:00:00:01:10") {
		t.Errorf("the peer's neighbour 192.0.2.10 on gw0.100 is not lan0's MAC 02:00:00:00:01:10: %q", n)
	}
	must("echo n >/tmp/vlan/answer")
	v.poll("network set --try to revert", func() bool {
		trial = v.guestSh("cat /tmp/vlan/try.out")
		return strings.Contains(trial, "[trial exit")
	})
	transcript.WriteString("# network set --try (answered n):\n" + trial + "\n")
	if !strings.Contains(trial, "[trial exit 1]") || !strings.Contains(trial, "not kept; the previous settings were restored") {
		t.Errorf("network set --try answered no:\n%s", trial)
	}
	if out, code := sh("ip -n vlnode link show lan0.100"); code == 0 || !strings.Contains(out, "does not exist") {
		t.Errorf("lan0.100 after the revert: exit %d\n%s", code, out)
	}
	if after := state("vlnode"); after != before {
		t.Errorf("the node namespace after the revert:\n%s\nbefore the trial:\n%s", after, before)
	}
	ping("vlpeer", "198.51.100.10")

	// Kept: persisted as networkd files, shown in the interface list.
	kept, code := sh(nodeconsole("vlnode") + "network set --interface lan0 --vlan 100 --address 192.0.2.10/24 </dev/null")
	if code != 0 || !strings.Contains(kept, "Kept and saved.") {
		t.Errorf("network set --vlan 100: exit %d\n%s", code, kept)
	}
	files := must("cd /tmp/vlan/networkd && for f in *; do echo \"== $f\"; cat \"$f\"; done")
	for name, want := range map[string]string{
		"10-nodeconsole-lan0.100.netdev":  "[NetDev]\nName=lan0.100\nKind=vlan\n\n[VLAN]\nId=100\n",
		"10-nodeconsole-lan0.network":     "[Match]\nName=lan0\n\n[Network]\nVLAN=lan0.100\n",
		"10-nodeconsole-lan0.100.network": "[Match]\nName=lan0.100\n\n[Network]\nAddress=192.0.2.10/24\n",
	} {
		_, body, _ := strings.Cut(files, "== "+name+"\n")
		if body, _, _ = strings.Cut(body, "\n== "); !strings.Contains(body+"\n", want) {
			t.Errorf("networkd file %s does not contain %q; the files:\n%s", name, want, files)
		}
	}
	show := must(nodeconsole("vlnode") + "network show")
	if !regexp.MustCompile(`(?m)^Interface:\s+lan0\.100 \S+ 02:00:00:00:01:10 .*192\.0\.2\.10/24.* \(VLAN 100 on lan0\)`).MatchString(show) {
		t.Errorf("network show does not list lan0.100 as VLAN 100 on lan0:\n%s", show)
	}

	// network apply in fresh namespaces recreates the VLAN link.
	must(lab("vlfresh", "vlfreshpeer") + " && " + peerVLAN("vlfreshpeer"))
	applied, code := sh(nodeconsole("vlfresh") + "network apply")
	if code != 0 || !strings.Contains(applied, "Applied the saved settings") {
		t.Errorf("network apply in a fresh namespace: exit %d\n%s", code, applied)
	}
	vlanUp("vlfresh")
	ping("vlfreshpeer", "192.0.2.10")
	must("for n in vlnode vlpeer vlfresh vlfreshpeer; do ip netns del $n; done; rm -rf /tmp/vlan")
	tCLI := time.Since(begin)

	// The test that skips on this machine, on a kernel with 802.1Q.
	if out, code := sh("cd /tmp && NODECONSOLE_REQUIRE_ALL=1 " + netconfigTestInGuest + " -test.run '^TestNetlinkVLAN$' -test.count=1 -test.v"); code != 0 || !strings.Contains(out, "--- PASS: TestNetlinkVLAN") {
		t.Errorf("netconfig's TestNetlinkVLAN did not pass in the guest (exit %d):\n%s", code, out)
	}

	t.Logf("VLAN in the guest: 8021q %s before nodeconsole's VLAN, %s after; network set --try, revert, keep, apply in fresh namespaces %s; TestNetlinkVLAN %s",
		strings.TrimSpace(modBefore), strings.TrimSpace(modAfter), tCLI.Round(100*time.Millisecond), (time.Since(begin) - tCLI).Round(100*time.Millisecond))
}
