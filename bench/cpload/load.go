package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/nodeconsole/nodeconsole/api"
)

// serverHold is how long the control plane holds a pending poll by default
// (docs/protocol.md).
const serverHold = 25 * time.Second

// config bounds one load run. Every count is an upper bound on connections,
// goroutines and requests; Run also stops at its context's deadline.
type config struct {
	// Nodes is how many nodes hold a long-poll at once (each on its own
	// connection).
	Nodes int
	// Enrollments is how many enrollments phase 1 times (>= Nodes; the
	// first Nodes of them then wait in phase 2).
	Enrollments int
	// Concurrency is the number of enrollment clients, each with one
	// keep-alive connection.
	Concurrency int
	// Activate is how many of the waiting nodes are licensed in phase 3.
	Activate int
	// ActivateRate paces License Node calls (per second, open loop); 0
	// sends them as fast as ActivateConc allows.
	ActivateRate float64
	// ActivateConc bounds License Node calls in flight.
	ActivateConc int
	// DialConc bounds connections being set up at once in phase 2 (the
	// server's listen backlog is finite).
	DialConc int
	// HTTP2 makes every client negotiate h2; false forces HTTP/1.1, as
	// regclient does before the node has a certificate (its enrollment and
	// long-poll).
	HTTP2 bool
	// Settle is how long phase 2 waits for all polls to be held.
	Settle time.Duration
	// Hold keeps the unlicensed nodes waiting this long after phase 3, to
	// measure what waiting nodes cost in the steady state.
	Hold time.Duration
	// Log receives progress lines.
	Log io.Writer
	// Dump, if set, receives one CSV line per licensed node: when License
	// was sent (ms since start), License API time and License -> answer.
	Dump io.Writer
	// OnPhase, if set, is called as phases start: "enroll", "ramp" (nodes
	// start polling), "waiting" (all polls held), "activate".
	OnPhase func(phase string)
}

// target is a running control plane.
type target struct {
	URL string
	// Replicas, if set, are the URLs of control planes sharing one
	// database (URL is the first): node i enrolls and polls on replica
	// i%N and is licensed on the next one, so every activation crosses
	// replicas.
	Replicas   []string
	CAPEM      []byte
	AdminToken string
	// Stats reads the control plane's gauges.
	Stats func(ctx context.Context) (serverStats, error)
	// Collected, if set, is Stats right after a garbage collection in the
	// control plane (live heap and stacks without garbage).
	Collected func(ctx context.Context) (serverStats, error)
}

// serverStats is what the control plane costs; zero fields are unknown.
type serverStats struct {
	Waiting      int   `json:"waitingPolls"`
	Goroutines   int   `json:"goroutines"`
	FDs          int   `json:"fds"`
	RSSKiB       int64 `json:"rssKiB"`
	HWMKiB       int64 `json:"hwmKiB"`
	HeapInuseKiB int64 `json:"heapInuseKiB"`
	HeapAllocKiB int64 `json:"heapAllocKiB"`
	StackKiB     int64 `json:"stackInuseKiB"`
	GoSysKiB     int64 `json:"goSysKiB"`
	// CPU is the process's user+system CPU time so far.
	CPU time.Duration `json:"cpuNs"`
	// NumGC counts the process's garbage collections so far.
	NumGC uint32 `json:"numGC"`
	// WALKiB is the size of the SQLite WAL file (it keeps its largest
	// size, up to the control plane's journal_size_limit).
	WALKiB int64 `json:"walKiB"`
}

// latencies summarises durations.
type latencies struct {
	N   int     `json:"n"`
	P50 float64 `json:"p50Ms"`
	P90 float64 `json:"p90Ms"`
	P99 float64 `json:"p99Ms"`
	Max float64 `json:"maxMs"`
}

