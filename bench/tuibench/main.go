// Command tuibench measures the console's terminal cost side by side with
// dialog and whiptail: first-frame bytes and time, bytes and latency per menu
// move, bytes and CPU while idle, peak RSS and binary size. It prints one
// Markdown table (docs/performance.md).
//
//	go run ./bench/tuibench                 # full matrix, 30 s idle per row
//	go run ./bench/tuibench -idle 5s -only 'nodeconsole'
//
// Every program runs on a pseudo-terminal (bench/ptyrun) at -cols x -rows.
// nodeconsole runs on its home screen with a temporary HOME, in two modes
// (-modes): "demo" is --demo (embedded control plane, simulated network) with
// the default build; "real" is the release build (-tags nodemo, as in the
// .deb) with a temporary --state-dir and a --config that configures no
// control plane, reading the host's real network status (read only).
// dialog and whiptail show an equivalent 8-item --menu.
package main

import (
	"cmp"
	"errors"
	"flag"
	"fmt"
	"go/build"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/nodeconsole/nodeconsole/bench/ptyrun"
)

type options struct {
	cols, rows int
	moves      int
	idle       time.Duration
	idleAfter  time.Duration
	firstQuiet time.Duration
	keyQuiet   time.Duration
	jitter     time.Duration
	only       *regexp.Regexp
	terms      []string
	binary     string
	release    string
	modes      []string
	starts     int
	dump       string
	label      string
}

func main() {
	var o options
	var only, terms, modes string
	flag.IntVar(&o.cols, "cols", 80, "terminal columns")
	flag.IntVar(&o.rows, "rows", 24, "terminal rows")
	flag.IntVar(&o.moves, "moves", 20, "menu moves per program (Down, Up, Down ...)")
	flag.DurationVar(&o.idle, "idle", 30*time.Second, "idle window per program")
	flag.DurationVar(&o.idleAfter, "idle-after", 35*time.Second, "start nodeconsole's idle window no earlier than this after it started: its start-up work (LLDP heard for 30 s) is over by then; 0 starts it right after the moves")
	flag.DurationVar(&o.firstQuiet, "first-quiet", 500*time.Millisecond, "silence that ends the first frame")
	flag.DurationVar(&o.keyQuiet, "key-quiet", 200*time.Millisecond, "silence that ends the answer to a key")
	flag.DurationVar(&o.jitter, "jitter", 250*time.Millisecond, "random extra pause (0 to this) before each key, so keys land at random phases of the render ticker")
	flag.StringVar(&only, "only", "", "run only rows whose name matches this regexp (e.g. 'nodeconsole|whiptail')")
	flag.StringVar(&terms, "terms", "xterm-256color,linux,vt220", "TERM values, comma-separated")
	flag.StringVar(&o.binary, "nodeconsole", "", "prebuilt nodeconsole binary for the demo rows (default: build ./cmd/nodeconsole stripped and static)")
	flag.StringVar(&o.release, "release", "", "prebuilt nodeconsole binary for the real rows (default: build it like the .deb, with -tags nodemo)")
	flag.StringVar(&modes, "modes", "demo,real", "nodeconsole modes, comma-separated: demo (--demo), real (release build, temporary state dir, no control plane)")
	flag.IntVar(&o.starts, "starts", 1, "start each program this many times for the first-frame figures (moves and idle run on the first start only)")
	flag.StringVar(&o.dump, "dump", "", "write each run's raw output to DIR/<row>.bin")
	flag.StringVar(&o.label, "label", "nodeconsole", "name of the nodeconsole rows (for variants)")
	flag.Parse()
	o.terms = strings.Split(terms, ",")
	o.modes = strings.Split(modes, ",")
	for _, m := range o.modes {
		if m != "demo" && m != "real" {
			fatal(fmt.Errorf("-modes: %q is neither demo nor real", m))
		}
	}
	o.starts = max(o.starts, 1)
	if only != "" {
		re, err := regexp.Compile(only)
		if err != nil {
			fatal(fmt.Errorf("-only: %w", err))
		}
		o.only = re
	}
	if err := run(o, os.Stdout); err != nil {
		fatal(err)
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "tuibench:", err)
	os.Exit(1)
}

