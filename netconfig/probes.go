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
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Result is the outcome of one check: OK or FAIL, what was seen, and a
// one-line hint for the operator when it failed.
type Result struct {
	Check  string
	OK     bool
	Detail string
	Hint   string
}

// String renders the result as one line: "OK   gateway  192.0.2.1 answers
// ARP (02:...)" or "FAIL dns  ...: hint".
func (r Result) String() string {
	if r.OK {
		return fmt.Sprintf("OK   %-8s %s", r.Check, r.Detail)
	}
	s := fmt.Sprintf("FAIL %-8s %s", r.Check, r.Detail)
	if r.Hint != "" {
		s += " (" + r.Hint + ")"
	}
	return s
}

// Check is a named probe that can be run on its own, e.g. one per tea.Cmd
// on a diagnostics screen.
type Check struct {
	Name string
	Run  func(ctx context.Context) Result
}

// NeighborResolver resolves a neighbour on an interface (ARP for IPv4,
// neighbour discovery for IPv6) and returns its MAC address.
type NeighborResolver interface {
	ResolveNeighbor(ctx context.Context, ifname string, ip netip.Addr) (mac string, err error)
}

// DialFunc opens a connection, like net.Dialer.DialContext.
type DialFunc func(ctx context.Context, network, address string) (net.Conn, error)

// Prober runs the layered network checks: carrier, address, gateway, DNS,
// TCP, TLS and clock skew. The zero value of each optional field picks a
// sensible default.
type Prober struct {
	// Reader reports links and addresses (carrier and address checks).
	Reader Reader
	// Neighbors resolves the gateway (gateway check).
	Neighbors NeighborResolver
	// Dial opens the sockets of the DNS, TCP, TLS and clock checks; nil
	// means a net.Dialer in the calling thread's network namespace.
	Dial DialFunc
	// RootCAs verifies the control plane's certificate; nil means the
	// system roots.
	RootCAs *x509.CertPool
	// Roots, when set, replaces RootCAs and is called on the first TLS
	// check, not at start-up (reading the system roots costs tens of
	// milliseconds before the console's first frame). It must be safe
	// to call from several goroutines (e.g. sync.OnceValues). On an
	// error the pool it returns, if any, is still used.
	Roots func() (*x509.CertPool, error)
	// Now is the local clock; nil means time.Now.
	Now func() time.Time
	// Timeout bounds each check; 0 means 5 s.
	Timeout time.Duration
	// MaxSkew is the clock difference the clock check tolerates; 0 means
	// 5 minutes (certificates are backdated by the control plane).
	MaxSkew time.Duration
	// LeaseWait is how long the address check of a DHCP config waits for
	// the lease (and of IPv6 auto or dhcp for an address); 0 means 20 s.
	LeaseWait time.Duration
	// Proxy picks the proxy for a request to the control plane, as the
	// registration client does (regclient.ProxyFunc: network.httpsProxy
	// and network.noProxy); nil when no proxy is configured, and then
	// Checks has no proxy layer. Set it before the Prober is shared;
	// later changes go through SetProxy.
	Proxy func(*http.Request) (*url.URL, error)

	proxyMu sync.Mutex // guards Proxy once SetProxy is used
}

// SetProxy replaces Proxy while checks may be running in other goroutines
// (a proxy saved in the console's Site settings applies to the next
// check at once); nil removes the proxy layer.
func (p *Prober) SetProxy(f func(*http.Request) (*url.URL, error)) {
	p.proxyMu.Lock()
	defer p.proxyMu.Unlock()
	p.Proxy = f
}

// proxy is Proxy, read under the lock SetProxy takes.
func (p *Prober) proxy() func(*http.Request) (*url.URL, error) {
	p.proxyMu.Lock()
	defer p.proxyMu.Unlock()
	return p.Proxy
}

func (p *Prober) ctx(ctx context.Context) (context.Context, context.CancelFunc) {
	d := p.Timeout
	if d <= 0 {
		d = 5 * time.Second
	}
	return context.WithTimeout(ctx, d)
}