func summarise(d []time.Duration) latencies {
	if len(d) == 0 {
		return latencies{}
	}
	slices.Sort(d)
	q := func(p float64) float64 {
		i := max(0, int(math.Ceil(p*float64(len(d))))-1)
		return float64(d[i]) / float64(time.Millisecond)
	}
	return latencies{N: len(d), P50: q(0.50), P90: q(0.90), P99: q(0.99), Max: q(1)}
}

func (l latencies) String() string {
	return fmt.Sprintf("p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms (n=%d)", l.P50, l.P90, l.P99, l.Max, l.N)
}

// cpuUse is the CPU both processes used over a phase.
type cpuUse struct {
	Wall   time.Duration `json:"wallNs"`
	Server time.Duration `json:"serverCpuNs"`
	Loader time.Duration `json:"loaderCpuNs"`
	// Busy is the machine's busy CPU time over all CPUs (/proc/stat:
	// everything but idle and iowait), other programs included; Steal is
	// time the hypervisor gave to other guests.
	Busy  time.Duration `json:"machineBusyNs"`
	Steal time.Duration `json:"stealNs"`
}

func (c cpuUse) String() string {
	if c.Wall <= 0 {
		return "n/a"
	}
	pct := func(d time.Duration) float64 { return 100 * d.Seconds() / c.Wall.Seconds() }
	return fmt.Sprintf("control plane %.0f%% of a core, cpload %.0f%%; whole machine busy %.0f%% of %d00%%, steal %.0f%%",
		pct(c.Server), pct(c.Loader), pct(c.Busy), runtime.NumCPU(), pct(c.Steal))
}

// cpuMark is a point to measure cpuUse from.
type cpuMark struct {
	at                          time.Time
	server, loader, busy, steal time.Duration
}

func (l *loader) mark(ctx context.Context) cpuMark {
	m := cpuMark{at: time.Now(), loader: selfCPU()}
	m.busy, m.steal = machineCPU()
	if l.t.Stats != nil {
		if st, err := l.t.Stats(ctx); err == nil {
			m.server = st.CPU
		}
	}
	return m
}

func (l *loader) since(ctx context.Context, m cpuMark) cpuUse {
	n := l.mark(ctx)
	return cpuUse{Wall: n.at.Sub(m.at), Server: n.server - m.server, Loader: n.loader - m.loader,
		Busy: n.busy - m.busy, Steal: n.steal - m.steal}
}

// machineCPU reads the "cpu" line of /proc/stat: busy time (all but idle
// and iowait) and steal, over all CPUs.
func machineCPU() (busy, steal time.Duration) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return 0, 0
	}
	var ticks [8]int64
	for i := range ticks {
		ticks[i], _ = strconv.ParseInt(f[i+1], 10, 64)
	}
	// user nice system idle iowait irq softirq steal
	b2 := ticks[0] + ticks[1] + ticks[2] + ticks[5] + ticks[6] + ticks[7]
	return time.Duration(b2) * 10 * time.Millisecond, time.Duration(ticks[7]) * 10 * time.Millisecond
}

