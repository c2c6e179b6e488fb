package deploy

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/nodeconsole/nodeconsole/testenv"
)

// fakeNodeconsole writes a stand-in for /usr/bin/nodeconsole that prints its
// arguments and a status JSON with the given registration state, and exits
// with code.
func fakeNodeconsole(t *testing.T, state string, code int) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "nodeconsole")
	script := "#!/bin/sh\necho \"ARGS:$*\"\n" +
		"echo '{\"nodeId\":\"edge-0\",\"registration\":{\"state\":\"" + state + "\"},\"interfaces\":[{\"name\":\"eth0\",\"state\":\"up\"}]}'\n" +
		"exit " + string(rune('0'+code)) + "\n"
	if err := os.WriteFile(p, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestRegisterCondition runs register-condition against config files and a
// fake nodeconsole: exit 0 only with a token and an unregistered node.
func TestRegisterCondition(t *testing.T) {
	tests := []struct {
		name, config, dropin, state string
		want                        int
	}{
		{"no token", "site:\n  registrationToken: \"\"\n", "", "unregistered", 1},
		{"key absent", "site:\n  endpoint: https://cp.example.com\n", "", "unregistered", 1},
		{"token", "site:\n  registrationToken: abc123 # comment\n", "", "unregistered", 0},
		{"quoted token", "site:\n  registrationToken: 'abc'\n", "", "unregistered", 0},
		{"flow style", "site: {endpoint: x, registrationToken: \"abc\", project: p}\n", "", "unregistered", 0},
		{"token in drop-in", "site:\n  registrationToken: \"\"\n", "site:\n  registrationToken: abc\n", "unregistered", 0},
		{"cleared by drop-in", "site:\n  registrationToken: abc\n", "site:\n  registrationToken: \"\"\n", "unregistered", 1},
		{"commented out", "site:\n  # registrationToken: abc\n", "", "unregistered", 1},
		{"value is a comment", "site:\n  registrationToken: # none\n", "", "unregistered", 1},
		{"pairing key", "site:\n  pairingKey: pk-123\n", "", "unregistered", 0},
		{"pairing key in drop-in", "site: {endpoint: x}\n", "site:\n  pairingKey: \"pk-123\"\n", "unregistered", 0},
		{"pairing key cleared", "site:\n  pairingKey: pk-123\n", "site:\n  pairingKey: \"\"\n", "unregistered", 1},
		{"registered", "site:\n  registrationToken: abc\n", "", "registered", 1},
		{"pending", "site:\n  registrationToken: abc\n", "", "pending", 1},
		{"unknown state", "site:\n  registrationToken: abc\n", "", "weird", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := filepath.Join(dir, "config.yaml")
			os.WriteFile(cfg, []byte(tt.config), 0o644)
			if tt.dropin != "" {
				os.Mkdir(filepath.Join(dir, "config.d"), 0o755)
				os.WriteFile(filepath.Join(dir, "config.d", "10-site.yaml"), []byte(tt.dropin), 0o644)
			}
			cmd := exec.Command("sh", "lib/register-condition")
			cmd.Env = append(os.Environ(), "NODECONSOLE_CONFIG="+cfg,
				"NODECONSOLE_TEST_BIN="+fakeNodeconsole(t, tt.state, 0))
			out, _ := cmd.CombinedOutput()
			if got := cmd.ProcessState.ExitCode(); got != tt.want {
				t.Errorf("exit %d, want %d; output:\n%s", got, tt.want, out)
			}
		})
	}
}

