package controlplane_test

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"strings"
	"testing"
	"time"

	"github.com/nodeconsole/nodeconsole/api"
	"github.com/nodeconsole/nodeconsole/controlplane"
	"github.com/nodeconsole/nodeconsole/controlplane/cptest"
	"github.com/nodeconsole/nodeconsole/controlplane/notify"
	"github.com/nodeconsole/nodeconsole/controlplane/ratelimit"
)

// until waits for cond (a broken feature hangs the test until its timeout
// rather than failing by the clock).
func until(cond func() bool) {
	for !cond() {
		time.Sleep(time.Millisecond)
	}
}

// parked reports how many polls cp has parked now and ever.
func parked(cp *cptest.Server) (now, total int64) { return cp.Control().ParkStats() }

// rawPoll sends a poll on a connection of its own over HTTP/1.1 and
// returns the connection without reading the answer.
func rawPoll(t testing.TB, cp *cptest.Server, deviceCode string, wait int) *tls.Conn {
	t.Helper()
	conn, err := tls.Dial("tcp", strings.TrimPrefix(cp.URL, "https://"), &tls.Config{RootCAs: cp.CertPool(), NextProtos: []string{"http/1.1"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	body, _ := json.Marshal(api.PollRequest{DeviceCode: deviceCode, Wait: wait})
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
		api.PathEnrollPoll, strings.TrimPrefix(cp.URL, "https://"), len(body), body)
	return conn
}

// answer reads the answer of a poll sent with rawPoll.
func answer(t testing.TB, conn io.Reader) (*http.Response, api.Error) {
	t.Helper()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("read the poll's answer: %v", err)
	}
	defer resp.Body.Close()
	var e api.Error
	data, _ := io.ReadAll(resp.Body)
	json.Unmarshal(data, &e)
	return resp, e
}

// A poll over HTTP/1.1 that has to wait is parked, is answered with the
// certificate at License, and its connection serves the client's next
// request (handed back, not closed).
func TestParkedPollAnswersAtLicense(t *testing.T) {
	cp := cptest.New(t)
	n := newTestNode(t)
	er := n.enroll(t, cp)
	c := cp.Client()
	done := make(chan error, 1)
	var reg api.Registration
	go func() {
		_, err := call(t, c, "POST", cp.URL+api.PathEnrollPoll, api.PollRequest{DeviceCode: er.DeviceCode}, &reg)
		done <- err
	}()
	until(func() bool { now, _ := parked(cp); return now == 1 })
	if w := cp.Control().Waiting(); w != 1 {
		t.Errorf("Waiting() = %d while one poll is parked", w)
	}
	if _, err := cp.License(er.UserCode, "store-7", ""); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("parked poll: %v", err)
	}
	verifyNodeCert(t, cp, reg.Certificate, n.id)
	if reg.NodeName != "store-7" || reg.AccessToken == "" {
		t.Errorf("registration %+v", reg)
	}
	reused := false
	req, _ := http.NewRequest("GET", cp.URL+api.PathTime, nil)
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
		GotConn: func(i httptrace.GotConnInfo) { reused = i.Reused },
	}))
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || !reused {
		t.Errorf("the next request on the parked poll's connection: %s, reused %v", resp.Status, reused)
	}
	if now, _ := parked(cp); now != 0 || cp.Control().Waiting() != 0 {
		t.Errorf("parked %d, waiting %d after the answer", now, cp.Control().Waiting())
	}
}

// At the hold deadline a parked poll answers exactly what a poll held on
// HTTP/2 (its handler waiting) answers: status, headers, body.
func TestParkedPollDeadlineAnswersAsHeld(t *testing.T) {
	cp := cptest.New(t)
	h2 := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: cp.CertPool()}, ForceAttemptHTTP2: true}}
	type result struct {
		proto, status string
		header        http.Header
		body          string
	}
	get := func(c *http.Client) result {
		er := newTestNode(t).enroll(t, cp)
		body, _ := json.Marshal(api.PollRequest{DeviceCode: er.DeviceCode, Wait: 1})
		resp, err := c.Post(cp.URL+api.PathEnrollPoll, "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		h := resp.Header.Clone()
		h.Del("Date")
		h.Del("Content-Length")
		return result{resp.Proto, resp.Status, h, string(data)}
	}
	held := get(h2)
	_, before := parked(cp)
	parkedAnswer := get(cp.Client())
	if _, after := parked(cp); held.proto != "HTTP/2.0" || parkedAnswer.proto != "HTTP/1.1" || after != before+1 {
		t.Fatalf("held on %s, parked on %s (%d parked)", held.proto, parkedAnswer.proto, after-before)
	}
	held.proto, parkedAnswer.proto = "", ""
	if fmt.Sprint(held) != fmt.Sprint(parkedAnswer) {
		t.Errorf("at the deadline a parked poll answered\n%+v\nand a held one\n%+v", parkedAnswer, held)
	}
	if !strings.Contains(held.body, `"authorization_pending"`) || held.status != "400 Bad Request" {
		t.Errorf("deadline answer %+v", held)
	}
}