// selfCPU is this process's user+system CPU time.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// result is what a run measured and checked.
type result struct {
	KeyGen time.Duration `json:"keyGenNs"`

	Enrolled       int           `json:"enrolled"`
	EnrollErrors   int           `json:"enrollErrors"`
	EnrollElapsed  time.Duration `json:"enrollElapsedNs"`
	EnrollPerSec   float64       `json:"enrollPerSec"`
	EnrollLatency  latencies     `json:"enrollLatency"`
	EnrollFirstErr string        `json:"enrollFirstError,omitempty"`
	EnrollCPU      cpuUse        `json:"enrollCpu"`

	Pollers       int           `json:"pollers"`
	RampElapsed   time.Duration `json:"rampElapsedNs"`
	RampCPU       cpuUse        `json:"rampCpu"`
	Connect       latencies     `json:"tcpConnect"`
	Handshake     latencies     `json:"tlsHandshake"`
	MaxWaiting    int           `json:"maxWaiting"`
	AllWaiting    bool          `json:"allWaiting"`
	Idle          serverStats   `json:"atWaiting"`
	LoaderHWMKiB  int64         `json:"loaderHwmKiB"`
	LoaderGCs     uint32        `json:"loaderGCs"`
	ServerGCs     uint32        `json:"serverGCs"`
	Before        serverStats   `json:"beforeWaiting"`
	BeforeGC      serverStats   `json:"beforeWaitingCollected"`
	IdleGC        serverStats   `json:"atWaitingCollected"`
	After         serverStats   `json:"afterActivation"`
	Held          serverStats   `json:"afterHold"`
	HoldCPU       cpuUse        `json:"holdCpu"`
	PollsPending  int64         `json:"pollsPending"`
	PollsSlowDown int64         `json:"pollsSlowDown"`
	PollErrors    int64         `json:"pollErrors"`
	PollFirstErr  string        `json:"pollFirstError,omitempty"`

	Licensed        int           `json:"licensed"`
	LicenseErrors   int           `json:"licenseErrors"`
	LicenseFirstErr string        `json:"licenseFirstError,omitempty"`
	LicenseAPI      latencies     `json:"licenseApi"`
	Answered        int           `json:"answered"`
	CertsOK         int           `json:"certsOk"`
	CertFirstErr    string        `json:"certFirstError,omitempty"`
	Activation      latencies     `json:"licenseToPollAnswer"`
	ActivateElapsed time.Duration `json:"activateElapsedNs"`
	ActivateCPU     cpuUse        `json:"activateCpu"`
	// Unexpected counts nodes that were not licensed but got a
	// certificate, or that stopped waiting for another reason.
	Unexpected int `json:"unexpected"`
}

// node is one simulated node: identity, codes and what happened to it.
type node struct {
	id       string
	key      *ecdsa.PrivateKey
	csr      string
	replica  int // index in target.Replicas it enrolls and polls on
	device   string
	userCode string
	sampled  bool

	tcp, tls time.Duration // TCP connect and TLS handshake of the poll connection

	licensedAt atomic.Int64 // ns since run start; 0 = not licensed
	licenseOK  atomic.Int64 // ns since run start when License Node answered
	answeredAt atomic.Int64 // ns since run start; 0 = no certificate yet
	certErr    atomic.Pointer[string]
	stopped    atomic.Pointer[string] // why the poller gave up, if it did
}

// firstErr keeps the first error message of a phase.
type firstErr struct {
	mu  sync.Mutex
	msg string
	n   atomic.Int64
}

func (f *firstErr) add(format string, args ...any) {
	f.n.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.msg == "" {
		f.msg = fmt.Sprintf(format, args...)
	}
}

func (f *firstErr) get() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.msg
}

// run executes the three phases against t.
func run(ctx context.Context, t target, cfg config) (*result, error) {
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	if cfg.Enrollments < cfg.Nodes {
		cfg.Enrollments = cfg.Nodes
	}
	cfg.Activate = min(cfg.Activate, cfg.Nodes)
	cfg.Concurrency = max(1, cfg.Concurrency)
	cfg.ActivateConc = max(1, cfg.ActivateConc)
	cfg.DialConc = max(1, cfg.DialConc)
	if cfg.Settle <= 0 {
		cfg.Settle = time.Minute
	}
	if cfg.OnPhase == nil {
		cfg.OnPhase = func(string) {}
	}
	u, err := url.Parse(t.URL)
	if err != nil {
		return nil, err
	}
	if ip := net.ParseIP(u.Hostname()); ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("target %s is not a loopback address", t.URL)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(t.CAPEM) {
		return nil, errors.New("target CA holds no certificate")
	}
	l := &loader{cfg: cfg, t: t, roots: roots, start: time.Now(),
		tlsConf: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}}
	res := &result{}

	// Keys and CSRs first: their cost is the node's, not the server's.
	fmt.Fprintf(cfg.Log, "cpload: generating %d ECDSA P-256 keys and CSRs\n", cfg.Enrollments)
	t0 := time.Now()
	nodes, err := makeNodes(ctx, cfg.Enrollments)
	if err != nil {
		return nil, err
	}
	res.KeyGen = time.Since(t0)
	if len(l.t.Replicas) == 0 {
		l.t.Replicas = []string{t.URL}
	}
	for i, n := range nodes {
		n.replica = i % len(l.t.Replicas)
	}

	if err := l.enrollPhase(ctx, nodes, res); err != nil {
		return res, err
	}
	var waiting []*node
	for _, n := range nodes[:cfg.Nodes] {
		if n.device != "" {
			waiting = append(waiting, n)
		}
	}
	if len(waiting) == 0 {
		return res, errors.New("no node enrolled")
	}
	err = l.waitAndActivate(ctx, waiting, res)
	return res, err
}

