package main

import (
	"fmt"
	"syscall"
	"testing"
	"time"
)

// TestConsoleStopsOnSignal: SIGTERM (systemd stopping the getty), SIGHUP (the
// line hung up) and SIGINT end the console cleanly, every time. bubbletea's
// own signal handler used to race the console's signal context: when the
// context won, its handler blocked forever sending QuitMsg to an event loop
// that had already stopped, and shutdown waited for it.
func TestConsoleStopsOnSignal(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGHUP, syscall.SIGINT} {
		for i := range 3 {
			t.Run(fmt.Sprintf("%s/%d", sig, i+1), func(t *testing.T) {
				r := startConsole(t, 80, 24, []string{"TERM=xterm-256color", "LANG=C.UTF-8"}, "--demo")
				r.waitFor("Log out", "help")
				if err := r.cmd.Process.Signal(sig); err != nil {
					t.Fatal(err)
				}
				errc := make(chan error, 1)
				go func() { errc <- r.cmd.Wait() }()
				select {
				case err := <-errc:
					if err != nil {
						t.Errorf("console exit after %s: %v", sig, err)
					}
				case <-time.After(30 * time.Second):
					t.Fatalf("console still running 30 s after %s", sig)
				}
			})
		}
	}
}
