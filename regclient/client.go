package regclient

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/nodeconsole/nodeconsole/api"
	"github.com/nodeconsole/nodeconsole/config"
)

// Defaults for Options.
const (
	// DefaultTimeout bounds every request except the long-poll.
	DefaultTimeout = 15 * time.Second
	// DefaultLongPoll is how long the client asks the server to hold a poll.
	DefaultLongPoll = 25 * time.Second
	// DeregisterTimeout bounds the Deregister event (issue 5).
	DeregisterTimeout = 10 * time.Second
	// maxBody bounds what the client reads from an answer.
	maxBody = 1 << 20
)

// Options configures a Client. Only Endpoint is required.
type Options struct {
	// Endpoint is the control plane's https base URL.
	Endpoint string
	// CAPEMs are extra PEM CA certificates trusted for the control plane,
	// added to the system roots (never replacing them).
	CAPEMs [][]byte
	// CAFiles are files of PEM CA certificates (config site.caCerts,
	// --ca-file), added to the system roots too.
	CAFiles []string
	// HTTPSProxy is config network.httpsProxy; when empty the environment
	// (HTTPS_PROXY, NO_PROXY) is used.
	HTTPSProxy string
	// NoProxy is config network.noProxy: comma-separated hosts, domains
	// (".example.com" or "example.com" match subdomains), IPs, CIDRs or "*".
	NoProxy string
	// Timeout bounds each request; default DefaultTimeout. The long-poll
	// gets LongPoll on top.
	Timeout time.Duration
	// LongPoll is how long the server may hold a poll; default
	// DefaultLongPoll. Negative disables long-polling (plain interval
	// polling).
	LongPoll time.Duration
	// Logger receives debug logs; secrets are never logged. Default
	// discards.
	Logger *slog.Logger
	// Version is this nodeconsole's version, sent in User-Agent.
	Version string
	// Certificate is the node certificate for mutual TLS (node/self,
	// node/deregister).
	Certificate *tls.Certificate
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Client talks to one control plane. It is safe for concurrent use.
type Client struct {
	opts     Options
	base     *url.URL
	hc       *http.Client
	tr       *http.Transport
	roots    *x509.CertPool
	proxy    func(*http.Request) (*url.URL, error)
	log      *slog.Logger
	now      func() time.Time
	timeout  time.Duration
	longPoll time.Duration
}

// New builds a Client. It fails when the endpoint is not an https URL, a
// CA file cannot be read or holds no certificate, or the proxy URL is bad.
func New(opts Options) (*Client, error) {
	if err := config.ValidEndpoint(opts.Endpoint); err != nil {
		return nil, fmt.Errorf("regclient: endpoint: %w", err)
	}
	base, err := url.Parse(strings.TrimRight(opts.Endpoint, "/"))
	if err != nil {
		return nil, fmt.Errorf("regclient: endpoint: %w", err)
	}
	c := &Client{opts: opts, base: base, log: opts.Logger, now: opts.Now, timeout: opts.Timeout, longPoll: opts.LongPoll}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.timeout <= 0 {
		c.timeout = DefaultTimeout
	}
	if c.longPoll == 0 {
		c.longPoll = DefaultLongPoll
	}
	if c.roots, err = rootPool(opts.CAPEMs, opts.CAFiles); err != nil {
		return nil, err
	}
	if c.proxy, err = ProxyFunc(opts.HTTPSProxy, opts.NoProxy); err != nil {
		return nil, err
	}
	// A session cache lets a reconnect (a long-poll after an idle close, a
	// restart of the control plane) resume TLS instead of a full handshake.
	tlsConf := &tls.Config{RootCAs: c.roots, MinVersion: tls.VersionTLS12, ClientSessionCache: tls.NewLRUClientSessionCache(4)}
	if opts.Certificate != nil {
		cert := opts.Certificate
		tlsConf.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return cert, nil }
	}
	c.tr = &http.Transport{
		Proxy:                 c.proxy,
		DialContext:           (&net.Dialer{Timeout: c.timeout, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:       tlsConf,
		TLSHandshakeTimeout:   c.timeout,
		ResponseHeaderTimeout: 0, // the request context bounds it
		MaxIdleConns:          4,
		IdleConnTimeout:       60 * time.Second,
		Protocols:             clientProtocols(opts.Certificate != nil),
	}
	c.hc = &http.Client{
		Transport: c.tr,
		// A redirect away from the API (captive portals do this) is
		// reported rather than followed.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return c, nil
}

// clientProtocols is HTTP/2 (or HTTP/1.1 where h2 is not offered) for a
// client with a certificate, and HTTP/1.1 only before the node has one:
// the enrollment long-poll then waits on the control plane without a
// goroutine of its own (a parked poll, ~10 KiB instead of ~60 KiB on h2;
// docs/performance.md).
func clientProtocols(mtls bool) *http.Protocols {
	p := new(http.Protocols)
	p.SetHTTP1(true)
	p.SetHTTP2(mtls)
	return p
}

// WithCertificate returns a Client like c that presents cert for mutual
// TLS and also trusts the PEM CAs in extraCA (the node's identity/ca.crt).
func (c *Client) WithCertificate(cert *tls.Certificate, extraCA []byte) (*Client, error) {
	o := c.opts
	o.Certificate = cert
	if len(extraCA) > 0 {
		o.CAPEMs = append(append([][]byte{}, o.CAPEMs...), extraCA)
	}
	return New(o)
}

// Endpoint is the control plane's base URL.
func (c *Client) Endpoint() string { return c.base.String() }

// CloseIdleConnections closes kept-alive connections (after Deregister).
func (c *Client) CloseIdleConnections() { c.tr.CloseIdleConnections() }

// rootPool is the system roots plus the extra CAs; any CA that cannot be
// used is an error.
func rootPool(pems [][]byte, files []string) (*x509.CertPool, error) {
	pool, errs := RootCAs(pems, files)
	if len(errs) > 0 {
		return nil, errs[0]
	}
	return pool, nil
}

// RootCAs is the one CA-bundle parser (the client's and the network
// checks'): the system roots plus the PEM blocks and the PEM files. It
// returns the pool with everything that could be read, and one error for
// each CA that could not.
func RootCAs(pems [][]byte, files []string) (*x509.CertPool, []error) {
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	var errs []error
	for i, p := range pems {
		if !pool.AppendCertsFromPEM(p) {
			errs = append(errs, fmt.Errorf("regclient: CA certificate %d holds no PEM certificate", i+1))
		}
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			errs = append(errs, fmt.Errorf("regclient: read CA file: %w", err))
			continue
		}
		if !pool.AppendCertsFromPEM(data) {
			errs = append(errs, fmt.Errorf("regclient: CA file %s holds no PEM certificate", f))
		}
	}
	return pool, errs
}

// ProxyFunc is the proxy the client uses for a request: the explicit
// proxy (network.httpsProxy) unless the host is in noProxy (or loopback),
// or with no explicit proxy the environment's (HTTPS_PROXY, NO_PROXY). The
// error never quotes the proxy URL: it may hold credentials.
func ProxyFunc(proxy, noProxy string) (func(*http.Request) (*url.URL, error), error) {
	if strings.TrimSpace(proxy) == "" {
		return http.ProxyFromEnvironment, nil
	}
	if !strings.Contains(proxy, "://") {
		proxy = "http://" + proxy
	}
	pu, err := url.Parse(proxy)
	if err != nil || pu.Host == "" {
		// Not quoted: the URL may hold credentials.
		return nil, errors.New("regclient: network.httpsProxy is not a URL like http://proxy.example.com:3128")
	}
	if pu.Scheme != "http" && pu.Scheme != "https" && pu.Scheme != "socks5" {
		return nil, fmt.Errorf("regclient: network.httpsProxy scheme %q is not http, https or socks5", pu.Scheme)
	}
	return func(r *http.Request) (*url.URL, error) {
		if bypassProxy(r.URL, noProxy) {
			return nil, nil
		}
		return pu, nil
	}, nil
}

// bypassProxy reports whether u's host matches the no-proxy list.
func bypassProxy(u *url.URL, noProxy string) bool {
	host, port := u.Hostname(), u.Port()
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	if ip != nil && ip.IsLoopback() {
		return true
	}
	for _, e := range strings.Split(noProxy, ",") {
		e = strings.ToLower(strings.TrimSpace(e))
		if e == "" {
			continue
		}
		if e == "*" {
			return true
		}
		if _, n, err := net.ParseCIDR(e); err == nil {
			if ip != nil && n.Contains(ip) {
				return true
			}
			continue
		}
		if h, p, err := net.SplitHostPort(e); err == nil {
			if p != port {
				continue
			}
			e = h
		}
		if eip := net.ParseIP(e); eip != nil {
			if ip != nil && eip.Equal(ip) {
				return true
			}
			continue
		}
		e = strings.TrimPrefix(e, "*")
		d := strings.TrimPrefix(e, ".")
		h := strings.ToLower(host)
		if h == d || strings.HasSuffix(h, "."+d) {
			return true
		}
	}
	return false
}

// call sends one JSON request and decodes a 2xx JSON answer into out (nil
// to ignore). hdr adds headers (never logged). timeout bounds the whole
// request. It returns the HTTP status and a *Error on failure.
func (c *Client) call(ctx context.Context, op, method, path string, hdr http.Header, in, out any, timeout time.Duration) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return 0, &Error{Op: op, Message: "cannot encode the request", Err: err}
		}
		body = bytes.NewReader(b)
	}
	u := *c.base
	if p, q, ok := strings.Cut(path, "?"); ok {
		u.Path, u.RawQuery = strings.TrimRight(u.Path, "/")+p, q
	} else {
		u.Path = strings.TrimRight(u.Path, "/") + path
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return 0, &Error{Op: op, Message: "cannot build the request", Err: err}
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "nodeconsole/"+c.opts.Version)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	start := c.now()
	resp, err := c.hc.Do(req)
	if err != nil {
		e := c.transportError(ctx, op, err, timeout)
		c.log.Debug("request failed", "op", op, "path", path, "err", err)
		return 0, e
	}
	defer resp.Body.Close()
	data, rerr := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	c.log.Debug("request", "op", op, "path", path, "status", resp.StatusCode, "took", c.now().Sub(start).Round(time.Millisecond))
	if rerr != nil {
		e := c.transportError(ctx, op, rerr, timeout)
		e.Status = resp.StatusCode
		if e.Message == "" || errors.Is(e, ErrUnreachable) {
			e.Message = "the connection broke while reading the answer: " + e.Message
		}
		return resp.StatusCode, e
	}
	if resp.StatusCode >= 300 {
		return resp.StatusCode, c.statusError(op, resp, data)
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		return resp.StatusCode, nil
	}
	if err := decodeAPI(resp, data, out); err != nil {
		err.Op, err.Status = op, resp.StatusCode
		return resp.StatusCode, err
	}
	return resp.StatusCode, nil
}