// url is the base URL of replica i (modulo their number).
func (l *loader) url(i int) string { return l.t.Replicas[i%len(l.t.Replicas)] }

// loader holds what the phases share.
type loader struct {
	cfg     config
	t       target
	roots   *x509.CertPool
	tlsConf *tls.Config
	start   time.Time
}

func (l *loader) now() int64 { return int64(time.Since(l.start)) }

// transport is one client's connection pool (one connection is all a
// node or an enrollment client uses).
func (l *loader) transport() *http.Transport {
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:     l.tlsConf.Clone(), // net/http edits NextProtos
		TLSHandshakeTimeout: 30 * time.Second,
		ForceAttemptHTTP2:   l.cfg.HTTP2,
		MaxIdleConns:        max(2, len(l.t.Replicas)),
		MaxIdleConnsPerHost: 2,
		IdleConnTimeout:     2 * time.Minute,
	}
	if !l.cfg.HTTP2 {
		tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
	}
	return tr
}

// makeNodes creates n node identities using every CPU.
func makeNodes(ctx context.Context, n int) ([]*node, error) {
	nodes := make([]*node, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	var fail firstErr
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
				if err != nil {
					fail.add("generate key: %v", err)
					return
				}
				der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "cpload"}}, key)
				if err != nil {
					fail.add("create CSR: %v", err)
					return
				}
				b := make([]byte, 16)
				rand.Read(b)
				nodes[i] = &node{id: "edge-" + hex.EncodeToString(b), key: key,
					csr: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))}
			}
		})
	}
	wg.Wait()
	if msg := fail.get(); msg != "" {
		return nil, errors.New(msg)
	}
	return nodes, ctx.Err()
}

// apiError is an error answer of the control plane.
type apiError struct {
	status int
	body   api.Error
}

func (e *apiError) Error() string {
	return fmt.Sprintf("%d %s: %s", e.status, e.body.Code, e.body.Message)
}

// call sends a JSON request and decodes a 2xx answer into out.
func call(ctx context.Context, c *http.Client, method, u, auth string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if auth != "" {
		req.Header.Set("Authorization", "Bearer "+auth)
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		e := &apiError{status: resp.StatusCode}
		if json.Unmarshal(data, &e.body) != nil || e.body.Code == "" {
			e.body.Message = string(data)
		}
		return e
	}
	if out != nil {
		return json.Unmarshal(data, out)
	}
	return nil
}