// target is one row of the table.
type target struct {
	name   string
	term   string
	answer ptyrun.Answer
	path   string
	args   []string
	size   int64  // binary size
	note   string // binary note
	// real: nodeconsole without --demo; measure adds --state-dir and
	// --config in the run's temporary HOME.
	real bool
}

// result is one row's figures.
type result struct {
	t           target
	firstBytes  int
	firstByteAt time.Duration
	firstFrame  time.Duration
	// starts are the first frames of every start (-starts), the first
	// one included.
	starts []ptyrun.Span
	moves  []ptyrun.Move
	idle   ptyrun.Idle
	rss    int64
	err    error
}

func run(o options, w io.Writer) error {
	tmp, err := os.MkdirTemp("", "tuibench-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	bin, rel := o.binary, o.release
	if bin == "" && slices.Contains(o.modes, "demo") {
		bin = filepath.Join(tmp, "nodeconsole")
		if err := BuildNodeconsole(bin); err != nil {
			return err
		}
	}
	if rel == "" && slices.Contains(o.modes, "real") {
		rel = filepath.Join(tmp, "nodeconsole-release")
		if err := BuildNodeconsole(rel, "-tags", "nodemo"); err != nil {
			return err
		}
	}
	targets, err := matrix(o, bin, rel)
	if err != nil {
		return err
	}
	if o.dump != "" {
		if err := os.MkdirAll(o.dump, 0o755); err != nil {
			return err
		}
	}
	var results []result
	for _, t := range targets {
		fmt.Fprintf(os.Stderr, "tuibench: %s ...\n", t.name)
		r := measure(o, t, tmp)
		if r.err != nil {
			fmt.Fprintf(os.Stderr, "tuibench: %s: %v\n", t.name, r.err)
		}
		results = append(results, r)
	}
	printTable(w, o, results)
	return nil
}

// BuildNodeconsole builds the console static and stripped, with extra go
// build flags (the .deb adds -tags nodemo).
func BuildNodeconsole(out string, flags ...string) error {
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	gobin := filepath.Join(build.Default.GOROOT, "bin", "go")
	if _, err := os.Stat(gobin); err != nil {
		gobin = "go"
	}
	args := append([]string{"build", "-trimpath", "-ldflags=-s -w", "-o", out}, flags...)
	cmd := exec.Command(gobin, append(args, "./cmd/nodeconsole")...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("build nodeconsole: %w", err)
	}
	return nil
}

func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("not inside the nodeconsole module (no go.mod above the working directory)")
		}
		dir = parent
	}
}

// menuItems are the 8 entries of the dialog/whiptail menu, matching the
// console's home menu (same first two entries, which the moves alternate
// between).
var menuItems = []string{
	"Network settings", "Test network", "Register Node", "Deregister Node",
	"About this node", "Change password", "Reboot", "Log out",
}

func menuArgs() []string {
	args := []string{"--title", "Node console", "--menu", "Choose an action", "16", "60", "8"}
	for i, it := range menuItems {
		args = append(args, fmt.Sprint(i+1), it)
	}
	return args
}

func matrix(o options, bin, rel string) ([]target, error) {
	var ts []target
	add := func(t target) {
		if o.only == nil || o.only.MatchString(t.name) {
			ts = append(ts, t)
		}
	}
	for _, term := range o.terms {
		for _, mode := range o.modes {
			nc := target{term: term, answer: ptyrun.AnswerVT, path: bin, args: []string{"--demo"}, note: "static"}
			label := o.label
			if mode == "real" {
				nc.path, nc.args, nc.real, nc.note = rel, nil, true, "static, -tags nodemo"
				label += " real"
			}
			st, err := os.Stat(nc.path)
			if err != nil {
				return nil, err
			}
			nc.size = st.Size()
			t := nc
			t.name = fmt.Sprintf("%s %s", label, term)
			add(t)
			t = nc
			t.name = fmt.Sprintf("%s %s answer=none", label, term)
			t.answer = ptyrun.AnswerNone
			add(t)
			if !strings.HasPrefix(term, "vt") {
				t = nc
				t.name = fmt.Sprintf("%s --profile serial %s", label, term)
				t.args = append(slices.Clone(nc.args), "--profile", "serial")
				add(t)
			}
		}
		for _, prog := range []string{"dialog", "whiptail"} {
			path, err := exec.LookPath(prog)
			if err != nil {
				fmt.Fprintf(os.Stderr, "tuibench: %s not found (apt-get install %s); skipped\n", prog, prog)
				continue
			}
			var size int64
			if st, err := os.Stat(path); err == nil {
				size = st.Size()
			}
			add(target{name: prog + " " + term, term: term, answer: ptyrun.AnswerVT, path: path,
				args: menuArgs(), size: size, note: "+ shared libs"})
		}
	}
	return ts, nil
}

