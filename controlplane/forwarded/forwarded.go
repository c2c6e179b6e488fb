// Package forwarded finds the client of a request that came through
// trusted reverse proxies (--trusted-proxy): only a peer inside the
// trusted prefixes is believed, and only as far as the X-Forwarded-For
// chain runs through trusted hops.
package forwarded

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
)

// ParseCIDRs reads a comma-separated list of CIDR prefixes or single IP
// addresses (--trusted-proxy).
func ParseCIDRs(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(list, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if p, err := netip.ParsePrefix(f); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("%q is not a CIDR prefix or an IP address", f)
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// trusted reports whether a is inside one of prefixes.
func trusted(prefixes []netip.Prefix, a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Client is the client address a request from peer (host:port, or a bare
// address) carried in X-Forwarded-For (every value of the header), or ""
// to keep the peer: only a peer in proxies is
// believed, and the client is the right-most address that is not itself
// a trusted proxy (left of it anyone could have written anything). A
// malformed entry ends the walk at the last trusted hop.
func Client(proxies []netip.Prefix, peer string, xff []string) string {
	host, _, err := net.SplitHostPort(peer)
	if err != nil {
		host = peer
	}
	pa, err := netip.ParseAddr(host)
	if err != nil || !trusted(proxies, pa) || len(xff) == 0 {
		return ""
	}
	var hops []string
	for _, v := range xff {
		for _, h := range strings.Split(v, ",") {
			hops = append(hops, strings.TrimSpace(h))
		}
	}
	client := ""
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(hops[i])
		if err != nil {
			break
		}
		client = a.Unmap().String()
		if !trusted(proxies, a) {
			break
		}
	}
	return client
}