// enrollPhase enrolls every node with Concurrency keep-alive clients and
// times it.
func (l *loader) enrollPhase(ctx context.Context, nodes []*node, res *result) error {
	fmt.Fprintf(l.cfg.Log, "cpload: phase 1: %d enrollments, %d clients\n", len(nodes), l.cfg.Concurrency)
	// One warm-up request per client so connection set-up is not timed.
	clients := make([]*http.Client, l.cfg.Concurrency)
	var wg sync.WaitGroup
	for i := range clients {
		tr := l.transport()
		defer tr.CloseIdleConnections()
		clients[i] = &http.Client{Transport: tr, Timeout: time.Minute}
		wg.Go(func() {
			for _, u := range l.t.Replicas {
				_ = call(ctx, clients[i], http.MethodGet, u+api.PathTime, "", nil, nil)
			}
		})
	}
	wg.Wait()
	var next atomic.Int64
	lat := make([]time.Duration, len(nodes))
	var fail firstErr
	l.cfg.OnPhase("enroll")
	cpu := l.mark(ctx)
	start := time.Now()
	for _, c := range clients {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(nodes) || ctx.Err() != nil {
					return
				}
				n := nodes[i]
				t0 := time.Now()
				var out api.EnrollResponse
				err := call(ctx, c, http.MethodPost, l.url(n.replica)+api.PathEnroll, "", api.EnrollRequest{
					NodeID: n.id, Make: "Acme", Model: "Load 1", Version: "1.0.0", CSR: n.csr}, &out)
				lat[i] = time.Since(t0)
				if err == nil {
					err = checkEnroll(out)
				}
				if err != nil {
					fail.add("enroll %s: %v", n.id, err)
					continue
				}
				n.device, n.userCode = out.DeviceCode, out.UserCode
			}
		})
	}
	wg.Wait()
	res.EnrollElapsed = time.Since(start)
	res.EnrollCPU = l.since(ctx, cpu)
	var ok []time.Duration
	for i, n := range nodes {
		if n.device != "" {
			ok = append(ok, lat[i])
		}
	}
	res.Enrolled, res.EnrollErrors, res.EnrollFirstErr = len(ok), int(fail.n.Load()), fail.get()
	res.EnrollPerSec = float64(res.Enrolled) / res.EnrollElapsed.Seconds()
	res.EnrollLatency = summarise(ok)
	fmt.Fprintf(l.cfg.Log, "cpload: enrolled %d in %v: %.0f/s (%d errors)\n", res.Enrolled,
		res.EnrollElapsed.Round(time.Millisecond), res.EnrollPerSec, res.EnrollErrors)
	return ctx.Err()
}

func checkEnroll(r api.EnrollResponse) error {
	if r.DeviceCode == "" || r.Status != api.StatusPending || r.Interval <= 0 || r.ExpiresIn <= 0 {
		return fmt.Errorf("unexpected answer %+v", r)
	}
	if _, ok := api.NormalizeUserCode(r.UserCode); !ok {
		return fmt.Errorf("user code %q is malformed", r.UserCode)
	}
	return nil
}

// pollStats counts poll answers over all nodes.
type pollStats struct {
	pending, slowDown atomic.Int64
	fail              firstErr
}

