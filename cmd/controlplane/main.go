// Command controlplane is the reference control plane that nodes register
// with: HTTPS API and web portal, SQLite in --data, or PostgreSQL with --db
// (several replicas sharing one database and the key files in --data).
//
//	controlplane [--listen ADDR] [--data DIR] [--db postgres://... [--replicas N]] [--hostname NAME] [--code-ttl DURATION]
//	             [--enroll-limit BURST/EVERY|off] [--max-pending N] [--max-pending-per-source N]
//	             [--pending-retention DURATION] [--event-retention DURATION] [--pprof LOOPBACK-ADDR]
//	             [--tls-cert FILE --tls-key FILE] [--trusted-proxy CIDR,...] [--metrics-listen ADDR]
//	controlplane [--data DIR] user add NAME --role admin|operator|site|viewer [--sites S1,S2] [--password-stdin]
//	controlplane [--data DIR] user (list [--json] | disable | enable | reset-password | delete | totp) NAME
//	controlplane [--data DIR] user token NAME [--expires DURATION] [--name LABEL]
//	controlplane [--data DIR] user (tokens NAME | revoke-token ID)
//	controlplane [--data DIR] admin-token rotate
//	controlplane [--data DIR] backup --out FILE
//	controlplane restore --from FILE --data DIR
//
// The user and admin-token subcommands work on the database in --data while
// the server runs (see docs/portal.md).
//
// On first start it creates a CA (DATA/ca.pem) and an admin token
// (DATA/admin-token, mode 0600). It stops gracefully on SIGTERM or SIGINT.
//
// Unless GOGC is set, the garbage collector runs at GOGC=50 (gcPercent).
//
// --pprof serves net/http/pprof and expvar (/debug/vars, with the number of
// held long-polls and goroutines under "controlplane") on a loopback
// address, for profiling and the load test in bench/cpload.
package main

import (
	"context"
	"errors"
	"expvar"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	_ "net/http/pprof" // served only with --pprof, on loopback
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/nodeconsole/nodeconsole/controlplane"
	"github.com/nodeconsole/nodeconsole/controlplane/backup"
	"github.com/nodeconsole/nodeconsole/controlplane/forwarded"
	"github.com/nodeconsole/nodeconsole/controlplane/ratelimit"
	"github.com/nodeconsole/nodeconsole/controlplane/store/postgres"
)

// synopsis heads --help, before the flags.
const synopsis = `Usage:
  controlplane [flags]                  serve the API and portal
  controlplane [--data DIR] user ...    portal users and API tokens ('controlplane user' lists them)
  controlplane [--data DIR] admin-token rotate
  controlplane [--data DIR] backup --out FILE
  controlplane restore --from FILE --data DIR

Flags:
`

// usageError marks bad command-line input (exit status 2).
type usageError struct{ error }

func (e usageError) Unwrap() error { return e.error }

// gcPercent is the garbage collector's target unless GOGC is set. With
// thousands of nodes waiting, memory is mostly their connections (live, and
// goroutine stacks, which the GOGC headroom also scales with), while little
// is allocated per second: 50 instead of 100 saves ~120 MiB at 10,000
// waiting nodes for ~3% of a core (docs/performance.md).
const gcPercent = 50

