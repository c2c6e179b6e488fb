// Package proxyurl checks the node's HTTPS proxy settings: the proxy URL
// and the no-proxy list. Both config (config check, user data) and
// netconfig (the CLI, Site settings) use it, so a value is judged the
// same way wherever it is typed.
package proxyurl

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// Parse checks a proxy URL as regclient uses it (http, https or
// socks5; a bare host:port means http) and returns it normalised; the
// `proxy` check of network.httpsProxy. The error never quotes the URL: it
// may hold credentials.
func Parse(s string) (*url.URL, error) {
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
	case u.Port() != "" && !validPort(u.Port()):
		return nil, fmt.Errorf("the proxy port %s is not a port number from 1 to 65535", u.Port())
	}
	u.Path = ""
	return u, nil
}

// validPort reports whether p is a decimal port number from 1 to 65535.
func validPort(p string) bool {
	n, err := strconv.ParseUint(p, 10, 16)
	return err == nil && n > 0
}

// ValidateNoProxy checks a no-proxy list: hosts, domains or CIDRs,
// separated by commas; the `noproxy` check of network.noProxy.
func ValidateNoProxy(list string) error {
	for _, e := range strings.Split(list, ",") {
		if strings.ContainsAny(strings.TrimSpace(e), " \t") {
			return fmt.Errorf("no-proxy entry %q is not a host, domain or CIDR", e)
		}
	}
	return nil
}
