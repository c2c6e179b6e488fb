package config

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func write(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadMergesDropInsInOrder(t *testing.T) {
	dir := t.TempDir()
	main := write(t, dir, "config.yaml", `
node: {make: Acme, model: EdgeBox 200}
site:
  endpoint: https://cp.example.com
  project: alpha
network: {resolvConf: /tmp/x/resolv.conf, dhcpClient: process, dhcpStopCommand: [sudo, -n, /usr/sbin/dhclient, -x, "{interface}"]}
console: {rebootCommand: [sudo, -n, systemctl, reboot]}
models:
  eb200: {make: Acme, model: EdgeBox 200, endpoint: https://cp.acme.example}
`)
	write(t, dir, "config.d/20-site.yaml", "site: {project: beta, registrationToken: tok_secret_value}\n")
	write(t, dir, "config.d/10-node.yaml", "node: {name: lab-01}\nsite: {project: gamma}\n")
	cfg, probs := Load(main, false)
	if len(probs) != 0 {
		t.Fatalf("unexpected problems: %v", probs)
	}
	want := Config{
		Node: Node{Name: "lab-01", Make: "Acme", Model: "EdgeBox 200"},
		Site: Site{Endpoint: "https://cp.example.com", Project: "beta", RegistrationToken: "tok_secret_value"},
		Network: Network{ResolvConf: "/tmp/x/resolv.conf", NetworkdDir: "/etc/systemd/network",
			DHCPClient: "process", DHCPStopCommand: []string{"sudo", "-n", "/usr/sbin/dhclient", "-x", "{interface}"},
			DHCP6PidFile: "/run/dhclient6.{interface}.pid", DHCP6LeaseFile: "/var/lib/dhcp/dhclient6.{interface}.leases",
			NetworkdRuntimeDir: "/run/systemd/network", NetworkdReloadCommand: []string{"networkctl", "reload"},
			HostnameFile: "/etc/hostname", HostnameCommand: []string{"hostname", "{name}"},
			NTPClient: "auto", TimesyncdDropIn: "/etc/systemd/timesyncd.conf.d/50-nodeconsole.conf",
			ChronySources: "/etc/chrony/sources.d/nodeconsole.sources"},
		Console: Console{RebootCommand: []string{"sudo", "-n", "systemctl", "reboot"}, PoweroffCommand: []string{"systemctl", "poweroff"},
			IdleLogout: 15 * time.Minute},
		Models: map[string]Model{"eb200": {Make: "Acme", Model: "EdgeBox 200", Endpoint: "https://cp.acme.example"}},
	}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("config =\n%+v\nwant\n%+v", cfg, want)
	}
}

