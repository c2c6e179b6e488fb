package main

import (
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nodeconsole/nodeconsole/controlplane"
	"github.com/nodeconsole/nodeconsole/controlplane/cptest"
	"github.com/nodeconsole/nodeconsole/netconfig"
	"github.com/nodeconsole/nodeconsole/testenv"
)

// newConnectProxy is a CONNECT proxy on loopback that wants basic
// credentials and sends every tunnel for host "cp.test" to 127.0.0.1 (so
// the node can only reach the control plane through it).
func newConnectProxy(t *testing.T, user, pass string) *testenv.ConnectProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return testenv.ServeConnectProxy(t, ln, user, pass, func(host string) (string, bool) { return "127.0.0.1", host == "cp.test" })
}

// newProxiedCP is a control plane known as cp.test (a name only the test
// proxies resolve), its URL and a single-use registration token.
func newProxiedCP(t *testing.T) (*cptest.Server, *url.URL, string) {
	t.Helper()
	cp := cptest.NewWith(t, controlplane.Options{Hostnames: []string{"cp.test"}})
	cpURL, err := url.Parse(cp.URL)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := cp.CreateToken("line-1", "retail", "", true)
	if err != nil {
		t.Fatal(err)
	}
	return cp, cpURL, tok.Token
}

// TestNetworkProxyRegister: `network proxy -` (URL with credentials on
// stdin) is persisted in config.d and used by register against the real
// control plane, whose name only the proxy resolves; the credentials never
// show in output or the log; network show --json shows the proxy without
// them; a wrong proxy gives one clear line; --clear removes it.
func TestNetworkProxyRegister(t *testing.T) {
	cp, cpURL, tok := newProxiedCP(t)
	const secret = "s3cret-proxy-pw"
	proxy := newConnectProxy(t, "edge", secret)
	dir := t.TempDir()
	n := cliNode{state: filepath.Join(dir, "state"), config: filepath.Join(dir, "config.yaml")}
	cfg := fmt.Sprintf("node: {name: %s}\nsite:\n  endpoint: https://cp.test:%s\n  caCerts: [%s]\n  registrationToken: %s\nnetwork: {resolvConf: %s}\n",
		cliNodeID, cpURL.Port(), cp.CAPath, tok, filepath.Join(dir, "resolv.conf"))
	if err := os.WriteFile(n.config, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	args := func(a ...string) []string {
		return append([]string{"--state-dir", n.state, "--config", n.config}, a...)
	}
	var outs []string

	// A proxy where nothing listens: one clear line, nothing registered.
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadAddr := dead.Addr().String()
	dead.Close()
	if code, out, errs := runNet(t, "", args("network", "proxy", "http://"+deadAddr, "--no-proxy", "10.0.0.0/8")...); code != 0 {
		t.Fatalf("network proxy: exit %d %s %s", code, out, errs)
	}
	code, out, errs := runNet(t, "", args("register", "--timeout", "3s")...)
	if code != 1 || strings.Count(errs, "\n") != 1 || !strings.Contains(strings.ToLower(errs), "proxy") {
		t.Errorf("register through a dead proxy: exit %d, stderr %q; want 1 and one line naming the proxy", code, errs)
	}
	outs = append(outs, out, errs)

	code, out, errs = runNet(t, "http://edge:"+secret+"@"+proxy.Addr+"\n", args("network", "proxy", "-")...)
	if code != 0 || !strings.Contains(out, "Proxy http://"+proxy.Addr+" (with credentials)") {
		t.Fatalf("network proxy -: exit %d %q %q", code, out, errs)
	}
	outs = append(outs, out, errs)
	if fi, err := os.Stat(filepath.Join(dir, "config.d", netconfig.ProxyDropIn)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("drop-in with credentials: %v, %v; want mode 0600", fi, err)
	}
	code, out, errs = runNet(t, "", args("network", "show", "--json")...)
	var doc struct {
		Proxy *showProxy `json:"proxy"`
	}
	if err := json.Unmarshal([]byte(out), &doc); code != 0 || err != nil || doc.Proxy == nil || doc.Proxy.URL != "http://"+proxy.Addr+" (with credentials)" {
		t.Errorf("show --json proxy: exit %d, %v, %s", code, err, out)
	}
	outs = append(outs, out, errs)

	code, out, errs = runNet(t, "", args("register")...)
	if code != 0 || !strings.Contains(out, "Registered as "+cliNodeID) {
		t.Fatalf("register through the proxy: exit %d\n%s\n%s", code, out, errs)
	}
	if proxy.Tunnels.Load() == 0 {
		t.Error("registration did not go through the proxy")
	}
	outs = append(outs, out, errs)

	code, _, errs = runNet(t, "", args("network", "proxy", "--clear")...)
	if code != 0 {
		t.Fatalf("--clear: exit %d %s", code, errs)
	}
	if _, out, _ = runNet(t, "", args("network", "show")...); !strings.Contains(out, "Proxy:     none") {
		t.Errorf("after --clear:\n%s", out)
	}
	outs = append(outs, out, errs)
	logData, _ := os.ReadFile(filepath.Join(n.state, "nodeconsole.log"))
	for _, s := range append(outs, string(logData)) {
		if strings.Contains(s, secret) {
			t.Errorf("the proxy password shows in output or log:\n%s", s)
		}
	}
}

func TestNetworkProxyBadInput(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{}, "takes one URL"},
		{[]string{"ftp://proxy:21"}, `the proxy scheme "ftp" is not http, https or socks5`},
		{[]string{"http://user:pw@proxy:3128/path"}, "has a path, query or fragment"},
		{[]string{"http://"}, "is not a URL like"},
		{[]string{"http://proxy:99999"}, "the proxy port 99999 is not a port number from 1 to 65535"},
		{[]string{"--clear", "http://proxy:3128"}, "--clear takes no URL"},
		{[]string{"a", "b"}, "takes one URL"},
		{[]string{"http://proxy:3128", "--frob"}, "--frob"},
	} {
		code, out, errs := runNet(t, "", append([]string{"--demo", "network", "proxy"}, tt.args...)...)
		if code != 2 || out != "" || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, tt.want) || strings.Contains(errs, "pw@") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want 2 and %q", tt.args, code, out, errs, tt.want)
		}
	}
}
