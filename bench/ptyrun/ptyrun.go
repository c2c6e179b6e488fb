// Package ptyrun runs a terminal program on a pseudo-terminal and measures
// what it writes: bytes, when they arrive, CPU time and peak memory.
//
// It plays the terminal's part: it answers the cursor-position report (DSR,
// CSI 6n) and primary device attributes (DA1, CSI c) the way a Linux VT does,
// or answers nothing at all like a dumb serial line (see Answer), and it
// encodes arrow keys according to the cursor-key mode (DECCKM) the program set.
//
// Waiting is done by reading: WaitOutput returns once output has arrived and
// then a quiet window passed with no more. The quiet window is part of the
// measurement (it decides where a frame ends), never a way to wait for the UI.
// Byte counts are exact and do not depend on machine speed; times do.
package ptyrun

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/creack/pty"
)

// Answer selects which terminal queries the harness answers.
type Answer string

const (
	// AnswerVT answers like a Linux VT: DSR (CSI 6n) with CSI 1;1R and
	// DA1 (CSI c, CSI 0c) with CSI ?6c; nothing else.
	AnswerVT Answer = "vt"
	// AnswerNone answers nothing, like a dumb serial line.
	AnswerNone Answer = "none"
)

// ParseAnswer parses "vt" or "none".
func ParseAnswer(s string) (Answer, error) {
	switch a := Answer(s); a {
	case AnswerVT, AnswerNone:
		return a, nil
	}
	return "", fmt.Errorf("ptyrun: answer mode must be vt or none, not %q", s)
}

// Config describes one program run.
type Config struct {
	// Path is the program; Args its arguments (without argv[0]).
	Path string
	Args []string
	// Env is the complete environment. TERM is set from Term.
	Env []string
	// Term is the TERM value (for example xterm-256color, linux, vt220).
	Term string
	// Dir is the working directory; "" is the current one.
	Dir string
	// Cols and Rows are the pty size; 0x0 is passed as is (like a serial
	// console that reports no size).
	Cols, Rows int
	// Answer selects which queries are answered; "" means AnswerVT.
	Answer Answer
}

// Key is a key the harness can type.
type Key int

// Keys the harness can type.
const (
	KeyUp Key = iota
	KeyDown
	KeyEnter
	KeyEsc
)

// Span is the output between two points of a run.
type Span struct {
	// From and To are offsets into the whole output (Bytes()).
	From, To int
	// First and Last are when the first and the last byte of the span
	// were read, relative to the start of the program; zero when empty.
	First, Last time.Duration
}

// Len is the number of bytes in the span.
func (s Span) Len() int { return s.To - s.From }

// ErrTimeout is returned when no output (or no quiet window) came in time.
var ErrTimeout = errors.New("ptyrun: timed out waiting for output")

// ErrExited is returned when the program exited while output was awaited.
var ErrExited = errors.New("ptyrun: program exited")

// Session is a running program on a pty.
type Session struct {
	cfg   Config
	cmd   *exec.Cmd
	pty   *os.File
	start time.Time

	notify chan struct{}

	mu        sync.Mutex
	buf       []byte
	lastAt    time.Time // when the last chunk was read
	chunks    []chunk   // every read, in order
	appCursor bool      // DECCKM set
	eof       bool
	answered  int
	readDone  chan struct{}

	waitOnce sync.Once
	waitErr  error
	state    *os.ProcessState
}

// Start runs the program on a new pty of the configured size.
func Start(cfg Config) (*Session, error) {
	if cfg.Answer == "" {
		cfg.Answer = AnswerVT
	}
	env := make([]string, 0, len(cfg.Env)+1)
	for _, e := range cfg.Env {
		if !strings.HasPrefix(e, "TERM=") {
			env = append(env, e)
		}
	}
	if cfg.Term != "" {
		env = append(env, "TERM="+cfg.Term)
	}
	cmd := exec.Command(cfg.Path, cfg.Args...)
	cmd.Env = env
	cmd.Dir = cfg.Dir
	s := &Session{cfg: cfg, cmd: cmd, notify: make(chan struct{}, 1), readDone: make(chan struct{})}
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Cols: uint16(cfg.Cols), Rows: uint16(cfg.Rows)})
	if err != nil {
		return nil, fmt.Errorf("ptyrun: start %s: %w", cfg.Path, err)
	}
	s.start = time.Now()
	s.pty = f
	go s.read()
	return s, nil
}

