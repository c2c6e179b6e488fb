package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/nodeconsole/nodeconsole/atomicfile"
)

// proxyDropIn is the config.d file `network proxy` writes; it sorts after
// user data (50-user-data.yaml), so the operator's last word wins.
const proxyDropIn = "60-network-proxy.yaml"

// parseProxyURL checks a proxy URL as regclient uses it (http, https or
// socks5; a bare host:port means http) and returns it normalised. The
// error never quotes the URL: it may hold credentials.
func parseProxyURL(s string) (*url.URL, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New("the proxy URL is empty")
	}
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	u, err := url.Parse(s)
	switch {
	case err != nil || u.Host == "" || u.Hostname() == "":
		return nil, errors.New("the proxy is not a URL like http://proxy.example.com:3128")
	case u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "socks5":
		return nil, fmt.Errorf("the proxy scheme %q is not http, https or socks5", u.Scheme)
	case u.Path != "" && u.Path != "/" || u.RawQuery != "" || u.Fragment != "":
		return nil, errors.New("the proxy URL has a path, query or fragment; give only scheme://host:port")
	}
	u.Path = ""
	return u, nil
}

// proxyShown renders a proxy URL without its credentials, noting that
// there are some.
func proxyShown(s string) string {
	u, err := parseProxyURL(s)
	if err != nil {
		return "(invalid)"
	}
	shown := u.Scheme + "://" + u.Host
	if u.User != nil {
		shown += " (with credentials)"
	}
	return shown
}

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
			return usagef("network proxy: %s", flagError(err, args))
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
		u, err := parseProxyURL(raw)
		if err != nil {
			return usagef("network proxy: %s", err)
		}
		if _, ok := u.User.Password(); ok && pos[0] != "-" {
			fmt.Fprintln(stderr, "nodeconsole: warning: the proxy password is on the command line, where ps shows it; use 'network proxy -' and give the URL on stdin")
		}
		proxy = u.String()
		for _, e := range strings.Split(*noProxy, ",") {
			if strings.ContainsAny(strings.TrimSpace(e), " \t") {
				return usagef("network proxy: --no-proxy entry %q is not a host, domain or CIDR", e)
			}
		}
	}
	e, err := newEnv(ctx, g, envOpts{log: true, problems: stderr})
	if err != nil {
		return err
	}
	defer e.close()
	doc := map[string]any{"network": map[string]string{"httpsProxy": proxy, "noProxy": strings.TrimSpace(*noProxy)}}
	body, err := yaml.Marshal(doc)
	if err != nil {
		return fmt.Errorf("network proxy: %w", err)
	}
	body = append([]byte("# Written by 'nodeconsole network proxy'; changes here are overwritten.\n"), body...)
	dir := g.configDropInDir()
	if e.demo != nil {
		dir = filepath.Join(e.demo.stateDir, "config.d")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("network proxy: %w", err)
	}
	// Credentials in the URL: readable by the owner only.
	mode := os.FileMode(0o644)
	if strings.Contains(proxy, "@") {
		mode = 0o600
	}
	path := filepath.Join(dir, proxyDropIn)
	if err := atomicfile.WriteFile(path, body, mode); err != nil {
		return fmt.Errorf("network proxy: write %s: %w", path, err)
	}
	if *clear {
		e.log.Info("network proxy cleared", "audit", true, "file", path)
		fmt.Fprintf(stdout, "No proxy: control-plane connections go direct (%s).\n", path)
		return nil
	}
	e.log.Info("network proxy", "audit", true, "proxy", proxyShown(proxy), "noProxy", *noProxy, "file", path)
	fmt.Fprintf(stdout, "Proxy %s for control-plane connections (%s).\n", proxyShown(proxy), path)
	return nil
}
