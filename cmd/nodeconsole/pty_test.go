package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/nodeconsole/nodeconsole/api"
	"github.com/nodeconsole/nodeconsole/controlplane/cptest"
	"github.com/nodeconsole/nodeconsole/regclient"
	"github.com/nodeconsole/nodeconsole/testenv"
)

// ptyRun is the console running on a pseudo-terminal.
type ptyRun struct {
	t    *testing.T
	cmd  *exec.Cmd
	tty  *os.File
	mu   sync.Mutex
	out  bytes.Buffer
	more chan struct{}
	done chan struct{}
}

// startConsole runs this test binary as nodeconsole on a pty of cols x rows
// (0x0 is what serial consoles report).
func startConsole(t *testing.T, cols, rows uint16, env []string, args ...string) *ptyRun {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append([]string{"NODECONSOLE_TEST_MAIN=1", "HOME=" + t.TempDir(), "TMPDIR=" + t.TempDir(), "PATH=" + os.Getenv("PATH")}, env...)
	return startPty(t, cmd, cols, rows)
}

// startPty runs cmd on a pseudo-terminal of cols x rows.
func startPty(t *testing.T, cmd *exec.Cmd, cols, rows uint16) *ptyRun {
	t.Helper()
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Cols: cols, Rows: rows})
	if err != nil {
		t.Fatalf("start on pty: %v", err)
	}
	r := &ptyRun{t: t, cmd: cmd, tty: f, more: make(chan struct{}, 1), done: make(chan struct{})}
	go func() {
		defer close(r.done)
		buf := make([]byte, 4096)
		for {
			n, err := f.Read(buf)
			if n > 0 {
				r.mu.Lock()
				r.out.Write(buf[:n])
				r.mu.Unlock()
				select {
				case r.more <- struct{}{}:
				default:
				}
			}
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		f.Close()
	})
	return r
}

func (r *ptyRun) output() []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return bytes.Clone(r.out.Bytes())
}

// waitFor waits until everything written so far contains all of want.
func (r *ptyRun) waitFor(want ...string) {
	r.t.Helper()
	limit := time.After(30 * time.Second)
	for {
		out := r.output()
		ok := true
		for _, w := range want {
			ok = ok && bytes.Contains(out, []byte(w))
		}
		if ok {
			return
		}
		select {
		case <-r.more:
		case <-r.done:
			r.t.Fatalf("console exited before writing %q; output:\n%q", want, r.output())
		case <-limit:
			r.t.Fatalf("console did not write %q; output so far:\n%q", want, r.output())
		}
	}
}

// exit sends keys and waits for a clean exit.
func (r *ptyRun) exit(keys string) {
	r.t.Helper()
	io.WriteString(r.tty, keys)
	errc := make(chan error, 1)
	go func() { errc <- r.cmd.Wait() }()
	select {
	case err := <-errc:
		if err != nil {
			r.t.Fatalf("console exit: %v", err)
		}
	case <-time.After(30 * time.Second):
		r.t.Fatal("console did not exit")
	}
}

// screen replays raw terminal output in a real terminal emulator (tmux) of
// cols x rows and returns what a person would see there.
func screen(t *testing.T, raw []byte, cols, rows int) []string {
	t.Helper()
	tmux := testenv.RequireCommand(t, "tmux")
	dir := t.TempDir()
	file := filepath.Join(dir, "out.bin")
	os.WriteFile(file, raw, 0o644)
	sock := fmt.Sprintf("nc-test-%d", os.Getpid())
	tm := func(args ...string) (string, error) {
		out, err := exec.Command(tmux, append([]string{"-L", sock, "-f", "/dev/null"}, args...)...).CombinedOutput()
		return string(out), err
	}
	t.Cleanup(func() { tm("kill-server") })
	if out, err := tm("new-session", "-d", "-x", fmt.Sprint(cols), "-y", fmt.Sprint(rows),
		"sh -c 'stty raw -echo; cat "+file+"; touch "+file+".done; exec sleep 60'"); err != nil {
		t.Fatalf("tmux: %v %s", err, out)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := os.Stat(file + ".done"); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("tmux replay did not finish")
		}
		time.Sleep(10 * time.Millisecond) // polling a file tmux writes, not waiting on the UI
	}
	// One more round trip makes sure tmux has processed all of cat's output.
	tm("refresh-client")
	out, err := tm("capture-pane", "-p", "-t", "0")
	if err != nil {
		t.Fatalf("capture-pane: %v", err)
	}
	return strings.Split(strings.TrimRight(out, "\n"), "\n")
}