func (p *Prober) dial(ctx context.Context, network, address string) (net.Conn, error) {
	if p.Dial != nil {
		return p.Dial(ctx, network, address)
	}
	var d net.Dialer
	return d.DialContext(ctx, network, address)
}

func (p *Prober) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

func fail(check, detail, hint string) Result { return Result{Check: check, Detail: detail, Hint: hint} }
func ok(check, detail string) Result         { return Result{Check: check, OK: true, Detail: detail} }

// Carrier checks that ifname exists, is up and has a carrier.
func (p *Prober) Carrier(ctx context.Context, ifname string) Result {
	const name = "carrier"
	ifc, err := p.readIf(ctx, ifname)
	if err != nil {
		return fail(name, err.Error(), "Check the interface name.")
	}
	switch ifc.State {
	case LinkUp:
		return ok(name, ifname+" is up with a carrier")
	case LinkDown:
		return fail(name, ifname+" is administratively down", "Apply the settings again to bring the link up.")
	}
	return fail(name, ifname+" has no carrier", "Check the cable and the switch port.")
}

// Address checks that want is configured on ifname.
func (p *Prober) Address(ctx context.Context, ifname string, want netip.Prefix) Result {
	const name = "address"
	ifc, err := p.readIf(ctx, ifname)
	if err != nil {
		return fail(name, err.Error(), "Check the interface name.")
	}
	for _, a := range ifc.Addrs {
		if a == want {
			return ok(name, want.String()+" is on "+ifname)
		}
	}
	return fail(name, want.String()+" is not on "+ifname, "Something else (a DHCP client?) changed the address.")
}

// Lease waits until ifname has an IPv4 address, as a DHCP client that
// was just started needs a moment to get one (LeaseWait at most).
func (p *Prober) Lease(ctx context.Context, ifname string) Result {
	const name = "address"
	return p.poll(ctx, func(ctx context.Context) (Result, bool) {
		ifc, err := p.readIf(ctx, ifname)
		if err != nil {
			return fail(name, err.Error(), "Check the interface name."), false
		}
		for _, a := range ifc.Addrs {
			if a.Addr().Is4() {
				return ok(name, a.String()+" is on "+ifname+" (from DHCP)"), true
			}
		}
		return fail(name, "no DHCP lease on "+ifname+" within "+p.leaseWait().String(),
			"Check that a DHCP server answers on this network, or set a static address."), false
	})
}

// leaseWait is LeaseWait or its default.
func (p *Prober) leaseWait() time.Duration {
	if p.LeaseWait <= 0 {
		return 20 * time.Second
	}
	return p.LeaseWait
}

// poll calls try every 250 ms until it is done or LeaseWait has passed,
// and returns its last result: the last one from before the deadline, as
// a try the deadline cut short says only "context deadline exceeded"
// (which reached the screen, with the hint "Check the interface name").
func (p *Prober) poll(ctx context.Context, try func(ctx context.Context) (r Result, done bool)) Result {
	ctx, cancel := context.WithTimeout(ctx, p.leaseWait())
	defer cancel()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	var last Result
	for n := 0; ; n++ {
		r, done := try(ctx)
		if done {
			return r
		}
		if n == 0 || ctx.Err() == nil {
			last = r
		}
		select {
		case <-ctx.Done():
			return last
		case <-tick.C:
		}
	}
}

// DHCPGateway checks the default gateway a DHCP server gave ifname: that
// the default route goes through ifname and the gateway answers ARP.
func (p *Prober) DHCPGateway(ctx context.Context, ifname string) Result {
	const name = "gateway"
	if p.Reader == nil {
		return fail(name, "no status reader", "")
	}
	rctx, cancel := p.ctx(ctx)
	st, err := p.Reader.Read(rctx)
	cancel()
	switch {
	case err != nil:
		return fail(name, err.Error(), "")
	case !st.Gateway.IsValid() || st.GatewayInterface != ifname:
		ifc, _ := st.Interface(ifname)
		if !slices.ContainsFunc(ifc.Addrs, func(a netip.Prefix) bool { return a.Addr().Is4() }) {
			// No lease at all: not the server's doing.
			return fail(name, "no default route through "+ifname+": no DHCP lease", "Fix the address check first.")
		}
		return fail(name, "no default route through "+ifname, "The DHCP server gave no router; ask for one, or set a static address.")
	}
	return p.Gateway(ctx, ifname, st.Gateway)
}

