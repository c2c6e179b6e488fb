//go:build linux

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nodeconsole/nodeconsole/netconfig"
)

// TestUserDataNetworkSettingsInNetns: an unattended node gets its whole
// network from user data with the names of the network commands: a static
// address with an MTU, static IPv6, IPv4 and IPv6 routes (applied through
// netconfig like `network set`, kept once the gateway answers), the host
// name and NTP servers (written where `network hostname` and `network ntp`
// write), and a proxy with a password that no output or log shows.
func TestUserDataNetworkSettingsInNetns(t *testing.T) {
	l := newNSLab(t)
	t.Setenv("NODECONSOLE_USERDATA_SYS_BLOCK", t.TempDir())
	l.must("-n", l.peer, "addr", "add", "fe80::1/64", "dev", "gw0", "nodad")
	hostname, chrony := filepath.Join(l.dir, "hostname"), filepath.Join(l.dir, "chrony.sources")
	cfg := "network: {resolvConf: " + l.resolv + ", networkdDir: " + l.networkd + ", hostnameFile: " + hostname +
		", hostnameCommand: [], ntpClient: chrony, chronySources: " + chrony + ", ntpReloadCommand: [\"true\"]}\n"
	if err := os.WriteFile(l.cfg, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ud := `#cloud-config
nodeconsole:
  network:
    httpsProxy: http://alice:s3cret@proxy.example.com:3128
    hostname: edge-ud-1
    ntp: ntp1.example.com,192.0.2.123
    interface:
      name: veth0
      address: 192.0.2.60/24
      gateway: 192.0.2.1
      mtu: 1400
      ipv6: static
      address6: 2001:db8:1::60/64
      routes: [10.20.0.0/16@192.0.2.1, 2001:db8:100::/48@fe80::1]
`
	if err := os.WriteFile(filepath.Join(dir, "user-data"), []byte(ud), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs := l.nodeconsole("userdata", "apply", "--source", dir, "--dry-run")
	if code != 0 || !strings.Contains(out, "Would set the host name edge-ud-1, NTP servers ntp1.example.com, 192.0.2.123.") ||
		!strings.Contains(out, "route 2001:db8:100::/48@fe80::1 ipv6 static 2001:db8:1::60/64 mtu 1400") {
		t.Errorf("dry run: exit %d\n%s\n%s", code, out, errs)
	}
	code, out, errs = l.nodeconsole("userdata", "apply", "--source", dir)
	if code != 0 || !strings.Contains(out, "Host name set to edge-ud-1") || !strings.Contains(out, "Kept and saved: the gateway answers.") {
		t.Fatalf("apply: exit %d\n%s\n%s", code, out, errs)
	}
	if k := l.kernel(); !strings.Contains(k, "addr 192.0.2.60/24") || !strings.Contains(k, "10.20.0.0/16 via 192.0.2.1 dev veth0 proto static") {
		t.Errorf("IPv4:\n%s", k)
	}
	if k := l.kernel6(); !strings.Contains(k, "addr 2001:db8:1::60/64") || !strings.Contains(k, "2001:db8:100::/48 via fe80::1 dev veth0 proto static") {
		t.Errorf("IPv6:\n%s", k)
	}
	if mtu := l.must("-n", l.node, "-o", "link", "show", "veth0"); !strings.Contains(mtu, "mtu 1400") {
		t.Errorf("MTU: %s", mtu)
	}
	if b, _ := os.ReadFile(hostname); string(b) != "edge-ud-1\n" {
		t.Errorf("hostname file %q", b)
	}
	if b, _ := os.ReadFile(chrony); !strings.Contains(string(b), "server ntp1.example.com iburst\nserver 192.0.2.123 iburst\n") {
		t.Errorf("chrony sources %q", b)
	}
	netd, _ := os.ReadFile(filepath.Join(l.networkd, netconfig.NetworkdFileName("veth0")))
	if !strings.Contains(string(netd), "[Route]\nDestination=2001:db8:100::/48\nGateway=fe80::1\n") {
		t.Errorf("networkd file:\n%s", netd)
	}
	_, show, _ := l.nodeconsole("userdata", "show")
	log := l.read(filepath.Join(l.state, "nodeconsole.log"))
	for name, s := range map[string]string{"stdout": out, "stderr": errs, "userdata show": show, "log": log} {
		if strings.Contains(s, "s3cret") {
			t.Errorf("%s shows the proxy password:\n%s", name, s)
		}
	}
}
