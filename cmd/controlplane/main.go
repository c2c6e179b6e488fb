// Command controlplane is the reference control plane that nodes register
// with: HTTPS API and web portal, SQLite in --data.
//
//	controlplane [--listen ADDR] [--data DIR] [--hostname NAME] [--code-ttl DURATION]
//
// On first start it creates a CA (DATA/ca.pem) and an admin token
// (DATA/admin-token, mode 0600). It stops gracefully on SIGTERM or SIGINT.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/nodeconsole/nodeconsole/controlplane"
)

// usageError marks bad command-line input (exit status 2).
type usageError struct{ error }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
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
	hostname := fs.String("hostname", "", "comma-separated names or IPs for the server certificate and URLs (localhost and 127.0.0.1 are always included)")
	codeTTL := fs.Duration("code-ttl", 15*time.Minute, "how long an activation code works")
	publicURL := fs.String("public-url", "", "base URL nodes and admins use, if not https://HOSTNAME:PORT")
	updates := fs.String("updates", "", "directory of nodeconsole-VERSION-ARCH builds to offer as updates")
	logFile := fs.String("log", "", "JSON log file (default stderr)")
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}
	if *codeTTL <= 0 {
		return usageError{errors.New("--code-ttl must be positive")}
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
	cp, err := controlplane.Open(controlplane.Options{
		DataDir: *data, Hostnames: hosts, PublicURL: *publicURL, CodeTTL: *codeTTL, UpdatesDir: *updates, Logger: log,
	})
	if err != nil {
		return err
	}
	defer cp.Close()
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	cp.SetListenAddr(ln.Addr())
	fmt.Fprintf(stdout, "controlplane: serving %s\n", cp.URL())
	fmt.Fprintf(stdout, "controlplane: CA certificate %s\n", cp.CAPath())
	fmt.Fprintf(stdout, "controlplane: admin token in %s\n", cp.AdminTokenPath())
	log.Info("serving", "url", cp.URL(), "data", *data)
	err = cp.Serve(ctx, ln)
	log.Info("stopped")
	return err
}
