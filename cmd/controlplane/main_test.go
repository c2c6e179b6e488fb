package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nodeconsole/nodeconsole/api"
	"github.com/nodeconsole/nodeconsole/controlplane"
	"github.com/nodeconsole/nodeconsole/controlplane/ratelimit"
)

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{{"--nope"}, {"extra"}, {"--code-ttl", "-1m"},
		{"--enroll-limit", "fast"}, {"--enroll-limit", "30/0s"}, {"--enroll-limit", "-1/2s"},
		{"--pprof", "0.0.0.0:6060"}, {"--pprof", "192.0.2.1:6060"}, {"--pprof", "nohostport"},
		{"--max-pending", "-1"}, {"--max-pending-per-source", "-5"},
		{"--pending-retention", "0s"}, {"--event-retention", "-1h"},
		{"--tls-cert", "c.pem"}, {"--trusted-proxy", "10.0.0.0/8,proxy.example"},
		{"backup"}, {"restore"}, {"backup", "--out", "x", "extra"}} {
		err := run(context.Background(), args, io.Discard, io.Discard)
		var ue usageError
		if !errors.As(err, &ue) {
			t.Errorf("run(%q) = %v, want a usage error", args, err)
		}
	}
}

// TestBackupCommand: backup of a data directory, restore into a new one:
// same CA, key and admin token; restoring over it again is refused.
func TestBackupCommand(t *testing.T) {
	data := t.TempDir()
	cp, err := controlplane.Open(controlplane.Options{DataDir: data})
	if err != nil {
		t.Fatal(err)
	}
	cp.Close()
	archive := filepath.Join(t.TempDir(), "b.tgz")
	if err := run(context.Background(), []string{"--data", data, "backup", "--out", archive}, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), "new")
	if err := run(context.Background(), []string{"restore", "--from", archive, "--data", dst}, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"ca.pem", "ca-key.pem", "admin-token", "secret", "server-key.pem"} {
		a, _ := os.ReadFile(filepath.Join(data, f))
		b, err := os.ReadFile(filepath.Join(dst, f))
		if err != nil || string(a) != string(b) {
			t.Errorf("%s not restored: %v", f, err)
		}
	}
	if err := run(context.Background(), []string{"restore", "--from", archive, "--data", dst}, io.Discard, io.Discard); err == nil {
		t.Error("restore into a non-empty directory succeeded")
	}
}

func TestParseLimit(t *testing.T) {
	for in, want := range map[string]ratelimit.Limit{
		"off":     {},
		"0":       {},
		"30/2s":   {Burst: 30, Every: 2 * time.Second},
		"1/100ms": {Burst: 1, Every: 100 * time.Millisecond},
	} {
		got, err := parseLimit(in)
		if err != nil || got != want {
			t.Errorf("parseLimit(%q) = %+v, %v; want %+v", in, got, err, want)
		}
		if back, err := parseLimit(formatLimit(got)); err != nil || back != got {
			t.Errorf("parseLimit(formatLimit(%+v)) = %+v, %v", got, back, err)
		}
	}
	if got := formatLimit(ratelimit.Defaults().EnrollPerIP); got != "30/2s" {
		t.Errorf("default --enroll-limit is %q, want 30/2s (docs/protocol.md)", got)
	}
}

// buildBinary builds this command into dir.
func buildBinary(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "controlplane")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		t.Fatalf("go build: %v", err)
	}
	return bin
}

// proc is a running controlplane binary.
type proc struct {
	cmd *exec.Cmd
	url string
}

func startBinary(t *testing.T, bin, data, listen string, extra ...string) *proc {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"--data", data, "--listen", listen, "--log", filepath.Join(filepath.Dir(data), "log.json")}, extra...)...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	sc := bufio.NewScanner(out)
	p := &proc{cmd: cmd}
	for sc.Scan() {
		if u, ok := strings.CutPrefix(sc.Text(), "controlplane: serving "); ok {
			p.url = u
		}
		if strings.Contains(sc.Text(), "admin token in") {
			break
		}
	}
	if p.url == "" {
		t.Fatalf("controlplane did not print its URL: %v", sc.Err())
	}
	go io.Copy(io.Discard, out)
	return p
}

