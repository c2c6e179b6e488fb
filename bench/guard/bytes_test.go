package guard

import (
	"go/build"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/nodeconsole/nodeconsole/bench/ptyrun"
)

// Budgets (docs/performance.md, issue 7). Bytes are exact and do not depend
// on machine speed, so these are safe on a loaded CI machine.
const (
	// firstFrameBudget is the most the home screen's first frame may cost.
	firstFrameBudget = 2048
	// moveBudgetDefault guards the default profile (xterm-256color): 55 B
	// measured with the digit-first menu rows, against whiptail's 62 B for
	// the same labels; a little headroom, still under whiptail.
	moveBudgetDefault = 60
	// moveBudgetSerial is half of whiptail's ~80 B per move.
	moveBudgetSerial = 30
	// idleWindow is longer than the home screen's old 5 s status refresh,
	// so a poll coming back (or one that redraws unchanged content) is
	// caught.
	idleWindow = 6 * time.Second
	// idleSwitchesPerSecond bounds the context switches (about: wakeups) of
	// the idle console. The patched renderer (third_party/bubbletea) sleeps
	// while nothing changes, and since the status is event-driven (netwatch,
	// issue 18) nothing else wakes: 0 in 30 s on every row of make bench.
	// The 5 s status poll it replaced cost 5-12/s; upstream's renderer ticks
	// at the FPS for ever: 150-320/s at 30-60 fps. The headroom is for a
	// runtime housekeeping burst. A count, not a time, so a loaded machine
	// does not fail it.
	idleSwitchesPerSecond = 3
	// quiet ends a frame or a key's answer. It is part of the measurement
	// (where a frame ends), not a wait for the UI: waiting is by reading.
	quiet = 300 * time.Millisecond
	// patience bounds every wait for output; generous for a loaded machine.
	patience = 30 * time.Second
	moves    = 10
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// nodeconsole builds the console once per test binary, stripped and static
// like the shipped one.
func nodeconsole(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "guard-bin-*")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "nodeconsole")
		gobin := filepath.Join(build.Default.GOROOT, "bin", "go")
		if _, err := os.Stat(gobin); err != nil {
			gobin = "go"
		}
		cmd := exec.Command(gobin, "build", "-trimpath", "-ldflags=-s -w", "-o", binPath,
			"github.com/nodeconsole/nodeconsole/cmd/nodeconsole")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = err
			binPath = string(out)
		}
	})
	if buildErr != nil {
		t.Fatalf("build nodeconsole: %v\n%s", buildErr, binPath)
	}
	return binPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" && buildErr == nil {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

func TestTerminalBytes(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs nodeconsole on a pty")
	}
	cases := []struct {
		name       string
		term       string
		args       []string
		answer     ptyrun.Answer
		moveBudget int
		idle       bool
	}{
		{"default xterm-256color", "xterm-256color", nil, ptyrun.AnswerVT, moveBudgetDefault, true},
		{"default no answers", "xterm-256color", nil, ptyrun.AnswerNone, moveBudgetDefault, false},
		{"default linux", "linux", nil, ptyrun.AnswerVT, moveBudgetDefault, false},
		{"serial vt220", "vt220", nil, ptyrun.AnswerNone, moveBudgetSerial, true},
		{"serial forced", "xterm-256color", []string{"--profile", "serial"}, ptyrun.AnswerVT, moveBudgetSerial, false},
	}
	bin := nodeconsole(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			home := t.TempDir()
			args := append([]string{"--demo", "--log", filepath.Join(home, "nodeconsole.log")}, tc.args...)
			s, err := ptyrun.Start(ptyrun.Config{
				Path: bin, Args: args, Term: tc.term, Cols: 80, Rows: 24, Answer: tc.answer,
				Env: []string{"HOME=" + home, "TMPDIR=" + home, "PATH=/usr/bin:/bin", "LANG=C.UTF-8"},
			})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				_ = s.Stop(10 * time.Second)
				if t.Failed() {
					t.Logf("output so far (%d B): %q", s.Len(), s.Bytes())
				}
			})

			first, err := s.WaitOutput(0, quiet, patience)
			if err != nil {
				t.Fatalf("first frame: %v", err)
			}
			t.Logf("first frame: %d B", first.Len())
			if first.Len() > firstFrameBudget {
				t.Errorf("first frame is %d B, budget %d B", first.Len(), firstFrameBudget)
			}

			// Down and Up alternate between the first two items, so every
			// key moves and all Downs (and all Ups) are the same redraw. The
			// smallest of each is that redraw's exact cost, even if a late
			// status frame happened to land on one of the keys.
			var down, up []int
			for i := range moves {
				k := ptyrun.KeyDown
				if i%2 == 1 {
					k = ptyrun.KeyUp
				}
				m, err := s.Press(k, quiet, patience)
				if err != nil {
					t.Fatalf("move %d: %v", i+1, err)
				}
				if k == ptyrun.KeyDown {
					down = append(down, m.Bytes)
				} else {
					up = append(up, m.Bytes)
				}
			}
			perMove := float64(slices.Min(down)+slices.Min(up)) / 2
			t.Logf("bytes per move: %.1f (down %v, up %v)", perMove, down, up)
			if perMove > float64(tc.moveBudget) {
				t.Errorf("a menu move costs %.1f B, budget %d B", perMove, tc.moveBudget)
			}

			if tc.idle {
				idle, err := s.Measure(idleWindow)
				if err != nil {
					t.Fatal(err)
				}
				if idle.Bytes != 0 {
					out := s.Bytes()
					t.Errorf("wrote %d B while idle for %s: %q", idle.Bytes, idleWindow, out[len(out)-idle.Bytes:])
				}
				perSecond := float64(idle.Switches) / idle.Window.Seconds()
				t.Logf("idle: %d context switches in %s (%.1f/s)", idle.Switches, idle.Window, perSecond)
				if perSecond > idleSwitchesPerSecond {
					t.Errorf("the idle console woke up %.1f times a second (%d context switches in %s), budget %d/s: is the renderer ticking, or the status polling, again?",
						perSecond, idle.Switches, idle.Window, idleSwitchesPerSecond)
				}
			}
		})
	}
}
