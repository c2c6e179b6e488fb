// Command cpload is the control plane load test of docs/performance.md
// ("Control plane at scale"). It builds and starts a real controlplane
// process on 127.0.0.1 (temporary data directory, SQLite, its own CA and
// TLS), then:
//
//  1. times -enrollments enrollments from -concurrency keep-alive HTTPS
//     clients, each enrollment with its own node ID and ECDSA P-256 CSR
//     (keys are made beforehand and not timed);
//  2. has -nodes of those nodes hold a long-poll at once, each on its own
//     connection, and reads the control plane's RSS (/proc/PID/status),
//     goroutines and file descriptors;
//  3. licenses -activate of the waiting nodes through the admin API (POST
//     /api/v1/activations/{code}) and times each License to the arrival of
//     that node's poll answer, whose certificate it verifies.
//
// With -db postgres it starts a throwaway PostgreSQL cluster (package
// testenv; or give -db a postgres:// URL of an empty database) and
// -replicas control planes on it sharing one data directory: node i
// enrolls and polls on replica i%N and is licensed on the next replica,
// so every License crosses replicas (LISTEN/NOTIFY). Figures are summed
// over the replicas.
//
// Everything is on loopback and bounded by -nodes and -timeout; cpload stops
// the control planes (and the cluster) and removes their files before it
// exits.
//
//	go run ./bench/cpload -nodes 10000 -activate 1000
//	go run ./bench/cpload -db postgres -replicas 2
//	make bench-cp
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/nodeconsole/nodeconsole/testenv"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := mainErr(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "cpload:", err)
		os.Exit(1)
	}
}

// fdMargin is the descriptors a process needs besides its connections.
const fdMargin = 256

