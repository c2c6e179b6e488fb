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

// TestMain lets tests run this test binary as the nodeconsole command
// (NODECONSOLE_TEST_MAIN=1), so pty tests exercise the real main.
func TestMain(m *testing.M) {
	if os.Getenv("NODECONSOLE_TEST_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

func runCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

func TestStatusJSON(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	os.WriteFile(cfg, []byte("node: {name: lab-01, make: Acme, model: EdgeBox}\nsite: {endpoint: https://cp.example.com}\n"), 0o644)
	state := filepath.Join(dir, "state")
	os.Mkdir(state, 0o755)
	code, out, errs := runCmd(t, "--state-dir", state, "--config", cfg, "status", "--json")
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	var s struct {
		NodeID       string `json:"nodeId"`
		Hostname     string `json:"hostname"`
		Make         string `json:"make"`
		Endpoint     string `json:"endpoint"`
		Registration struct {
			State    string  `json:"state"`
			NodeName *string `json:"nodeName"`
		} `json:"registration"`
		Interfaces []struct {
			Name      string   `json:"name"`
			State     string   `json:"state"`
			Addresses []string `json:"addresses"`
		} `json:"interfaces"`
	}
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatalf("status --json is not JSON: %v\n%s", err, out)
	}
	host, _ := os.Hostname()
	if !strings.HasPrefix(s.NodeID, "edge-") || len(s.NodeID) != 37 || s.Hostname != host ||
		s.Make != "Acme" || s.Endpoint != "https://cp.example.com" || s.Registration.State != "unregistered" {
		t.Errorf("unexpected status: %+v", s)
	}
	if s.Interfaces == nil {
		t.Error("interfaces must be a list, even when empty")
	}
	// status only reads: nothing was written to the state dir.
	if ents, _ := os.ReadDir(state); len(ents) != 0 {
		t.Errorf("status wrote %d files to the state dir", len(ents))
	}
	// And the human form names the same facts.
	_, text, _ := runCmd(t, "--state-dir", state, "--config", cfg, "status")
	if !strings.Contains(text, "Node ID:") || !strings.Contains(text, s.NodeID) || !strings.Contains(text, "Unregistered") {
		t.Errorf("status text lacks the node ID or registration:\n%s", text)
	}
}

func TestStatusRegisteredFromStateDir(t *testing.T) {
	state := t.TempDir()
	os.WriteFile(filepath.Join(state, "state.json"), []byte(`{"nodeId":"edge-0123456789abcdef0123456789abcdef","state":"registered","nodeName":"store-17","project":"retail"}`), 0o600)
	cfg := filepath.Join(t.TempDir(), "config.yaml")
	os.WriteFile(cfg, []byte("node: {colour: red}\n"), 0o644)
	code, out, errs := runCmd(t, "--state-dir", state, "--config", cfg, "status", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var s struct {
		NodeID       string `json:"nodeId"`
		Registration struct {
			State    string `json:"state"`
			NodeName string `json:"nodeName"`
		} `json:"registration"`
		Problems []string `json:"problems"`
	}
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatal(err)
	}
	if s.NodeID != "edge-0123456789abcdef0123456789abcdef" || s.Registration.State != "registered" || s.Registration.NodeName != "store-17" {
		t.Errorf("status = %+v", s)
	}
	// A config problem goes to stderr with file:line:key, not into the
	// JSON on stdout.
	if len(s.Problems) != 0 {
		t.Errorf("problems in the JSON = %v; config problems belong on stderr", s.Problems)
	}
	if want := "nodeconsole: config: " + cfg + ":1: node.colour: unknown key\n"; errs != want {
		t.Errorf("stderr = %q, want %q", errs, want)
	}
}

func TestBadInputExitsTwoWithOneLine(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--bogus"}, "unknown flag --bogus "},
		{[]string{"-bogus=1"}, "unknown flag -bogus "},
		{[]string{"--config", "/nonexistent/config.yaml", "status"}, "--config /nonexistent/config.yaml: no such file"},
		{[]string{"--config", "/nonexistent/config.yaml", "config", "check"}, "--config /nonexistent/config.yaml: no such file"},
		{[]string{"--endpoint", "https://999.1.2.3:8443", "status"}, "999.1.2.3 is not a valid IP address"},
		{[]string{"--endpoint", "cp.example.com", "status"}, "must start with https://"},
		{[]string{"config"}, "config needs a command: check"},
		{[]string{"--size", "80"}, "--size must look like 80x24"},
		{[]string{"--profile", "fancy"}, "--profile must be auto, default or serial"},
		{[]string{"--endpoint", "http://cp.example.com", "status"}, "must use https"},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"status", "--yaml"}, "status: unknown flag --yaml "},
		{[]string{"version", "extra"}, "version takes no arguments"},
	}
	for _, tt := range tests {
		state := t.TempDir()
		code, out, errs := runCmd(t, append([]string{"--state-dir", state}, tt.args...)...)
		if code != 2 {
			t.Errorf("%v: exit %d, want 2", tt.args, code)
		}
		if strings.Count(errs, "\n") != 1 || !strings.Contains(errs, tt.want) {
			t.Errorf("%v: stderr %q, want one line containing %q", tt.args, errs, tt.want)
		}
		if out != "" {
			t.Errorf("%v: stdout %q, want nothing", tt.args, out)
		}
		if ents, _ := os.ReadDir(state); len(ents) != 0 {
			t.Errorf("%v: bad input wrote %d files to the state dir", tt.args, len(ents))
		}
	}
}