// loginShell returns a copy of login-shell that runs fake instead of
// /usr/bin/nodeconsole (the real script takes no override, on purpose).
func loginShell(t *testing.T, fake string) string {
	t.Helper()
	src, err := os.ReadFile("lib/login-shell")
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Replace(string(src), "NODECONSOLE=/usr/bin/nodeconsole", "NODECONSOLE="+fake, 1)
	if s == string(src) {
		t.Fatal("login-shell no longer sets NODECONSOLE=/usr/bin/nodeconsole")
	}
	p := filepath.Join(t.TempDir(), "login-shell")
	if err := os.WriteFile(p, []byte(s), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestLoginShellRefuses: commands (ssh node CMD, scp, sftp) and sessions
// without a terminal get no console and no shell.
func TestLoginShellRefuses(t *testing.T) {
	sh := loginShell(t, fakeNodeconsole(t, "unregistered", 0))
	for _, args := range [][]string{{"-c", "id"}, {}} {
		cmd := exec.Command("sh", append([]string{sh}, args...)...)
		cmd.Stdin = strings.NewReader("")
		out, _ := cmd.CombinedOutput()
		if cmd.ProcessState.ExitCode() != 1 || strings.Contains(string(out), "ARGS:") {
			t.Errorf("login-shell %q: exit %d, output %q; want exit 1 without running nodeconsole", args, cmd.ProcessState.ExitCode(), out)
		}
	}
}

// TestLoginShellOnTerminal runs login-shell on a pseudo-terminal (script(1)):
// ASCII drawing on serial terminals, and a message and a wait for Enter when
// nodeconsole fails, instead of a respawning blank screen.
func TestLoginShellOnTerminal(t *testing.T) {
	script := testenv.RequireCommand(t, "script")
	tests := []struct {
		name, term string
		code       int
		want       []string
		dont       []string
	}{
		{"serial vt220", "vt220", 0, []string{"ARGS:--ascii"}, []string{"Press Enter"}},
		{"linux console", "linux", 0, []string{"ARGS:\r"}, []string{"--ascii", "Press Enter"}},
		{"no TERM", "", 0, []string{"ARGS:--ascii"}, nil},
		{"nodeconsole fails", "linux", 3, []string{"stopped with exit status 3", "Press Enter to log out"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sh := loginShell(t, fakeNodeconsole(t, "unregistered", tt.code))
			cmd := exec.Command(script, "-qec", "sh "+sh, "/dev/null")
			cmd.Env = append(os.Environ(), "TERM="+tt.term)
			cmd.Stdin = strings.NewReader("\n")
			out, _ := cmd.CombinedOutput()
			if got := cmd.ProcessState.ExitCode(); got != tt.code {
				t.Errorf("exit %d, want %d", got, tt.code)
			}
			for _, w := range tt.want {
				if !strings.Contains(string(out), w) {
					t.Errorf("output lacks %q:\n%q", w, out)
				}
			}
			for _, d := range tt.dont {
				if strings.Contains(string(out), d) {
					t.Errorf("output has %q:\n%q", d, out)
				}
			}
		})
	}
}

// TestInitialPasswordFromMAC runs lib/initial-password (INITIAL_PASSWORD=@mac)
// against a fake /sys/class/net and fake chpasswd and passwd: the password is
// the lowercase MAC of the physical Ethernet port with the lowest index (not
// a virtual link, not loopback, not a higher-index port), expired, the flag
// removed, and the password never printed; without the flag nothing happens;
// without an Ethernet port it fails and sets nothing.
func TestInitialPasswordFromMAC(t *testing.T) {
	sys := t.TempDir()
	nic := func(name string, index, typ int, mac string, physical bool) {
		d := filepath.Join(sys, "class", "net", name)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		for f, v := range map[string]string{"ifindex": strconv.Itoa(index), "type": strconv.Itoa(typ), "address": mac} {
			if err := os.WriteFile(filepath.Join(d, f), []byte(v+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if physical {
			if err := os.Mkdir(filepath.Join(d, "device"), 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	bin := t.TempDir()
	log := filepath.Join(t.TempDir(), "calls")
	for _, c := range []string{"chpasswd", "passwd"} {
		script := "#!/bin/sh\n{ printf '" + c + " %s\\n' \"$*\"; [ " + c + " = chpasswd ] && cat; } >>" + log + "\nexit 0\n"
		if err := os.WriteFile(filepath.Join(bin, c), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	flag := filepath.Join(t.TempDir(), "initial-password-from-mac")
	runScript := func() (string, int) {
		t.Helper()
		cmd := exec.Command("sh", "lib/initial-password")
		cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"), "NODECONSOLE_SYSFS="+sys,
			"NODECONSOLE_PASSWORD_FLAG="+flag, "NODECONSOLE_NIC_TRIES=1")
		out, _ := cmd.CombinedOutput()
		return string(out), cmd.ProcessState.ExitCode()
	}
	calls := func() string {
		b, _ := os.ReadFile(log)
		os.Remove(log)
		return string(b)
	}

	if out, rc := runScript(); rc != 0 || calls() != "" {
		t.Errorf("without the flag: exit %d, %q; want nothing done", rc, out)
	}
	os.WriteFile(flag, nil, 0o644)
	nic("lo", 1, 772, "00:00:00:00:00:00", false)
	nic("br0", 2, 1, "02:aa:bb:cc:dd:ee", false)
	if out, rc := runScript(); rc != 1 || calls() != "" || !strings.Contains(out, "no Ethernet port") {
		t.Errorf("no Ethernet port: exit %d, %q; want 1 and no password set", rc, out)
	}
	nic("enp2s0", 4, 1, "52:54:00:AB:CD:02", true)
	nic("enp1s0", 3, 1, "52:54:00:AB:CD:01", true)
	out, rc := runScript()
	if got, want := calls(), "chpasswd \n@CONSOLE_USER@:52:54:00:ab:cd:01\npasswd --expire @CONSOLE_USER@\n"; rc != 0 || got != want {
		t.Errorf("exit %d, %q; calls %q, want %q", rc, out, got, want)
	}
	if strings.Contains(strings.ToLower(out), "52:54:00") || !strings.Contains(out, "enp1s0") {
		t.Errorf("output %q: it names the port and never prints the password", out)
	}
	if _, err := os.Stat(flag); err == nil {
		t.Error("the flag is still there: the password would be reset at every boot")
	}
}