// looksHTML reports an HTML answer (a captive portal, a proxy's page).
func looksHTML(resp *http.Response, data []byte) bool {
	ct := strings.ToLower(resp.Header.Get("Content-Type"))
	if strings.Contains(ct, "html") {
		return true
	}
	t := strings.ToLower(strings.TrimSpace(string(data[:min(len(data), 512)])))
	return strings.HasPrefix(t, "<!doctype html") || strings.HasPrefix(t, "<html") || strings.HasPrefix(t, "<head") || strings.HasPrefix(t, "<body")
}

// Sentences for answers that are not the API.
const (
	msgHTML      = "the control plane answered with an HTML page, not the API: a captive portal or proxy may be in the way"
	msgTruncated = "the control plane's answer was cut short (truncated JSON); the connection or a proxy may be unreliable"
	msgGarbage   = "the control plane answered with something that is not its API (not JSON): check the endpoint, or a proxy may be in the way"
	msgEmpty     = "the control plane answered with an empty body where the API sends JSON"
)

// decodeAPI decodes a 2xx answer, naming what is wrong when it is not the
// API.
func decodeAPI(resp *http.Response, data []byte, out any) *Error {
	notAPI := func(msg string, err error) *Error {
		// Not retryable: the same request gets the same page until the
		// network changes; the waiter keeps trying anyway while a code is
		// valid.
		return &Error{Message: msg, Err: err, kind: ErrNotAPI}
	}
	if looksHTML(resp, data) {
		return notAPI(msgHTML, nil)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return notAPI(msgEmpty, nil)
	}
	if err := json.Unmarshal(data, out); err != nil {
		var se *json.SyntaxError
		if errors.Is(err, io.ErrUnexpectedEOF) || (errors.As(err, &se) && strings.Contains(se.Error(), "unexpected end")) {
			return notAPI(msgTruncated, err)
		}
		return notAPI(msgGarbage, err)
	}
	return nil
}

