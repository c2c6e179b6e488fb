package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nodeconsole/nodeconsole/api"
)

// abuseNode is an enrollment request with a fresh node ID and key.
func abuseNode(t *testing.T) api.EnrollRequest {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{}, key)
	if err != nil {
		t.Fatal(err)
	}
	id := make([]byte, 16)
	rand.Read(id)
	return api.EnrollRequest{NodeID: "edge-" + hex.EncodeToString(id), Make: "Acme", Model: "E1", Version: "1",
		CSR: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))}
}

// TestAbuseDoesNotLockOutAdmin runs the built control plane on loopback
// while 50 source addresses (127.0.0.10-59) send bad registration tokens,
// wrong admin tokens with guessed codes, polls with made-up device codes,
// and enrollments, and an admin Finds and Licenses a real node's code every
// 2 s: every admin call answers 200, the real node gets its certificate
// each time, and the pending enrollments stay under the caps. Bounded:
// 6 rounds (about 12 s), at most 40 requests per attacker, 5 a second.
func TestAbuseDoesNotLockOutAdmin(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	const (
		sources   = 50
		perSource = 4   // --max-pending-per-source
		maxTotal  = 400 // --max-pending
		rounds    = 6
		maxReqs   = 40
	)
	dir := t.TempDir()
	bin := buildBinary(t, dir)
	data := filepath.Join(dir, "data")
	p := startBinary(t, bin, data, "127.0.0.1:0", "--max-pending", fmt.Sprint(maxTotal),
		"--max-pending-per-source", fmt.Sprint(perSource))
	_, roots, admin := dataCredentials(t, data)
	clientFrom := func(ip string) *http.Client {
		return &http.Client{Timeout: time.Minute, Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: roots},
			DialContext:     (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}).DialContext,
		}}
	}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var sent, limited atomic.Int64
	for i := range sources {
		c := clientFrom(fmt.Sprintf("127.0.0.%d", 10+i))
		node := abuseNode(t) // one key per attacker; new node IDs below
		wg.Go(func() {
			for n := 0; n < maxReqs; n++ {
				select {
				case <-stop:
					return
				default:
				}
				var st int
				switch n % 4 {
				case 0:
					st, _ = post(t, c, p.url+api.PathRegister, "ncrt_bad-token", api.RegisterRequest{NodeID: node.NodeID, CSR: node.CSR}, nil)
				case 1:
					st, _ = post(t, c, p.url+api.PathActivations+"BCDF-GHJK", "not-the-admin-token", nil, nil)
				case 2:
					st, _ = post(t, c, p.url+api.PathEnrollPoll, "", api.PollRequest{DeviceCode: "made-up-device-code", Wait: 1}, nil)
				case 3:
					id := make([]byte, 16)
					rand.Read(id)
					req := node
					req.NodeID = "edge-" + hex.EncodeToString(id)
					st, _ = post(t, c, p.url+api.PathEnroll, "", req, nil)
				}
				sent.Add(1)
				if st == http.StatusTooManyRequests {
					limited.Add(1)
				}
				time.Sleep(200 * time.Millisecond) // spread over the admin's rounds
			}
		})
	}

	adminc, nodec := clientFrom("127.0.0.1"), clientFrom("127.0.0.2")
	tick := time.NewTicker(2 * time.Second)
	for round := range rounds {
		real := abuseNode(t)
		var er api.EnrollResponse
		if st, code := post(t, nodec, p.url+api.PathEnroll, "", real, &er); st != 200 {
			t.Fatalf("round %d: the real node's enrollment: %d %s", round, st, code)
		}
		var a api.Activation
		if st, code := post(t, adminc, p.url+api.PathActivations+url.PathEscape(er.UserCode), admin, nil, &a); st != 200 || a.NodeID != real.NodeID {
			t.Fatalf("round %d: admin Find: %d %s", round, st, code)
		}
		var lr api.LicenseResponse
		if st, code := post(t, adminc, p.url+api.PathActivations+url.PathEscape(er.UserCode), admin,
			api.LicenseRequest{Name: fmt.Sprintf("real-%d", round), KeyFingerprint: a.KeyFingerprint}, &lr); st != 200 {
			t.Fatalf("round %d: admin License: %d %s", round, st, code)
		}
		var reg api.Registration
		if st, code := post(t, nodec, p.url+api.PathEnrollPoll, "", api.PollRequest{DeviceCode: er.DeviceCode}, &reg); st != 200 || reg.Certificate == "" {
			t.Fatalf("round %d: the real node's poll: %d %s", round, st, code)
		}
		<-tick.C
	}
	tick.Stop()
	close(stop)
	wg.Wait()

	// Pending stays under the caps: at most perSource per attacker.
	pending := 0
	for cursor := ""; ; {
		var list struct {
			Nodes []api.Node `json:"nodes"`
			Next  string     `json:"next"`
		}
		if st, code := post(t, adminc, p.url+api.PathNodes+"?limit=1000&cursor="+url.QueryEscape(cursor), admin, nil, &list); st != 200 {
			t.Fatalf("list nodes: %d %s", st, code)
		}
		for _, n := range list.Nodes {
			if n.Status == api.StatusPending {
				pending++
			}
		}
		if cursor = list.Next; cursor == "" {
			break
		}
	}
	t.Logf("%d attack requests, %d answered 429; %d nodes pending", sent.Load(), limited.Load(), pending)
	if pending > sources*perSource || pending > maxTotal {
		t.Errorf("%d nodes pending, want at most %d (%d sources x %d)", pending, sources*perSource, sources, perSource)
	}
	if limited.Load() == 0 {
		t.Error("no attack request was ever answered 429")
	}
}