// realConfig is the config of the real rows: no control plane, and a
// networkd dir of its own so that nothing could touch the host's.
const realConfig = "network:\n  networkdDir: %s\n"

// start runs t once in a fresh temporary HOME.
func start(o options, t target, tmp string) (*ptyrun.Session, error) {
	home, err := os.MkdirTemp(tmp, "home-*")
	if err != nil {
		return nil, err
	}
	args := t.args
	if t.path != "" && strings.Contains(t.name, o.label) {
		args = append([]string{"--log", filepath.Join(home, "nodeconsole.log")}, args...)
	}
	if t.real {
		cfg := filepath.Join(home, "config.yaml")
		if err := os.WriteFile(cfg, fmt.Appendf(nil, realConfig, filepath.Join(home, "networkd")), 0o644); err != nil {
			return nil, err
		}
		args = append([]string{"--state-dir", filepath.Join(home, "state"), "--config", cfg}, args...)
	}
	return ptyrun.Start(ptyrun.Config{
		Path: t.path, Args: args, Term: t.term, Cols: o.cols, Rows: o.rows, Answer: t.answer,
		Env: []string{"HOME=" + home, "TMPDIR=" + home, "PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8"},
	})
}

func measure(o options, t target, tmp string) (r result) {
	r.t = t
	// Extra starts first, first frame only, so that the start whose moves
	// and idle are measured is the last one (its RSS is the row's).
	for range o.starts - 1 {
		s, err := start(o, t, tmp)
		if err != nil {
			r.err = err
			return r
		}
		first, err := s.WaitOutput(0, o.firstQuiet, 10*time.Second)
		_ = s.Stop(5 * time.Second)
		if err != nil {
			r.err = fmt.Errorf("first frame: %w", err)
			return r
		}
		r.starts = append(r.starts, first)
	}
	s, err := start(o, t, tmp)
	if err != nil {
		r.err = err
		return r
	}
	defer func() {
		_ = s.Stop(5 * time.Second)
		r.rss = s.PeakRSS()
		if o.dump != "" {
			name := regexp.MustCompile(`[^A-Za-z0-9._-]+`).ReplaceAllString(t.name, "_")
			_ = os.WriteFile(filepath.Join(o.dump, name+".bin"), s.Bytes(), 0o644)
		}
	}()
	first, err := s.WaitOutput(0, o.firstQuiet, 10*time.Second)
	if err != nil {
		r.err = fmt.Errorf("first frame: %w", err)
		return r
	}
	r.firstBytes, r.firstByteAt, r.firstFrame = first.Len(), first.First, first.Last
	r.starts = append(r.starts, first)
	for i := range o.moves {
		k := ptyrun.KeyDown
		if i%2 == 1 {
			k = ptyrun.KeyUp
		}
		if o.jitter > 0 {
			// Without this every key would be sent key-quiet after the
			// previous frame, i.e. at the same phase of a 5-60 fps ticker,
			// and the latency would be one full frame period, not a median.
			time.Sleep(rand.N(o.jitter))
		}
		m, err := s.Press(k, o.keyQuiet, 5*time.Second)
		if err != nil {
			r.err = fmt.Errorf("move %d: %w", i+1, err)
			return r
		}
		r.moves = append(r.moves, m)
	}
	if o.idle > 0 {
		if wait := o.idleAfter - s.Since(); wait > 0 && strings.Contains(t.name, o.label) {
			time.Sleep(wait) // not waiting for output: letting start-up work end
		}
		r.idle, r.err = s.Measure(o.idle)
	}
	return r
}

