package netconfig

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
)

// ProxyCheck checks the way to the control plane through the HTTP(S)
// proxy that Prober.Proxy picks for endpoint: a CONNECT to the endpoint's
// host and port (the proxy resolves the name, as for the registration
// client), the proxy's answer, and a TLS handshake with the control plane
// through the tunnel, verified against the CA. The detail names the proxy
// by host and port only: credentials in its URL are never shown.
func (p *Prober) ProxyCheck(ctx context.Context, endpoint string) Result {
	const name = "proxy"
	pf := p.proxy()
	if pf == nil {
		return ok(name, "no proxy is set: connections to the control plane go direct")
	}
	u, err := url.Parse(endpoint)
	if err != nil || u.Hostname() == "" {
		return fail(name, fmt.Sprintf("control-plane endpoint %q is not a URL", endpoint), "Fix site.endpoint in the config.")
	}
	target := u.Host
	if u.Port() == "" {
		target = net.JoinHostPort(u.Hostname(), "443")
	}
	req, err := http.NewRequest(http.MethodHead, "https://"+target+"/", nil)
	if err != nil {
		return fail(name, err.Error(), "")
	}
	pu, err := pf(req)
	switch {
	case err != nil:
		return fail(name, "the proxy setting is not usable: "+err.Error(), "Set it again with 'nodeconsole network proxy'.")
	case pu == nil && isLoopbackHost(u.Hostname()):
		// Never proxied, whatever No proxy says (the demo's control plane).
		return ok(name, u.Hostname()+" is this node itself: connections to it never use the proxy")
	case pu == nil:
		return ok(name, u.Hostname()+" is in No proxy (network.noProxy): connections to it go direct")
	}
	shown := "proxy " + pu.Host
	if pu.Scheme != "http" {
		shown = "proxy " + pu.Scheme + "://" + pu.Host
	}
	// secret scrubs the proxy credentials from text taken from errors.
	secret := func(s string) string {
		if pu.User != nil {
			if pw, set := pu.User.Password(); set && pw != "" {
				s = strings.ReplaceAll(s, pw, "***")
			}
			s = strings.ReplaceAll(s, pu.User.String(), "***")
		}
		return s
	}
	ctx, cancel := p.ctx(ctx)
	defer cancel()
	var status string // the proxy's answer to CONNECT (http and https proxies)
	var verr error
	tr := &http.Transport{
		Proxy:       func(*http.Request) (*url.URL, error) { return pu, nil },
		DialContext: p.dial,
		TLSClientConfig: &tls.Config{ServerName: u.Hostname(), InsecureSkipVerify: true, // verified below, to tell why
			VerifyConnection: func(cs tls.ConnectionState) error {
				verr = p.verifyChain(cs, u.Hostname())
				return verr
			}},
		OnProxyConnectResponse: func(_ context.Context, _ *url.URL, _ *http.Request, res *http.Response) error {
			status = res.Status
			return nil
		},
		DisableKeepAlives: true,
	}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Do(req.WithContext(ctx))
	connect := shown + ": CONNECT " + target
	if status != "" {
		connect += " -> " + status
	}
	switch {
	case err == nil:
		resp.Body.Close()
		return ok(name, connect+"; the control plane answers through it (TLS verified)")
	case status != "" && !strings.HasPrefix(status, "200"):
		hint := "The proxy refused the tunnel; ask its operator to allow " + target + "."
		if strings.HasPrefix(status, "407") {
			hint = "The proxy wants credentials: give the URL with them to 'nodeconsole network proxy -'."
		}
		return fail(name, connect, hint)
	case verr != nil:
		return fail(name, connect+", but the control plane's certificate is not trusted: "+secret(verr.Error()),
			"The proxy may intercept TLS: add its CA to site.caCerts, or have it pass the control plane through.")
	case status != "":
		return fail(name, connect+", but no answer through the tunnel: "+secret(rootErr(err).Error()), "Check that the proxy reaches "+target+".")
	}
	hint := "Check the proxy address and port ('nodeconsole network show'), and that a firewall lets the node reach it."
	if errors.Is(err, syscall.ECONNREFUSED) {
		hint = "Nothing listens there: check the proxy port ('nodeconsole network show')."
	}
	return fail(name, "cannot reach "+shown+" ("+secret(rootErr(err).Error())+")", hint)
}

// verifyChain verifies a TLS peer's chain for serverName against the
// control plane's CA.
func (p *Prober) verifyChain(cs tls.ConnectionState, serverName string) error {
	if len(cs.PeerCertificates) == 0 {
		return errors.New("no certificate presented")
	}
	inter := x509.NewCertPool()
	for _, c := range cs.PeerCertificates[1:] {
		inter.AddCert(c)
	}
	_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{Roots: p.rootCAs(), Intermediates: inter, DNSName: serverName, CurrentTime: p.now()})
	return err
}

// rootErr strips the wrappers of a failed request (url.Error, OpError) down
// to what went wrong.
func rootErr(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	for {
		var oe *net.OpError
		if !errors.As(err, &oe) || oe.Err == nil {
			return err
		}
		err = oe.Err
	}
}

// isLoopbackHost reports whether host is localhost or a loopback address,
// which the proxy function never proxies.
func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.Unmap().IsLoopback()
}
