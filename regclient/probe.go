package regclient

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"time"
)

// MaxClockSkew is the difference between the node's clock and the
// server's above which the connectivity check warns (certificates are
// backdated by about an hour, so more than this breaks TLS soon).
const MaxClockSkew = 5 * time.Minute

// ProbeStatus is the result of one connectivity check.
type ProbeStatus string

// Probe results.
const (
	ProbeOK      ProbeStatus = "ok"
	ProbeFailed  ProbeStatus = "failed"
	ProbeWarn    ProbeStatus = "warning"
	ProbeSkipped ProbeStatus = "skipped"
)

// ProbeResult is one line of the connectivity step.
type ProbeResult struct {
	// Status is ok, failed, warning or skipped.
	Status ProbeStatus
	// Detail is a short sentence for the screen (addresses, issuer, times).
	Detail string
	// Hint says what to do about a failure or warning, or "".
	Hint string
	// Err is the failure, if any.
	Err error
}

// ProbeReport is the connectivity step: DNS, TCP, TLS and clock, in order;
// a failed step skips the later ones.
type ProbeReport struct {
	// Host is the host checked (the proxy's when one is in use).
	Host string
	// Proxy is the proxy URL in use, or "".
	Proxy string
	// DNS, TCP, TLS and Clock are the four checks.
	DNS, TCP, TLS, Clock ProbeResult
	// Issuer names the certificate issuer the server presented when TLS
	// verification failed (suggest adding its CA to site.caCerts).
	Issuer string
	// LocalTime and ServerTime are both clocks at the clock check.
	LocalTime, ServerTime time.Time
	// Skew is ServerTime - LocalTime (corrected for half the round trip).
	Skew time.Duration
}

// OK reports whether every check passed (a clock warning still passes).
func (r ProbeReport) OK() bool {
	for _, s := range []ProbeResult{r.DNS, r.TCP, r.TLS, r.Clock} {
		if s.Status == ProbeFailed || s.Status == ProbeSkipped {
			return false
		}
	}
	return true
}

// Err is the first failure, or nil.
func (r ProbeReport) Err() error {
	for _, s := range []ProbeResult{r.DNS, r.TCP, r.TLS, r.Clock} {
		if s.Status == ProbeFailed {
			return s.Err
		}
	}
	return nil
}

// Probe checks the way to the control plane step by step: DNS resolution
// of the endpoint (or of the proxy), a TCP connection, TLS with the
// client's trust (naming the presented issuer on failure), and the clock
// against the server's (both times shown when off by more than
// MaxClockSkew).
func (c *Client) Probe(ctx context.Context) ProbeReport {
	var rep ProbeReport
	skip := ProbeResult{Status: ProbeSkipped, Detail: "skipped"}
	host, port := c.base.Hostname(), c.base.Port()
	if port == "" {
		port = "443"
	}
	if pu, _ := c.proxy(&http.Request{URL: c.base}); pu != nil {
		rep.Proxy = (&url.URL{Scheme: pu.Scheme, Host: pu.Host}).String() // no credentials
		host, port = pu.Hostname(), pu.Port()
		if port == "" {
			port = map[string]string{"https": "443", "socks5": "1080"}[pu.Scheme]
			if port == "" {
				port = "80"
			}
		}
	}
	rep.Host = host
	rep.DNS, rep.TCP, rep.TLS, rep.Clock = skip, skip, skip, skip

	// DNS.
	dctx, cancel := context.WithTimeout(ctx, c.timeout)
	addrs, err := net.DefaultResolver.LookupHost(dctx, host)
	cancel()
	if err != nil {
		rep.DNS = ProbeResult{Status: ProbeFailed, Detail: fmt.Sprintf("cannot resolve %s", host),
			Hint: "Check the DNS servers (Network settings) and the endpoint's host name.",
			Err:  &Error{Op: "probe DNS", Message: fmt.Sprintf("cannot resolve %s (DNS): check the DNS servers and the endpoint", host), Err: err, kind: ErrUnreachable, retryable: true}}
		return rep
	}
	rep.DNS = ProbeResult{Status: ProbeOK, Detail: fmt.Sprintf("%s is %s", host, addrs[0])}

	// TCP.
	d := net.Dialer{Timeout: c.timeout}
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(host, port))
	if err != nil {
		e := c.transportError(ctx, "probe TCP", err, c.timeout)
		rep.TCP = ProbeResult{Status: ProbeFailed, Detail: e.Message, Err: e,
			Hint: "Check the gateway, the firewall and the endpoint's port."}
		return rep
	}
	rep.TCP = ProbeResult{Status: ProbeOK, Detail: fmt.Sprintf("connected to %s", conn.RemoteAddr())}
	conn.Close()

	// TLS and clock: one real API call through the client (and proxy).
	local := c.now()
	server, err := c.ServerTime(ctx)
	rtt := c.now().Sub(local)
	if err != nil {
		var e *Error
		errors.As(err, &e)
		if e != nil && e.Issuer != "" {
			rep.Issuer = e.Issuer
		}
		res := ProbeResult{Status: ProbeFailed, Err: err, Detail: err.Error()}
		if e != nil {
			res.Detail = e.Message
		}
		if e != nil && e.Status != 0 {
			// TLS worked; the API did not.
			rep.TLS = ProbeResult{Status: ProbeOK, Detail: "TLS verified"}
			rep.Clock = res
		} else {
			if rep.Issuer != "" {
				res.Hint = "Add the CA of " + rep.Issuer + " to site.caCerts, or exclude the control plane from TLS inspection."
			}
			rep.TLS = res
		}
		return rep
	}
	rep.TLS = ProbeResult{Status: ProbeOK, Detail: "certificate verified"}
	rep.LocalTime, rep.ServerTime = local.Add(rtt/2).UTC(), server.UTC()
	rep.Skew = rep.ServerTime.Sub(rep.LocalTime)
	if rep.Skew > MaxClockSkew || rep.Skew < -MaxClockSkew {
		rep.Clock = ProbeResult{Status: ProbeWarn, Detail: fmt.Sprintf("the clock is off by %s: node %s, control plane %s",
			rep.Skew.Abs().Round(time.Second), rep.LocalTime.Format("2006-01-02 15:04:05 MST"), rep.ServerTime.Format("2006-01-02 15:04:05 MST")),
			Hint: "Set the node's clock (check NTP); certificates may not be accepted."}
	} else {
		rep.Clock = ProbeResult{Status: ProbeOK, Detail: fmt.Sprintf("clock within %s of the control plane", rep.Skew.Abs().Round(time.Second))}
	}
	return rep
}