func main() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return // the usage is printed
		}
		fmt.Fprintln(os.Stderr, "controlplane:", err)
		var ue usageError
		if errors.As(err, &ue) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("controlplane", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:8443", "address to serve HTTPS on")
	data := fs.String("data", "controlplane-data", "data directory (database, CA, admin token)")
	db := fs.String("db", "", "PostgreSQL URL (postgres://USER@HOST/DB?sslmode=verify-full) shared by replicas; without it SQLite in --data. Keep the password out of it: use a pgpass file (passfile=FILE or PGPASSFILE)")
	replicas := fs.Int("replicas", 1, "how many replicas share --db: each keeps 1/N of every rate limit, so N replicas together allow what one does")
	hostname := fs.String("hostname", "", "comma-separated names or IPs for the server certificate and URLs (localhost and 127.0.0.1 are always included)")
	codeTTL := fs.Duration("code-ttl", 15*time.Minute, "how long an activation code works")
	publicURL := fs.String("public-url", "", "base URL nodes and admins use, if not https://HOSTNAME:PORT")
	updates := fs.String("updates", "", "directory of nodeconsole-VERSION-ARCH builds to offer as updates")
	logFile := fs.String("log", "", "JSON log file (default stderr)")
	def := ratelimit.Defaults().EnrollPerIP
	enrollLimit := fs.String("enroll-limit", formatLimit(def),
		"new enrollments allowed per source IP: BURST/EVERY (BURST at once, then one per EVERY), or off")
	maxPending := fs.Int("max-pending", controlplane.DefaultMaxPending,
		"cap on enrollments waiting for an admin; past it new ones get 429 (0: no cap)")
	maxPerSource := fs.Int("max-pending-per-source", controlplane.DefaultMaxPendingPerSource,
		"cap on waiting enrollments from one source address (IPv6: one /64) (0: no cap)")
	pendingRetention := fs.Duration("pending-retention", controlplane.DefaultPendingRetention,
		"how long expired or cancelled enrollments and never-licensed pending nodes are kept")
	eventRetention := fs.Duration("event-retention", controlplane.DefaultEventRetention, "how long events are kept")
	certTTL := fs.Duration("cert-ttl", controlplane.DefaultCertTTL, "how long a node certificate is valid (nodes renew at 2/3 of it)")
	trustDomain := fs.String("trust-domain", "", "SPIFFE trust domain of node certificates (default the first --hostname, else localhost)")
	renewGrace := fs.Duration("renew-grace", controlplane.DefaultRenewGrace, "how long a renewed certificate still works if the new one is not used")
	reenrollGrace := fs.Duration("reenroll-grace", controlplane.DefaultReenrollGrace,
		"how long after its certificate expired a node may enroll again with its key and be registered again without an admin")
	tlsCert := fs.String("tls-cert", "", "server certificate chain (PEM) to serve instead of one signed by the control plane's CA; re-read when it changes")
	tlsKey := fs.String("tls-key", "", "key of --tls-cert (PEM)")
	trustedProxy := fs.String("trusted-proxy", "", "comma-separated CIDRs of reverse proxies whose X-Forwarded-For gives the client address")
	metricsListen := fs.String("metrics-listen", "", "serve Prometheus /metrics without authentication on this address (plain HTTP); otherwise /metrics is on --listen behind the admin credential")
	pprofAddr := fs.String("pprof", "", "serve net/http/pprof and expvar on this loopback address (e.g. 127.0.0.1:6060)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), synopsis)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	limits := ratelimit.Defaults()
	var err error
	if limits.EnrollPerIP, err = parseLimit(*enrollLimit); err != nil {
		return usageError{fmt.Errorf("--enroll-limit: %w", err)}
	}
	if *replicas < 1 {
		return usageError{errors.New("--replicas must be 1 or more")}
	}
	if *pprofAddr != "" {
		if err := checkLoopback(*pprofAddr); err != nil {
			return usageError{fmt.Errorf("--pprof: %w", err)}
		}
	}
	if *pendingRetention <= 0 || *eventRetention <= 0 {
		return usageError{errors.New("--pending-retention and --event-retention must be positive")}
	}
	if *maxPending < 0 || *maxPerSource < 0 {
		return usageError{errors.New("--max-pending and --max-pending-per-source must be 0 (no cap) or more")}
	}
	if fs.NArg() > 0 && (fs.Arg(0) == "user" || fs.Arg(0) == "admin-token") {
		return runAccounts(ctx, *data, *db, fs.Args(), stdout)
	}
	if *db != "" {
		if err := checkDBURL(*db); err != nil {
			return usageError{err}
		}
	}
	if fs.NArg() > 0 && (fs.Arg(0) == "backup" || fs.Arg(0) == "restore") {
		if *db != "" {
			return usageError{errors.New("backup and restore are for the SQLite store; with --db back up the database with pg_dump and the key files in --data (docs/operations.md)")}
		}
		return runBackup(ctx, *data, fs.Args(), stdout, stderr)
	}
	if *certTTL < 10*time.Second || *renewGrace <= 0 || *reenrollGrace <= 0 {
		return usageError{errors.New("--cert-ttl must be at least 10s; --renew-grace and --reenroll-grace must be positive")}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}
	if *codeTTL <= 0 {
		return usageError{errors.New("--code-ttl must be positive")}
	}
	if (*tlsCert == "") != (*tlsKey == "") {
		return usageError{errors.New("--tls-cert and --tls-key go together")}
	}
	proxies, err := forwarded.ParseCIDRs(*trustedProxy)
	if err != nil {
		return usageError{fmt.Errorf("--trusted-proxy: %w", err)}
	}
	logOut := stderr
	if *logFile != "" {
		f, err := os.OpenFile(*logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return fmt.Errorf("open log: %w", err)
		}
		defer f.Close()
		logOut = f
	}
	log := slog.New(slog.NewJSONHandler(logOut, nil))
	var hosts []string
	for _, h := range strings.Split(*hostname, ",") {
		if h = strings.TrimSpace(h); h != "" {
			hosts = append(hosts, h)
		}
	}
	opts := controlplane.Options{
		DataDir: *data, Hostnames: hosts, PublicURL: *publicURL, CodeTTL: *codeTTL, UpdatesDir: *updates, Logger: log,
		RateLimits: &limits, Replicas: *replicas, MaxPending: noCap(*maxPending), MaxPendingPerSource: noCap(*maxPerSource),
		PendingRetention: *pendingRetention, EventRetention: *eventRetention,
		CertTTL: *certTTL, TrustDomain: *trustDomain, RenewGrace: *renewGrace, ReenrollGrace: *reenrollGrace,
		TLSCertFile: *tlsCert, TLSKeyFile: *tlsKey, TrustedProxies: proxies, MetricsElsewhere: *metricsListen != "",
	}
	if *db != "" {
		st, err := postgres.Open(ctx, *db)
		if err != nil {
			return err
		}
		if opts.Notifier, err = st.Notifier(ctx, log); err != nil {
			st.Close()
			return err
		}
		opts.Store = st // the server closes it
	}
	cp, err := controlplane.Open(opts)
	if err != nil {
		if opts.Store != nil {
			opts.Store.Close()
		}
		return err
	}
	defer cp.Close()
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	cp.SetListenAddr(ln.Addr())
	if *pprofAddr != "" {
		stopDebug, err := serveDebug(*pprofAddr, cp, stdout, log)
		if err != nil {
			ln.Close()
			return err
		}
		defer stopDebug()
	}
	if *metricsListen != "" {
		stopMetrics, err := serveMetrics(*metricsListen, cp, stdout, log)
		if err != nil {
			ln.Close()
			return err
		}
		defer stopMetrics()
	}
	fmt.Fprintf(stdout, "controlplane: serving %s\n", cp.URL())
	fmt.Fprintf(stdout, "controlplane: CA certificate %s\n", cp.CAPath())
	fmt.Fprintf(stdout, "controlplane: admin token in %s\n", cp.AdminTokenPath())
	log.Info("serving", "url", cp.URL(), "data", *data, "store", storeName(*db))
	err = cp.Serve(ctx, ln)
	log.Info("stopped")
	return err
}

// runBackup runs "backup --out FILE" (online, beside a running server) and
// "restore --from FILE --data DIR" (into an empty or new directory).
func runBackup(ctx context.Context, data string, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("controlplane "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "", "archive to write (mode 0600; it holds the CA key and secrets)")
	from := fs.String("from", "", "archive to restore")
	fs.StringVar(&data, "data", data, "data directory")
	if err := fs.Parse(args[1:]); err != nil {
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}
	if args[0] == "backup" {
		if *out == "" || *from != "" {
			return usageError{errors.New("backup needs --out FILE")}
		}
		if err := backup.Write(ctx, data, *out); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "controlplane: backup of %s written to %s\n", data, *out)
		return nil
	}
	if *from == "" || *out != "" {
		return usageError{errors.New("restore needs --from FILE --data DIR")}
	}
	if err := backup.Restore(*from, data); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "controlplane: %s restored into %s\n", *from, data)
	return nil
}