// statusError turns a non-2xx answer into an *Error.
func (c *Client) statusError(op string, resp *http.Response, data []byte) *Error {
	e := &Error{Op: op, Status: resp.StatusCode}
	e.retryable = resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 || resp.StatusCode == http.StatusRequestTimeout
	if ra := resp.Header.Get("Retry-After"); ra != "" {
		e.RetryAfter = parseRetryAfter(ra, c.now())
	}
	var ae api.Error
	if json.Unmarshal(data, &ae) == nil && ae.Code != "" {
		e.Code = ae.Code
		e.kind = kindForCode(ae.Code)
		e.Message = messageForCode(ae.Code, ae.Message)
		e.Err = &ae
		if ae.Code == api.CodeRateLimited || ae.Code == api.CodeInternal {
			e.retryable = true
		}
		if ae.Code == api.CodeRateLimited && e.RetryAfter > 0 {
			e.Message = fmt.Sprintf("%s; retry in %s", e.Message, e.RetryAfter.Round(time.Second))
		}
		return e
	}
	switch {
	case looksHTML(resp, data) && resp.StatusCode < 500 && resp.StatusCode != 429:
		e.Message, e.kind = msgHTML, ErrNotAPI
		if resp.StatusCode >= 300 && resp.StatusCode < 400 {
			e.Message = fmt.Sprintf("the control plane redirected to %s instead of answering: a captive portal or proxy may be in the way", resp.Header.Get("Location"))
		}
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		e.Message, e.kind = fmt.Sprintf("the control plane redirected to %s instead of answering: a captive portal or proxy may be in the way", resp.Header.Get("Location")), ErrNotAPI
	case resp.StatusCode == http.StatusTooManyRequests:
		e.Message, e.kind = ErrRateLimited.Error(), ErrRateLimited
	case resp.StatusCode == http.StatusProxyAuthRequired:
		e.Message, e.kind = "the proxy asks for authentication (407): set network.httpsProxy with credentials", ErrUnreachable
	case resp.StatusCode >= 500:
		e.Message = fmt.Sprintf("the control plane failed (%s); retrying later may work", resp.Status)
	default:
		e.Message, e.kind = fmt.Sprintf("the control plane answered %s, not its API", resp.Status), ErrNotAPI
	}
	return e
}