// The drop-in user data was written to (by a version that took any key,
// or by hand) sets no command and no file: those keys are problems there
// and keep their value; the same keys in the node's other files apply.
func TestLoadUserDataDropInSetsNoCommand(t *testing.T) {
	dir := t.TempDir()
	main := write(t, dir, "config.yaml", "console: {rebootCommand: [sudo, -n, systemctl, reboot]}\n")
	write(t, dir, "config.d/50-user-data.yaml", "site: {endpoint: https://cp.example.com}\nconsole:\n  rebootCommand: [sh, -c, id]\nnetwork:\n  hostnameFile: /etc/passwd\n")
	write(t, dir, "config.d/60-local.yaml", "network: {ntpReloadCommand: [\"true\"]}\n")
	cfg, probs := Load(main, false)
	want := []string{
		filepath.Join(dir, "config.d/50-user-data.yaml") + ":3: console.rebootCommand: names a command the node runs, which user data may not set; set it in /etc/nodeconsole/config.yaml or a config.d file",
		filepath.Join(dir, "config.d/50-user-data.yaml") + ":5: network.hostnameFile: names a file the node writes, which user data may not set; set it in /etc/nodeconsole/config.yaml or a config.d file",
	}
	var got []string
	for _, p := range probs {
		got = append(got, p.String())
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("problems:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if strings.Join(cfg.Console.RebootCommand, " ") != "sudo -n systemctl reboot" || cfg.Network.HostnameFile != "/etc/hostname" ||
		cfg.Site.Endpoint != "https://cp.example.com" || strings.Join(cfg.Network.NTPReloadCommand, " ") != "true" {
		t.Errorf("config = %+v", cfg)
	}
}

func TestLoadProblemsNameFileLineKey(t *testing.T) {
	tests := []struct {
		name, body string
		want       []string // substrings of each problem, in order
		check      func(t *testing.T, c Config)
	}{
		{
			name: "unknown key",
			body: "node:\n  make: Acme\n  colour: red\n",
			want: []string{"config.yaml:3: node.colour: unknown key"},
			check: func(t *testing.T, c Config) {
				if c.Node.Make != "Acme" {
					t.Errorf("valid key lost: make = %q", c.Node.Make)
				}
			},
		},
		{
			name: "http endpoint",
			body: "site:\n  endpoint: http://cp.example.com\n  project: p1\n",
			want: []string{"config.yaml:2: site.endpoint: must use https, not http"},
			check: func(t *testing.T, c Config) {
				if c.Site.Endpoint != "" || c.Site.Project != "p1" {
					t.Errorf("site = %+v; want endpoint dropped and project kept", c.Site)
				}
			},
		},
		{
			name: "bad yaml",
			body: "node:\n  make: [unclosed\n",
			want: []string{"config.yaml:", "not valid YAML"},
		},
		{
			name: "relative path",
			body: "network:\n  resolvConf: resolv.conf\n",
			want: []string{"config.yaml:2: network.resolvConf: must be an absolute path"},
			check: func(t *testing.T, c Config) {
				if c.Network.ResolvConf != "/etc/resolv.conf" {
					t.Errorf("resolvConf = %q; want the default kept", c.Network.ResolvConf)
				}
			},
		},
		{
			name: "bad DHCP settings",
			body: "network:\n  dhcpClient: dhclient\n  dhcpStartCommand: dhclient {interface}\n  networkdRuntimeDir: run/network\n",
			want: []string{
				`config.yaml:2: network.dhcpClient: must be one of auto, networkd, process, none, not "dhclient"`,
				"config.yaml:3: network.dhcpStartCommand: must be a list of strings",
				"config.yaml:4: network.networkdRuntimeDir: must be an absolute path",
			},
			check: func(t *testing.T, c Config) {
				if c.Network.DHCPClient != "auto" || c.Network.NetworkdRuntimeDir != "/run/systemd/network" {
					t.Errorf("network = %+v; want the defaults kept", c.Network)
				}
			},
		},
		{
			name: "bad DHCPv6 settings",
			body: "network:\n  dhcp6StartCommand: dhclient -6 {interface}\n  dhcp6StopCommand: {a: b}\n  dhcp6PidFile: run/dh6.pid\n  dhcp6LeaseFile: ''\n",
			want: []string{
				"config.yaml:2: network.dhcp6StartCommand: must be a list of strings",
				"config.yaml:3: network.dhcp6StopCommand: must be a list of strings",
				`config.yaml:4: network.dhcp6PidFile: must be an absolute path, not "run/dh6.pid"`,
				`config.yaml:5: network.dhcp6LeaseFile: must be an absolute path, not ""`,
			},
			check: func(t *testing.T, c Config) {
				n := c.Network
				if n.DHCP6StartCommand != nil || n.DHCP6StopCommand != nil || n.DHCP6PidFile != "/run/dhclient6.{interface}.pid" ||
					n.DHCP6LeaseFile != "/var/lib/dhcp/dhclient6.{interface}.leases" {
					t.Errorf("network = %+v; want the defaults kept", n)
				}
			},
		},
		{
			name: "reboot command not a list",
			body: "console:\n  rebootCommand: reboot now\n",
			want: []string{"config.yaml:2: console.rebootCommand: must be a list of strings"},
		},
		{
			name: "section not a mapping",
			body: "site: 42\n",
			want: []string{"config.yaml:1: site: must be a mapping"},
		},
		{
			name: "top level list",
			body: "- a\n- b\n",
			want: []string{"config.yaml:1: must be a mapping of sections"},
		},
		{
			name: "unknown section",
			body: "sites: {}\n",
			want: []string{"config.yaml:1: sites: unknown key"},
		},
		{
			name: "empty file",
			body: "",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := write(t, t.TempDir(), "config.yaml", tt.body)
			cfg, probs := Load(p, false)
			if len(probs) != len(tt.want) && !(tt.name == "bad yaml" && len(probs) == 1) {
				t.Fatalf("problems = %v; want %d", probs, len(tt.want))
			}
			got := probs.Error()
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("problems %q do not contain %q", got, w)
				}
			}
			if tt.check != nil {
				tt.check(t, cfg)
			}
		})
	}
}

func TestBrokenDropInKeepsPrimary(t *testing.T) {
	dir := t.TempDir()
	main := write(t, dir, "config.yaml", "site: {endpoint: https://cp.example.com}\n")
	write(t, dir, "config.d/50-bad.yaml", "site: {endpoint: [\n")
	cfg, probs := Load(main, false)
	if cfg.Site.Endpoint != "https://cp.example.com" {
		t.Errorf("endpoint = %q; the primary file must survive a broken drop-in", cfg.Site.Endpoint)
	}
	if len(probs) != 1 || !strings.Contains(probs[0].File, "50-bad.yaml") {
		t.Errorf("problems = %v; want one naming 50-bad.yaml", probs)
	}
}