func mainErr(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("cpload", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := config{Log: stderr}
	fs.IntVar(&cfg.Nodes, "nodes", 10000, "nodes holding a long-poll at once (one connection each)")
	fs.IntVar(&cfg.Enrollments, "enrollments", 0, "enrollments to time in phase 1 (default and minimum: -nodes)")
	fs.IntVar(&cfg.Concurrency, "concurrency", 32, "enrollment clients, one keep-alive connection each")
	fs.IntVar(&cfg.Activate, "activate", 1000, "waiting nodes to license through the admin API")
	fs.Float64Var(&cfg.ActivateRate, "activate-rate", 50, "License Node calls per second (0: as fast as -activate-conc allows)")
	fs.IntVar(&cfg.ActivateConc, "activate-conc", 8, "License Node calls in flight at most")
	fs.IntVar(&cfg.DialConc, "dial-conc", 64, "connections being set up at once while the nodes start polling")
	fs.BoolVar(&cfg.HTTP2, "h2", false, "negotiate HTTP/2 (default HTTP/1.1, as regclient before a node has its certificate)")
	fs.DurationVar(&cfg.Settle, "settle", 2*time.Minute, "how long to wait for every poll to be held")
	fs.DurationVar(&cfg.Hold, "hold", 30*time.Second, "after the activations, keep the other nodes waiting this long (steady-state cost)")
	timeout := fs.Duration("timeout", 10*time.Minute, "stop everything after this long")
	bin := fs.String("controlplane", "", "controlplane binary to run (default: go build ./cmd/controlplane)")
	cpFlags := fs.String("cp-flags", "", "extra flags for the controlplane, space-separated")
	cpEnv := fs.String("cp-env", "", "extra environment for the controlplane only, space-separated (e.g. GOMEMLIMIT=512MiB)")
	profDir := fs.String("profile", "", "save the control plane's CPU profiles (enrollment, ramp, activation) and heap profile (all waiting) in this directory")
	profSecs := fs.Int("profile-seconds", 5, "length of each CPU profile")
	jsonOut := fs.Bool("json", false, "print the result as JSON instead of text")
	keep := fs.Bool("keep", false, "keep the temporary directory (data, log)")
	dump := fs.String("dump", "", "write each activation's timings to this CSV file")
	db := fs.String("db", "sqlite", "store: sqlite, postgres (a throwaway cluster) or a postgres:// URL of an empty database")
	replicas := fs.Int("replicas", 1, "control planes sharing the database (-db postgres only)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if cfg.Nodes <= 0 || cfg.Nodes > 100000 || cfg.Enrollments > 1000000 || cfg.Activate < 0 || *timeout <= 0 {
		return errors.New("need 0 < -nodes <= 100000, -enrollments <= 1000000, -activate >= 0, -timeout > 0")
	}
	cfg.Enrollments = max(cfg.Enrollments, cfg.Nodes)
	if *replicas < 1 || (*replicas > 1 && *db == "sqlite") {
		return errors.New("-replicas N needs -db postgres (SQLite is one process's file)")
	}
	limit, err := raiseNoFile()
	if err != nil {
		return err
	}
	need := uint64(cfg.Nodes + max(cfg.Concurrency, cfg.ActivateConc) + fdMargin)
	if limit < need {
		return fmt.Errorf("-nodes %d needs %d file descriptors in cpload and in the control plane; RLIMIT_NOFILE is %d (raise the hard limit or lower -nodes)",
			cfg.Nodes, need, limit)
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()

	dir, err := os.MkdirTemp("", "cpload-")
	if err != nil {
		return err
	}
	if *keep {
		fmt.Fprintf(stderr, "cpload: keeping %s\n", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	if *bin == "" {
		fmt.Fprintln(stderr, "cpload: building cmd/controlplane")
		if *bin, err = buildControlPlane(ctx, dir, stderr); err != nil {
			return err
		}
	}
	extra := strings.Fields(*cpFlags)
	if *db != "sqlite" {
		dsn := *db
		if dsn == "postgres" {
			bin, err := testenv.FindPostgres()
			if err != nil {
				return err
			}
			pg, err := testenv.StartPostgres(bin)
			if err != nil {
				return err
			}
			defer pg.Stop()
			if dsn, err = pg.CreateDatabase(ctx); err != nil {
				return err
			}
		}
		extra = append(extra, "--db", dsn, "--replicas", fmt.Sprint(*replicas))
		defer reportRollbacks(dsn, stderr)
	}
	// The replicas share one data directory (the CA, server key and
	// secrets); the first creates it.
	var cps []*controlPlane
	stopped := false
	defer func() {
		if !stopped {
			for _, cp := range cps {
				cp.stop(5 * time.Second)
			}
		}
	}()
	for range *replicas {
		cp, err := startControlPlane(ctx, *bin, dir, extra, strings.Fields(*cpEnv))
		if err != nil {
			return err
		}
		cps = append(cps, cp)
		fmt.Fprintf(stderr, "cpload: controlplane pid %d at %s\n", cp.cmd.Process.Pid, cp.url)
	}
	cp := cps[0]
	t, err := cp.target()
	if err != nil {
		return err
	}
	if len(cps) > 1 {
		t.Stats = func(ctx context.Context) (serverStats, error) { return sumStats(ctx, cps, (*controlPlane).stats) }
		t.Collected = func(ctx context.Context) (serverStats, error) { return sumStats(ctx, cps, (*controlPlane).collected) }
		for _, c := range cps {
			t.Replicas = append(t.Replicas, c.url)
		}
	}

	var profs sync.WaitGroup
	if *profDir != "" {
		if err := os.MkdirAll(*profDir, 0o755); err != nil {
			return err
		}
		save := func(name, file string) {
			profs.Go(func() {
				if err := cp.profile(ctx, name, filepath.Join(*profDir, file)); err != nil {
					fmt.Fprintf(stderr, "cpload: profile %s: %v\n", file, err)
				}
			})
		}
		cpu := fmt.Sprintf("profile?seconds=%d", *profSecs)
		cfg.OnPhase = func(phase string) {
			switch phase {
			case "enroll":
				save(cpu, "cpu-enroll.pprof")
			case "ramp":
				save(cpu, "cpu-ramp.pprof")
			case "waiting": // synchronously, before anything else runs
				if err := cp.profile(ctx, "heap", filepath.Join(*profDir, "heap-waiting.pprof")); err != nil {
					fmt.Fprintf(stderr, "cpload: heap profile: %v\n", err)
				}
			case "activate":
				save(cpu, "cpu-activate.pprof")
			}
		}
	}

	if *dump != "" {
		f, err := os.Create(*dump)
		if err != nil {
			return err
		}
		defer f.Close()
		cfg.Dump = f
	}
	res, runErr := run(ctx, t, cfg)
	profs.Wait()
	var stopErr error
	for _, c := range cps {
		stopErr = errors.Join(stopErr, c.stop(15*time.Second))
	}
	stopped = true
	if res != nil {
		if *jsonOut {
			enc := json.NewEncoder(stdout)
			enc.SetIndent("", "  ")
			enc.Encode(res)
		} else {
			report(stdout, cfg, res, stopErr, *db, *replicas)
		}
	}
	if runErr != nil {
		return runErr
	}
	if stopErr != nil {
		return fmt.Errorf("stop controlplane: %w", stopErr)
	}
	return res.check(cfg)
}

// check turns what went wrong into an error. Only correctness counts here,
// never timing.
func (r *result) check(cfg config) error {
	var problems []string
	if r.EnrollErrors > 0 {
		problems = append(problems, fmt.Sprintf("%d enrollments failed (first: %s)", r.EnrollErrors, r.EnrollFirstErr))
	}
	if r.Pollers > 0 && !r.AllWaiting {
		problems = append(problems, fmt.Sprintf("at most %d of %d polls were held at once", r.MaxWaiting, r.Pollers))
	}
	if r.LicenseErrors > 0 {
		problems = append(problems, fmt.Sprintf("%d License Node calls failed (first: %s)", r.LicenseErrors, r.LicenseFirstErr))
	}
	if r.Answered != r.Licensed || r.CertsOK != r.Licensed {
		problems = append(problems, fmt.Sprintf("%d licensed, %d answered, %d certificates verified (first problem: %s)",
			r.Licensed, r.Answered, r.CertsOK, r.CertFirstErr))
	}
	if r.Unexpected > 0 {
		problems = append(problems, fmt.Sprintf("%d nodes that were not licensed stopped waiting (first poll error: %s)", r.Unexpected, r.PollFirstErr))
	}
	if r.PollsSlowDown > 0 {
		problems = append(problems, fmt.Sprintf("%d polls got slow_down", r.PollsSlowDown))
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

func mib(kib int64) float64 { return float64(kib) / 1024 }

// report prints the result for people.
func report(w io.Writer, cfg config, r *result, stopErr error, db string, replicas int) {
	proto := "HTTP/1.1"
	if cfg.HTTP2 {
		proto = "h2"
	}
	host, _ := os.Hostname()
	fmt.Fprintf(w, "cpload %s on %s: %d CPUs, %s/%s, %s\n", time.Now().UTC().Format(time.RFC3339), host,
		runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version())
	if db != "sqlite" {
		fmt.Fprintf(w, "store: PostgreSQL, %d replicas (each License on another replica than the node's poll; figures summed over replicas)\n", replicas)
	}
	fmt.Fprintf(w, "keys: %d ECDSA P-256 keys + CSRs in %v (not timed below)\n", cfg.Enrollments, r.KeyGen.Round(time.Millisecond))
	fmt.Fprintf(w, "enroll: %d enrollments in %v = %.0f/s with %d keep-alive %s clients; per request %v; errors %d\n",
		r.Enrolled, r.EnrollElapsed.Round(time.Millisecond), r.EnrollPerSec, cfg.Concurrency, proto, r.EnrollLatency, r.EnrollErrors)
	fmt.Fprintf(w, "  CPU: %v\n", r.EnrollCPU)
	if r.Pollers > 0 {
		per := float64(0)
		if r.Idle.Waiting > 0 {
			per = float64(r.Idle.RSSKiB-r.Before.RSSKiB) / float64(r.Idle.Waiting)
		}
		fmt.Fprintf(w, "long-poll: %d of %d nodes held at once (%s, one connection each; ramp %v)\n",
			r.Idle.Waiting, r.Pollers, proto, r.RampElapsed.Round(time.Millisecond))
		fmt.Fprintf(w, "  ramp CPU: %v\n", r.RampCPU)
		fmt.Fprintf(w, "  TCP connect %v\n  TLS handshake %v\n", r.Connect, r.Handshake)
		fmt.Fprintf(w, "  control plane RSS %.1f MiB (peak %.1f MiB) vs %.1f MiB before: %.1f KiB per waiting node\n",
			mib(r.Idle.RSSKiB), mib(r.Idle.HWMKiB), mib(r.Before.RSSKiB), per)
		fmt.Fprintf(w, "  Go heap in use %.1f MiB, stacks %.1f MiB, Go sys %.1f MiB; %d goroutines, %d fds\n",
			mib(r.Idle.HeapInuseKiB), mib(r.Idle.StackKiB), mib(r.Idle.GoSysKiB), r.Idle.Goroutines, r.Idle.FDs)
		if g, b := r.IdleGC, r.BeforeGC; g.Waiting > 0 {
			fmt.Fprintf(w, "  after a collection: live heap + stacks %.1f KiB per waiting node, heap in use + stacks %.1f KiB (%.1f -> %.1f MiB live)\n",
				float64(g.HeapAllocKiB+g.StackKiB-b.HeapAllocKiB-b.StackKiB)/float64(g.Waiting),
				float64(g.HeapInuseKiB+g.StackKiB-b.HeapInuseKiB-b.StackKiB)/float64(g.Waiting),
				mib(b.HeapAllocKiB+b.StackKiB), mib(g.HeapAllocKiB+g.StackKiB))
		}
		fmt.Fprintf(w, "  (cpload itself: peak RSS %.1f MiB)\n", mib(r.LoaderHWMKiB))
	}
	if r.Licensed+r.LicenseErrors > 0 {
		rate := "as fast as possible"
		if cfg.ActivateRate > 0 {
			rate = fmt.Sprintf("%g/s", cfg.ActivateRate)
		}
		fmt.Fprintf(w, "activate: %d licensed in %v (%s, %d in flight at most) while %d waited\n",
			r.Licensed, r.ActivateElapsed.Round(time.Millisecond), rate, cfg.ActivateConc, r.Pollers)
		fmt.Fprintf(w, "  License -> poll answer: %v\n", r.Activation)
		fmt.Fprintf(w, "  CPU: %v; GCs meanwhile: control plane %d, cpload %d\n", r.ActivateCPU, r.ServerGCs, r.LoaderGCs)
		fmt.Fprintf(w, "  License API call alone: %v\n", r.LicenseAPI)
		fmt.Fprintf(w, "  certificates verified %d/%d; license errors %d\n", r.CertsOK, r.Licensed, r.LicenseErrors)
		fmt.Fprintf(w, "  after: RSS %.1f MiB (peak %.1f MiB), %d goroutines\n", mib(r.After.RSSKiB), mib(r.After.HWMKiB), r.After.Goroutines)
	}
	if r.HoldCPU.Wall > 0 {
		fmt.Fprintf(w, "hold: %d nodes kept waiting for %v: %v\n", r.Held.Waiting, r.HoldCPU.Wall.Round(time.Second), r.HoldCPU)
		fmt.Fprintf(w, "  then RSS %.1f MiB (peak %.1f MiB), Go heap in use %.1f MiB, stacks %.1f MiB, %d goroutines\n",
			mib(r.Held.RSSKiB), mib(r.Held.HWMKiB), mib(r.Held.HeapInuseKiB), mib(r.Held.StackKiB), r.Held.Goroutines)
	}
	last := r.Held
	if r.HoldCPU.Wall <= 0 {
		last = r.After
	}
	if last.WALKiB > 0 {
		fmt.Fprintf(w, "SQLite WAL file at the end: %.1f MiB\n", mib(last.WALKiB))
	}
	fmt.Fprintf(w, "polls: %d ended pending and were sent again, %d slow_down, %d errors; %d unlicensed nodes stopped waiting\n",
		r.PollsPending, r.PollsSlowDown, r.PollErrors, r.Unexpected)
	if stopErr != nil {
		fmt.Fprintf(w, "controlplane stop: %v\n", stopErr)
	} else {
		fmt.Fprintln(w, "controlplane stopped cleanly on SIGTERM")
	}
}

// raiseNoFile raises RLIMIT_NOFILE's soft limit to the hard limit (the
// control plane, also a Go program, does the same) and returns it.
func raiseNoFile() (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, fmt.Errorf("getrlimit: %w", err)
	}
	if lim.Cur < lim.Max {
		lim.Cur = lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			return 0, fmt.Errorf("setrlimit: %w", err)
		}
	}
	return lim.Cur, nil
}

// reportRollbacks prints the database's committed and rolled-back
// transactions: the store's serialization retries are rollbacks (so are
// the few Updates a request ends with an error).
func reportRollbacks(dsn string, w io.Writer) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		fmt.Fprintf(w, "cpload: PostgreSQL statistics: %v\n", err)
		return
	}
	defer conn.Close(ctx)
	var commits, rollbacks int64
	if err := conn.QueryRow(ctx, `SELECT xact_commit, xact_rollback FROM pg_stat_database
		WHERE datname = current_database()`).Scan(&commits, &rollbacks); err != nil {
		fmt.Fprintf(w, "cpload: PostgreSQL statistics: %v\n", err)
		return
	}
	fmt.Fprintf(w, "cpload: PostgreSQL: %d transactions committed, %d rolled back (serialization retries, failed requests)\n",
		commits, rollbacks)
}
