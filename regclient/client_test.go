package regclient

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nodeconsole/nodeconsole/api"
	"github.com/nodeconsole/nodeconsole/controlplane"
)

// faultServer answers every request with h, over TLS.
func faultServer(t *testing.T, h http.HandlerFunc) (*httptest.Server, *Client) {
	t.Helper()
	srv := httptest.NewTLSServer(h)
	t.Cleanup(srv.Close)
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	c, err := New(Options{Endpoint: srv.URL, CAPEMs: [][]byte{caPEM}, Timeout: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return srv, c
}

func enrollReq() api.EnrollRequest {
	return api.EnrollRequest{NodeID: testNodeID, CSR: "x"}
}

func TestFaultyServers(t *testing.T) {
	tests := []struct {
		name      string
		h         http.HandlerFunc
		kind      error
		retryable bool
		msg       string
		check     func(t *testing.T, e *Error)
	}{
		{"429 with Retry-After", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "7")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(429)
			w.Write([]byte(`{"error":"rate_limited","message":"too many"}`))
		}, ErrRateLimited, true, "retry in 7s", func(t *testing.T, e *Error) {
			if e.RetryAfter != 7*time.Second || e.Code != api.CodeRateLimited {
				t.Errorf("RetryAfter %v code %q", e.RetryAfter, e.Code)
			}
		}},
		{"429 without a body", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "3")
			w.WriteHeader(429)
		}, ErrRateLimited, true, "slow down", nil},
		{"500 internal_error", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(500)
			w.Write([]byte(`{"error":"internal_error","message":"db"}`))
		}, nil, true, "db", nil},
		{"502 from a proxy, HTML", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(502)
			w.Write([]byte("<html><body>Bad gateway</body></html>"))
		}, nil, true, "the control plane failed (502 Bad Gateway)", nil},
		{"garbage", func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte("\x00\x01hello"))
		}, ErrNotAPI, false, "not its API (not JSON)", nil},
		{"HTML captive portal with 200", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write([]byte("<!DOCTYPE html><html><head><title>Hotel Wi-Fi</title></head><body>Accept the terms</body></html>"))
		}, ErrNotAPI, false, msgHTML, nil},
		{"HTML page sent as JSON", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte("<html><body>login</body></html>"))
		}, ErrNotAPI, false, msgHTML, nil},
		{"redirect to a portal", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "http://portal.example/login", http.StatusFound)
		}, ErrNotAPI, false, "redirected to http://portal.example/login", nil},
		{"truncated JSON", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"device_code":"abc","user_code":"BCDF-`))
		}, ErrNotAPI, false, msgTruncated, nil},
		{"body cut mid-stream", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Length", "500")
			w.Write([]byte(`{"device_code":"abc"`))
		}, ErrUnreachable, true, "broke", nil},
		{"empty 200", func(w http.ResponseWriter, r *http.Request) {}, ErrNotAPI, false, msgEmpty, nil},
		{"200 without the code", func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(`{"status":"pending"}`))
		}, ErrNotAPI, false, "lacks the activation code", nil},
		{"hang", func(w http.ResponseWriter, r *http.Request) {
			// Read the body so the server notices the client hanging up.
			io.Copy(io.Discard, r.Body)
			// Bounded, so the server can close even if the client's hang-up
			// is not seen (an HTTP/2 stream reset can be lost under load).
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
			// Never send an answer, not even an empty one: on a loaded
			// machine the client could read it before its own deadline.
			panic(http.ErrAbortHandler)
		}, ErrUnreachable, true, "did not answer within", nil},
		{"409 conflict", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(409)
			w.Write([]byte(`{"error":"conflict","message":"registered with another key"}`))
		}, ErrAlreadyRegistered, false, "already has this node ID registered", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, c := faultServer(t, tt.h)
			_, err := c.Enroll(context.Background(), enrollReq())
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v (%T), want *Error", err, err)
			}
			if tt.kind != nil && !errors.Is(err, tt.kind) {
				t.Errorf("err = %v, want it to match %v", err, tt.kind)
			}
			if e.Retryable() != tt.retryable {
				t.Errorf("Retryable = %v, want %v (%v)", e.Retryable(), tt.retryable, err)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("err = %q, want it to contain %q", err, tt.msg)
			}
			if strings.Contains(e.Message, "\n") {
				t.Errorf("message is not one line: %q", e.Message)
			}
			if tt.check != nil {
				tt.check(t, e)
			}
		})
	}
}

