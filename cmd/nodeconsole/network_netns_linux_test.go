//go:build linux

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netns"

	"github.com/nodeconsole/nodeconsole/lldp"
	"github.com/nodeconsole/nodeconsole/netconfig"
	"github.com/nodeconsole/nodeconsole/testenv"
)

// nsLab is a pair of throwaway network namespaces made with ip(8): node,
// where nodeconsole runs, with veth0 (192.0.2.50/24, default via
// 192.0.2.1), and peer, the gateway 192.0.2.1 on the other end. Config and
// state live in t.TempDir; the host is never touched.
type nsLab struct {
	t                *testing.T
	ip               string
	node, peer       string
	dir, cfg, state  string
	resolv, networkd string
}

func newNSLab(t *testing.T) *nsLab {
	t.Helper()
	testenv.RequireRoot(t)
	l := &nsLab{t: t, ip: testenv.RequireCommand(t, "ip"), dir: t.TempDir()}
	suffix := fmt.Sprintf("%d-%d", os.Getpid(), time.Now().UnixNano()%1e6)
	l.node, l.peer = "nc-node-"+suffix, "nc-peer-"+suffix
	for _, ns := range []string{l.node, l.peer} {
		l.must("netns", "add", ns)
		ns := ns
		t.Cleanup(func() { exec.Command(l.ip, "netns", "del", ns).Run() })
	}
	l.must("-n", l.node, "link", "set", "lo", "up")
	l.must("-n", l.peer, "link", "set", "lo", "up")
	l.must("-n", l.node, "link", "add", "veth0", "address", "02:00:00:00:00:10", "type", "veth", "peer", "name", "gw0", "netns", l.peer)
	l.must("-n", l.peer, "addr", "add", "192.0.2.1/24", "dev", "gw0")
	l.must("-n", l.peer, "link", "set", "gw0", "up")
	l.must("-n", l.node, "addr", "add", "192.0.2.50/24", "dev", "veth0")
	l.must("-n", l.node, "link", "set", "veth0", "up")
	l.must("-n", l.node, "route", "add", "default", "via", "192.0.2.1", "dev", "veth0")

	l.state = filepath.Join(l.dir, "state")
	l.resolv = filepath.Join(l.dir, "resolv.conf")
	l.networkd = filepath.Join(l.dir, "network")
	l.cfg = filepath.Join(l.dir, "config.yaml")
	if err := os.WriteFile(l.resolv, []byte("search lab.example\nnameserver 198.51.100.53\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf("network: {resolvConf: %s, networkdDir: %s}\n", l.resolv, l.networkd)
	if err := os.WriteFile(l.cfg, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return l
}

func (l *nsLab) must(args ...string) string {
	l.t.Helper()
	out, err := exec.Command(l.ip, args...).CombinedOutput()
	if err != nil {
		l.t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// kernel is the node namespace's IPv4 addresses and routes, as ip prints them.
func (l *nsLab) kernel() string {
	l.t.Helper()
	addrs := l.must("-n", l.node, "-4", "-o", "addr", "show", "dev", "veth0")
	var a []string
	for _, line := range strings.Split(strings.TrimSpace(addrs), "\n") {
		f := strings.Fields(line)
		if len(f) >= 4 {
			a = append(a, "addr "+f[3])
		}
	}
	return strings.Join(a, "\n") + "\n" + l.must("-n", l.node, "-4", "route", "show")
}

// nodeconsole runs this test binary as nodeconsole inside the node
// namespace, with stdin from /dev/null.
func (l *nsLab) nodeconsole(args ...string) (int, string, string) {
	l.t.Helper()
	full := append([]string{"netns", "exec", l.node, os.Args[0], "--config", l.cfg, "--state-dir", l.state}, args...)
	cmd := exec.Command(l.ip, full...)
	cmd.Env = append(os.Environ(), "NODECONSOLE_TEST_MAIN=1")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		l.t.Fatalf("run nodeconsole: %v", err)
	}
	return code, out.String(), errb.String()
}

func (l *nsLab) read(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}

// TestNetworkCLIInNetns is the Done-when, on a real kernel: set
// leaves exactly the config in the kernel, the resolv file and a networkd
// file; bad input exits 2 and changes nothing; --try with no stdin
// restores the previous state; apply re-applies the saved config.
func TestNetworkCLIInNetns(t *testing.T) {
	l := newNSLab(t)
	before, beforeResolv := l.kernel(), l.read(l.resolv)
	if !strings.Contains(before, "addr 192.0.2.50/24") || !strings.Contains(before, "default via 192.0.2.1 dev veth0") {
		t.Fatalf("lab setup:\n%s", before)
	}

	t.Run("bad input changes nothing", func(t *testing.T) {
		code, out, errs := l.nodeconsole("network", "set", "--interface", "veth0", "--address", "192.0.2.10/24", "--gateway", "198.51.100.1", "--dns", "192.0.2.53,192.0.2.53")
		if code != 2 || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, "Gateway 198.51.100.1 is outside the subnet 192.0.2.0/24.") ||
			!strings.Contains(errs, "DNS server 2 192.0.2.53 duplicates DNS server 1.") || out != "" {
			t.Errorf("exit %d, stdout %q, stderr %q", code, out, errs)
		}
		if got := l.kernel(); got != before {
			t.Errorf("kernel changed:\n%s\nwant:\n%s", got, before)
		}
		if l.read(l.resolv) != beforeResolv {
			t.Error("resolv file changed")
		}
		if _, err := os.Stat(l.networkd); err == nil {
			t.Error("a networkd dir was written")
		}
	})

	t.Run("try without stdin reverts", func(t *testing.T) {
		start := time.Now()
		code, out, errs := l.nodeconsole("network", "set", "--interface", "veth0", "--address", "192.0.2.20/24", "--gateway", "192.0.2.1", "--dns", "192.0.2.53", "--try", "3s")
		if code != 1 || errs != "nodeconsole: network set: no answer within 3s; the previous settings were restored\n" {
			t.Errorf("exit %d, stderr %q\n%s", code, errs, out)
		}
		if !strings.Contains(out, "OK   address  192.0.2.20/24 is on veth0") || !strings.Contains(out, "OK   gateway  192.0.2.1 answers ARP") {
			t.Errorf("the checks did not run on the applied config:\n%s", out)
		}
		if d := time.Since(start); d < 3*time.Second {
			t.Errorf("reverted after %s, before the 3 s deadline", d)
		}
		if got := l.kernel(); got != before {
			t.Errorf("kernel not restored:\n%s\nwant:\n%s", got, before)
		}
		if got := l.read(l.resolv); got != beforeResolv {
			t.Errorf("resolv file not restored: %q", got)
		}
		if _, err := os.Stat(filepath.Join(l.state, netconfig.SavedConfigFile)); err == nil {
			t.Error("a reverted trial saved the config")
		}
	})

	t.Run("set", func(t *testing.T) {
		code, out, errs := l.nodeconsole("network", "set", "--interface", "veth0", "--address", "192.0.2.10/24", "--gateway", "192.0.2.1", "--dns", "192.0.2.53")
		if code != 0 {
			t.Fatalf("exit %d: %s\n%s", code, errs, out)
		}
		if !strings.Contains(out, "Address       192.0.2.50/24 -> 192.0.2.10/24") || !strings.Contains(out, "Kept and saved.") {
			t.Errorf("output:\n%s", out)
		}
		want := "addr 192.0.2.10/24\ndefault via 192.0.2.1 dev veth0 proto static \n192.0.2.0/24 dev veth0 proto kernel scope link src 192.0.2.10 \n"
		if got := l.kernel(); got != want {
			t.Errorf("kernel:\n%q\nwant:\n%q", got, want)
		}
		resolv := l.read(l.resolv)
		if ns := netconfig.ParseNameservers([]byte(resolv)); len(ns) != 1 || ns[0].String() != "192.0.2.53" || !strings.Contains(resolv, "search lab.example") {
			t.Errorf("resolv file:\n%s", resolv)
		}
		nd := l.read(filepath.Join(l.networkd, netconfig.NetworkdFileName("veth0")))
		wantND := "[Match]\nName=veth0\n\n[Network]\nAddress=192.0.2.10/24\nGateway=192.0.2.1\nDNS=192.0.2.53\n"
		if !strings.HasSuffix(nd, wantND) {
			t.Errorf("networkd file:\n%s\nwant it to end with:\n%s", nd, wantND)
		}
	})

	t.Run("show", func(t *testing.T) {
		code, out, errs := l.nodeconsole("network", "show")
		if code != 0 || !strings.Contains(out, "veth0 up 02:00:00:00:00:10 192.0.2.10/24 ipv6 auto (default route)") ||
			!strings.Contains(out, "Saved:     veth0 static 192.0.2.10/24 gateway 192.0.2.1 dns 192.0.2.53") {
			t.Errorf("exit %d %s\n%s", code, errs, out)
		}
	})

	t.Run("apply re-applies the saved config", func(t *testing.T) {
		want := l.kernel()
		l.must("-n", l.node, "addr", "flush", "dev", "veth0")
		l.must("-n", l.node, "addr", "add", "192.0.2.77/24", "dev", "veth0")
		code, out, errs := l.nodeconsole("network", "apply")
		if code != 0 || !strings.Contains(out, "Applied the saved settings: veth0 static 192.0.2.10/24") {
			t.Errorf("exit %d, %q, %q", code, out, errs)
		}
		if got := l.kernel(); got != want {
			t.Errorf("kernel after apply:\n%s\nwant:\n%s", got, want)
		}
	})

	t.Run("history and restore", func(t *testing.T) {
		kept := l.kernel()
		if code, out, errs := l.nodeconsole("network", "set", "--interface", "veth0", "--address", "192.0.2.11/24", "--gateway", "192.0.2.1", "--dns", "192.0.2.53"); code != 0 {
			t.Fatalf("set: exit %d: %s\n%s", code, errs, out)
		}
		var doc struct {
			History []struct {
				N       int      `json:"n"`
				Changes []string `json:"changes"`
			} `json:"history"`
		}
		code, out, errs := l.nodeconsole("network", "history", "--json")
		if err := json.Unmarshal([]byte(out), &doc); code != 0 || err != nil || len(doc.History) != 2 ||
			strings.Join(doc.History[0].Changes, ";") != "address 192.0.2.10/24 -> 192.0.2.11/24" ||
			strings.Join(doc.History[1].Changes, ";") != "first saved settings" {
			t.Fatalf("history: exit %d %v %s\n%s", code, err, errs, out)
		}
		if code, out, errs := l.nodeconsole("network", "restore", "3"); code != 2 || !strings.Contains(errs, "there is no entry 3") || out != "" {
			t.Errorf("restore 3: exit %d %q %q", code, out, errs)
		}
		code, out, errs = l.nodeconsole("network", "restore", "2")
		if code != 0 || !strings.Contains(out, "Address       192.0.2.11/24 -> 192.0.2.10/24") || !strings.Contains(out, "Kept and saved.") {
			t.Fatalf("restore 2: exit %d %s\n%s", code, errs, out)
		}
		if got := l.kernel(); got != kept {
			t.Errorf("kernel after restore:\n%s\nwant:\n%s", got, kept)
		}
		if _, out, _ = l.nodeconsole("network", "history"); !strings.Contains(out, "1  ") || !strings.Contains(out, "(current)") ||
			!strings.Contains(out, "address 192.0.2.11/24 -> 192.0.2.10/24") || strings.Count(out, "\n") != 6 {
			t.Errorf("history after restore:\n%s", out)
		}
	})
}

// kernel6 is the node namespace's IPv6 settings of veth0, its global IPv6
// addresses and its IPv6 routes other than the kernel's own.
func (l *nsLab) kernel6() string {
	l.t.Helper()
	var b strings.Builder
	for _, k := range []string{"disable_ipv6", "accept_ra", "autoconf"} {
		out, err := exec.Command(l.ip, "netns", "exec", l.node, "cat", "/proc/sys/net/ipv6/conf/veth0/"+k).Output()
		if err != nil {
			l.t.Fatalf("read %s: %v", k, err)
		}
		b.WriteString(k + "=" + strings.TrimSpace(string(out)) + " ")
	}
	for _, line := range strings.Split(l.must("-n", l.node, "-6", "-o", "addr", "show", "dev", "veth0", "scope", "global"), "\n") {
		if f := strings.Fields(line); len(f) >= 4 {
			b.WriteString("\naddr " + f[3])
		}
	}
	for _, line := range strings.Split(l.must("-n", l.node, "-6", "route", "show"), "\n") {
		if line != "" && !strings.Contains(line, "proto kernel") {
			b.WriteString("\n" + strings.TrimSpace(line))
		}
	}
	return b.String()
}

// TestNetworkIPv6CLIInNetns: network set --ipv6 static --address6
// --gateway6 on a real kernel: a trial without an answer restores the IPv6
// state exactly; kept, the address answers ping -6 from the peer, network
// show --json shows the mode and addresses, and network apply re-applies
// the saved settings in a fresh namespace.
func TestNetworkIPv6CLIInNetns(t *testing.T) {
	l := newNSLab(t)
	ping := testenv.RequireCommand(t, "ping")
	l.must("-n", l.peer, "addr", "add", "2001:db8:1::1/64", "dev", "gw0", "nodad")
	set := []string{"network", "set", "--interface", "veth0", "--address", "192.0.2.50/24", "--gateway", "192.0.2.1",
		"--ipv6", "static", "--address6", "2001:db8:1::10/64", "--gateway6", "2001:db8:1::1"}
	want := "disable_ipv6=0 accept_ra=0 autoconf=0 \naddr 2001:db8:1::10/64\ndefault via 2001:db8:1::1 dev veth0 proto static metric 1024 pref medium"

	before := l.kernel6()
	if code, out, errs := l.nodeconsole(append(set, "--try", "1s")...); code != 1 || !strings.Contains(out, "OK   address6 2001:db8:1::10/64 is on veth0") {
		t.Errorf("try: exit %d %s\n%s", code, errs, out)
	}
	if got := l.kernel6(); got != before {
		t.Errorf("IPv6 after the trial:\n%s\nwant:\n%s", got, before)
	}

	code, out, errs := l.nodeconsole(set...)
	if code != 0 || !strings.Contains(out, "IPv6          none -> 2001:db8:1::10/64") || !strings.Contains(out, "OK   gateway6 2001:db8:1::1 answers neighbour discovery") {
		t.Fatalf("set: exit %d %s\n%s", code, errs, out)
	}
	if got := l.kernel6(); got != want {
		t.Errorf("IPv6 after set:\n%s\nwant:\n%s", got, want)
	}
	var pingErr error
	for range 20 {
		var pout []byte
		if pout, pingErr = exec.Command(l.ip, "netns", "exec", l.peer, ping, "-6", "-c", "1", "-W", "1", "2001:db8:1::10").CombinedOutput(); pingErr == nil {
			break
		}
		pingErr = fmt.Errorf("%v: %s", pingErr, pout)
	}
	if pingErr != nil {
		t.Errorf("ping -6 2001:db8:1::10 from the peer: %v", pingErr)
	}
	var doc struct {
		Interfaces []struct {
			Name string `json:"name"`
			IPv6 struct {
				Mode      string   `json:"mode"`
				Addresses []string `json:"addresses"`
			} `json:"ipv6"`
		} `json:"interfaces"`
		Gateway6 string `json:"gateway6"`
	}
	code, out, errs = l.nodeconsole("network", "show", "--json")
	if err := json.Unmarshal([]byte(out), &doc); code != 0 || err != nil || len(doc.Interfaces) != 1 || doc.Interfaces[0].IPv6.Mode != "static" ||
		strings.Join(doc.Interfaces[0].IPv6.Addresses, ",") != "2001:db8:1::10/64" || doc.Gateway6 != "2001:db8:1::1" {
		t.Errorf("show --json: exit %d %v %s\n%s", code, err, errs, out)
	}
	if nd := l.read(filepath.Join(l.networkd, netconfig.NetworkdFileName("veth0"))); !strings.Contains(nd, "IPv6AcceptRA=no\nAddress=2001:db8:1::10/64\nGateway=2001:db8:1::1\n") {
		t.Errorf("networkd file:\n%s", nd)
	}

	fresh := newNSLab(t)
	fresh.state = l.state
	if code, out, errs := fresh.nodeconsole("network", "apply"); code != 0 || !strings.Contains(out, "ipv6 static 2001:db8:1::10/64 gateway6 2001:db8:1::1") {
		t.Errorf("apply: exit %d %s\n%s", code, errs, out)
	}
	if got := fresh.kernel6(); got != want {
		t.Errorf("IPv6 after apply in a fresh namespace:\n%s\nwant:\n%s", got, want)
	}
}

// TestNetworkProxyLayerInNetns: with network.httpsProxy set, the checks of
// network set have a proxy layer that CONNECTs to the control plane
// through a real forward proxy in the peer namespace (the only way the
// node reaches it: the proxy alone knows cp.test) and shows its answer,
// in place of the direct TCP and TLS layers, with the clock read through
// it; register goes through the same proxy; a wrong proxy port gives one
// FAIL sentence.
func TestNetworkProxyLayerInNetns(t *testing.T) {
	l := newNSLab(t)
	cp, cpURL, tok := newProxiedCP(t)
	peer, err := netns.GetFromName(l.peer)
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	var ln net.Listener
	if err := testenv.InNetns(peer, func() (err error) { ln, err = net.Listen("tcp", "192.0.2.1:3128"); return err }); err != nil {
		t.Fatal(err)
	}
	proxy := testenv.ServeConnectProxy(t, ln, "", "", func(host string) (string, bool) { return "127.0.0.1", host == "cp.test" })
	config := func(proxyURL string) {
		cfg := fmt.Sprintf("node: {name: %s}\nsite:\n  endpoint: https://cp.test:%s\n  caCerts: [%s]\n  registrationToken: %s\nnetwork: {resolvConf: %s, networkdDir: %s, httpsProxy: %q}\n",
			cliNodeID, cpURL.Port(), cp.CAPath, tok, l.resolv, l.networkd, proxyURL)
		if err := os.WriteFile(l.cfg, []byte(cfg), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// No DNS server answers there (port 53 closed): the DNS layer fails at
	// once, and nothing else needs it through the proxy.
	set := []string{"network", "set", "--interface", "veth0", "--address", "192.0.2.50/24", "--gateway", "192.0.2.1", "--dns", "192.0.2.1"}

	config("http://192.0.2.1:3128")
	code, out, errs := l.nodeconsole(set...)
	want := "OK   proxy    proxy 192.0.2.1:3128: CONNECT cp.test:" + cpURL.Port() + " -> 200 Connection established; the control plane answers through it (TLS verified)\n"
	if code != 0 || !strings.Contains(out, want) || !strings.Contains(out, "\nOK   clock ") || strings.Contains(out, " tcp ") {
		t.Errorf("set: exit %d %s\n%s\nwant the line %q, the clock read through the proxy and no direct TCP layer", code, errs, out, want)
	}
	if code, out, errs := l.nodeconsole("register"); code != 0 || !strings.Contains(out, "Registered as "+cliNodeID) {
		t.Errorf("register through the proxy: exit %d %s\n%s", code, errs, out)
	}
	if proxy.Tunnels.Load() < 2 {
		t.Errorf("%d tunnels through the proxy, want the check's and registration's", proxy.Tunnels.Load())
	}

	config("http://192.0.2.1:3129")
	_, out, _ = l.nodeconsole(set...)
	want = "FAIL proxy    cannot reach proxy 192.0.2.1:3129 (connect: connection refused) (Nothing listens there: check the proxy port ('nodeconsole network show').)\n"
	if !strings.Contains(out, want) {
		t.Errorf("set with a wrong proxy:\n%s\nwant the line %q", out, want)
	}
}

// TestNetworkShowLLDPInNetns: LLDP frames a switch sends from the peer
// namespace (crafted) appear in network show --json --lldp within the listen
// time, in the same "lldp" shape as the console's status (lldp.Neighbor).
func TestNetworkShowLLDPInNetns(t *testing.T) {
	l := newNSLab(t)
	if err := os.MkdirAll(l.state, 0o700); err != nil {
		t.Fatal(err)
	}
	sw := lldp.Neighbor{ChassisID: "00:1b:54:aa:bb:cc", PortID: "Gi1/0/12", PortDescription: "rack 12",
		SystemName: "sw-rack12.example", VLAN: 100, TTL: 120}
	peer, _ := testenv.NetnsHandle(t, l.peer)
	testenv.SendFrames(t, peer, "gw0", lldp.Frame(sw, [6]byte{0x00, 0x1b, 0x54, 0xaa, 0xbb, 0xcc}))
	code, out, errs := l.nodeconsole("network", "show", "--json", "--lldp", "2s")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var doc struct {
		Interfaces []struct {
			Name string          `json:"name"`
			LLDP []lldp.Neighbor `json:"lldp"`
		} `json:"interfaces"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, ifc := range doc.Interfaces {
		if ifc.Name == "veth0" {
			if len(ifc.LLDP) != 1 || ifc.LLDP[0] != sw {
				t.Errorf("veth0 heard %+v, want %+v", ifc.LLDP, sw)
			}
			return
		}
	}
	t.Errorf("no veth0 in %s", out)
}