func (p *Prober) readIf(ctx context.Context, ifname string) (Interface, error) {
	ctx, cancel := p.ctx(ctx)
	defer cancel()
	if p.Reader == nil {
		return Interface{}, errors.New("no status reader")
	}
	st, err := p.Reader.Read(ctx)
	if err != nil {
		return Interface{}, err
	}
	ifc, found := st.Interface(ifname)
	if !found {
		return Interface{}, fmt.Errorf("interface %s does not exist", ifname)
	}
	return ifc, nil
}

// Gateway checks that gw answers ARP (IPv6: neighbour discovery) on
// ifname; the check is "gateway6" for an IPv6 gateway.
func (p *Prober) Gateway(ctx context.Context, ifname string, gw netip.Addr) Result {
	name, proto := "gateway", "ARP"
	if gw.Is6() {
		name, proto = "gateway6", "neighbour discovery"
	}
	if p.Neighbors == nil {
		return fail(name, "no neighbour resolver configured", "")
	}
	ctx, cancel := p.ctx(ctx)
	defer cancel()
	mac, err := p.Neighbors.ResolveNeighbor(ctx, ifname, gw)
	if err != nil {
		return fail(name, gw.String()+" does not answer "+proto+" on "+ifname, "Check the gateway address, the VLAN and the cable.")
	}
	return ok(name, gw.String()+" answers "+proto+" ("+mac+")")
}

// Lookup resolves host to IPv4 addresses by asking each of servers in turn
// over UDP port 53 (nothing else: not /etc/hosts, not resolv.conf), and
// returns the addresses and the server that answered.
func (p *Prober) Lookup(ctx context.Context, servers []netip.Addr, host string) ([]netip.Addr, netip.Addr, error) {
	if len(servers) == 0 {
		return nil, netip.Addr{}, errors.New("no DNS servers configured")
	}
	var errs []error
	for _, srv := range servers {
		target := netip.AddrPortFrom(srv, 53).String()
		r := &net.Resolver{PreferGo: true, StrictErrors: true,
			Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return p.dial(ctx, network, target)
			}}
		addrs, err := r.LookupNetIP(ctx, "ip4", dnsName(host))
		if err == nil {
			return addrs, srv, nil
		}
		var de *net.DNSError
		if errors.As(err, &de) {
			// The resolver names the host's own resolv.conf server; the one
			// asked is srv.
			de.Server = target
		}
		errs = append(errs, fmt.Errorf("%s: %w", srv, err))
	}
	return nil, netip.Addr{}, errors.Join(errs...)
}

// dnsName makes host fully qualified, so that search domains are not tried.
func dnsName(host string) string {
	if strings.HasSuffix(host, ".") {
		return host
	}
	return host + "."
}

// dnsCheckName is asked of the DNS servers when the endpoint needs no
// lookup: .invalid never exists (RFC 6761), so a working server answers at
// once that it does not.
const dnsCheckName = "nodeconsole-check.invalid"

// DNS checks that host resolves through servers. When host is an IP
// address no lookup is needed, and the check tests that the configured
// servers answer at all.
func (p *Prober) DNS(ctx context.Context, servers []netip.Addr, host string) Result {
	return p.dns(ctx, servers, host, "the endpoint")
}