// noCap maps a flag's 0 (no cap) to the Options' negative.
func noCap(n int) int {
	if n == 0 {
		return -1
	}
	return n
}

// formatLimit writes l as parseLimit reads it.
func formatLimit(l ratelimit.Limit) string {
	if l.Burst <= 0 {
		return "off"
	}
	return fmt.Sprintf("%d/%s", l.Burst, l.Every)
}

// parseLimit reads "BURST/EVERY" (e.g. "30/2s") or "off".
func parseLimit(s string) (ratelimit.Limit, error) {
	if s == "off" || s == "0" {
		return ratelimit.Limit{}, nil
	}
	b, e, ok := strings.Cut(s, "/")
	burst, err := strconv.Atoi(b)
	if !ok || err != nil || burst <= 0 {
		return ratelimit.Limit{}, fmt.Errorf("%q is not BURST/EVERY (e.g. 30/2s) or off", s)
	}
	every, err := time.ParseDuration(e)
	if err != nil || every <= 0 {
		return ratelimit.Limit{}, fmt.Errorf("%q is not BURST/EVERY (e.g. 30/2s) or off", s)
	}
	return ratelimit.Limit{Burst: burst, Every: every}, nil
}

// checkLoopback refuses a debug address that is not a loopback IP.
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("%s is not a loopback address", addr)
	}
	return nil
}

