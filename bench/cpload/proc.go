package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// controlPlane is a controlplane process that cpload started.
type controlPlane struct {
	cmd    *exec.Cmd
	data   string
	url    string
	pprof  string // http://127.0.0.1:PORT
	exited chan struct{}
	err    error // from Wait, once exited is closed
}

// buildControlPlane builds cmd/controlplane into dir.
func buildControlPlane(ctx context.Context, dir string, log io.Writer) (string, error) {
	bin := filepath.Join(dir, "controlplane")
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", bin, "github.com/nodeconsole/nodeconsole/cmd/controlplane")
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build cmd/controlplane: %w", err)
	}
	return bin, nil
}

// startControlPlane runs bin on 127.0.0.1 with a fresh data directory under
// dir, the per-IP enrollment limit and the pending caps off (every
// simulated node comes from 127.0.0.1) and pprof/expvar on another loopback
// port.
func startControlPlane(ctx context.Context, bin, dir string, extra, env []string) (*controlPlane, error) {
	data := filepath.Join(dir, "data")
	args := append([]string{"--listen", "127.0.0.1:0", "--data", data, "--log", filepath.Join(dir, "controlplane.log"),
		"--enroll-limit", "off", "--max-pending", "0", "--max-pending-per-source", "0", "--pprof", "127.0.0.1:0"}, extra...)
	cmd := exec.Command(bin, args...)
	cmd.Stderr = os.Stderr
	cmd.Env = append(os.Environ(), env...)
	// If cpload dies, so does the control plane.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	cp := &controlPlane{cmd: cmd, data: data, exited: make(chan struct{})}
	lines := make(chan string, 64)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default: // nobody reads once started; drop
			}
		}
		cp.err = cmd.Wait()
		close(cp.exited)
	}()
	timeout := time.NewTimer(time.Minute)
	defer timeout.Stop()
	for cp.url == "" || cp.pprof == "" {
		select {
		case line := <-lines:
			if u, ok := strings.CutPrefix(line, "controlplane: serving "); ok {
				cp.url = u
			}
			if u, ok := strings.CutPrefix(line, "controlplane: pprof on "); ok {
				cp.pprof = strings.TrimSuffix(u, "/debug/pprof/")
			}
		case <-cp.exited:
			return nil, fmt.Errorf("controlplane exited at start: %v", cp.err)
		case <-timeout.C:
			cp.stop(time.Second)
			return nil, errors.New("controlplane did not print its URL within a minute")
		case <-ctx.Done():
			cp.stop(time.Second)
			return nil, ctx.Err()
		}
	}
	return cp, nil
}

// target is what run needs to talk to the process.
func (cp *controlPlane) target() (target, error) {
	ca, err := os.ReadFile(filepath.Join(cp.data, "ca.pem"))
	if err != nil {
		return target{}, err
	}
	tok, err := os.ReadFile(filepath.Join(cp.data, "admin-token"))
	if err != nil {
		return target{}, err
	}
	return target{URL: cp.url, CAPEM: ca, AdminToken: strings.TrimSpace(string(tok)), Stats: cp.stats, Collected: cp.collected}, nil
}

// stats reads RSS from /proc/PID/status, counts /proc/PID/fd, and reads
// the gauges and Go memory statistics from expvar.
func (cp *controlPlane) stats(ctx context.Context) (serverStats, error) {
	var st serverStats
	pid := cp.cmd.Process.Pid
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return st, err
	}
	st.RSSKiB, st.HWMKiB = statusKiB(status, "VmRSS:"), statusKiB(status, "VmHWM:")
	if stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
		st.CPU = statCPU(stat)
	}
	if fi, err := os.Stat(filepath.Join(cp.data, "controlplane.db-wal")); err == nil {
		st.WALKiB = fi.Size() >> 10
	}
	if fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid)); err == nil {
		st.FDs = len(fds)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, cp.pprof+"/debug/vars", nil)
	if err != nil {
		return st, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	var vars struct {
		CP       map[string]int `json:"controlplane"`
		MemStats struct {
			HeapInuse, HeapAlloc, StackInuse, Sys int64
			NumGC                                 uint32
		} `json:"memstats"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&vars); err != nil {
		return st, fmt.Errorf("decode /debug/vars: %w", err)
	}
	st.Waiting, st.Goroutines = vars.CP["waitingPolls"], vars.CP["goroutines"]
	st.HeapInuseKiB, st.StackKiB, st.GoSysKiB = vars.MemStats.HeapInuse>>10, vars.MemStats.StackInuse>>10, vars.MemStats.Sys>>10
	st.HeapAllocKiB = vars.MemStats.HeapAlloc >> 10
	st.NumGC = vars.MemStats.NumGC
	return st, nil
}

// collected is stats right after a garbage collection (pprof's heap
// profile with gc=1 runs one).
func (cp *controlPlane) collected(ctx context.Context) (serverStats, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, cp.pprof+"/debug/pprof/heap?gc=1", nil)
	if err != nil {
		return serverStats{}, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return serverStats{}, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return cp.stats(ctx)
}

// statCPU is utime+stime of a /proc/PID/stat line (USER_HZ is 100 on
// Linux).
func statCPU(stat []byte) time.Duration {
	s := string(stat)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:]) // f[0] is field 3 (state); utime is field 14
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	k, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+k) * 10 * time.Millisecond
}

// statusKiB reads a "Key:   123 kB" line of /proc/PID/status.
func statusKiB(status []byte, key string) int64 {
	for line := range strings.SplitSeq(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, key); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

// profile saves the control plane's pprof profile name (e.g. "heap",
// "profile?seconds=5") to path.
func (cp *controlPlane) profile(ctx context.Context, name, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, cp.pprof+"/debug/pprof/"+name, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("pprof %s: %s", name, resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// stop ends the process: SIGTERM (a graceful stop releases every held
// poll), then SIGKILL after grace. It reports how the process ended.
func (cp *controlPlane) stop(grace time.Duration) error {
	select {
	case <-cp.exited:
		return fmt.Errorf("controlplane had already exited: %v", cp.err)
	default:
	}
	cp.cmd.Process.Signal(syscall.SIGTERM)
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-cp.exited:
		return cp.err
	case <-t.C:
	}
	cp.cmd.Process.Kill()
	<-cp.exited
	return fmt.Errorf("controlplane did not stop within %v of SIGTERM; killed", grace)
}

// sumStats adds up the replicas' figures.
func sumStats(ctx context.Context, cps []*controlPlane, stats func(*controlPlane, context.Context) (serverStats, error)) (serverStats, error) {
	var sum serverStats
	for _, cp := range cps {
		st, err := stats(cp, ctx)
		if err != nil {
			return sum, err
		}
		sum.Waiting += st.Waiting
		sum.Goroutines += st.Goroutines
		sum.FDs += st.FDs
		sum.RSSKiB += st.RSSKiB
		sum.HWMKiB += st.HWMKiB
		sum.HeapInuseKiB += st.HeapInuseKiB
		sum.HeapAllocKiB += st.HeapAllocKiB
		sum.StackKiB += st.StackKiB
		sum.GoSysKiB += st.GoSysKiB
		sum.CPU += st.CPU
		sum.NumGC += st.NumGC
	}
	return sum, nil
}