// stats of per-move bytes and latencies.
func moveStats(ms []ptyrun.Move) (mean float64, lo, hi int, p50, p90, p99 time.Duration) {
	if len(ms) == 0 {
		return
	}
	lo, hi = ms[0].Bytes, ms[0].Bytes
	lat := make([]time.Duration, 0, len(ms))
	sum := 0
	for _, m := range ms {
		sum += m.Bytes
		lo, hi = min(lo, m.Bytes), max(hi, m.Bytes)
		lat = append(lat, m.Latency)
	}
	slices.SortFunc(lat, cmp.Compare)
	return float64(sum) / float64(len(ms)), lo, hi, Percentile(lat, 50), Percentile(lat, 90), Percentile(lat, 99)
}

// Percentile is the nearest-rank percentile of sorted values.
func Percentile(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := (p*len(sorted)+99)/100 - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d)/float64(time.Millisecond)) }

func printTable(w io.Writer, o options, rs []result) {
	fmt.Fprintf(w, "%dx%d pty, %d start(s) per row, %d moves (Down/Up alternating, each after %s silence + random 0-%s), idle %s (nodeconsole: from %s after start at the earliest), first frame ends at %s silence.\n\n",
		o.cols, o.rows, o.starts, o.moves, o.keyQuiet, o.jitter, o.idle, o.idleAfter, o.firstQuiet)
	fmt.Fprintln(w, "| program | TERM | answer | 1st frame B | 1st byte ms | 1st frame ms p50 (max) | B/move mean (min-max) | key→last byte ms p50 / p90 / p99 | idle B | idle CPU ms (% core) | idle switches /s | peak RSS KiB | binary B |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|---|---|---|")
	for _, r := range rs {
		prog := strings.TrimSuffix(r.t.name, " answer=none")
		prog = strings.TrimSpace(strings.TrimSuffix(prog, r.t.term))
		if r.err != nil && r.firstBytes == 0 {
			fmt.Fprintf(w, "| %s | %s | %s | error: %v ||||||||||\n", prog, r.t.term, r.t.answer, r.err)
			continue
		}
		mean, lo, hi, p50, p90, p99 := moveStats(r.moves)
		idleB, idleCPU, idleSw := "-", "-", "-"
		if r.idle.Window > 0 {
			idleB = fmt.Sprint(r.idle.Bytes)
			idleCPU = fmt.Sprintf("%s (%.2f%%)", ms(r.idle.CPU), 100*float64(r.idle.CPU)/float64(r.idle.Window))
			idleSw = fmt.Sprintf("%.1f", float64(r.idle.Switches)/r.idle.Window.Seconds())
		}
		firstB, firstT := fmt.Sprint(r.firstBytes), ms(r.firstFrame)
		if len(r.starts) > 1 {
			var times []time.Duration
			lo, hi := r.starts[0].Len(), r.starts[0].Len()
			for _, sp := range r.starts {
				times = append(times, sp.Last)
				lo, hi = min(lo, sp.Len()), max(hi, sp.Len())
			}
			slices.SortFunc(times, cmp.Compare)
			firstT = fmt.Sprintf("%s (%s)", ms(Percentile(times, 50)), ms(times[len(times)-1]))
			if lo != hi {
				firstB = fmt.Sprintf("%d-%d", lo, hi)
			}
		}
		size := fmt.Sprintf("%d %s", r.t.size, r.t.note)
		errNote := ""
		if r.err != nil {
			errNote = fmt.Sprintf(" (error: %v)", r.err)
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %.1f (%d-%d) | %s / %s / %s | %s | %s | %s | %d | %s%s |\n",
			prog, r.t.term, r.t.answer, firstB, ms(r.firstByteAt), firstT,
			mean, lo, hi, ms(p50), ms(p90), ms(p99), idleB, idleCPU, idleSw, r.rss/1024, size, errNote)
	}
}
