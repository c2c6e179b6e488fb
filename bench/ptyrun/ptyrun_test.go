package ptyrun

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

// shell runs script with sh on an 80x24 pty in raw mode.
func shell(t *testing.T, answer Answer, script string) *Session {
	t.Helper()
	s, err := Start(Config{Path: "/bin/sh", Args: []string{"-c", "stty raw -echo; " + script},
		Env: []string{"PATH=/usr/bin:/bin"}, Term: "xterm", Cols: 80, Rows: 24, Answer: answer})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Stop(5 * time.Second) })
	return s
}

func TestAnswersCursorPositionLikeAVT(t *testing.T) {
	s := shell(t, AnswerVT, `printf '\033[6n'; dd bs=1 count=6 2>/dev/null | od -An -c; printf 'END'`)
	if err := s.WaitFor(func(b []byte) bool { return bytes.Contains(b, []byte("END")) }, 20*time.Second); err != nil {
		t.Fatalf("%v; output %q", err, s.Bytes())
	}
	if !bytes.Contains(s.Bytes(), []byte(`033   [   1   ;   1   R`)) {
		t.Errorf("the program did not read CSI 1;1R: %q", s.Bytes())
	}
}

func TestAnswerNoneStaysSilent(t *testing.T) {
	s := shell(t, AnswerNone, `printf '\033[c'; dd bs=1 count=1 2>/dev/null | od -An -c; printf 'END'`)
	if _, err := s.WaitOutput(0, 0, 20*time.Second); err != nil {
		t.Fatal(err)
	}
	// Nothing answers, so dd keeps waiting and END never comes.
	err := s.WaitFor(func(b []byte) bool { return bytes.Contains(b, []byte("END")) }, 300*time.Millisecond)
	if !errors.Is(err, ErrTimeout) {
		t.Errorf("WaitFor = %v, want ErrTimeout; output %q", err, s.Bytes())
	}
	if s.Answered() != 0 {
		t.Errorf("answered %d queries", s.Answered())
	}
}

func TestArrowKeysFollowCursorKeyMode(t *testing.T) {
	s := shell(t, AnswerVT, `printf 'A'; dd bs=1 count=3 2>/dev/null | od -An -c; printf '\033[?1hB'; dd bs=1 count=3 2>/dev/null | od -An -c; printf 'END'`)
	if err := s.WaitFor(func(b []byte) bool { return bytes.HasPrefix(b, []byte("A")) }, 20*time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SendKey(KeyDown); err != nil {
		t.Fatal(err)
	}
	if err := s.WaitFor(func(b []byte) bool { return bytes.Contains(b, []byte("B")) && bytes.Contains(b, []byte("?1h")) }, 20*time.Second); err != nil {
		t.Fatal(err)
	}
	m, err := s.Press(KeyUp, 100*time.Millisecond, 20*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	out := string(s.Bytes())
	if !bytes.Contains([]byte(out), []byte(`033   [   B`)) || !bytes.Contains(m.Out, []byte(`033   O   A`)) {
		t.Errorf("want CSI B before DECCKM and SS3 A after; output %q", out)
	}
}

func TestMeasureCountsWakeups(t *testing.T) {
	// A program asleep in one system call makes no context switches (the
	// exec after "R" may still land in the window: a couple at most); a
	// shell starting a 10 ms sleep over and over makes dozens in 300 ms.
	for _, tc := range []struct {
		name, script string
		wakes        bool
	}{
		{"asleep", `printf R; exec sleep 60`, false},
		{"polling", `printf R; while :; do sleep 0.01; done`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := shell(t, AnswerNone, tc.script)
			if err := s.WaitFor(func(b []byte) bool { return bytes.Contains(b, []byte("R")) }, 20*time.Second); err != nil {
				t.Fatal(err)
			}
			idle, err := s.Measure(300 * time.Millisecond)
			if err != nil {
				t.Fatal(err)
			}
			if got := idle.Switches > 5; got != tc.wakes {
				t.Errorf("%d context switches in %s, want wakeups: %v", idle.Switches, idle.Window, tc.wakes)
			}
		})
	}
}