// Pid is the program's process ID.
func (s *Session) Pid() int { return s.cmd.Process.Pid }

// queries the harness reacts to; a match must end in newly read data.
var (
	seqDSR    = []byte("\x1b[6n")
	seqDA1    = []byte("\x1b[c")
	seqDA10   = []byte("\x1b[0c")
	seqCKMOn  = []byte("\x1b[?1h")
	seqCKMOff = []byte("\x1b[?1l")
)

func (s *Session) read() {
	defer close(s.readDone)
	b := make([]byte, 64<<10)
	for {
		n, err := s.pty.Read(b)
		if n > 0 {
			now := time.Now()
			s.mu.Lock()
			old := len(s.buf)
			s.buf = append(s.buf, b[:n]...)
			s.lastAt = now
			s.chunks = append(s.chunks, chunk{end: len(s.buf), at: now})
			var reply []byte
			if s.cfg.Answer == AnswerVT {
				for range countNew(s.buf, old, seqDSR) {
					reply = append(reply, "\x1b[1;1R"...)
				}
				for range countNew(s.buf, old, seqDA1) + countNew(s.buf, old, seqDA10) {
					reply = append(reply, "\x1b[?6c"...)
				}
			}
			on, off := lastNew(s.buf, old, seqCKMOn), lastNew(s.buf, old, seqCKMOff)
			if on > off {
				s.appCursor = true
			} else if off > on {
				s.appCursor = false
			}
			if len(reply) > 0 {
				s.answered++
			}
			s.mu.Unlock()
			if len(reply) > 0 {
				_, _ = s.pty.Write(reply)
			}
			select {
			case s.notify <- struct{}{}:
			default:
			}
		}
		if err != nil {
			s.mu.Lock()
			s.eof = true
			s.mu.Unlock()
			select {
			case s.notify <- struct{}{}:
			default:
			}
			return
		}
	}
}

// countNew counts occurrences of seq in buf that end after offset old.
func countNew(buf []byte, old int, seq []byte) int {
	from := max(0, old-len(seq)+1)
	return bytes.Count(buf[from:], seq)
}

// lastNew returns the offset of the last occurrence of seq ending after
// offset old, or -1.
func lastNew(buf []byte, old int, seq []byte) int {
	from := max(0, old-len(seq)+1)
	i := bytes.LastIndex(buf[from:], seq)
	if i < 0 {
		return -1
	}
	return from + i
}

// Len is the number of bytes read so far.
func (s *Session) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.buf)
}

// Bytes returns a copy of all output so far.
func (s *Session) Bytes() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return bytes.Clone(s.buf)
}

// Answered is how many reads contained a query the harness answered.
func (s *Session) Answered() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.answered
}

// Since is the time since the program started.
func (s *Session) Since() time.Duration { return time.Since(s.start) }

// Send writes raw input, as if typed.
func (s *Session) Send(b []byte) error {
	_, err := s.pty.Write(b)
	if err != nil {
		return fmt.Errorf("ptyrun: send input: %w", err)
	}
	return nil
}

// KeyBytes is what a terminal sends for k in the current cursor-key mode:
// ESC O A/B after the program set DECCKM (CSI ?1h), else CSI A/B.
func (s *Session) KeyBytes(k Key) []byte {
	s.mu.Lock()
	app := s.appCursor
	s.mu.Unlock()
	intro := "\x1b["
	if app {
		intro = "\x1bO"
	}
	switch k {
	case KeyUp:
		return []byte(intro + "A")
	case KeyDown:
		return []byte(intro + "B")
	case KeyEnter:
		return []byte("\r")
	case KeyEsc:
		return []byte("\x1b")
	}
	return nil
}

