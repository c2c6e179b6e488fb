package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"runtime"
	"testing"
	"time"

	"github.com/nodeconsole/nodeconsole/api"
	"github.com/nodeconsole/nodeconsole/controlplane"
	"github.com/nodeconsole/nodeconsole/controlplane/cptest"
	"github.com/nodeconsole/nodeconsole/controlplane/ratelimit"
	"github.com/nodeconsole/nodeconsole/testenv"
)

// The load program's core at a small scale against the real control plane
// in-process: every count is checked, no time is (machines are shared).
func TestRunSmall(t *testing.T) {
	limits := ratelimit.Defaults()
	limits.EnrollPerIP = ratelimit.Limit{} // every node is 127.0.0.1 here
	cp := cptest.NewWith(t, controlplane.Options{RateLimits: &limits, MaxPendingPerSource: -1})
	tg := target{URL: cp.URL, CAPEM: cp.CAPEM, AdminToken: cp.AdminToken,
		Stats: func(context.Context) (serverStats, error) {
			return serverStats{Waiting: cp.Control().Waiting(), Goroutines: runtime.NumGoroutine()}, nil
		}}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	const nodes, enrollments, activate = 200, 250, 150
	var dump bytes.Buffer
	var phases []string
	res, err := run(ctx, tg, config{Nodes: nodes, Enrollments: enrollments, Concurrency: 8, Activate: activate,
		ActivateConc: 4, DialConc: 16, HTTP2: true, Log: io.Discard, Dump: &dump,
		OnPhase: func(p string) { phases = append(phases, p) }})
	if err != nil {
		t.Fatal(err)
	}
	if err := res.check(config{}); err != nil {
		t.Fatal(err)
	}
	if res.Enrolled != enrollments || res.EnrollErrors != 0 {
		t.Errorf("enrolled %d with %d errors, want %d and 0 (%s)", res.Enrolled, res.EnrollErrors, enrollments, res.EnrollFirstErr)
	}
	if res.Pollers != nodes || !res.AllWaiting || res.Idle.Waiting != nodes {
		t.Errorf("%d pollers, all waiting %v, server held %d; want %d", res.Pollers, res.AllWaiting, res.Idle.Waiting, nodes)
	}
	if res.Licensed != activate || res.Answered != activate || res.CertsOK != activate || res.Activation.N != activate {
		t.Errorf("licensed %d, answered %d, certificates verified %d, timed %d; want %d each (%s %s)",
			res.Licensed, res.Answered, res.CertsOK, res.Activation.N, activate, res.LicenseFirstErr, res.CertFirstErr)
	}
	if res.Unexpected != 0 || res.PollErrors != 0 || res.PollsSlowDown != 0 {
		t.Errorf("%d unexpected answers, %d poll errors, %d slow_down (%s)", res.Unexpected, res.PollErrors, res.PollsSlowDown, res.PollFirstErr)
	}
	if got := bytes.Count(dump.Bytes(), []byte("\n")); got != activate+1 {
		t.Errorf("dump has %d lines, want a header and %d rows", got, activate)
	}
	if want := []string{"enroll", "ramp", "waiting", "activate"}; !equal(phases, want) {
		t.Errorf("phases %q, want %q", phases, want)
	}

	// The server agrees: the licensed nodes are registered, the rest pending.
	list, err := cp.Nodes()
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, n := range list {
		count[n.Status]++
	}
	if count[api.StatusRegistered] != activate || count[api.StatusPending] != enrollments-activate {
		t.Errorf("server has %v, want %d registered and %d pending", count, activate, enrollments-activate)
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// The whole program as `make bench-cp` runs it, at a small scale: builds
// and starts the controlplane binary, reads its RSS and file descriptors,
// stops it with SIGTERM and removes its files.
func TestMainSmall(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the controlplane binary")
	}
	var out, errOut bytes.Buffer
	err := mainErr(context.Background(), []string{"-nodes", "200", "-enrollments", "200", "-activate", "200",
		"-activate-rate", "0", "-concurrency", "8", "-hold", "1s", "-timeout", "5m", "-json"}, &out, &errOut)
	if err != nil {
		t.Fatalf("cpload: %v\n%s", err, errOut.String())
	}
	var res result
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("decode -json output: %v\n%s", err, out.String())
	}
	if res.Enrolled != 200 || !res.AllWaiting || res.Idle.Waiting != 200 || res.CertsOK != 200 || res.Unexpected != 0 {
		t.Errorf("enrolled %d, all waiting %v (%d), certificates %d, unexpected %d; want 200, true (200), 200, 0",
			res.Enrolled, res.AllWaiting, res.Idle.Waiting, res.CertsOK, res.Unexpected)
	}
	// Measured from the separate process: one descriptor per node at
	// least, and no goroutine per node (HTTP/1.1 polls are parked).
	if res.Idle.RSSKiB <= 0 || res.Idle.FDs < 200 || res.Idle.Goroutines >= 100 || res.IdleGC.HeapAllocKiB <= 0 {
		t.Errorf("control plane stats %+v (after a collection %+v): want RSS, >= 200 fds, < 100 goroutines and the live heap",
			res.Idle, res.IdleGC)
	}
}

// Replicas mode at a small scale: two controlplane binaries on a
// throwaway PostgreSQL cluster; every node is licensed on the other
// replica than the one holding its poll, and every one gets its
// certificate.
func TestMainReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the controlplane binary")
	}
	if _, err := testenv.FindPostgres(); err != nil {
		testenv.SkipOrFail(t, err.Error())
	}
	var out, errOut bytes.Buffer
	err := mainErr(context.Background(), []string{"-db", "postgres", "-replicas", "2", "-nodes", "100", "-activate", "100",
		"-activate-rate", "0", "-concurrency", "8", "-hold", "0s", "-timeout", "5m", "-json"}, &out, &errOut)
	if err != nil {
		t.Fatalf("cpload: %v\n%s", err, errOut.String())
	}
	var res result
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("decode -json output: %v\n%s", err, out.String())
	}
	if res.Enrolled != 100 || !res.AllWaiting || res.Idle.Waiting != 100 || res.CertsOK != 100 || res.Unexpected != 0 {
		t.Errorf("enrolled %d, all waiting %v (%d), certificates %d, unexpected %d; want 100, true (100), 100, 0",
			res.Enrolled, res.AllWaiting, res.Idle.Waiting, res.CertsOK, res.Unexpected)
	}
}
