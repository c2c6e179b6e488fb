package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/nodeconsole/nodeconsole/regclient"
	"github.com/nodeconsole/nodeconsole/tui"
)

// cmdRenew is `nodeconsole renew [--force]`: it renews the node
// certificate over mutual TLS with a new key when two thirds of its life
// have passed (always with --force), and finishes a renewal a crash
// interrupted. Exit 0 when nothing was due or the renewal worked (one line
// on stdout says which); 1 with one line on stderr otherwise (the node
// keeps the certificate it had). A node that is not registered exits 0
// with nothing to do. The .deb's nodeconsole-renew.timer runs it daily.
func cmdRenew(ctx context.Context, g globals, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("renew", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	force := fs.Bool("force", false, "")
	if err := parseNoArgs(fs, "renew", args); err != nil {
		return err
	}
	e, err := newEnv(ctx, g, envOpts{log: true, problems: stderr})
	if err != nil {
		return err
	}
	defer e.close()
	if ok, err := e.registered("renew"); err != nil || !ok {
		if err == nil {
			fmt.Fprintln(stdout, "This node is not registered; nothing to renew.")
		}
		return err
	}
	r, err := e.registrar("renew")
	if err != nil {
		return err
	}
	rn := &regclient.Renewer{Client: r.Client, Store: e.store, NodeID: e.nodeID, Logger: e.log}
	res, err := rn.Renew(ctx, *force)
	if err != nil {
		if errors.Is(err, regclient.ErrCertificateExpired) || errors.Is(err, regclient.ErrRevoked) || errors.Is(err, regclient.ErrUnknownCertificate) {
			return fmt.Errorf("renew: %s; register the node again (Register Node)", oneLine(err))
		}
		return fmt.Errorf("renew: %s; the current certificate is kept", oneLine(err))
	}
	when := res.Cert.NotAfter.Local().Format(time.DateTime)
	if res.Renewed {
		fmt.Fprintf(stdout, "Certificate renewed; valid until %s.\n", when)
		return nil
	}
	fmt.Fprintf(stdout, "Certificate valid until %s; renewal due from %s.\n", when, res.Cert.RenewAfter.Local().Format(time.DateTime))
	return nil
}

// renewEveryEnv overrides how often the console checks its certificate
// (a duration; tests use seconds with a short --cert-ttl).
const renewEveryEnv = "NODECONSOLE_RENEW_EVERY"

// backgroundRenew is the console's tui.RenewFunc: Renew without force, at
// the endpoint the node registered with when the config names none.
func (e *env) backgroundRenew() tui.RenewFunc {
	return func(ctx context.Context) (bool, error) {
		st, err := e.store.Load()
		if err != nil || st.State != regclient.Registered {
			return false, nil
		}
		cfg := e.cfg
		e.proxy.apply(&cfg.Network)
		if cfg.Site.Endpoint == "" {
			cfg.Site.Endpoint = st.Endpoint
		}
		c, err := regclient.New(regclient.ConfigOptions(cfg, e.g.caFile, e.log, version))
		if err != nil {
			return false, err
		}
		rn := &regclient.Renewer{Client: c, Store: e.store, NodeID: e.nodeID, Logger: e.log}
		res, err := rn.Renew(ctx, false)
		return res.Renewed, err
	}
}

// renewEvery is $NODECONSOLE_RENEW_EVERY, or 0 (the default, hourly).
func renewEvery() time.Duration {
	d, err := time.ParseDuration(os.Getenv(renewEveryEnv))
	if err != nil || d <= 0 {
		return 0
	}
	return d
}