func post(t *testing.T, c *http.Client, url, auth string, body, out any) (int, api.ErrorCode) {
	t.Helper()
	b, _ := json.Marshal(body)
	method := "POST"
	if body == nil {
		method = "GET"
	}
	req, _ := http.NewRequest(method, url, bytes.NewReader(b))
	if auth != "" {
		req.Header.Set("Authorization", "Bearer "+auth)
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, ""
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		var e api.Error
		json.Unmarshal(data, &e)
		return resp.StatusCode, e.Code
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("decode %s: %v", data, err)
		}
	}
	return resp.StatusCode, ""
}

// TestBinaryRestartMidEnrollment builds and runs the real binary, stops it
// (SIGTERM) while a poll is held, restarts it, licenses the code, crashes it
// (SIGKILL) before the node polls, restarts again, and completes the
// enrollment with the certificate verified against DATA/ca.pem.
func TestBinaryRestartMidEnrollment(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary")
	}
	dir := t.TempDir()
	bin := buildBinary(t, dir)
	data := filepath.Join(dir, "data")
	p := startBinary(t, bin, data, "127.0.0.1:0")
	u, _ := url.Parse(p.url)
	addr := u.Host

	_, roots, admin := dataCredentials(t, data)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}

	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	csrDER, _ := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{}, key)
	idb := make([]byte, 16)
	rand.Read(idb)
	nodeID := "edge-" + hex.EncodeToString(idb)
	enroll := api.EnrollRequest{NodeID: nodeID, Make: "Acme", Model: "E1", Version: "1",
		CSR: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: csrDER}))}
	var er api.EnrollResponse
	if st, code := post(t, client, p.url+api.PathEnroll, "", enroll, &er); st != 200 {
		t.Fatalf("enroll: %d %s", st, code)
	}

	// A poll held by the server is released by a graceful stop.
	held := make(chan api.ErrorCode, 1)
	go func() {
		_, code := post(t, client, p.url+api.PathEnrollPoll, "", api.PollRequest{DeviceCode: er.DeviceCode}, nil)
		held <- code
	}()
	var a api.Activation
	if st, code := post(t, client, p.url+api.PathActivations+er.UserCode, admin, nil, &a); st != 200 || a.NodeID != nodeID {
		t.Fatalf("find: %d %s %+v", st, code, a)
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("controlplane did not exit cleanly on SIGTERM: %v", err)
	}
	if code := <-held; code != "" && code != api.CodeAuthorizationPending {
		t.Fatalf("held poll ended with %q", code)
	}

	// Restart on the same address: the enrollment is still there.
	p = startBinary(t, bin, data, addr)
	var again api.EnrollResponse
	if st, _ := post(t, client, p.url+api.PathEnroll, "", enroll, &again); st != 200 || again.UserCode != er.UserCode || again.DeviceCode != er.DeviceCode {
		t.Fatalf("enrollment not resumed after restart: %+v", again)
	}
	var lr api.LicenseResponse
	if st, code := post(t, client, p.url+api.PathActivations+er.UserCode, admin, api.LicenseRequest{Name: "n1"}, &lr); st != 200 {
		t.Fatalf("license: %d %s", st, code)
	}

	// Crash before the node polls; the approval must have been durable.
	p.cmd.Process.Kill()
	p.cmd.Wait()
	p = startBinary(t, bin, data, addr)
	var reg api.Registration
	if st, code := post(t, client, p.url+api.PathEnrollPoll, "", api.PollRequest{DeviceCode: er.DeviceCode}, &reg); st != 200 {
		t.Fatalf("poll after restart: %d %s", st, code)
	}
	block, _ := pem.Decode([]byte(reg.Certificate))
	if block == nil {
		t.Fatal("no certificate")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Fatalf("certificate does not verify against ca.pem: %v", err)
	}
	if cert.Subject.CommonName != nodeID || reg.NodeName != "n1" {
		t.Fatalf("certificate CN %q, name %q", cert.Subject.CommonName, reg.NodeName)
	}

	// The admin API refuses requests without the token.
	if st, code := post(t, client, p.url+api.PathNodes, "", nil, nil); st != 401 || code != api.CodeUnauthorized {
		t.Fatalf("GET nodes without token: %d %s", st, code)
	}

	// The user commands, run as another process on the same data
	// directory, change what the running server accepts at once.
	userCmd := func(stdin string, args ...string) string {
		t.Helper()
		cmd := exec.Command(bin, append([]string{"--data", data}, args...)...)
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("controlplane %q: %v\n%s", args, err, out)
		}
		return string(out)
	}
	userCmd("op-password-1\n", "user", "add", "op", "--role", "operator", "--password-stdin")
	personal := regexp.MustCompile(`ncat_\S+`).FindString(userCmd("", "user", "token", "op", "--name", "ci"))
	if st, code := post(t, client, p.url+api.PathActivations+"BBBB-BBBB", personal, nil, nil); st != 404 {
		t.Fatalf("operator token on Find: %d %s, want 404 (allowed, no such code)", st, code)
	}
	if st, code := post(t, client, p.url+api.PathTokens, personal, api.CreateTokenRequest{Name: "x"}, nil); st != 403 || code != api.CodeForbidden {
		t.Fatalf("operator token creating a registration token: %d %s, want 403 forbidden", st, code)
	}
	userCmd("", "user", "disable", "op")
	if st, _ := post(t, client, p.url+api.PathActivations+"BBBB-BBBB", personal, nil, nil); st != 401 {
		t.Fatalf("token of a user disabled by another process: %d, want 401", st)
	}
	userCmd("", "admin-token", "rotate")
	if st, _ := post(t, client, p.url+api.PathActivations+"BBBB-BBBB", admin, nil, nil); st != 401 {
		t.Fatalf("admin token after rotate: %d, want 401", st)
	}

	// Secrets never reach the log.
	logData, _ := os.ReadFile(filepath.Join(dir, "log.json"))
	for _, secret := range []string{admin, er.DeviceCode, personal, "op-password-1"} {
		if strings.Contains(string(logData), secret) {
			t.Fatal("a secret is in the log")
		}
	}
}