func TestMissingPrimary(t *testing.T) {
	p := filepath.Join(t.TempDir(), "config.yaml")
	if _, probs := Load(p, true); len(probs) != 0 {
		t.Errorf("missingOK: problems = %v", probs)
	}
	_, probs := Load(p, false)
	if len(probs) != 1 || !strings.Contains(probs[0].String(), "cannot read: no such file or directory") {
		t.Errorf("problems = %v; want one 'cannot read'", probs)
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{"": "", "abc": "****", "ncrt_0123456789": "ncrt…"} {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParse(t *testing.T) {
	cfg, probs := Parse("user-data", []byte("site:\n  endpoint: https://cp.example.com\n  registrationToken: [1]\n"))
	if cfg.Site.Endpoint != "https://cp.example.com" {
		t.Errorf("endpoint = %q", cfg.Site.Endpoint)
	}
	if len(probs) != 1 || probs[0].String() != "user-data:3: site.registrationToken: must be a string" {
		t.Errorf("problems = %v", probs)
	}
	if cfg.Network.ResolvConf != "/etc/resolv.conf" {
		t.Errorf("defaults not applied: %+v", cfg.Network)
	}
}

// site.pairingKey is loaded like the token and, a secret, never appears in
// the JSON form of the config (status output, logs).
func TestPairingKeyLoadedNotShown(t *testing.T) {
	cfg, probs := Parse("config.yaml", []byte("site:\n  pairingKey: pk_secret_pairing\n"))
	if len(probs) != 0 || cfg.Site.PairingKey != "pk_secret_pairing" {
		t.Fatalf("pairingKey = %q, problems %v", cfg.Site.PairingKey, probs)
	}
	out, err := json.Marshal(cfg)
	if err != nil || strings.Contains(string(out), "pk_secret") {
		t.Fatalf("JSON of the config shows the pairing key: %s (%v)", out, err)
	}
}

// A key or value as a file spelled it (user data from a stick, say) is
// shown with its control characters escaped: it reaches the console's
// screen and terminal, and must not drive them (clear the screen, set the
// title, colour what follows).
func TestProblemEscapesControlCharacters(t *testing.T) {
	_, probs := Parse("ud", []byte("site:\n  \"\\e[2J\\e]0;pwned\\a\\u200b\": x\n  project: \"ok é\"\n  \"\\xff\": y\n"))
	var got []string
	for _, p := range probs {
		got = append(got, p.String())
	}
	want := []string{`ud:2: site.\x1b[2J\x1b]0;pwned\a\u200b: unknown key`, `ud:4: site.ÿ: unknown key`}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("problems %q, want %q", got, want)
	}
	if got := (Problem{File: "f", Msg: "bad \xff byte"}).String(); got != `f: bad \xff byte` {
		t.Errorf("invalid UTF-8: %q", got)
	}
}

// Free text shown on the console (node name, make and model, project,
// tags, known models) holds no control characters: refused with the key,
// the value neither applied nor quoted.
func TestTextHasNoControlCharacters(t *testing.T) {
	cfg, probs := Parse("ud", []byte("node: {name: \"n\\e[2J\", make: Acme}\nsite:\n  project: \"p\\r\"\n  tags: {rack: \"4\\e]0;x\\a\"}\nmodels:\n  m: {make: \"\\u202eA\", model: B}\n"))
	var got []string
	for _, p := range probs {
		got = append(got, p.String())
	}
	const msg = ": must be printable text, without control characters"
	want := []string{"ud:1: node.name" + msg, "ud:3: site.project" + msg, "ud:4: site.tags" + msg, "ud:6: models.m.make" + msg}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("problems %q, want %q", got, want)
	}
	if cfg.Node.Name != "" || cfg.Node.Make != "Acme" || cfg.Site.Project != "" || cfg.Site.Tags != nil || cfg.Models["m"].Model != "B" {
		t.Errorf("config = %+v", cfg)
	}
}

// TestProxyChecked: config check judges network.httpsProxy and noProxy as
// `network proxy` does (package proxyurl), keeps a bad one out of the
// config, and never quotes the URL, which may hold a password.
func TestProxyChecked(t *testing.T) {
	cfg, probs := Parse("c", []byte("network:\n  httpsProxy: http://alice:s3cret@proxy.example.com:99999\n  noProxy: \"a b\"\n"))
	var got []string
	for _, p := range probs {
		got = append(got, p.String())
	}
	want := []string{
		"c:2: network.httpsProxy: the proxy port 99999 is not a port number from 1 to 65535",
		`c:3: network.noProxy: no-proxy entry "a b" is not a host, domain or CIDR`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("problems %q, want %q", got, want)
	}
	if cfg.Network.HTTPSProxy != "" || cfg.Network.NoProxy != "" {
		t.Errorf("bad proxy settings kept: %+v", cfg.Network)
	}
	if _, probs := Parse("c", []byte("network: {httpsProxy: 'proxy.example.com:3128', noProxy: '.example.com,192.0.2.0/24'}\n")); len(probs) != 0 {
		t.Errorf("good proxy settings: %v", probs)
	}
}
