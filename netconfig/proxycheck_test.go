package netconfig

import (
	"context"
	"crypto/x509"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/nodeconsole/nodeconsole/testenv"
)

// TestProxyCheck: the proxy layer CONNECTs through a real forward proxy
// to the control plane (TLS verified through the tunnel) and shows the
// proxy's answer; a refused tunnel, missing credentials, an untrusted
// certificate, a dead proxy and noProxy each give one sentence, and the
// proxy password never shows.
func TestProxyCheck(t *testing.T) {
	cp := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	cp.Config.ErrorLog = log.New(io.Discard, "", 0)
	cp.StartTLS()
	t.Cleanup(cp.Close)
	_, port, _ := net.SplitHostPort(cp.Listener.Addr().String())
	endpoint := "https://example.com:" + port // in the test certificate; only the proxy knows where it is
	roots := cp.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	const secret = "pr0xy-s3cret"
	proxy := testenv.ServeConnectProxy(t, ln, "edge", secret, func(host string) (string, bool) { return "127.0.0.1", host == "example.com" })
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadAddr := dead.Addr().String()
	dead.Close()
	fixed := func(raw string) func(*http.Request) (*url.URL, error) {
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		return func(*http.Request) (*url.URL, error) { return u, nil }
	}
	withCreds := "http://edge:" + secret + "@" + proxy.Addr
	tests := []struct {
		name, proxy, endpoint string
		roots                 *x509.CertPool
		ok                    bool
		want                  string
	}{
		{"through the proxy", withCreds, endpoint, roots, true,
			"OK   proxy    proxy " + proxy.Addr + ": CONNECT example.com:" + port + " -> 200 Connection established; the control plane answers through it (TLS verified)"},
		{"no credentials", "http://" + proxy.Addr, endpoint, roots, false,
			"FAIL proxy    proxy " + proxy.Addr + ": CONNECT example.com:" + port + " -> 407 Proxy Authentication Required (The proxy wants credentials: give the URL with them to 'nodeconsole network proxy -'.)"},
		{"refused destination", withCreds, "https://cp.example:8443", roots, false,
			"FAIL proxy    proxy " + proxy.Addr + ": CONNECT cp.example:8443 -> 403 Forbidden (The proxy refused the tunnel; ask its operator to allow cp.example:8443.)"},
		{"untrusted certificate", withCreds, endpoint, x509.NewCertPool(), false,
			"FAIL proxy    proxy " + proxy.Addr + ": CONNECT example.com:" + port + " -> 200 Connection established, but the control plane's certificate is not trusted: x509: certificate signed by unknown authority"},
		{"dead proxy", "http://edge:" + secret + "@" + deadAddr, endpoint, roots, false,
			"FAIL proxy    cannot reach proxy " + deadAddr + " (connect: connection refused) (Nothing listens there: check the proxy port ('nodeconsole network show').)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &Prober{Proxy: fixed(tt.proxy), RootCAs: tt.roots}
			r := p.ProxyCheck(context.Background(), tt.endpoint)
			if r.OK != tt.ok || !strings.HasPrefix(r.String(), tt.want) {
				t.Errorf("got  %s\nwant %s", r, tt.want)
			}
			if strings.Contains(r.String(), secret) {
				t.Errorf("the proxy password shows: %s", r)
			}
		})
	}
	p := &Prober{Proxy: func(*http.Request) (*url.URL, error) { return nil, nil }}
	if r := p.ProxyCheck(context.Background(), endpoint); !r.OK || r.Detail != "example.com is in No proxy (network.noProxy): connections to it go direct" {
		t.Errorf("noProxy: %s", r)
	}
	// Loopback is never proxied, listed or not (the demo's control plane
	// was said to be "in network.noProxy", which nobody had set).
	if r := p.ProxyCheck(context.Background(), "https://127.0.0.1:8443"); !r.OK || r.Detail != "127.0.0.1 is this node itself: connections to it never use the proxy" {
		t.Errorf("loopback: %s", r)
	}
	var names []string
	for _, c := range (&Prober{Proxy: fixed(withCreds)}).Checks(Config{Interface: "eth0", Mode: ModeDHCP}, endpoint) {
		names = append(names, c.Name)
	}
	diffLines(t, "checks with a proxy", names, []string{"carrier", "address", "gateway", "dns", "proxy", "clock"})
	names = nil
	for _, c := range p.Checks(Config{Interface: "eth0", Mode: ModeDHCP}, endpoint) {
		names = append(names, c.Name)
	}
	diffLines(t, "checks with the endpoint in noProxy", names, []string{"carrier", "address", "gateway", "dns", "tcp", "tls", "clock", "proxy"})
}
