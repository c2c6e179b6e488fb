package controlplane_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/nodeconsole/nodeconsole/api"
	"github.com/nodeconsole/nodeconsole/controlplane"
	"github.com/nodeconsole/nodeconsole/controlplane/cptest"
	"github.com/nodeconsole/nodeconsole/controlplane/forwarded"
)

// get answers status and body of a GET with optional bearer token.
func get(t *testing.T, c *http.Client, url, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestHealthReadyMetrics(t *testing.T) {
	cp := cptest.New(t)
	c := cp.Client()
	if code, body := get(t, c, cp.URL+"/healthz", ""); code != 200 || body != "ok\n" {
		t.Fatalf("/healthz = %d %q", code, body)
	}
	if code, body := get(t, c, cp.URL+"/readyz", ""); code != 200 || body != "ready\n" {
		t.Fatalf("/readyz = %d %q", code, body)
	}
	if code, _ := get(t, c, cp.URL+"/metrics", ""); code != http.StatusUnauthorized {
		t.Fatalf("/metrics without a token = %d, want 401", code)
	}
	n := newTestNode(t)
	er := n.enroll(t, cp)
	if _, err := cp.License(er.UserCode, "edge-1", ""); err != nil {
		t.Fatal(err)
	}
	code, body := get(t, c, cp.URL+"/metrics", cp.AdminToken)
	if code != 200 {
		t.Fatalf("/metrics with the admin token = %d", code)
	}
	for _, want := range []string{
		`controlplane_http_requests_total{code="200",route="GET /healthz"} 1`,
		`controlplane_http_requests_total{code="401",route="GET /metrics"} 1`,
		`controlplane_enrollments_total{outcome="started"} 1`,
		`controlplane_events_total{type="activated"} 1`,
		`controlplane_http_request_duration_seconds_count{route="POST ` + api.PathEnroll + `"} 1`,
		`controlplane_held_long_polls 0`,
		`controlplane_pending_enrollments 0`,
		`controlplane_store_operation_duration_seconds_count{op="update"}`,
		`go_build_info{`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(body, "controlplane_store_retries_total") {
		t.Error("/metrics on SQLite shows store retries, which its single writer never makes")
	}
	if strings.Contains(body, er.UserCode) || strings.Contains(body, n.id) {
		t.Error("/metrics shows a code or node ID")
	}

	// With a metrics listener of its own, the main one has no /metrics.
	sep := cptest.NewWith(t, controlplane.Options{MetricsElsewhere: true})
	if code, _ := get(t, sep.Client(), sep.URL+"/metrics", sep.AdminToken); code != http.StatusNotFound {
		t.Errorf("/metrics on the main listener with MetricsElsewhere = %d, want 404", code)
	}
}

// TestTrustedProxy: X-Forwarded-For sets sourceIp only from a trusted
// proxy; from anyone else a forged header is ignored (the rules:
// forwarded.TestClient).
func TestTrustedProxy(t *testing.T) {
	for _, tc := range []struct {
		name    string
		proxies string
		xff     string
		want    string
	}{
		{"no proxies: header ignored", "", "203.0.113.9", "127.0.0.1"},
		{"untrusted peer: spoof ignored", "10.0.0.0/8", "203.0.113.9", "127.0.0.1"},
		{"trusted peer", "127.0.0.1", "203.0.113.9", "203.0.113.9"},
		{"right-most untrusted hop wins", "127.0.0.0/8,10.0.0.0/8", "198.51.100.1, 203.0.113.9, 10.1.2.3", "203.0.113.9"},
		{"garbage: the proxy itself", "127.0.0.1", "not-an-ip", "127.0.0.1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			proxies, err := forwarded.ParseCIDRs(tc.proxies)
			if err != nil {
				t.Fatal(err)
			}
			cp := cptest.NewWith(t, controlplane.Options{TrustedProxies: proxies})
			n := newTestNode(t)
			var er api.EnrollResponse
			if _, err := call(t, cp.Client(), "POST", cp.URL+api.PathEnroll, n.enrollRequest(), &er, "X-Forwarded-For", tc.xff); err != nil {
				t.Fatal(err)
			}
			a, err := cp.FindCode(er.UserCode)
			if err != nil {
				t.Fatal(err)
			}
			if a.SourceIP != tc.want {
				t.Fatalf("sourceIp = %q, want %q", a.SourceIP, tc.want)
			}
		})
	}
}

// TestAPIHygiene: 405 with Allow for a wrong method, 201 with Location
// for creations, and a repeated DELETE answers 404 on every resource.
func TestAPIHygiene(t *testing.T) {
	cp := cptest.New(t)
	c := cp.Client()
	do := func(method, path string, body string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(method, cp.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+cp.AdminToken)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	for path, allow := range map[string]string{
		api.PathNodes: "GET, HEAD, POST", api.PathNodes + "/x": "GET, HEAD, DELETE", api.PathEnroll: "POST",
	} {
		resp := do("PUT", path, "{}")
		if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != allow {
			t.Errorf("PUT %s = %d Allow %q, want 405 Allow %q", path, resp.StatusCode, resp.Header.Get("Allow"), allow)
		}
	}
	if resp := do("PUT", "/api/v1/nothing", "{}"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("PUT on no route = %d, want 404", resp.StatusCode)
	}
	id := "edge-" + strings.Repeat("ab", 16)
	for _, tc := range []struct{ path, body, location string }{
		{api.PathNodes, `{"ids":["` + id + `"]}`, api.PathNodes + "/" + id},
		{api.PathTokens, `{"name":"t"}`, api.PathTokens + "/"},
		{api.PathSites, `{"name":"s"}`, api.PathSites + "/"},
	} {
		resp := do("POST", tc.path, tc.body)
		loc := resp.Header.Get("Location")
		if resp.StatusCode != http.StatusCreated || !strings.HasPrefix(loc, tc.location) {
			t.Fatalf("POST %s = %d Location %q, want 201 %s...", tc.path, resp.StatusCode, loc, tc.location)
		}
		for i, want := range []int{http.StatusNoContent, http.StatusNotFound, http.StatusNotFound} {
			if got := do("DELETE", loc, "").StatusCode; got != want {
				t.Errorf("DELETE %s #%d = %d, want %d", loc, i+1, got, want)
			}
		}
	}
}
