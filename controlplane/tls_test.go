package controlplane_test

import (
	"crypto/tls"
	"io"
	"net/http"
	"testing"

	"github.com/nodeconsole/nodeconsole/api"
	"github.com/nodeconsole/nodeconsole/controlplane/cptest"
)

// A client with a session cache resumes its TLS session on a new
// connection (cheaper reconnects for thousands of nodes), with HTTP/2 and
// HTTP/1.1.
func TestTLSSessionResumption(t *testing.T) {
	cp := cptest.New(t)
	for _, h2 := range []bool{true, false} {
		conf := &tls.Config{RootCAs: cp.CertPool(), ClientSessionCache: tls.NewLRUClientSessionCache(4)}
		var resumed []bool
		for range 2 {
			tr := &http.Transport{TLSClientConfig: conf.Clone(), ForceAttemptHTTP2: h2}
			if !h2 {
				tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
			}
			resp, err := (&http.Client{Transport: tr}).Get(cp.URL + api.PathTime)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			resumed = append(resumed, resp.TLS.DidResume)
			if want := map[bool]string{true: "h2", false: "http/1.1"}[h2]; resp.TLS.NegotiatedProtocol != want && !(want == "http/1.1" && resp.TLS.NegotiatedProtocol == "") {
				t.Errorf("negotiated %q, want %q", resp.TLS.NegotiatedProtocol, want)
			}
			tr.CloseIdleConnections()
		}
		if resumed[0] || !resumed[1] {
			t.Errorf("h2=%v: resumed %v on the first and second connection, want false then true", h2, resumed)
		}
	}
}