// SendKey types k and returns when it was sent (relative to the start).
func (s *Session) SendKey(k Key) (time.Duration, error) {
	b := s.KeyBytes(k)
	at := time.Since(s.start)
	return at, s.Send(b)
}

// WaitOutput waits until output beyond offset from has arrived and then no
// more for quiet. It returns the span from offset from to the end of the
// output. It fails with ErrTimeout when nothing arrived (or the output never
// paused for quiet) within timeout, and with ErrExited when the program
// closed the terminal first.
func (s *Session) WaitOutput(from int, quiet, timeout time.Duration) (Span, error) {
	deadline := time.Now().Add(timeout)
	for {
		s.mu.Lock()
		n, last, eof := len(s.buf), s.lastAt, s.eof
		s.mu.Unlock()
		now := time.Now()
		var wait time.Duration
		switch {
		case n > from:
			idle := now.Sub(last)
			if idle >= quiet || eof {
				return s.span(from, n), nil
			}
			wait = quiet - idle
		case eof:
			return s.span(from, n), ErrExited
		default:
			wait = deadline.Sub(now)
		}
		if !now.Before(deadline) {
			return s.span(from, n), ErrTimeout
		}
		wait = min(wait, deadline.Sub(now))
		t := time.NewTimer(wait)
		select {
		case <-s.notify:
		case <-t.C:
		}
		t.Stop()
	}
}

// WaitFor waits until the whole output so far satisfies ok (for example,
// contains a string), without any quiet window.
func (s *Session) WaitFor(ok func(out []byte) bool, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		s.mu.Lock()
		good, eof := ok(s.buf), s.eof
		s.mu.Unlock()
		if good {
			return nil
		}
		if eof {
			return ErrExited
		}
		now := time.Now()
		if !now.Before(deadline) {
			return ErrTimeout
		}
		t := time.NewTimer(deadline.Sub(now))
		select {
		case <-s.notify:
		case <-t.C:
		}
		t.Stop()
	}
}

// chunk is one read from the pty: the output offset it ends at and when.
type chunk struct {
	end int
	at  time.Time
}