// dns is DNS for host, which is what (the endpoint, or the proxy).
func (p *Prober) dns(ctx context.Context, servers []netip.Addr, host, what string) Result {
	const name = "dns"
	ctx, cancel := p.ctx(ctx)
	defer cancel()
	if _, err := netip.ParseAddr(host); err == nil {
		if len(servers) == 0 {
			return ok(name, "no DNS server configured; "+what+" is an IP address, so none is needed")
		}
		var errs []error
		for _, srv := range servers {
			_, _, err := p.Lookup(ctx, []netip.Addr{srv}, dnsCheckName)
			var de *net.DNSError
			if err == nil || errors.As(err, &de) && de.IsNotFound {
				return ok(name, "DNS server "+srv.String()+" answers ("+what+" is an IP address: no lookup needed)")
			}
			errs = append(errs, err)
		}
		subject := "DNS servers " + joinAddrs(servers) + " do not answer"
		if len(servers) == 1 {
			subject = "DNS server " + servers[0].String() + " does not answer"
		}
		return fail(name, subject+" ("+dnsReason(errs)+")",
			strings.ToUpper(what[:1])+what[1:]+" is an IP address, so registration works without DNS; other names will not resolve. Check the DNS server addresses.")
	}
	addrs, srv, err := p.Lookup(ctx, servers, host)
	if err != nil {
		var de *net.DNSError
		hint := "Check the DNS server addresses and that the gateway forwards port 53."
		if errors.As(err, &de) && de.IsNotFound {
			hint = "The server answered but does not know the name; check the control-plane host name."
		}
		return fail(name, "cannot resolve "+host+": "+err.Error(), hint)
	}
	return ok(name, fmt.Sprintf("%s is %s (via %s)", host, joinAddrs(addrs), srv))
}

// dnsReason says in a few words why DNS servers did not answer (the
// whole error, with its Go prefixes, is too long for a check row). Go's
// resolver keeps a dial error only as text in net.DNSError, so the text is
// what is read.
func dnsReason(errs []error) string {
	text := errors.Join(errs...).Error()
	has := func(err error, words ...string) bool {
		if errors.Is(errors.Join(errs...), err) {
			return true
		}
		for _, w := range words {
			if strings.Contains(text, w) {
				return true
			}
		}
		return false
	}
	switch {
	case has(syscall.ECONNREFUSED, "connection refused"):
		return "refused: nothing listens on port 53"
	case has(syscall.EHOSTUNREACH, "no route to host", "network is unreachable"):
		return "no route to it"
	case has(os.ErrDeadlineExceeded, "i/o timeout", context.DeadlineExceeded.Error()):
		return "no answer in time"
	}
	return "no usable answer"
}

// dialReason says in a few words why a connection did not open: Go's
// error ("dial tcp 192.0.2.1:443: i/o timeout") repeats the address and
// speaks of syscalls. The simulated network's note is kept (--demo).
func dialReason(err error) string {
	var reason string
	var ne net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		reason = "refused"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		reason = "no route to it"
	case errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		reason = "no answer in time"
	default:
		var oe *net.OpError
		var se *simDialError
		switch {
		case errors.As(err, &se):
			reason = se.err.Error()
		case errors.As(err, &oe) && oe.Err != nil:
			reason = oe.Err.Error()
		default:
			reason = err.Error()
		}
	}
	if se := (*simDialError)(nil); errors.As(err, &se) && se.note != "" {
		reason += " (" + se.note + ")"
	}
	return reason
}

func joinAddrs(a []netip.Addr) string {
	s := make([]string, len(a))
	for i, x := range a {
		s[i] = x.String()
	}
	return strings.Join(s, ", ")
}

// TCP checks that a TCP connection to address (host:port) opens.
func (p *Prober) TCP(ctx context.Context, address string) Result {
	const name = "tcp"
	ctx, cancel := p.ctx(ctx)
	defer cancel()
	c, err := p.dial(ctx, "tcp", address)
	if err != nil {
		hint := "No answer: a firewall drops it, or the route is wrong."
		if errors.Is(err, syscall.ECONNREFUSED) {
			hint = "The host answered but nothing listens on that port."
		}
		return fail(name, "cannot connect to "+address+": "+dialReason(err), hint)
	}
	defer c.Close()
	detail := "connected to " + address
	if remote := c.RemoteAddr().String(); remote != address {
		detail += " (" + remote + ")" // the address a name resolved to
	}
	return ok(name, detail)
}

// rootCAs is the pool to verify with (nil: the system roots).
func (p *Prober) rootCAs() *x509.CertPool {
	if p.Roots != nil {
		pool, _ := p.Roots() // the caller logs the error; the check fails and says why
		return pool
	}
	return p.RootCAs
}