// parseRetryAfter reads seconds or an HTTP date; 0 when unreadable.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n >= 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// transportError names a failure to get an answer: DNS, refused, timeout,
// TLS (with the presented issuer).
func (c *Client) transportError(ctx context.Context, op string, err error, timeout time.Duration) *Error {
	e := &Error{Op: op, Err: err, kind: ErrUnreachable, retryable: true}
	host := c.base.Hostname()
	if kind := c.refusedCertificate(err); kind != nil {
		// An older control plane refuses a client certificate in the TLS
		// handshake instead of answering JSON.
		e.kind, e.retryable, e.Message = kind, false, kind.Error()
		return e
	}
	if oe := (*net.OpError)(nil); errors.As(err, &oe) && oe.Op == "proxyconnect" {
		// The proxy itself is unreachable: say so, not that the control
		// plane is (its address holds no credentials; the URL may).
		proxy := "the proxy"
		if inner := (*net.OpError)(nil); errors.As(oe.Err, &inner) && inner.Addr != nil {
			proxy += " " + inner.Addr.String()
		}
		e.Message = fmt.Sprintf("cannot reach %s (network.httpsProxy): %v; check it with 'nodeconsole network show' or set it with 'nodeconsole network proxy'", proxy, rootCause(oe.Err))
		return e
	}
	var dnsErr *net.DNSError
	var certErr *tls.CertificateVerificationError
	var uaErr x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var invErr x509.CertificateInvalidError
	switch {
	case errors.As(err, &certErr) || errors.As(err, &uaErr) || errors.As(err, &hostErr) || errors.As(err, &invErr):
		e.retryable = false
		var presented *x509.Certificate
		if certErr != nil && len(certErr.UnverifiedCertificates) > 0 {
			presented = certErr.UnverifiedCertificates[0]
		} else if uaErr.Cert != nil {
			presented = uaErr.Cert
		}
		if presented != nil {
			e.Issuer = issuerName(presented)
		}
		switch {
		case errors.As(err, &hostErr):
			e.Message = fmt.Sprintf("the certificate of %s is not valid for that name (%v)", host, hostErr)
		case errors.As(err, &invErr) && (invErr.Reason == x509.Expired):
			e.Message = fmt.Sprintf("the certificate of %s is expired or not yet valid: check the node's clock (%s)", host, c.now().UTC().Format(time.RFC3339))
		case e.Issuer != "":
			e.Message = fmt.Sprintf("the certificate of %s is issued by %q, which this node does not trust: a TLS-inspecting proxy may be in the way, or add that CA to site.caCerts", host, e.Issuer)
		default:
			e.Message = fmt.Sprintf("the certificate of %s is not trusted (%v): add its CA to site.caCerts", host, err)
		}
	case errors.As(err, &dnsErr):
		e.Message = fmt.Sprintf("cannot resolve %s (DNS): check the DNS servers and the endpoint", host)
	case errors.Is(err, syscall.ECONNREFUSED):
		e.Message = fmt.Sprintf("%s refused the connection: check the endpoint's port, or whether the control plane is running", c.base.Host)
	case errors.Is(err, syscall.ENETUNREACH) || errors.Is(err, syscall.EHOSTUNREACH):
		e.Message = fmt.Sprintf("no route to %s: check the network settings and the gateway", host)
	case errors.Is(err, context.DeadlineExceeded) || ctx.Err() == context.DeadlineExceeded || isTimeout(err):
		e.Message = fmt.Sprintf("%s did not answer within %s", c.base.Host, timeout.Round(time.Second))
	case errors.Is(err, context.Canceled):
		e.Message, e.retryable = "cancelled", false
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.EOF):
		e.Message = fmt.Sprintf("the connection to %s broke off", c.base.Host)
	default:
		e.Message = fmt.Sprintf("cannot reach %s: %v", c.base.Host, rootCause(err))
	}
	return e
}