// span builds a Span for [from, to) from the read times.
func (s *Session) span(from, to int) Span {
	sp := Span{From: from, To: to}
	if to <= from {
		return sp
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	i := sort.Search(len(s.chunks), func(i int) bool { return s.chunks[i].end > from })
	j := sort.Search(len(s.chunks), func(i int) bool { return s.chunks[i].end >= to })
	if i < len(s.chunks) {
		sp.First = s.chunks[i].at.Sub(s.start)
	}
	if j < len(s.chunks) {
		sp.Last = s.chunks[j].at.Sub(s.start)
	}
	return sp
}

// Move is the measurement of one key press.
type Move struct {
	Key Key
	// Bytes written in answer to the key.
	Bytes int
	// Latency is from sending the key to the last byte of the answer.
	Latency time.Duration
	// Out is the raw answer.
	Out []byte
}

// Press types k, waits for the answer and quiet, and measures it.
func (s *Session) Press(k Key, quiet, timeout time.Duration) (Move, error) {
	from := s.Len()
	at, err := s.SendKey(k)
	if err != nil {
		return Move{Key: k}, err
	}
	sp, err := s.WaitOutput(from, quiet, timeout)
	m := Move{Key: k, Bytes: sp.Len(), Out: s.Bytes()[sp.From:sp.To]}
	if sp.Len() > 0 {
		m.Latency = sp.Last - at
	}
	return m, err
}

// Idle is the measurement of a window in which nothing was typed.
type Idle struct {
	Window time.Duration
	Bytes  int
	// CPU is the program's CPU time (all threads) during the window.
	CPU time.Duration
	// Switches is the number of times the program's threads were switched
	// out during the window (voluntary and involuntary context switches):
	// about the number of wakeups.
	Switches int64
}

// Measure waits d without typing and reports the bytes written, the CPU
// time and the context switches of the program meanwhile.
func (s *Session) Measure(d time.Duration) (Idle, error) {
	c0, err := s.CPU()
	if err != nil {
		return Idle{}, err
	}
	w0, err := s.Switches()
	if err != nil {
		return Idle{}, err
	}
	from := s.Len()
	t0 := time.Now()
	time.Sleep(d)
	c1, err := s.CPU()
	if err != nil {
		return Idle{}, err
	}
	w1, err := s.Switches()
	if err != nil {
		return Idle{}, err
	}
	return Idle{Window: time.Since(t0), Bytes: s.Len() - from, CPU: c1 - c0, Switches: w1 - w0}, nil
}

// CPU is the program's CPU time so far: the sum over its threads of the
// first field of /proc/PID/task/*/schedstat (ns on CPU). Only the direct
// child is counted.
func (s *Session) CPU() (time.Duration, error) {
	var total int64
	err := s.eachTask("schedstat", func(b []byte) {
		f := strings.Fields(string(b))
		if len(f) == 0 {
			return
		}
		if ns, err := strconv.ParseInt(f[0], 10, 64); err == nil {
			total += ns
		}
	})
	if err != nil {
		return 0, fmt.Errorf("ptyrun: read CPU time: %w", err)
	}
	return time.Duration(total), nil
}

// Switches is the program's context switches so far: the sum over its
// threads of voluntary_ctxt_switches and nonvoluntary_ctxt_switches in
// /proc/PID/task/*/status. Only the direct child is counted.
func (s *Session) Switches() (int64, error) {
	var total int64
	err := s.eachTask("status", func(b []byte) {
		for _, line := range strings.Split(string(b), "\n") {
			k, v, ok := strings.Cut(line, ":")
			if !ok || (k != "voluntary_ctxt_switches" && k != "nonvoluntary_ctxt_switches") {
				continue
			}
			if n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil {
				total += n
			}
		}
	})
	if err != nil {
		return 0, fmt.Errorf("ptyrun: read context switches: %w", err)
	}
	return total, nil
}

// eachTask calls f with the contents of /proc/PID/task/*/name; threads that
// exit meanwhile are skipped.
func (s *Session) eachTask(name string, f func([]byte)) error {
	dir := fmt.Sprintf("/proc/%d/task", s.Pid())
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name(), name))
		if err != nil {
			continue // thread exited
		}
		f(b)
	}
	return nil
}

// Stop ends the program: SIGTERM, then SIGKILL after grace. It returns
// once the program has been reaped; reading the pty ends with it.
func (s *Session) Stop(grace time.Duration) error {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = s.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(grace):
		_ = s.cmd.Process.Kill()
		<-done
	}
	return nil
}

// Wait waits for the program to exit and closes the pty.
func (s *Session) Wait() error {
	s.waitOnce.Do(func() {
		s.waitErr = s.cmd.Wait()
		s.state = s.cmd.ProcessState
		// Drain what is left, then close: the reader ends with EIO.
		select {
		case <-s.readDone:
		case <-time.After(2 * time.Second):
		}
		s.pty.Close()
	})
	return s.waitErr
}

// PeakRSS is the program's peak resident set size in bytes (ru_maxrss from
// wait4), known after Wait or Stop; 0 before.
func (s *Session) PeakRSS() int64 {
	if s.state == nil {
		return 0
	}
	if ru, ok := s.state.SysUsage().(*syscall.Rusage); ok {
		return ru.Maxrss * 1024
	}
	return 0
}

// Output is a copy of everything read, suitable for a dump file.
func (s *Session) Output() io.Reader { return bytes.NewReader(s.Bytes()) }