// TLS checks a TLS handshake with address, verifying the certificate for
// serverName against RootCAs. On a verification failure the detail names
// the issuer that was presented (an intercepting proxy shows up here).
func (p *Prober) TLS(ctx context.Context, address, serverName string) Result {
	const name = "tls"
	ctx, cancel := p.ctx(ctx)
	defer cancel()
	raw, err := p.dial(ctx, "tcp", address)
	if err != nil {
		return fail(name, "cannot connect to "+address+": "+dialReason(err), "Fix the TCP check first.")
	}
	defer raw.Close()
	var issuer string
	var verr error
	conf := &tls.Config{
		ServerName:         serverName,
		InsecureSkipVerify: true, // verified below, to learn the issuer even on failure
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) > 0 {
				issuer = cs.PeerCertificates[0].Issuer.String()
			}
			verr = p.verifyChain(cs, serverName)
			return verr
		},
	}
	c := tls.Client(raw, conf)
	if err := c.HandshakeContext(ctx); err != nil {
		if verr != nil {
			return fail(name, fmt.Sprintf("certificate from %s not trusted (issuer %q): %v", address, issuer, verr),
				"Something between the node and the control plane may intercept TLS, or the CA file is wrong.")
		}
		return fail(name, "TLS handshake with "+address+" failed: "+err.Error(), "Check that the port speaks TLS.")
	}
	return ok(name, fmt.Sprintf("TLS with %s verified (issuer %q)", address, issuer))
}

// ClockSkew compares the local clock with the Date header of an HTTPS
// response from rawURL. The certificate is not verified here: this check
// only reads the time, and a wrong clock is one reason verification fails.
func (p *Prober) ClockSkew(ctx context.Context, rawURL string) Result {
	return p.clockSkew(ctx, rawURL, nil)
}

// clockSkew is ClockSkew through proxy (nil: direct).
func (p *Prober) clockSkew(ctx context.Context, rawURL string, proxy func(*http.Request) (*url.URL, error)) Result {
	const name = "clock"
	ctx, cancel := p.ctx(ctx)
	defer cancel()
	tr := &http.Transport{
		DialContext:     p.dial,
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, // only the Date header is used
		Proxy:           proxy,
	}
	defer tr.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, rawURL, nil)
	if err != nil {
		return fail(name, "bad URL "+rawURL+": "+err.Error(), "")
	}
	before := p.now()
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return fail(name, "cannot reach "+rawURL+": "+dialReason(err), "Fix the TCP and TLS checks first.")
	}
	resp.Body.Close()
	after := p.now()
	date, err := http.ParseTime(resp.Header.Get("Date"))
	if err != nil {
		return fail(name, "the server sent no valid Date header", "")
	}
	local := before.Add(after.Sub(before) / 2)
	skew := local.Sub(date).Round(time.Second)
	max := p.MaxSkew
	if max <= 0 {
		max = 5 * time.Minute
	}
	if skew > max || skew < -max {
		return fail(name, fmt.Sprintf("local clock is off by %s", skew), "Set the clock or enable NTP; certificates depend on it.")
	}
	return ok(name, fmt.Sprintf("local clock within %s of the server", absDuration(skew)+time.Second))
}

