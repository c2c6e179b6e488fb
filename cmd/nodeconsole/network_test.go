package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runNet runs nodeconsole in-process with stdin.
func runNet(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func TestNetworkShowJSONDemo(t *testing.T) {
	code, out, errs := runNet(t, "", "--demo", "network", "show", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var doc struct {
		Interfaces []struct {
			Name      string   `json:"name"`
			Addresses []string `json:"addresses"`
			Default   bool     `json:"default"`
			Ethernet  bool     `json:"ethernet"`
		} `json:"interfaces"`
		Gateway  string          `json:"gateway"`
		DNS      []string        `json:"dns"`
		Saved    json.RawMessage `json:"saved"`
		Hostname string          `json:"hostname"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if len(doc.Interfaces) != 4 || doc.Interfaces[0].Name != "eth0" || !doc.Interfaces[0].Default ||
		doc.Interfaces[0].Addresses[0] != "192.0.2.10/24" || doc.Gateway != "192.0.2.1" ||
		len(doc.DNS) != 1 || string(doc.Saved) != "null" {
		t.Errorf("show --json = %s", out)
	}
	// The demo node is named as the host, as the console's header says
	// (Site settings showed an empty host name under it).
	if host, err := os.Hostname(); err == nil && doc.Hostname != host {
		t.Errorf("hostname %q, want this host's %q", doc.Hostname, host)
	}
	code, out, _ = runNet(t, "", "--demo", "network", "show")
	if code != 0 || !strings.Contains(out, "eth0 up 52:54:00:12:34:56 192.0.2.10/24 (default route)") || !strings.Contains(out, "Saved:     none") {
		t.Errorf("show:\n%s", out)
	}
}

func TestNetworkSetBadInputExitsTwo(t *testing.T) {
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{}, []string{"--interface is required"}},
		{[]string{"--interface", "eth0"}, []string{"give --dhcp, or --address CIDR [--gateway IP]"}},
		{[]string{"--interface", "eth1", "--address", "198.51.100.40/24", "--default-route"}, []string{"Gateway is required for the default route"}},
		{[]string{"--interface", "eth1", "--address", "198.51.100.40/24", "--default-route", "--no-default-route"}, []string{"contradict"}},
		{[]string{"--interface", "eth1", "--dhcp", "--no-default-route"}, []string{"apply to a static address"}},
		{[]string{"--interface", "eth0", "--dhcp", "--address", "192.0.2.20/24"}, []string{"--dhcp cannot be combined"}},
		{[]string{"--interface", "eth0", "--address", "192.0.2.20/24", "--gateway", "192.0.2.1", "--try", "soon"}, []string{"invalid value"}},
		{[]string{"--interface", "eth0", "--bogus"}, []string{"unknown flag --bogus "}},
		{[]string{"--interface", "eth0", "--address", "192.0.2.20/24", "extra"}, []string{`takes no arguments, got "extra"`}},
		{[]string{"--interface", "eth9", "--address", "192.0.2.20/24", "--gateway", "192.0.2.1"}, []string{"Interface eth9 does not exist."}},
		{[]string{"--interface", "wg0", "--dhcp"}, []string{"not Ethernet-like"}},
		// Every reason at once, on one line.
		{[]string{"--interface", "eth0", "--address", "192.0.2.255/24", "--gateway", "198.51.100.1", "--dns", "192.0.2.53,224.0.0.1"},
			[]string{"Address 192.0.2.255 is the broadcast address of 192.0.2.0/24; choose a host address.",
				"DNS server 2 224.0.0.1 is not a unicast address."}},
		{[]string{"--interface", "eth0", "--address", "192.0.2.10/24", "--gateway", "198.51.100.1"}, []string{"Gateway 198.51.100.1 is outside the subnet 192.0.2.0/24."}},
		{[]string{"--interface", "eth0", "--address", "2001:db8::5/64", "--gateway", "2001:db8::1"}, []string{"only IPv4 is supported"}},
		{[]string{"--interface", "eth0", "--dhcp", "--vlan", "5000"}, []string{"VLAN 5000 is out of range; use 1 to 4094."}},
		{[]string{"--interface", "mgmt0", "--dhcp", "--vlan", "42", "--mtu", "9000"}, []string{"MTU 9000 is more than the MTU of mgmt0 (1500), which a VLAN on it cannot exceed"}},
		{[]string{"--interface", "eth0", "--dhcp", "--mtu", "60", "--route", "10.0.0.0/8@192.0.2.1"},
			[]string{"MTU 60 is out of range; use 68 to 9000.", "Routes for IPv4 need a static address"}},
		{[]string{"--interface", "eth0", "--address", "192.0.2.20/24", "--route", "10.0.0.0/8", "--route", "10.1.0.0/16@198.51.100.1"},
			[]string{`Route 1 "10.0.0.0/8" is not DESTINATION@GATEWAY`, "Route 2 gateway 198.51.100.1 is outside the subnet 192.0.2.0/24."}},
		// IPv6.
		{[]string{"--interface", "eth0", "--dhcp", "--ipv6", "slaac"}, []string{`IPv6 mode "slaac" is not off, auto, dhcp or static.`}},
		{[]string{"--interface", "eth0", "--dhcp", "--address6", "2001:db8:1::10/64"}, []string{"--address6 and --gateway6 need --ipv6 static"}},
		{[]string{"--interface", "eth0", "--address", "192.0.2.20/24", "--dns", "2001:db8::53"}, []string{"--dns 2001:db8::53 is an IPv6 server; IPv6 DNS servers need --ipv6 auto or static"}},
		{[]string{"--interface", "eth0", "--dhcp", "--ipv6", "static"}, []string{"IPv6 address is required for static IPv6."}},
		{[]string{"--interface", "eth0", "--dhcp", "--ipv6", "static", "--address6", "fe80::5/64"}, []string{"IPv6 address fe80::5 is link-local"}},
		{[]string{"--interface", "eth0", "--dhcp", "--ipv6", "static", "--address6", "::ffff:192.0.2.5/120"}, []string{"IPv6 address ::ffff:192.0.2.5 is an IPv4-mapped address; put 192.0.2.5 in Address."}},
		{[]string{"--interface", "eth0", "--address", "192.0.2.20/24", "--ipv6", "static", "--address6", "2001:db8:1::10/64", "--gateway6", "2001:db8:2::1", "--dns", "192.0.2.53,2001:db8::53,fe80::53"},
			[]string{"IPv6 gateway 2001:db8:2::1 is outside the prefix 2001:db8:1::/64", "IPv6 DNS server 2 fe80::53 is a link-local address"}},
		{[]string{"--interface", "eth0", "--dhcp", "--ipv6", "auto", "--mtu", "1200"}, []string{"MTU 1200 is too small for IPv6; use 1280 to 9000, or turn IPv6 off."}},
		// IPv6 routes.
		{[]string{"--interface", "eth0", "--address", "192.0.2.20/24", "--route", "2001:db8:100::/48@fe80::1"},
			[]string{"Route 1 is IPv6, which needs static IPv6; set IPv6 to static, or remove the route."}},
		{[]string{"--interface", "eth0", "--address", "192.0.2.20/24", "--ipv6", "static", "--address6", "2001:db8:1::10/64",
			"--route", "2001:db8:100::/48@192.0.2.1", "--route", "2001:db8:200::/48@2001:db8:9::1", "--route", "2001:db8:300::/48@fe80::1%eth0"},
			[]string{"Route 1 destination 2001:db8:100::/48 is IPv6 but its gateway 192.0.2.1 is IPv4; give a gateway of the same family.",
				"Route 2 gateway 2001:db8:9::1 is outside the prefix 2001:db8:1::/64", "Route 3 gateway fe80::1%eth0 has a zone"}},
		// The demo's simulated DHCPv6 client runs IPv6 dhcp (TestNetworkSetDHCPv6Demo); what it refuses:
		{[]string{"--interface", "eth0", "--dhcp", "--ipv6", "dhcp", "--gateway6", "fe80::1"}, []string{"--address6 and --gateway6 need --ipv6 static"}},
		{[]string{"--interface", "eth0", "--dhcp", "--ipv6", "dhcp", "--mtu", "1200"}, []string{"MTU 1200 is too small for IPv6; use 1280 to 9000, or turn IPv6 off."}},
	}
	for _, tt := range tests {
		args := append([]string{"--demo", "network", "set"}, tt.args...)
		code, out, errs := runNet(t, "", args...)
		if code != 2 {
			t.Errorf("%v: exit %d, want 2 (stderr %q)", tt.args, code, errs)
		}
		if strings.Count(errs, "\n") != 1 {
			t.Errorf("%v: stderr must be one line, got %q", tt.args, errs)
		}
		for _, w := range tt.want {
			if !strings.Contains(errs, w) {
				t.Errorf("%v: stderr %q lacks %q", tt.args, errs, w)
			}
		}
		if out != "" {
			t.Errorf("%v: bad input printed %q (nothing may be previewed or applied)", tt.args, out)
		}
	}
	for _, args := range [][]string{{"network"}, {"network", "frob"}, {"network", "show", "--yaml"}, {"network", "apply", "now"}} {
		if code, _, errs := runNet(t, "", append([]string{"--state-dir", t.TempDir()}, args...)...); code != 2 || strings.Count(errs, "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q", args, code, errs)
		}
	}
}

func TestNetworkSetDemo(t *testing.T) {
	code, out, errs := runNet(t, "", "--demo", "network", "set", "--interface", "eth0",
		"--address", "192.0.2.20/24", "--gateway", "192.0.2.1", "--dns", "192.0.2.53,198.51.100.53")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"Address       192.0.2.10/24 -> 192.0.2.20/24", "Warning: eth0 carries the default route",
		"OK   carrier", "OK   gateway  192.0.2.1 answers ARP", "Kept and saved."} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// TestNetworkSetDHCPv6Demo: --demo's simulated network runs DHCPv6 for
// IPv6 dhcp, as it runs DHCPv4 (it was refused: "the DHCP client in use
// runs DHCPv4 only"), and the checks find the lease.
func TestNetworkSetDHCPv6Demo(t *testing.T) {
	code, out, errs := runNet(t, "", "--demo", "network", "set", "--interface", "eth0", "--dhcp", "--ipv6", "dhcp")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"IPv6          none -> from DHCPv6", "OK   address6 2001:db8:5::2/64, 2001:db8:5::102/128 on eth0",
		"OK   gateway6 fe80::1 answers neighbour discovery", "Kept and saved."} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// TestNetworkSetSecondNICDemo: a static address without a gateway on a
// second interface leaves the default route where it is, and says so.
func TestNetworkSetSecondNICDemo(t *testing.T) {
	code, out, errs := runNet(t, "y\n", "--demo", "network", "set", "--interface", "mgmt0", "--address", "198.51.100.30/24", "--try", "60s")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"Default route 192.0.2.1 via eth0 (unchanged)", "Kept and saved."} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "Warning") {
		t.Errorf("no warning expected: the default route does not move:\n%s", out)
	}
}

// TestNetworkSetMTURoutesDemo: --mtu and --route are previewed and applied
// (the netns test checks the kernel and the saved files).
func TestNetworkSetMTURoutesDemo(t *testing.T) {
	code, out, errs := runNet(t, "", "--demo", "network", "set", "--interface", "mgmt0", "--address", "198.51.100.30/24",
		"--mtu", "1400", "--route", "10.20.0.0/16@198.51.100.254", "--route", "203.0.113.0/24@198.51.100.1")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"Route         none -> 10.20.0.0/16 via 198.51.100.254 added", "Route         none -> 203.0.113.0/24 via 198.51.100.1 added", "MTU           1500 -> 1400", "Kept and saved."} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// TestNetworkSetIPv6Demo: --ipv6 auto takes an address from the
// simulated router (checks address6 and gateway6), --ipv6 static with an
// IPv6 server in --dns is previewed, applied and shown by network show
// (the netns tests check the kernel).
func TestNetworkSetIPv6Demo(t *testing.T) {
	code, out, errs := runNet(t, "", "--demo", "network", "set", "--interface", "eth0", "--dhcp", "--ipv6", "auto")
	for _, want := range []string{"IPv6          none -> automatic (SLAAC)", "OK   address6 2001:db8:5::2/64 on eth0 (from router advertisements (SLAAC))",
		"OK   gateway6 fe80::1 answers neighbour discovery", "Kept and saved."} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("auto: exit %d %s; output lacks %q:\n%s", code, errs, want, out)
		}
	}
	code, out, errs = runNet(t, "", "--demo", "network", "set", "--interface", "mgmt0", "--address", "198.51.100.30/24",
		"--ipv6", "static", "--address6", "2001:db8:7::30/64", "--gateway6", "2001:db8:7::1", "--dns", "198.51.100.53,2001:db8:7::53")
	for _, want := range []string{"IPv6          none -> 2001:db8:7::30/64", "IPv6 default  none -> 2001:db8:7::1 via mgmt0",
		"DNS           192.0.2.53 -> 198.51.100.53, 2001:db8:7::53", "OK   address6 2001:db8:7::30/64 is on mgmt0", "Kept and saved."} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("static: exit %d %s; output lacks %q:\n%s", code, errs, want, out)
		}
	}
}

// TestNetworkSetVLANDemo: --vlan makes the settings apply to eth0.100,
// created on apply (the simulated network; TestVLANSimulated and
// TestNetlinkVLAN check the rest).
func TestNetworkSetVLANDemo(t *testing.T) {
	code, out, errs := runNet(t, "", "--demo", "network", "set", "--interface", "eth1", "--vlan", "100", "--address", "203.0.113.10/24")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"Interface eth1.100", "VLAN          none -> 100, link eth1.100 will be created",
		"Address       none -> 203.0.113.10/24", "203.0.113.10/24 is on eth1.100", "Kept and saved."} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestNetworkSetTryDemo(t *testing.T) {
	args := []string{"--demo", "network", "set", "--interface", "mgmt0", "--address", "198.51.100.30/24", "--gateway", "198.51.100.1", "--try", "1s"}
	// No answer: reverted after the deadline, exit 1 with one line.
	code, out, errs := runNet(t, "", args...)
	if code != 1 || errs != "nodeconsole: network set: no answer within 1s; the previous settings were restored\n" {
		t.Errorf("no stdin: exit %d, stderr %q", code, errs)
	}
	if !strings.Contains(out, "Keep these settings? [y/N]") || strings.Contains(out, "Kept") {
		t.Errorf("output:\n%s", out)
	}
	// "n": reverted at once.
	code, _, errs = runNet(t, "n\n", args...)
	if code != 1 || !strings.Contains(errs, "not kept; the previous settings were restored") {
		t.Errorf("n: exit %d, stderr %q", code, errs)
	}
	// "y": kept.
	code, out, errs = runNet(t, "y\n", args...)
	if code != 0 || !strings.Contains(out, "Kept and saved.") {
		t.Errorf("y: exit %d, stderr %q\n%s", code, errs, out)
	}
}

func TestNetworkApplyNothingSaved(t *testing.T) {
	state := t.TempDir()
	cfg := filepath.Join(state, "config.yaml")
	os.WriteFile(cfg, []byte("network: {resolvConf: "+filepath.Join(state, "resolv.conf")+", networkdDir: "+filepath.Join(state, "network")+"}\n"), 0o644)
	code, out, errs := runNet(t, "", "--state-dir", state, "--config", cfg, "network", "apply")
	if code != 0 || out != "No network settings have been saved yet; nothing to apply.\n" {
		t.Errorf("exit %d, out %q, err %q", code, out, errs)
	}
}

// TestNetworkHostnameNTP: network hostname and network ntp write the files
// the config names (never the host's), network show --json reads them
// back, and bad input exits 2 with one line and changes nothing.
func TestNetworkHostnameNTP(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	if err := os.Mkdir(state, 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "config.yaml")
	body := "network:\n  resolvConf: " + filepath.Join(dir, "resolv.conf") + "\n  hostnameFile: " + filepath.Join(dir, "hostname") +
		"\n  hostnameCommand: []\n  ntpClient: chrony\n  chronySources: " + filepath.Join(dir, "chrony.sources") + "\n  ntpReloadCommand: [\"true\"]\n"
	if err := os.WriteFile(cfg, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	g := []string{"--config", cfg, "--state-dir", state, "network"}
	for _, args := range [][]string{{"hostname", "edge-7"}, {"ntp", "ntp1.example.com,192.0.2.123"}} {
		if code, out, errs := runNet(t, "", append(g, args...)...); code != 0 || errs != "" {
			t.Fatalf("%v: exit %d, %q %q", args, code, out, errs)
		}
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"hostname", "bad_name"}, `Host name "bad_name" has '_' in label 1; use letters, digits and hyphens.`},
		{[]string{"hostname"}, "network hostname takes one host name"},
		{[]string{"hostname", "a", "b"}, "network hostname takes one host name"},
		{[]string{"ntp", "ntp_1,224.0.0.1"}, `NTP server 1 "ntp_1" is neither an IP address nor a host name. NTP server 2 224.0.0.1 is not a unicast address.`},
		{[]string{"ntp"}, "network ntp takes the servers"},
	} {
		code, out, errs := runNet(t, "", append(g, tt.args...)...)
		if code != 2 || out != "" || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, tt.want) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want 2 and %q", tt.args, code, out, errs, tt.want)
		}
	}
	code, out, errs := runNet(t, "", append(g, "show", "--json")...)
	if code != 0 {
		t.Fatalf("show: exit %d: %s", code, errs)
	}
	var doc struct {
		Hostname string `json:"hostname"`
		NTP      struct {
			Client  string   `json:"client"`
			Servers []string `json:"servers"`
		} `json:"ntp"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Hostname != "edge-7" || doc.NTP.Client != "chrony" || strings.Join(doc.NTP.Servers, ",") != "ntp1.example.com,192.0.2.123" {
		t.Errorf("show --json: hostname %q, ntp %+v", doc.Hostname, doc.NTP)
	}
}

// TestNetworkShowLLDPDemo: --lldp adds an lldp list to each Ethernet
// interface, with the simulated switch on eth0 that the console's list
// shows (the lldp package's netns test hears crafted frames); a bad
// duration exits 2.
func TestNetworkShowLLDPDemo(t *testing.T) {
	code, out, errs := runNet(t, "", "--demo", "network", "show", "--json", "--lldp", "10ms")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var doc struct {
		Interfaces []struct {
			Name string            `json:"name"`
			LLDP *[]map[string]any `json:"lldp"`
		} `json:"interfaces"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	for _, ifc := range doc.Interfaces {
		if (ifc.LLDP != nil) != (ifc.Name != "wg0") {
			t.Errorf("%s: lldp %v (want a list on Ethernet interfaces only)", ifc.Name, ifc.LLDP)
			continue
		}
		b, _ := json.Marshal(ifc.LLDP)
		if heard := string(b); ifc.LLDP != nil && (len(*ifc.LLDP) == 1) != (ifc.Name == "eth0") ||
			ifc.Name == "eth0" && !strings.Contains(heard, "sw-rack12.example") {
			t.Errorf("%s: lldp %s (want the demo's switch on eth0 only)", ifc.Name, heard)
		}
	}
	if code, out, _ := runNet(t, "", "--demo", "network", "show", "--lldp", "10ms"); code != 0 || !strings.Contains(out, "sw-rack12.example") {
		t.Errorf("network show --lldp: exit %d, no switch on eth0:\n%s", code, out)
	}
	for _, bad := range []string{"-1s", "1h", "soon"} {
		if code, _, errs := runNet(t, "", "--demo", "network", "show", "--lldp", bad); code != 2 || strings.Count(errs, "\n") != 1 {
			t.Errorf("--lldp %s: exit %d %q", bad, code, errs)
		}
	}
}