func TestWrongCANamesIssuer(t *testing.T) {
	srv := httptest.NewTLSServer(http.NotFoundHandler())
	t.Cleanup(srv.Close)
	c, err := New(Options{Endpoint: srv.URL, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Enroll(context.Background(), enrollReq())
	var e *Error
	if !errors.As(err, &e) || e.Issuer != "Acme Co" || e.Retryable() || !errors.Is(err, ErrUnreachable) {
		t.Fatalf("err = %v (issuer %q)", err, e.Issuer)
	}
	if !strings.Contains(err.Error(), `issued by "Acme Co"`) || !strings.Contains(err.Error(), "site.caCerts") {
		t.Errorf("err = %q, want the issuer and site.caCerts", err)
	}
	rep := c.Probe(context.Background())
	if rep.DNS.Status != ProbeOK || rep.TCP.Status != ProbeOK || rep.TLS.Status != ProbeFailed || rep.Issuer != "Acme Co" ||
		!strings.Contains(rep.TLS.Hint, "site.caCerts") || rep.OK() {
		t.Errorf("probe = %+v", rep)
	}
}

func TestProbeRefusedAndUnresolvable(t *testing.T) {
	srv := httptest.NewTLSServer(http.NotFoundHandler())
	addr := srv.Listener.Addr().String()
	srv.Close()
	c, _ := New(Options{Endpoint: "https://" + addr, Timeout: 2 * time.Second})
	rep := c.Probe(context.Background())
	if rep.TCP.Status != ProbeFailed || !strings.Contains(rep.TCP.Detail, "refused") || rep.TLS.Status != ProbeSkipped {
		t.Errorf("refused: %+v", rep)
	}
	c, _ = New(Options{Endpoint: "https://cp.invalid", Timeout: 2 * time.Second})
	rep = c.Probe(context.Background())
	if rep.DNS.Status != ProbeFailed || rep.TCP.Status != ProbeSkipped {
		t.Errorf("unresolvable: %+v", rep)
	}
}

func TestProbeClockSkew(t *testing.T) {
	serverTime := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	_, c := faultServer(t, func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(api.TimeResponse{ServerTime: serverTime})
	})
	c.now = func() time.Time { return time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC) }
	rep := c.Probe(context.Background())
	if rep.Clock.Status != ProbeWarn || !strings.Contains(rep.Clock.Detail, "1970-01-01 00:00:00 UTC") ||
		!strings.Contains(rep.Clock.Detail, "2030-01-02 03:04:05 UTC") || !rep.OK() {
		t.Errorf("clock = %+v", rep.Clock)
	}
}

func TestProbeRealControlPlane(t *testing.T) {
	cp := fastCP(t, controlplane.Options{})
	c, _ := New(Options{Endpoint: cp.URL, CAPEMs: [][]byte{cp.CAPEM}})
	if rep := c.Probe(context.Background()); !rep.OK() || rep.Clock.Status != ProbeOK {
		t.Errorf("probe = %+v", rep)
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	for _, o := range []Options{
		{Endpoint: "http://cp.example"},
		{Endpoint: "https://cp.example", CAPEMs: [][]byte{[]byte("garbage")}},
		{Endpoint: "https://cp.example", CAFiles: []string{"/nonexistent/ca.pem"}},
		{Endpoint: "https://cp.example", HTTPSProxy: "ftp://proxy:21"},
	} {
		if _, err := New(o); err == nil {
			t.Errorf("New(%+v) accepted", o)
		}
	}
}

func TestBypassProxy(t *testing.T) {
	for _, tt := range []struct {
		url, noProxy string
		want         bool
	}{
		{"https://cp.example.com", "", false},
		{"https://cp.example.com", "example.com", true},
		{"https://cp.example.com", ".example.com", true},
		{"https://cp.example.com:8443", "cp.example.com:443", false},
		{"https://cp.example.com:8443", "cp.example.com:8443", true},
		{"https://xexample.com", "example.com", false},
		{"https://10.1.2.3", "10.0.0.0/8", true},
		{"https://10.1.2.3", "10.1.2.4", false},
		{"https://anything", "*", true},
		{"https://127.0.0.1:8443", "", true},
	} {
		u, _ := url.Parse(tt.url)
		if got := bypassProxy(u, tt.noProxy); got != tt.want {
			t.Errorf("bypassProxy(%s, %q) = %v", tt.url, tt.noProxy, got)
		}
	}
}

// scripted answers polls from a list, records them, and never holds.
type scripted struct {
	mu      sync.Mutex
	answers []func(w http.ResponseWriter)
	polls   int
	bodies  []string
}

func (s *scripted) handler(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bodies = append(s.bodies, string(body))
	switch r.URL.Path {
	case api.PathEnroll:
		json.NewEncoder(w).Encode(api.EnrollResponse{DeviceCode: "dc", UserCode: "BCDF-GHJK", VerificationURI: "https://cp/activate",
			VerificationURIComplete: "https://cp/activate?code=BCDF-GHJK", ExpiresIn: 900, Interval: 2, Status: "pending"})
	case api.PathEnrollPoll:
		a := s.answers[min(s.polls, len(s.answers)-1)]
		s.polls++
		a(w)
	default:
		http.NotFound(w, r)
	}
}

func apiErr(status int, code api.ErrorCode) func(w http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(api.Error{Code: code})
	}
}