// TestZeroSizeDrawsFullScreen: serial consoles report 0x0; the console must
// draw a full 80x24 screen (bubbletea v2.0.10 alone draws nothing).
func TestZeroSizeDrawsFullScreen(t *testing.T) {
	r := startConsole(t, 0, 0, []string{"TERM=vt220", "LANG=C.UTF-8"}, "--demo")
	// The status arrives after the first frame: wait for it too.
	r.waitFor("Log out", "help", "Node ID", "eth0")
	raw := r.output()
	r.exit("q")
	lines := screen(t, raw, 80, 24)
	if len(lines) < 24 {
		t.Fatalf("screen has %d lines, want 24:\n%s", len(lines), strings.Join(lines, "\n"))
	}
	if !strings.Contains(lines[0], "nodeconsole") || !strings.Contains(lines[0], "DEMO") {
		t.Errorf("line 1 is not the header: %q", lines[0])
	}
	if !strings.Contains(lines[23], "help") {
		t.Errorf("line 24 is not the footer: %q", lines[23])
	}
	all := strings.Join(lines, "\n")
	for _, want := range []string{"Node ID", "Menu", "Log out", "eth0"} {
		if !strings.Contains(all, want) {
			t.Errorf("screen lacks %q:\n%s", want, all)
		}
	}
}

func TestZeroSizeUsesColumnsLines(t *testing.T) {
	r := startConsole(t, 0, 0, []string{"TERM=xterm-256color", "LANG=C.UTF-8", "COLUMNS=100", "LINES=30"}, "--demo")
	// The home screen tells a newcomer how to log in to the demo portal.
	r.waitFor("Log out", "help", "Demo portal  https://", "Log in as    admin-token", "Password     ")
	raw := r.output()
	r.exit("q")
	lines := screen(t, raw, 100, 30)
	if len(lines) < 30 || !strings.Contains(lines[29], "help") {
		t.Errorf("footer not on line 30 of a 100x30 screen:\n%s", strings.Join(lines, "\n"))
	}
}

// TestTerminalsShowSelection checks the menu and a visible selection under
// the three terminal types a node meets.
func TestTerminalsShowSelection(t *testing.T) {
	for _, tc := range []struct {
		term, lang, marker string
	}{
		{"xterm-256color", "C.UTF-8", "▸"},
		{"linux", "C.UTF-8", "▸"},
		{"vt100", "C", ">"},
	} {
		t.Run(tc.term, func(t *testing.T) {
			r := startConsole(t, 80, 24, []string{"TERM=" + tc.term, "LANG=" + tc.lang}, "--demo")
			r.waitFor("Log out", "help")
			raw := r.output()
			r.exit("q")
			lines := screen(t, raw, 80, 24)
			found := false
			for _, l := range lines {
				if strings.Contains(l, "1 "+tc.marker+" ") {
					found = true
				}
			}
			if !found {
				t.Errorf("no selection marker %q on menu item 1:\n%s", tc.marker, strings.Join(lines, "\n"))
			}
			if tc.term == "vt100" && bytes.ContainsAny(raw, "▸─•…") {
				t.Error("vt100 with LANG=C must get ASCII only")
			}
			if !bytes.Contains(raw, []byte("\x1b[7m")) && !bytes.Contains(raw, []byte(";7m")) {
				t.Error("the selection must also use reverse video")
			}
		})
	}
}

// TestConsoleRegistersWithSiteTokenAtStart: an unregistered node with
// site.registrationToken registers by itself when the console starts, and
// the token never reaches the screen or the log.
func TestConsoleRegistersWithSiteTokenAtStart(t *testing.T) {
	cp := cptest.New(t)
	// The token lets the node choose its project (site.project below).
	var tok api.CreateTokenResponse
	if err := cp.Admin("POST", api.PathTokens, api.CreateTokenRequest{Name: "site", Project: "default-project", ExpiresIn: "1h",
		SingleUse: true, AllowProjectOverride: true}, &tok); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf("node: {name: auto-1}\nsite: {endpoint: %q, registrationToken: %q, project: retail, caCerts: [%q]}\nnetwork: {resolvConf: %q, networkdDir: %q}\n",
		cp.URL, tok.Token, cp.CAPath, filepath.Join(dir, "resolv.conf"), filepath.Join(dir, "network"))), 0o644)
	state := filepath.Join(dir, "state")
	logFile := filepath.Join(dir, "console.log")
	r := startConsole(t, 80, 24, []string{"TERM=xterm-256color", "LANG=C.UTF-8"},
		"--config", cfg, "--state-dir", state, "--log", logFile)
	r.waitFor("Registered with the site token")
	raw := r.output()
	r.exit("q")
	if bytes.Contains(raw, []byte(tok.Token)) {
		t.Error("the registration token reached the screen")
	}
	logData, _ := os.ReadFile(logFile)
	if bytes.Contains(logData, []byte(tok.Token)) {
		t.Error("the registration token reached the log")
	}
	st, err := regclient.Store{Dir: state}.Load()
	if err != nil || st.State != regclient.Registered || st.Project != "retail" {
		t.Errorf("state after start: %+v (%v); site.project must override the token's project", st, err)
	}
}