// relayNotifier delivers a Publish only when the test relays it, as
// another replica's LISTEN connection would.
type relayNotifier struct {
	*notify.Hub
	published chan string
}

func (n relayNotifier) Publish(key string) { n.published <- key }

// A parked poll is woken through the Notifier's subscription alone (a
// License on another replica): a re-check after a lost connection
// (PublishAll) answers authorization_pending at once, the relayed
// notification of the License the certificate.
func TestParkedPollWokenAcrossReplicas(t *testing.T) {
	relay := relayNotifier{Hub: notify.NewHub(), published: make(chan string, 10)}
	cp := cptest.NewWith(t, controlplane.Options{Notifier: relay, LongPoll: time.Hour, PollInterval: time.Millisecond})
	n := newTestNode(t)
	er := n.enroll(t, cp)

	conn := rawPoll(t, cp, er.DeviceCode, 0)
	until(func() bool { now, _ := parked(cp); return now == 1 })
	relay.PublishAll()
	if resp, e := answer(t, conn); resp.StatusCode != 400 || e.Code != api.CodeAuthorizationPending {
		t.Fatalf("after PublishAll: %s %s", resp.Status, e.Code)
	}

	var reg api.Registration
	done := make(chan error, 1)
	go func() {
		_, err := call(t, cp.Client(), "POST", cp.URL+api.PathEnrollPoll, api.PollRequest{DeviceCode: er.DeviceCode}, &reg)
		done <- err
	}()
	until(func() bool { now, total := parked(cp); return now == 1 && total == 2 })
	if _, err := cp.License(er.UserCode, "store-8", ""); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		t.Fatalf("the poll answered (%v) before the notification was relayed", err)
	default:
	}
	relay.Hub.Publish(<-relay.published)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	verifyNodeCert(t, cp, reg.Certificate, n.id)
}

// A client that hangs up leaves its parked poll behind until the deadline
// at the latest; then nothing of it is left: no parked poll, no
// connection, no goroutine.
func TestParkedPollClientHangsUp(t *testing.T) {
	cp := cptest.New(t)
	er := newTestNode(t).enroll(t, cp)
	fds := func() int { e, _ := os.ReadDir("/proc/self/fd"); return len(e) }
	baseFDs, baseG := fds(), runtime.NumGoroutine()
	conn := rawPoll(t, cp, er.DeviceCode, 1)
	until(func() bool { now, _ := parked(cp); return now == 1 })
	conn.Close()
	until(func() bool {
		now, _ := parked(cp)
		return now == 0 && cp.Control().Waiting() == 0 && fds() <= baseFDs && runtime.NumGoroutine() <= baseG
	})
}

// The poll interval still holds beside a parked poll (slow_down), and
// stopping the server answers a parked poll (poll again) and closes its
// connection.
func TestParkedPollShutdown(t *testing.T) {
	cp := cptest.NewWith(t, controlplane.Options{LongPoll: time.Hour})
	er := newTestNode(t).enroll(t, cp)
	conn := rawPoll(t, cp, er.DeviceCode, 0)
	until(func() bool { now, _ := parked(cp); return now == 1 })
	if resp, e := answer(t, rawPoll(t, cp, er.DeviceCode, 0)); resp.StatusCode != 400 || e.Code != api.CodeSlowDown {
		t.Errorf("a second poll within the interval: %s %s, want slow_down", resp.Status, e.Code)
	}
	if now, total := parked(cp); now != 1 || total != 1 {
		t.Errorf("%d parked now, %d ever; want 1 and 1", now, total)
	}
	cp.Stop()
	resp, e := answer(t, conn)
	if resp.StatusCode != 400 || e.Code != api.CodeAuthorizationPending || !strings.Contains(e.Message, "restarting") || !resp.Close {
		t.Errorf("at shutdown: %s %+v, Connection: close %v", resp.Status, e, resp.Close)
	}
}

// parkedMemoryNodes is how many polls the memory guard parks.
const parkedMemoryNodes = 200

// maxParkedBytes bounds the live Go heap and stacks one parked poll costs
// (measured ~8 KiB; a poll held by its handler costs ~30 KiB on HTTP/1.1,
// ~50 KiB on HTTP/2).
const maxParkedBytes = 16 << 10