// The waiter's rules, with a scripted server and a recorded sleep: the
// interval when the server does not hold the poll, +5 s on slow_down,
// backoff on errors (Retry-After honoured), the code kept throughout.
func TestNextPollingRules(t *testing.T) {
	s := &scripted{answers: []func(w http.ResponseWriter){
		apiErr(400, api.CodeAuthorizationPending),
		apiErr(400, api.CodeSlowDown),
		apiErr(500, api.CodeInternal),
		apiErr(502, ""),
		func(w http.ResponseWriter) { w.Header().Set("Retry-After", "20"); apiErr(429, api.CodeRateLimited)(w) },
		func(w http.ResponseWriter) { w.Write([]byte("<html>portal</html>")) },
		apiErr(400, api.CodeAuthorizationPending),
		apiErr(400, api.CodeAccessDenied),
	}}
	_, c := faultServer(t, s.handler)
	var slept []time.Duration
	r := &Registrar{Client: c, Store: Store{Dir: t.TempDir()}, NodeID: testNodeID,
		Sleep:  func(_ context.Context, d time.Duration) error { slept = append(slept, d); return nil },
		Jitter: func(d time.Duration) time.Duration { return d - 1 }}
	if _, err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	type step struct {
		kind    OutcomeKind
		retryIn time.Duration // upper bound; 0 means exactly 0
	}
	want := []step{
		{OutcomeWaiting, 2 * time.Second},   // interval polling
		{OutcomeWaiting, 7 * time.Second},   // slow_down: 2 + 5
		{OutcomeRetrying, 7 * time.Second},  // backoff, at least the interval
		{OutcomeRetrying, 7 * time.Second},  // backoff grows but interval dominates
		{OutcomeRetrying, 20 * time.Second}, // Retry-After
		{OutcomeRetrying, 8 * time.Second},  // HTML: retried while the code is valid (backoff 8 s)
		{OutcomeWaiting, 7 * time.Second},
		{OutcomeDenied, 0},
	}
	for i, w := range want {
		out, err := r.Next(context.Background())
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if out.Kind != w.kind {
			t.Fatalf("step %d: %v (%v), want %v", i, out.Kind, out.Err, w.kind)
		}
		if out.Kind == OutcomeWaiting || out.Kind == OutcomeRetrying {
			if out.Pending.UserCode != "BCDF-GHJK" || out.RetryIn > w.retryIn || out.RetryIn < w.retryIn-time.Second {
				t.Errorf("step %d: RetryIn %v, want about %v; code %q", i, out.RetryIn, w.retryIn, out.Pending.UserCode)
			}
		}
		if i == 1 && out.Pending.Interval != 7*time.Second {
			t.Errorf("slow_down: interval %v, want 7s", out.Pending.Interval)
		}
	}
	if len(slept) != len(want)-1 {
		t.Errorf("slept %d times, want %d: %v", len(slept), len(want)-1, slept)
	}
	// The poll asks the server to hold it (long-poll first).
	if !strings.Contains(s.bodies[1], `"wait":25`) {
		t.Errorf("poll body %s lacks the long-poll wait", s.bodies[1])
	}
}

// The project override travels with a token registration.
func TestRegisterSendsProjectOverride(t *testing.T) {
	var got struct {
		Project string `json:"project"`
		NodeID  string `json:"node_id"`
	}
	var auth string
	_, c := faultServer(t, func(w http.ResponseWriter, r *http.Request) {
		auth = r.Header.Get("Authorization")
		json.NewDecoder(r.Body).Decode(&got)
		w.WriteHeader(401)
		json.NewEncoder(w).Encode(api.Error{Code: api.CodeInvalidToken})
	})
	_, err := c.Register(context.Background(), "tok-secret", api.RegisterRequest{NodeID: testNodeID}, "override")
	if !errors.Is(err, ErrInvalidToken) || got.Project != "override" || auth != "Bearer tok-secret" {
		t.Fatalf("err %v, sent %+v, auth %q", err, got, auth)
	}
	if strings.Contains(err.Error(), "tok-secret") {
		t.Error("the error shows the token")
	}
}

func TestQRURL(t *testing.T) {
	p := PendingCode{NodeID: testNodeID, UserCode: "BCDF-GHJK", VerificationURI: "https://cp/activate",
		VerificationURIComplete: "https://cp/activate?code=BCDF-GHJK"}
	if got := p.QRURL(""); got != p.VerificationURIComplete {
		t.Errorf("QRURL() = %q", got)
	}
	want := "https://sites.example/register?code=BCDF-GHJK&node=" + testNodeID
	if got := p.QRURL("https://sites.example/register"); got != want {
		t.Errorf("QRURL(registrationURL) = %q, want %q", got, want)
	}
}

// TestClientResumesTLS: a new connection to the control plane (after an
// idle close or a restart) resumes the TLS session instead of a full
// handshake: 10,000 nodes reconnecting cost the server far less.
func TestClientResumesTLS(t *testing.T) {
	cp := fastCP(t, controlplane.Options{})
	c, err := New(Options{Endpoint: cp.URL, CAPEMs: [][]byte{cp.CAPEM}, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	var resumed []bool
	for range 2 {
		resp, err := c.hc.Get(cp.URL + "/api/v1/version")
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		resumed = append(resumed, resp.TLS.DidResume)
		c.tr.CloseIdleConnections()
	}
	if resumed[0] || !resumed[1] {
		t.Errorf("resumed %v on the first and second connection, want false then true", resumed)
	}
}
