package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCommandLineContract: every command and flag of the fixed command-line
// contract (DESIGN.md section 6) exists, so a rename breaks this test. A
// command with flags gets them all followed by --help: the parser accepts
// each flag in turn and stops at --help, which prints the usage before
// anything runs. A command without flags gets a wrong argument count: the
// command's own usage error (not "unknown command") proves it exists.
func TestCommandLineContract(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfg, []byte("node: {name: lab-01}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "file")
	global := []string{"--state-dir", filepath.Join(dir, "state"), "--config", cfg}

	// nodeconsole [--config FILE] [--state-dir DIR] [--endpoint URL] [--ca-file FILE] [--demo] [--ascii] [--size COLSxROWS]
	withHelp := [][]string{
		{"--config", cfg, "--state-dir", dir, "--endpoint", "https://cp.example.com", "--ca-file", file,
			"--demo", "--ascii", "--size", "80x24", "--log", file, "--help"},
		{"status", "--json", "--help"},
		{"register", "--token", "T", "--timeout", "1m", "--token-file", file, "--pairing-key-file", file, "--help"},
		{"deregister", "--confirm", "DEREGISTER", "--local", "--help"},
		{"network", "show", "--json", "--lldp", "1s", "--help"},
		{"network", "set", "--interface", "eth0", "--dhcp", "--address", "192.0.2.10/24", "--gateway", "192.0.2.1",
			"--dns", "192.0.2.53,192.0.2.54", "--try", "30s", "--help"},
		{"network", "set", "--interface", "eth0", "--vlan", "10", "--mtu", "1500", "--default-route", "--no-default-route",
			"--ipv6", "static", "--address6", "2001:db8::10/64", "--gateway6", "2001:db8::1",
			"--route", "10.0.0.0/8@192.0.2.1", "--route", "2001:db8:1::/48@2001:db8::1", "--help"},
		{"network", "proxy", "http://proxy.example.com:3128", "--no-proxy", ".example.com", "--help"},
		{"network", "proxy", "--clear", "--help"},
		{"network", "history", "--json", "--help"},
		{"network", "restore", "1", "--try", "30s", "--help"},
		{"renew", "--force", "--help"},
		{"userdata", "apply", "--source", "imds", "--dry-run", "--help"},
	}
	for _, args := range withHelp {
		code, out, errs := runCmd(t, append(global, args...)...)
		if code != 0 || !strings.HasPrefix(out, "Usage: nodeconsole") {
			t.Errorf("nodeconsole %s: exit %d, stderr %q; want the usage (every flag accepted)", strings.Join(args, " "), code, errs)
		}
	}

	// Commands without flags; the answer must name the command itself.
	noFlags := []struct{ args []string }{
		{[]string{"network", "apply", "extra"}},
		{[]string{"network", "ntp"}},
		{[]string{"network", "hostname"}},
		{[]string{"userdata", "show", "extra"}},
		{[]string{"config", "check", "extra"}},
	}
	for _, c := range noFlags {
		code, _, errs := runCmd(t, append(global, c.args...)...)
		name := strings.Join(c.args[:2], " ")
		if code != 2 || !strings.Contains(errs, name) || strings.Contains(errs, "unknown") {
			t.Errorf("nodeconsole %s: exit %d, stderr %q; want %s's own usage error", strings.Join(c.args, " "), code, errs, name)
		}
	}
	if code, out, errs := runCmd(t, append(global, "version")...); code != 0 || !strings.HasPrefix(out, "nodeconsole ") {
		t.Errorf("nodeconsole version: exit %d, stdout %q, stderr %q", code, out, errs)
	}

	// The checks above can fail: a flag or command that is not there.
	for _, args := range [][]string{
		{"status", "--jsn", "--help"},
		{"network", "set", "--interface", "eth0", "--ipv7", "static", "--help"},
		{"network", "aply", "extra"},
	} {
		code, _, errs := runCmd(t, append(global, args...)...)
		if code != 2 || !strings.Contains(errs, "unknown") {
			t.Errorf("nodeconsole %s: exit %d, stderr %q; want unknown flag or command", strings.Join(args, " "), code, errs)
		}
	}
}

// TestPackagedConfigChecks: the sample config the package installs
// (deploy/config.yaml) passes `nodeconsole config check`, without needing
// the .deb built (deploy's TestDebConfig checks the packaged copy).
func TestPackagedConfigChecks(t *testing.T) {
	code, out, errs := runCmd(t, "--state-dir", t.TempDir(), "--config", "../../deploy/config.yaml", "config", "check")
	if code != 0 || !strings.HasPrefix(out, "config OK: 1 file read") {
		t.Errorf("config check deploy/config.yaml: exit %d\nstdout %s\nstderr %s", code, out, errs)
	}
}
