package userdata

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nodeconsole/nodeconsole/config"
	"github.com/nodeconsole/nodeconsole/netconfig"
)

const good = `#cloud-config
hostname: node-7          # cloud-init's, not ours
users: [{name: ops}]
nodeconsole:
  # the site's settings
  site:
    endpoint: https://cp.example.com
    registrationToken: "tok-secret-123"
    tags: {rack: "4"}
  network:
    httpsProxy: http://proxy.example.com:3128
    interface:
      name: eth0
      address: 192.0.2.10/24
      gateway: 192.0.2.1
      dns: [192.0.2.53]
runcmd: [echo hi]
`

func TestParseGood(t *testing.T) {
	s, err := Parse("/dev/sr0/user-data", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	want := "site.endpoint site.registrationToken site.tags network.httpsProxy network.interface"
	if got := strings.Join(s.Keys, " "); got != want {
		t.Errorf("keys = %q, want %q", got, want)
	}
	if got := Summary(s.Keys); got != "endpoint, registration token, tags, network" {
		t.Errorf("summary = %q", got)
	}
	if s.Network == nil || s.Network.Interface != "eth0" || s.Network.Address != "192.0.2.10/24" || s.Network.Gateway != "192.0.2.1" || strings.Join(s.Network.DNS, ",") != "192.0.2.53" {
		t.Errorf("network = %+v", s.Network)
	}
	// The drop-in is the section without network.interface, and loads
	// with no problem.
	if strings.Contains(string(s.DropIn), "interface") || strings.Contains(string(s.DropIn), "runcmd") {
		t.Errorf("drop-in holds more than the config:\n%s", s.DropIn)
	}
	cfg, probs := config.Parse("50-user-data.yaml", s.DropIn)
	if len(probs) > 0 {
		t.Fatalf("drop-in problems: %v\n%s", probs, s.DropIn)
	}
	if cfg.Site.Endpoint != "https://cp.example.com" || cfg.Site.RegistrationToken != "tok-secret-123" ||
		cfg.Site.Tags["rack"] != "4" || cfg.Network.HTTPSProxy != "http://proxy.example.com:3128" {
		t.Errorf("drop-in config = %+v", cfg)
	}
	// The same data is the same user data.
	s2, _ := Parse("x", []byte(good))
	if s2.SHA256 != s.SHA256 {
		t.Error("hash differs for the same data")
	}
}

func TestParseProblems(t *testing.T) {
	for _, tc := range []struct {
		name, data string
		want       []string
	}{
		{"yaml error", "#cloud-config\nnodeconsole:\n  site:\n    endpoint: https://x: y\n", []string{"ud:4: not valid YAML: mapping values are not allowed"}},
		{"unknown key", "#cloud-config\nnodeconsole:\n  site:\n    endpoint: https://cp.example.com\n    endpiont: https://x\n", []string{"ud:5: site.endpiont: unknown key"}},
		{"unknown section", "#cloud-config\nfoo: 1\nnodeconsole:\n  sit: {}\n", []string{"ud:4: sit: unknown key"}},
		{"bad IP", "#cloud-config\nnodeconsole:\n  network:\n    interface:\n      name: eth0\n      address: 192.0.2.300/24\n      gateway: 192.0.2.1\n",
			[]string{"ud:6: network.interface.address: "}},
		{"bad gateway and dns", "#cloud-config\nnodeconsole:\n  network:\n    interface:\n      name: eth0\n      address: 192.0.2.10/24\n      gateway: 198.51.100.1\n      dns: [1.2.3]\n",
			[]string{"ud:7: network.interface.gateway: ", "ud:8: network.interface.dns: "}},
		{"token not a string", "#cloud-config\nnodeconsole:\n  site:\n    registrationToken: {a: b}\n", []string{"ud:4: site.registrationToken: must be a string"}},
		{"several at once", "#cloud-config\nnodeconsole:\n  site:\n    endpoint: http://cp.example.com\n  console:\n    rebootCommand: reboot\n  network:\n    interface: {name: eth0, dhcp: true, gateway: 192.0.2.1}\n",
			[]string{"ud:4: site.endpoint: must use https", "ud:6: console.rebootCommand: names a command the node runs", "ud:8: network.interface: dhcp: true cannot be combined"}},
		// Whoever plugs in a CIDATA stick or sets cloud user data does not
		// choose the commands the node runs or the files it writes.
		{"commands and files", "#cloud-config\nnodeconsole:\n  site:\n    endpoint: https://cp.example.com\n  console:\n    rebootCommand: [sh, -c, id]\n    idleLogout: 5m\n  network:\n    dhcp6StartCommand: [sh, -c, id]\n    dhcp6PidFile: /etc/sudoers.d/x\n    hostnameFile: /etc/passwd\n    httpsProxy: proxy.example.com:3128\n    hostname: node-7\n",
			[]string{"ud:6: console.rebootCommand: names a command the node runs, which user data may not set; set it in /etc/nodeconsole/config.yaml or a config.d file",
				"ud:9: network.dhcp6StartCommand: names a command", "ud:10: network.dhcp6PidFile: names a file the node writes", "ud:11: network.hostnameFile: names a file"}},
		{"flow section", "#cloud-config\nnodeconsole: {site: {endpoint: ftp://x}}\n", []string{"ud:2: site.endpoint: must use https"}},
		{"not a mapping", "#cloud-config\nnodeconsole: [a]\n", []string{"ud:2: nodeconsole: must be a mapping"}},
	} {
		t.Run(tc.name, func(t *testing.T) { wantProblems(t, tc.data, tc.want) })
	}
}

func TestParseNotOurs(t *testing.T) {
	for _, data := range []string{"#!/bin/sh\necho hi\n", "#cloud-config\nhostname: x\n", "#cloud-config\nnodeconsole:\n", ""} {
		var no ErrNotOurs
		if _, err := Parse("ud", []byte(data)); !errors.As(err, &no) {
			t.Errorf("%q: err = %v, want ErrNotOurs", data, err)
		}
	}
}

func TestNetworkProblemsAtLines(t *testing.T) {
	s, err := Parse("ud", []byte("#cloud-config\nnodeconsole:\n  network:\n    interface:\n      name: eth9\n      dhcp: true\n"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = netconfig.ParseForm(*s.Network, netconfig.Status{})
	probs := s.NetworkProblems(err)
	if len(probs) != 1 || probs[0].String() != "ud:5: network.interface.name: Interface eth9 does not exist." {
		t.Errorf("problems = %v", probs)
	}
}

func TestNote(t *testing.T) {
	at := mustTime(t, "2026-12-02T10:42:00Z")
	r := Record{Applied: &Applied{Source: "CIDATA (USB)", Time: at, Keys: []string{"site.endpoint", "site.registrationToken", "network.interface"}}}
	note, prob := r.Note(at.Location())
	if note != "Site settings loaded from CIDATA (USB) at 10:42: endpoint, registration token, network" || prob != "" {
		t.Errorf("note = %q, problem = %q", note, prob)
	}
	r.Refused = &Refused{Source: "CIDATA (CD)", Time: at.Add(1), Problems: []string{"a:1: x", "a:2: y"}}
	if _, prob = r.Note(at.Location()); prob != "User data from CIDATA (CD) not applied: a:1: x (+1 more: nodeconsole userdata show)" {
		t.Errorf("problem = %q", prob)
	}
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	at, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return at
}