var (
	// debugCP is the server whose gauges /debug/vars shows (expvar names
	// are process-wide and published once).
	debugCP     atomic.Pointer[controlplane.Server]
	publishOnce sync.Once
)

// serveMetrics serves /metrics (plain HTTP, no authentication) on addr.
func serveMetrics(addr string, cp *controlplane.Server, stdout io.Writer, log *slog.Logger) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--metrics-listen: listen: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", cp.MetricsHandler())
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics server", "err", err)
		}
	}()
	fmt.Fprintf(stdout, "controlplane: metrics on http://%s/metrics\n", ln.Addr())
	return func() { hs.Close() }, nil
}

// serveDebug serves http.DefaultServeMux (net/http/pprof, expvar) on addr
// and publishes the control plane's gauges; it prints the URL it serves.
func serveDebug(addr string, cp *controlplane.Server, stdout io.Writer, log *slog.Logger) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--pprof: listen: %w", err)
	}
	debugCP.Store(cp)
	publishOnce.Do(func() {
		expvar.Publish("controlplane", expvar.Func(func() any {
			out := map[string]int{"goroutines": runtime.NumGoroutine()}
			if cp := debugCP.Load(); cp != nil {
				out["waitingPolls"] = cp.Waiting()
			}
			return out
		}))
	})
	hs := &http.Server{Handler: http.DefaultServeMux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("pprof server", "err", err)
		}
	}()
	fmt.Fprintf(stdout, "controlplane: pprof on http://%s/debug/pprof/\n", ln.Addr())
	return func() { hs.Close() }, nil
}

// checkDBURL accepts a postgres:// or postgresql:// URL. The error never
// repeats the URL (it may carry a password).
func checkDBURL(db string) error {
	if !strings.HasPrefix(db, "postgres://") && !strings.HasPrefix(db, "postgresql://") {
		return errors.New("--db: want a postgres://USER@HOST/DB URL")
	}
	return nil
}

// storeName names the store in the log, without the URL (it may carry a
// password).
func storeName(db string) string {
	if db != "" {
		return "postgresql"
	}
	return "sqlite"
}
