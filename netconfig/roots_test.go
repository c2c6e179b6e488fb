package netconfig

import (
	"context"
	"crypto/x509"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// TestProberRootsReadOnFirstTLSCheck: Roots is called at the first TLS
// check, not before (the console's first frame must not wait for the
// system roots), once, and it decides what is trusted.
func TestProberRootsReadOnFirstTLSCheck(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	defer srv.Close()
	var calls atomic.Int32
	p := &Prober{
		RootCAs: x509.NewCertPool(), // trusts nothing: Roots must win
		Roots: sync.OnceValues(func() (*x509.CertPool, error) {
			calls.Add(1)
			pool := x509.NewCertPool()
			pool.AddCert(srv.Certificate())
			return pool, nil
		}),
	}
	if calls.Load() != 0 {
		t.Fatal("roots read before any check")
	}
	addr := strings.TrimPrefix(srv.URL, "https://")
	for range 2 {
		if r := p.TLS(context.Background(), addr, "example.com"); !r.OK {
			t.Fatalf("TLS check with the roots from Roots: %+v", r)
		}
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("Roots called %d times, want once", n)
	}
}