// TestMetricsListen: with --metrics-listen, /metrics answers there without
// a credential and is gone from the main listener.
func TestMetricsListen(t *testing.T) {
	data := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"--data", data, "--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0"}, pw, io.Discard)
		pw.Close()
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	}()
	var metricsURL, mainURL string
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		if u, ok := strings.CutPrefix(sc.Text(), "controlplane: metrics on "); ok {
			metricsURL = u
		}
		if u, ok := strings.CutPrefix(sc.Text(), "controlplane: serving "); ok {
			mainURL = u
			break
		}
	}
	go io.Copy(io.Discard, pr)
	if metricsURL == "" || mainURL == "" {
		t.Fatalf("no metrics or serving line (metrics %q, main %q)", metricsURL, mainURL)
	}
	resp, err := http.Get(metricsURL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "controlplane_held_long_polls 0") {
		t.Fatalf("GET %s = %d:\n%.300s", metricsURL, resp.StatusCode, body)
	}
	_, roots, admin := dataCredentials(t, data)
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
	if st, _ := post(t, c, mainURL+"/metrics", admin, nil, nil); st != http.StatusNotFound {
		t.Errorf("/metrics on the main listener = %d, want 404", st)
	}
}

// dataCredentials reads what a started control plane wrote to its data
// dir: the CA certificate (PEM and as a pool) and the admin token.
func dataCredentials(t *testing.T, data string) (caPEM []byte, roots *x509.CertPool, admin string) {
	t.Helper()
	caPEM, err := os.ReadFile(filepath.Join(data, "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := os.ReadFile(filepath.Join(data, "admin-token"))
	if err != nil {
		t.Fatal(err)
	}
	roots = x509.NewCertPool()
	roots.AppendCertsFromPEM(caPEM)
	return caPEM, roots, strings.TrimSpace(string(tok))
}
