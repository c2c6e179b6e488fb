//go:build linux

package main

import (
	"os"
	"strings"
	"testing"
)

// TestNetworkShowDefaultFamilies: network show says which default route an
// interface carries: an IPv6-only one is not shown as the default route.
func TestNetworkShowDefaultFamilies(t *testing.T) {
	l := newNSLab(t)
	if err := os.MkdirAll(l.state, 0o755); err != nil {
		t.Fatal(err)
	}
	l.must("-n", l.node, "link", "add", "veth1", "type", "veth", "peer", "name", "gw1", "netns", l.peer)
	l.must("-n", l.node, "link", "set", "veth1", "up")
	l.must("-n", l.node, "-6", "route", "add", "default", "via", "fe80::1", "dev", "veth1")
	code, out, errs := l.nodeconsole("network", "show")
	if code != 0 || !strings.Contains(out, "192.0.2.50/24 ipv6 auto (default route)\n") || !strings.Contains(out, " (IPv6 default route)\n") {
		t.Errorf("IPv6 default on veth1: exit %d %s\n%s", code, errs, out)
	}
	if _, js, _ := l.nodeconsole("network", "show", "--json"); !strings.Contains(js, `"default": true`) {
		t.Errorf("json:\n%s", js)
	}
	l.must("-n", l.node, "-6", "route", "del", "default", "dev", "veth1")
	l.must("-n", l.node, "-6", "route", "add", "default", "via", "fe80::1", "dev", "veth0")
	if code, out, errs := l.nodeconsole("network", "show"); code != 0 || !strings.Contains(out, "192.0.2.50/24 ipv6 auto (default route, IPv6 default route)\n") {
		t.Errorf("both on veth0: exit %d %s\n%s", code, errs, out)
	}
}