func absDuration(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// Checks returns the layered checks for cfg against the control-plane
// endpoint URL (https://host[:port]; "" leaves out DNS, TCP, TLS, clock and
// proxy; the proxy layer only with Proxy set, and when it picks a proxy
// for the endpoint it replaces TCP and TLS, DNS looks up the proxy and the
// clock is read through it),
// in the order a diagnostics screen shows them. For a DHCP config the
// address check waits for the lease, and the gateway is the one the DHCP
// server gave (read when the check runs).
func (p *Prober) Checks(cfg Config, endpoint string) []Check {
	ifname := cfg.Interface
	checks := []Check{{Name: "carrier", Run: func(ctx context.Context) Result { return p.Carrier(ctx, ifname) }}}
	if cfg.Mode == ModeStatic {
		checks = append(checks,
			Check{Name: "address", Run: func(ctx context.Context) Result { return p.Address(ctx, ifname, cfg.Address) }},
		)
		if cfg.DefaultRoute {
			checks = append(checks, Check{Name: "gateway", Run: func(ctx context.Context) Result { return p.Gateway(ctx, ifname, cfg.Gateway) }})
		}
	} else {
		checks = append(checks,
			Check{Name: "address", Run: func(ctx context.Context) Result { return p.Lease(ctx, ifname) }},
			Check{Name: "gateway", Run: func(ctx context.Context) Result { return p.DHCPGateway(ctx, ifname) }},
		)
	}
	checks = append(checks, p.checks6(cfg)...)
	if endpoint == "" {
		return checks
	}
	u, err := url.Parse(endpoint)
	if err != nil || u.Hostname() == "" {
		return append(checks, Check{Name: "endpoint", Run: func(context.Context) Result {
			return fail("endpoint", fmt.Sprintf("control-plane endpoint %q is not a URL", endpoint), "Fix site.endpoint in the config.")
		}})
	}
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = "443"
	}
	dns := cfg.DNS
	// Through a proxy the node resolves and reaches only the proxy: the
	// DNS layer looks up the proxy's name, the proxy layer replaces TCP
	// and TLS, and the clock is read through it.
	proxied := p.proxyFor(endpoint)
	dnsHost, dnsWhat := host, "the endpoint"
	if proxied != nil {
		dnsHost, dnsWhat = proxied.Hostname(), "the proxy"
	}
	checks = append(checks, Check{Name: "dns", Run: func(ctx context.Context) Result {
		servers := dns
		if len(servers) == 0 && p.Reader != nil {
			if st, err := p.Reader.Read(ctx); err == nil {
				servers = st.DNS
			}
		}
		return p.dns(ctx, servers, dnsHost, dnsWhat)
	}})
	// TCP and TLS dial the resolved address, so that they test the network
	// and not the host's own resolver.
	resolve := func(ctx context.Context) string {
		if _, err := netip.ParseAddr(host); err == nil {
			return net.JoinHostPort(host, port)
		}
		servers := dns
		if len(servers) == 0 && p.Reader != nil {
			if st, err := p.Reader.Read(ctx); err == nil {
				servers = st.DNS
			}
		}
		if addrs, _, err := p.Lookup(ctx, servers, host); err == nil && len(addrs) > 0 {
			return net.JoinHostPort(addrs[0].String(), port)
		}
		return net.JoinHostPort(host, port)
	}
	if len(cfg.DNS6) > 0 {
		checks = append(checks, Check{Name: "dns6", Run: func(ctx context.Context) Result {
			r := p.dns(ctx, cfg.DNS6, dnsHost, dnsWhat)
			r.Check = "dns6"
			return r
		}})
	}
	if proxied != nil {
		return append(checks,
			Check{Name: "proxy", Run: func(ctx context.Context) Result { return p.ProxyCheck(ctx, endpoint) }},
			Check{Name: "clock", Run: func(ctx context.Context) Result {
				return p.clockSkew(ctx, "https://"+net.JoinHostPort(host, port)+"/", func(*http.Request) (*url.URL, error) { return proxied, nil })
			}})
	}
	checks = append(checks,
		Check{Name: "tcp", Run: func(ctx context.Context) Result { return p.TCP(ctx, resolve(ctx)) }},
		Check{Name: "tls", Run: func(ctx context.Context) Result { return p.TLS(ctx, resolve(ctx), host) }},
		Check{Name: "clock", Run: func(ctx context.Context) Result {
			return p.ClockSkew(ctx, "https://"+resolve(ctx)+"/")
		}},
	)
	if p.proxy() != nil {
		// Configured but not for the endpoint (network.noProxy): say so.
		checks = append(checks, Check{Name: "proxy", Run: func(ctx context.Context) Result { return p.ProxyCheck(ctx, endpoint) }})
	}
	return checks
}

// proxyFor is the proxy Proxy picks for endpoint, nil for none (no Proxy,
// noProxy, or an unusable setting, which the proxy layer reports).
func (p *Prober) proxyFor(endpoint string) *url.URL {
	pf := p.proxy()
	if pf == nil {
		return nil
	}
	req, err := http.NewRequest(http.MethodHead, endpoint, nil)
	if err != nil {
		return nil
	}
	u, err := pf(req)
	if err != nil {
		return nil
	}
	return u
}