// refusedCertificate maps a TLS alert from the server about the client
// certificate to ErrCertificateExpired, ErrRevoked or ErrUnknownCertificate;
// nil when err is not one or no certificate was presented.
func (c *Client) refusedCertificate(err error) error {
	if c.opts.Certificate == nil {
		return nil
	}
	var oe *net.OpError
	if !errors.As(err, &oe) || oe.Op != "remote error" || oe.Err == nil {
		return nil
	}
	switch oe.Err.Error() {
	case "tls: expired certificate":
		return ErrCertificateExpired
	case "tls: revoked certificate":
		return ErrRevoked
	case "tls: bad certificate", "tls: unknown certificate", "tls: unknown certificate authority", "tls: unsupported certificate":
		return ErrUnknownCertificate
	}
	return nil
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func rootCause(err error) error {
	for {
		u := errors.Unwrap(err)
		if u == nil {
			return err
		}
		err = u
	}
}

// issuerName is the most readable name of cert's issuer.
func issuerName(cert *x509.Certificate) string {
	if cn := cert.Issuer.CommonName; cn != "" {
		if len(cert.Issuer.Organization) > 0 && cert.Issuer.Organization[0] != cn {
			return cn + " (" + cert.Issuer.Organization[0] + ")"
		}
		return cn
	}
	if len(cert.Issuer.Organization) > 0 {
		return cert.Issuer.Organization[0]
	}
	return cert.Issuer.String()
}

// Enroll starts or resumes an enrollment (POST api.PathEnroll).
func (c *Client) Enroll(ctx context.Context, req api.EnrollRequest) (api.EnrollResponse, error) {
	var out api.EnrollResponse
	_, err := c.call(ctx, "enroll", http.MethodPost, api.PathEnroll, nil, req, &out, c.timeout)
	if err != nil {
		return out, err
	}
	if out.DeviceCode == "" || out.UserCode == "" {
		return out, &Error{Op: "enroll", Status: 200, Message: "the control plane's answer lacks the activation code", kind: ErrNotAPI}
	}
	return out, nil
}

// Poll asks once for the outcome of an enrollment, letting the server hold
// the request up to the long-poll time. A pending enrollment comes back as
// an *Error with code authorization_pending (or slow_down).
func (c *Client) Poll(ctx context.Context, deviceCode string) (api.Registration, error) {
	var out api.Registration
	req := api.PollRequest{DeviceCode: deviceCode}
	timeout := c.timeout
	if c.longPoll > 0 {
		req.Wait = int(c.longPoll / time.Second)
		timeout += c.longPoll
	}
	_, err := c.call(ctx, "poll", http.MethodPost, api.PathEnrollPoll, nil, req, &out, timeout)
	if err == nil && out.Certificate == "" {
		return out, &Error{Op: "poll", Status: 200, Message: "the control plane's answer lacks the certificate", kind: ErrNotAPI}
	}
	return out, err
}

// CancelEnrollment abandons a pending enrollment on the server.
func (c *Client) CancelEnrollment(ctx context.Context, deviceCode string) error {
	_, err := c.call(ctx, "cancel enrollment", http.MethodPost, api.PathEnrollCancel, nil, api.CancelRequest{DeviceCode: deviceCode}, nil, c.timeout)
	return err
}

// Register registers at once with a registration token (POST
// api.PathRegister). The token is sent as a bearer token and never logged.
func (c *Client) Register(ctx context.Context, token string, req api.RegisterRequest, project string) (api.Registration, error) {
	var out api.Registration
	hdr := http.Header{"Authorization": {"Bearer " + token}}
	_, err := c.call(ctx, "register with token", http.MethodPost, api.PathRegister, hdr, withProject(req, project), &out, c.timeout)
	if err == nil && out.Certificate == "" {
		return out, &Error{Op: "register with token", Status: 201, Message: "the control plane's answer lacks the certificate", kind: ErrNotAPI}
	}
	return out, err
}

// Self asks who this node is, over mutual TLS.
func (c *Client) Self(ctx context.Context) (api.NodeSelf, error) {
	var out api.NodeSelf
	_, err := c.call(ctx, "node self", http.MethodGet, api.PathNodeSelf, nil, nil, &out, c.timeout)
	return out, err
}

// SendDeregister sends the Deregister event over mutual TLS, with
// DeregisterTimeout.
func (c *Client) SendDeregister(ctx context.Context, reason string) (api.DeregisterResponse, error) {
	var out api.DeregisterResponse
	_, err := c.call(ctx, "deregister", http.MethodPost, api.PathNodeDeregister, nil, api.DeregisterRequest{Reason: reason}, &out, min(c.timeout, DeregisterTimeout))
	return out, err
}

// ServerTime reads the control plane's clock.
func (c *Client) ServerTime(ctx context.Context) (time.Time, error) {
	var out api.TimeResponse
	_, err := c.call(ctx, "server time", http.MethodGet, api.PathTime, nil, nil, &out, c.timeout)
	if err == nil && out.ServerTime.IsZero() {
		return time.Time{}, &Error{Op: "server time", Status: 200, Message: msgGarbage, kind: ErrNotAPI}
	}
	return out.ServerTime, err
}

// ConfigOptions are the Options for cfg: endpoint (site.endpoint), extra
// CAs (site.caCerts, each a PEM file path or a PEM block, plus caFile, e.g.
// --ca-file), proxy (network.*).
func ConfigOptions(cfg config.Config, caFile string, log *slog.Logger, version string) Options {
	var files []string
	var pems [][]byte
	for _, c := range cfg.Site.CACerts {
		if strings.Contains(c, "-----BEGIN") {
			pems = append(pems, []byte(c))
		} else if strings.TrimSpace(c) != "" {
			files = append(files, c)
		}
	}
	if caFile != "" {
		files = append(files, caFile)
	}
	return Options{
		Endpoint: cfg.Site.Endpoint, CAFiles: files, CAPEMs: pems,
		HTTPSProxy: cfg.Network.HTTPSProxy, NoProxy: cfg.Network.NoProxy,
		Logger: log, Version: version,
	}
}

// withProject sets the project override (config site.project) on req.
func withProject(req api.RegisterRequest, project string) api.RegisterRequest {
	req.Project = project
	return req
}