// waitAndActivate is phases 2 and 3: every node in nodes holds a long-poll;
// once all are held, Activate of them are licensed and each License is
// timed to its node's poll answer.
func (l *loader) waitAndActivate(ctx context.Context, nodes []*node, res *result) error {
	if l.t.Stats != nil {
		res.Before, _ = l.t.Stats(ctx)
	}
	if l.t.Collected != nil {
		res.BeforeGC, _ = l.t.Collected(ctx)
	}
	fmt.Fprintf(l.cfg.Log, "cpload: phase 2: %d nodes long-polling, one connection each\n", len(nodes))
	pctx, stopPolls := context.WithCancel(ctx)
	defer stopPolls()
	var ps pollStats
	dial := make(chan struct{}, l.cfg.DialConc)
	var wg sync.WaitGroup
	l.cfg.OnPhase("ramp")
	rampCPU := l.mark(ctx)
	rampStart := time.Now()
	for _, n := range nodes {
		select {
		case dial <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
		wg.Go(func() { l.poller(pctx, n, dial, &ps) })
	}
	// Every connection is set up once the semaphore can be filled.
	for range l.cfg.DialConc {
		select {
		case dial <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	for range l.cfg.DialConc {
		<-dial
	}
	res.Pollers = len(nodes)

	// Wait until the server holds every poll (polls end after 25 s and are
	// sent again at once, so the count dips for a moment now and then).
	if l.t.Stats != nil {
		deadline := time.Now().Add(l.cfg.Settle)
		for time.Now().Before(deadline) && ctx.Err() == nil {
			st, err := l.t.Stats(ctx)
			if err == nil {
				res.MaxWaiting = max(res.MaxWaiting, st.Waiting)
				if st.Waiting >= len(nodes) {
					res.AllWaiting = true
					res.Idle = st
					break
				}
			}
			time.Sleep(100 * time.Millisecond)
		}
		res.RampElapsed = time.Since(rampStart)
		res.RampCPU = l.since(ctx, rampCPU)
		if !res.AllWaiting {
			res.Idle, _ = l.t.Stats(ctx)
		}
		fmt.Fprintf(l.cfg.Log, "cpload: %d of %d polls held after %v; control plane RSS %d KiB (peak %d), %d goroutines, %d fds\n",
			res.Idle.Waiting, len(nodes), res.RampElapsed.Round(time.Millisecond), res.Idle.RSSKiB, res.Idle.HWMKiB,
			res.Idle.Goroutines, res.Idle.FDs)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if b, err := os.ReadFile("/proc/self/status"); err == nil {
		res.LoaderHWMKiB = statusKiB(b, "VmHWM:")
	}
	if l.t.Collected != nil && res.AllWaiting {
		res.IdleGC, _ = l.t.Collected(ctx)
	}
	l.cfg.OnPhase("waiting")

	// Phase 3.
	sample := slices.Clone(nodes)
	mrand.Shuffle(len(sample), func(i, j int) { sample[i], sample[j] = sample[j], sample[i] })
	sample = sample[:l.cfg.Activate]
	for _, n := range sample {
		n.sampled = true
	}
	fmt.Fprintf(l.cfg.Log, "cpload: phase 3: License Node for %d of them (rate %g/s, %d in flight at most)\n",
		len(sample), l.cfg.ActivateRate, l.cfg.ActivateConc)
	// cpload is the instrument: its collector (10k client connections, a
	// mark of ~1 s on two busy cores) must not stall the timestamps. Collect
	// now, then let the heap grow during the phase (a few hundred MiB).
	runtime.GC()
	defer debug.SetGCPercent(debug.SetGCPercent(1000))
	l.cfg.OnPhase("activate")
	actCPU := l.mark(ctx)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	gcs := ms.NumGC
	var before serverStats
	if l.t.Stats != nil {
		before, _ = l.t.Stats(ctx)
	}
	l.activate(ctx, sample, res)
	res.ActivateCPU = l.since(ctx, actCPU)
	runtime.ReadMemStats(&ms)
	res.LoaderGCs = ms.NumGC - gcs
	if l.t.Stats != nil {
		if after, err := l.t.Stats(ctx); err == nil {
			res.ServerGCs = after.NumGC - before.NumGC
		}
	}

	// Wait for the licensed nodes' answers; the others keep waiting.
	answerBy := time.Now().Add(30 * time.Second)
	for time.Now().Before(answerBy) && ctx.Err() == nil {
		done := 0
		for _, n := range sample {
			if n.answeredAt.Load() != 0 || n.stopped.Load() != nil {
				done++
			}
		}
		if done == len(sample) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if l.t.Stats != nil {
		res.After, _ = l.t.Stats(ctx)
	}
	if l.cfg.Hold > 0 && ctx.Err() == nil {
		// Steady state: the unlicensed nodes keep waiting, re-polling as
		// their held polls end.
		fmt.Fprintf(l.cfg.Log, "cpload: holding %d waiting nodes for %v\n", len(nodes)-len(sample), l.cfg.Hold)
		m := l.mark(ctx)
		sleep(ctx, l.cfg.Hold)
		res.HoldCPU = l.since(ctx, m)
		if l.t.Stats != nil {
			res.Held, _ = l.t.Stats(ctx)
		}
	}
	stopPolls()
	wg.Wait()

	var lat, tcp, hs []time.Duration
	var certFail firstErr
	for _, n := range nodes {
		if n.tcp > 0 {
			tcp = append(tcp, n.tcp)
		}
		if n.tls > 0 {
			hs = append(hs, n.tls)
		}
		at := n.answeredAt.Load()
		switch {
		case n.sampled && at != 0:
			res.Answered++
			if msg := n.certErr.Load(); msg != nil {
				certFail.add("%s", *msg)
			} else {
				res.CertsOK++
			}
			if lic := n.licensedAt.Load(); lic != 0 {
				lat = append(lat, time.Duration(at-lic))
			}
		case !n.sampled && (at != 0 || n.stopped.Load() != nil):
			res.Unexpected++
		}
	}
	if l.cfg.Dump != nil {
		fmt.Fprintln(l.cfg.Dump, "license_sent_ms,license_api_ms,license_to_answer_ms")
		for _, n := range sample {
			lic, ok, at := n.licensedAt.Load(), n.licenseOK.Load(), n.answeredAt.Load()
			if lic != 0 && at != 0 {
				fmt.Fprintf(l.cfg.Dump, "%.1f,%.2f,%.2f\n", float64(lic)/1e6, float64(ok-lic)/1e6, float64(at-lic)/1e6)
			}
		}
	}
	res.CertFirstErr = certFail.get()
	res.Connect, res.Handshake = summarise(tcp), summarise(hs)
	res.Activation = summarise(lat)
	res.PollsPending, res.PollsSlowDown = ps.pending.Load(), ps.slowDown.Load()
	res.PollErrors, res.PollFirstErr = ps.fail.n.Load(), ps.fail.get()
	fmt.Fprintf(l.cfg.Log, "cpload: License -> poll answer: %v\n", res.Activation)
	return ctx.Err()
}

// poller is one node waiting for its certificate on its own connection, as
// regclient does: a held poll that ends pending is sent again at once (the
// interval counts from the previous poll's start).
func (l *loader) poller(ctx context.Context, n *node, dial chan struct{}, ps *pollStats) {
	tr := l.transport()
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr, Timeout: serverHold + 30*time.Second}
	var once sync.Once
	release := func() { once.Do(func() { <-dial }) }
	defer release()
	var tcpStart, tlsStart time.Time
	trace := &httptrace.ClientTrace{
		ConnectStart: func(string, string) { tcpStart = time.Now() },
		ConnectDone: func(_, _ string, err error) {
			if err == nil {
				n.tcp = time.Since(tcpStart)
			}
		},
		TLSHandshakeStart: func() { tlsStart = time.Now() },
		TLSHandshakeDone: func(_ tls.ConnectionState, err error) {
			if err == nil {
				n.tls = time.Since(tlsStart)
			}
		},
		WroteRequest: func(httptrace.WroteRequestInfo) { release() },
	}
	interval := 5 * time.Second
	for ctx.Err() == nil {
		start := time.Now()
		var reg api.Registration
		err := call(httptrace.WithClientTrace(ctx, trace), c, http.MethodPost, l.url(n.replica)+api.PathEnrollPoll, "",
			api.PollRequest{DeviceCode: n.device}, &reg)
		release()
		if ctx.Err() != nil {
			return
		}
		var ae *apiError
		switch {
		case err == nil:
			n.answeredAt.Store(l.now())
			if cerr := l.checkRegistration(n, reg); cerr != nil {
				msg := cerr.Error()
				n.certErr.Store(&msg)
			}
			return
		case errors.As(err, &ae) && ae.body.Code == api.CodeAuthorizationPending:
			ps.pending.Add(1)
			sleep(ctx, interval-time.Since(start))
		case errors.As(err, &ae) && ae.body.Code == api.CodeSlowDown:
			ps.slowDown.Add(1)
			interval += 5 * time.Second
			sleep(ctx, interval)
		case errors.As(err, &ae) && ae.status == http.StatusBadRequest:
			// expired_token, access_denied, invalid_grant: final.
			ps.fail.add("poll %s: %v", n.id, err)
			msg := err.Error()
			n.stopped.Store(&msg)
			return
		default:
			ps.fail.add("poll %s: %v", n.id, err)
			sleep(ctx, time.Second)
		}
	}
}

func sleep(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// checkRegistration verifies what a node received: a certificate for its
// ID and its key, issued by the control plane's CA for client auth.
func (l *loader) checkRegistration(n *node, reg api.Registration) error {
	if reg.NodeID != n.id {
		return fmt.Errorf("%s: answer is for %q", n.id, reg.NodeID)
	}
	b, _ := pem.Decode([]byte(reg.Certificate))
	if b == nil {
		return fmt.Errorf("%s: no PEM certificate in the answer", n.id)
	}
	cert, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		return fmt.Errorf("%s: parse certificate: %w", n.id, err)
	}
	if cert.Subject.CommonName != n.id {
		return fmt.Errorf("%s: certificate subject is %q", n.id, cert.Subject.CommonName)
	}
	if !n.key.PublicKey.Equal(cert.PublicKey) {
		return fmt.Errorf("%s: certificate is not for the node's key", n.id)
	}
	if _, err := cert.Verify(x509.VerifyOptions{Roots: l.roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		return fmt.Errorf("%s: certificate does not verify: %w", n.id, err)
	}
	if !bytes.Contains([]byte(reg.CABundle), bytes.TrimSpace(l.t.CAPEM)) {
		return fmt.Errorf("%s: CA bundle lacks the control plane's CA", n.id)
	}
	return nil
}

// activate licenses every node of sample through the admin API (License
// Node), paced at ActivateRate, at most ActivateConc at once.
func (l *loader) activate(ctx context.Context, sample []*node, res *result) {
	tr := l.transport()
	tr.MaxIdleConnsPerHost = l.cfg.ActivateConc
	tr.MaxIdleConns = l.cfg.ActivateConc * len(l.t.Replicas)
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr, Timeout: time.Minute}
	for _, u := range l.t.Replicas {
		_ = call(ctx, c, http.MethodGet, u+api.PathTime, "", nil, nil) // connect first
	}
	sem := make(chan struct{}, l.cfg.ActivateConc)
	lat := make([]time.Duration, len(sample))
	var fail firstErr
	var wg sync.WaitGroup
	start := time.Now()
	for i, n := range sample {
		if l.cfg.ActivateRate > 0 {
			sleep(ctx, time.Until(start.Add(time.Duration(float64(i)/l.cfg.ActivateRate*float64(time.Second)))))
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Go(func() {
			defer func() { <-sem }()
			var out api.LicenseResponse
			t0 := time.Now()
			n.licensedAt.Store(l.now())
			err := call(ctx, c, http.MethodPost, l.url(n.replica+1)+api.PathActivations+url.PathEscape(n.userCode), l.t.AdminToken,
				api.LicenseRequest{Name: fmt.Sprintf("load-%d", i), Project: "cpload"}, &out)
			lat[i] = time.Since(t0)
			n.licenseOK.Store(l.now())
			if err == nil && out.NodeID != n.id {
				err = fmt.Errorf("licensed %q, want %q", out.NodeID, n.id)
			}
			if err != nil {
				n.licensedAt.Store(0)
				fail.add("license %s: %v", n.id, err)
			}
		})
	}
	wg.Wait()
	res.ActivateElapsed = time.Since(start)
	var ok []time.Duration
	for i, n := range sample {
		if n.licensedAt.Load() != 0 {
			ok = append(ok, lat[i])
		}
	}
	res.Licensed, res.LicenseErrors, res.LicenseFirstErr = len(ok), int(fail.n.Load()), fail.get()
	res.LicenseAPI = summarise(ok)
}