func TestVersion(t *testing.T) {
	code, out, _ := runCmd(t, "version")
	if code != 0 || out != "nodeconsole "+version+"\n" {
		t.Errorf("version: exit %d, %q", code, out)
	}
}

func TestConsoleRefusesNonTerminal(t *testing.T) {
	// go test's stdout is not a terminal.
	code, _, errs := runCmd(t, "--state-dir", t.TempDir())
	if code != 2 || !strings.Contains(errs, "needs a terminal") {
		t.Errorf("exit %d, %q", code, errs)
	}
}

// TestReadOnlyCommandsNeverCreateTheStateDir: status and network show on a
// node whose state dir does not exist say so (exit 1) and create nothing.
func TestReadOnlyCommandsNeverCreateTheStateDir(t *testing.T) {
	for _, args := range [][]string{{"status"}, {"status", "--json"}, {"network", "show"}, {"network", "show", "--json"}} {
		state := filepath.Join(t.TempDir(), "state")
		code, out, errs := runCmd(t, append([]string{"--state-dir", state}, args...)...)
		if code != 1 || out != "" || !strings.Contains(errs, "state dir "+state+" not initialised") || strings.Count(errs, "\n") != 1 {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 1 and one line 'not initialised'", args, code, out, errs)
		}
		if _, err := os.Stat(state); !os.IsNotExist(err) {
			t.Errorf("%v created the state dir", args)
		}
	}
}

func TestConfigCheck(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	os.WriteFile(cfg, []byte("site:\n  endpoint: https://999.1.2.3:8443\n"), 0o644)
	os.Mkdir(filepath.Join(dir, "config.d"), 0o755)
	os.WriteFile(filepath.Join(dir, "config.d", "10-x.yaml"), []byte("node:\n  name: a\n  colour: red\n"), 0o644)
	code, out, errs := runCmd(t, "--config", cfg, "config", "check")
	want := cfg + ":2: site.endpoint: 999.1.2.3 is not a valid IP address\n" +
		filepath.Join(dir, "config.d", "10-x.yaml") + ":3: node.colour: unknown key\n"
	if code != 2 || out != want || errs != "nodeconsole: config check: 2 problems\n" {
		t.Errorf("exit %d\nstdout %q\nwant   %q\nstderr %q", code, out, want, errs)
	}
	os.Remove(filepath.Join(dir, "config.d", "10-x.yaml"))
	os.WriteFile(cfg, []byte("site:\n  endpoint: https://192.0.2.1:8443\n  pairingKey: pk_secret_pairing_key\n"), 0o644)
	code, out, errs = runCmd(t, "--config", cfg, "config", "check")
	// Secrets show only as set or not set.
	if code != 0 || out != "config OK: 1 file read; site.registrationToken not set, site.pairingKey set\n" || errs != "" {
		t.Errorf("clean config: exit %d, stdout %q, stderr %q", code, out, errs)
	}
}
