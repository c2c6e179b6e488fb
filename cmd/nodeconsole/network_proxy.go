package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"

	"github.com/nodeconsole/nodeconsole/config"
	"github.com/nodeconsole/nodeconsole/netconfig"
	"github.com/nodeconsole/nodeconsole/regclient"
)

// netProxy is `nodeconsole network proxy (URL [--no-proxy LIST] | --clear)`:
// it writes network.httpsProxy and network.noProxy to config.d, where every
// later command (register, renew, the console) reads them. URL "-" reads
// the URL from stdin, keeping credentials off the command line.
func netProxy(ctx context.Context, g globals, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("network proxy", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	noProxy := fs.String("no-proxy", "", "")
	clear := fs.Bool("clear", false, "")
	// The URL may come before or after the flags.
	var pos []string
	rest := args
	for {
		if err := fs.Parse(rest); err != nil {
			return flagErr("network proxy", err, args)
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	switch {
	case *clear && (len(pos) > 0 || *noProxy != ""):
		return usagef("network proxy: --clear takes no URL and no --no-proxy")
	case !*clear && len(pos) != 1:
		return usagef("network proxy takes one URL (or - to read it from stdin), or --clear")
	}
	var proxy string
	if !*clear {
		raw := pos[0]
		if raw == "-" {
			line, err := bufio.NewReader(stdin).ReadString('\n')
			if err != nil && line == "" {
				return usagef("network proxy: no URL on stdin")
			}
			raw = line
		}
		u, err := netconfig.ParseProxyURL(raw)
		if err != nil {
			return usagef("network proxy: %s", err)
		}
		if _, ok := u.User.Password(); ok && pos[0] != "-" {
			fmt.Fprintln(stderr, "nodeconsole: warning: the proxy password is on the command line, where ps shows it; use 'network proxy -' and give the URL on stdin")
		}
		proxy = u.String()
		if err := netconfig.ValidateNoProxy(*noProxy); err != nil {
			return usagef("network proxy: --%s", err)
		}
	}
	e, err := newEnv(ctx, g, envOpts{log: true, problems: stderr})
	if err != nil {
		return err
	}
	defer e.close()
	path, err := e.site().SetProxy(proxy, *noProxy)
	if err != nil {
		return fmt.Errorf("network proxy: %w", err)
	}
	if *clear {
		e.log.Info("network proxy cleared", "audit", true, "file", path)
		fmt.Fprintf(stdout, "No proxy: control-plane connections go direct (%s).\n", path)
		return nil
	}
	e.log.Info("network proxy", "audit", true, "proxy", netconfig.ProxyShown(proxy), "noProxy", *noProxy, "file", path)
	fmt.Fprintf(stdout, "Proxy %s for control-plane connections (%s).\n", netconfig.ProxyShown(proxy), path)
	return nil
}

// liveProxy is the proxy (network.httpsProxy, network.noProxy) the
// console's background work uses: the config's until the console's Site
// settings save another. It is set in the UI's Update and read by the
// background renewal's goroutine, hence atomic.
type liveProxy struct{ v atomic.Pointer[[2]string] }

// set records a proxy saved in the console.
func (l *liveProxy) set(proxy, noProxy string) { l.v.Store(&[2]string{proxy, noProxy}) }

// apply puts the proxy in use into n (unchanged until one was saved).
func (l *liveProxy) apply(n *config.Network) {
	if v := l.v.Load(); v != nil {
		n.HTTPSProxy, n.NoProxy = v[0], v[1]
	}
}

// proberProxy is the network checks' proxy function for proxy and
// noProxy, as the registration client picks it; nil for no proxy. An
// unusable setting fails the proxy layer with its reason.
func proberProxy(proxy, noProxy string) func(*http.Request) (*url.URL, error) {
	if proxy == "" {
		return nil
	}
	pf, err := regclient.ProxyFunc(proxy, noProxy)
	if err != nil {
		return func(*http.Request) (*url.URL, error) { return nil, err }
	}
	return pf
}

// proxyChanged is what the console does when Site settings save a proxy:
// the checks and the background renewal use it from then on.
func (e *env) proxyChanged(mgr *netconfig.Manager) func(proxy, noProxy string) {
	return func(proxy, noProxy string) {
		e.proxy.set(proxy, noProxy)
		if mgr != nil && mgr.Prober() != nil {
			mgr.Prober().SetProxy(proberProxy(strings.TrimSpace(proxy), noProxy))
		}
	}
}
