package testenv

import (
	"bufio"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
)

// ConnectProxy is a small HTTP CONNECT forward proxy for tests.
type ConnectProxy struct {
	// Addr is the address it listens on.
	Addr string
	// Tunnels counts the tunnels it opened.
	Tunnels atomic.Int32
}

// ServeConnectProxy serves a CONNECT proxy on ln until the test ends. It
// wants basic credentials user:pass (none when user is ""), answering 407
// without them, and tunnels CONNECT host:port to upstream(host):port when
// upstream allows host, answering 403 otherwise (and 502 when the upstream
// does not answer). Upstream connections are dialled from the goroutines
// of the proxy, i.e. in the test process's own network namespace even
// when ln was opened in another one.
func ServeConnectProxy(t testing.TB, ln net.Listener, user, pass string, upstream func(host string) (string, bool)) *ConnectProxy {
	t.Helper()
	t.Cleanup(func() { ln.Close() })
	p := &ConnectProxy{Addr: ln.Addr().String()}
	wantAuth := "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.serve(c, user != "", wantAuth, upstream)
		}
	}()
	return p
}

func (p *ConnectProxy) serve(c net.Conn, auth bool, wantAuth string, upstream func(string) (string, bool)) {
	defer c.Close()
	br := bufio.NewReader(c)
	req, err := http.ReadRequest(br)
	if err != nil {
		return
	}
	host, port, _ := net.SplitHostPort(req.Host)
	up, allowed := upstream(host)
	switch {
	case req.Method != http.MethodConnect:
		io.WriteString(c, "HTTP/1.1 405 Method Not Allowed\r\n\r\n")
		return
	case auth && req.Header.Get("Proxy-Authorization") != wantAuth:
		io.WriteString(c, "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic\r\n\r\n")
		return
	case !allowed:
		io.WriteString(c, "HTTP/1.1 403 Forbidden\r\n\r\n")
		return
	}
	uc, err := net.Dial("tcp", net.JoinHostPort(up, port))
	if err != nil {
		io.WriteString(c, "HTTP/1.1 502 Bad Gateway\r\n\r\n")
		return
	}
	defer uc.Close()
	p.Tunnels.Add(1)
	io.WriteString(c, "HTTP/1.1 200 Connection established\r\n\r\n")
	go io.Copy(uc, br)
	io.Copy(c, uc)
}