// The byte-count guard: parked polls own no goroutine, and each costs less
// than maxParkedBytes of live heap and stacks after a collection. The clients
// run in a child process (this test binary again), so only the server's
// side is counted.
func TestParkedPollMemory(t *testing.T) {
	if os.Getenv("PARKED_POLL_CLIENTS") != "" {
		parkedPollClients(t)
		return
	}
	if os.Getenv("PARKED_POLL_HEAP") != "" {
		runtime.MemProfileRate = 1
	}
	limits := ratelimit.Defaults()
	limits.EnrollPerIP = ratelimit.Limit{} // every node is 127.0.0.1 here
	cp := cptest.NewWith(t, controlplane.Options{MaxPendingPerSource: -1, RateLimits: &limits})
	c := cp.Client()
	var codes bytes.Buffer
	for range parkedMemoryNodes {
		var r api.EnrollResponse
		if _, err := call(t, c, "POST", cp.URL+api.PathEnroll, newTestNode(t).enrollRequest(), &r); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintln(&codes, r.DeviceCode)
	}
	c.Transport.(*http.Transport).CloseIdleConnections()
	baseG := runtime.NumGoroutine()
	until(func() bool { return runtime.NumGoroutine() <= baseG }) // the server's side of that connection
	before := memUse()

	cmd := exec.Command(os.Args[0], "-test.run=^TestParkedPollMemory$")
	cmd.Env = append(os.Environ(), "PARKED_POLL_CLIENTS="+cp.URL, "PARKED_POLL_CA="+cp.CAPath)
	cmd.Stderr = os.Stderr
	// The child polls with the codes, then runs until its stdin closes
	// (this test ends, or its process).
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer in.Close()
	codes.WriteString("\n")
	if _, err := in.Write(codes.Bytes()); err != nil {
		t.Fatal(err)
	}
	until(func() bool { return cp.Control().Waiting() == parkedMemoryNodes })
	after := memUse()
	if now, _ := parked(cp); now != parkedMemoryNodes {
		t.Errorf("%d of %d waiting polls are parked", now, parkedMemoryNodes)
	}
	goroutines := runtime.NumGoroutine()
	live := (after.live - before.live) / parkedMemoryNodes
	inuse := (after.inuse - before.inuse) / parkedMemoryNodes
	t.Logf("%d parked polls: %d goroutines (%d before); per parked poll: live heap+stacks %d B, HeapInuse+StackInuse %d B",
		parkedMemoryNodes, goroutines, baseG, live, inuse)
	if goroutines > baseG+10 {
		t.Errorf("%d goroutines with %d polls parked, %d before: parked polls own goroutines", goroutines, parkedMemoryNodes, baseG)
	}
	if live > maxParkedBytes {
		t.Errorf("a parked poll costs %d bytes of live heap and stacks, more than %d", live, maxParkedBytes)
	}
	if p := os.Getenv("PARKED_POLL_HEAP"); p != "" {
		f, _ := os.Create(p)
		pprof.Lookup("heap").WriteTo(f, 0)
		f.Close()
	}
}

// memUse is the memory in use after a collection: live heap objects and
// stacks, and the heap spans and stacks in use (the former without the
// spans' free slots, so it varies less between runs).
func memUse() (m struct{ live, inuse int64 }) {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	m.live, m.inuse = int64(ms.HeapAlloc+ms.StackInuse), int64(ms.HeapInuse+ms.StackInuse)
	return m
}

// parkedPollClients is the child of TestParkedPollMemory: one connection
// and poll per device code on stdin (up to an empty line), kept until
// stdin closes.
func parkedPollClients(t *testing.T) {
	ca, err := os.ReadFile(os.Getenv("PARKED_POLL_CA"))
	if err != nil {
		t.Fatal(err)
	}
	cp := &cptest.Server{URL: os.Getenv("PARKED_POLL_CLIENTS"), CAPEM: ca}
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() && sc.Text() != "" {
		rawPoll(t, cp, sc.Text(), 0)
	}
	io.Copy(io.Discard, os.Stdin)
}

// A poll whose body goes on past the body limit is parked with the rest of
// its body still to come. Those bytes are the poll's body, not a request:
// the connection is closed after the answer, never handed back to parse
// them as one (request smuggling past a proxy that pools connections).
func TestParkedPollBodyPastLimitIsNotARequest(t *testing.T) {
	cp := cptest.New(t)
	er := newTestNode(t).enroll(t, cp)
	conn, err := tls.Dial("tcp", strings.TrimPrefix(cp.URL, "https://"), &tls.Config{RootCAs: cp.CertPool(), NextProtos: []string{"http/1.1"}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	const limit = 64 << 10 // the control plane's body limit
	js, _ := json.Marshal(api.PollRequest{DeviceCode: er.DeviceCode, Wait: 1})
	head := append(js, bytes.Repeat([]byte(" "), limit+1-len(js))...)
	smuggled := "GET " + api.PathEnrollPoll + " HTTP/1.1\r\nHost: x\r\n\r\n"
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
		api.PathEnrollPoll, len(head)+len(smuggled), head)
	until(func() bool { now, _ := parked(cp); return now == 1 })
	io.WriteString(conn, smuggled) // the rest of the declared body
	br := bufio.NewReader(conn)
	resp, e := answer(t, br)
	if resp.StatusCode != 400 || e.Code != api.CodeAuthorizationPending || !resp.Close {
		t.Errorf("answer %s %+v, Connection: close %v; want authorization_pending and close", resp.Status, e, resp.Close)
	}
	if second, err := http.ReadResponse(br, nil); err == nil {
		t.Errorf("the rest of the body was served as a request: %s", second.Status)
	}
}
