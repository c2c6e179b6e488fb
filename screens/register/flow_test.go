package register

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/nodeconsole/nodeconsole/api"
	"github.com/nodeconsole/nodeconsole/controlplane"
	"github.com/nodeconsole/nodeconsole/controlplane/cptest"
	"github.com/nodeconsole/nodeconsole/controlplane/ratelimit"
	"github.com/nodeconsole/nodeconsole/regclient"
	"github.com/nodeconsole/nodeconsole/tui/uitest"
)

// realScreen is the Register Node screen wired to a real control plane.
func realScreen(t testing.TB, cp *cptest.Server) (*Model, regclient.Store, string) {
	store := regclient.Store{Dir: t.TempDir()}
	id, _, err := store.EnsureNodeID(regclient.IDSources{ConfigName: fmt.Sprintf("%s-%d", t.Name(), time.Now().UnixNano())})
	if err != nil {
		t.Fatal(err)
	}
	flow := NewFlow(FlowDeps{Store: store, NodeID: id, Version: "test",
		Client: regclient.Options{CAFiles: []string{cp.CAPath}}})
	m := New(Deps{Styles: uitest.Styles(uitest.TrueColor), Flow: flow, Endpoint: cp.URL,
		Choices: []Choice{{Make: "Acme", Model: "EdgeBox 200"}}})
	return m, store, id
}

func waitOut(t testing.TB, tm *teatest.TestModel, want string) {
	t.Helper()
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return bytes.Contains(b, []byte(want)) },
		teatest.WithDuration(60*time.Second), teatest.WithCheckInterval(2*time.Millisecond))
}

// TestFlowRegisterAgainstControlPlane: Register, Enter on confirm, the code
// is shown, an admin licenses it through the admin API, the screen says
// Registered, and the identity on disk is right.
func TestFlowRegisterAgainstControlPlane(t *testing.T) {
	cp := cptest.New(t)
	m, store, id := realScreen(t, cp)
	tm := teatest.NewTestModel(t, uitest.Host{Screen: m}, teatest.WithInitialTermSize(80, 22),
		teatest.WithProgramOptions(tea.WithColorProfile(colorprofile.TrueColor)))
	waitOut(t, tm, "Check these values")
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEnter})
	waitOut(t, tm, "Waiting for activation")

	st, err := store.Load()
	if err != nil || st.State != regclient.Pending || st.UserCode == "" {
		t.Fatalf("state after the code is shown: %+v, %v", st, err)
	}
	act, err := cp.FindCode(st.UserCode)
	if err != nil || act.NodeID != id || act.Make != "Acme" || act.Model != "EdgeBox 200" {
		t.Fatalf("Find: %+v, %v", act, err)
	}
	if _, err := cp.License(st.UserCode, "store-17", "retail"); err != nil {
		t.Fatal(err)
	}
	waitOut(t, tm, "Registered as store-17 (retail)")

	st, err = store.Load()
	if err != nil || st.State != regclient.Registered || st.NodeName != "store-17" {
		t.Fatalf("state after activation: %+v, %v", st, err)
	}
	fi, err := os.Stat(store.Path(regclient.KeyFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("node.key mode %v (%v), want 0600", fi.Mode(), err)
	}
	crtPEM, _ := os.ReadFile(store.Path(regclient.CertFile))
	blk, _ := pem.Decode(crtPEM)
	if blk == nil {
		t.Fatal("node.crt holds no PEM")
	}
	crt, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := crt.Verify(x509.VerifyOptions{Roots: cp.CertPool(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		t.Errorf("node.crt does not verify against the control plane CA: %v", err)
	}
	if crt.Subject.CommonName != id {
		t.Errorf("certificate subject %q, want the node ID %s", crt.Subject.CommonName, id)
	}
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEscape}) // later
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEscape}) // back
	tm.WaitFinished(t, teatest.WithFinalTimeout(20*time.Second))
}

// TestFlowPairingKeyApprovedAtOnce: a node an admin pre-added with a
// pairing key, and that has the key in its config (FlowDeps.PairingKey), is
// registered by Register Node without anyone licensing a code; the key is
// never on screen.
func TestFlowPairingKeyApprovedAtOnce(t *testing.T) {
	cp := cptest.New(t)
	store := regclient.Store{Dir: t.TempDir()}
	id, _, err := store.EnsureNodeID(regclient.IDSources{ConfigName: fmt.Sprintf("%s-%d", t.Name(), time.Now().UnixNano())})
	if err != nil {
		t.Fatal(err)
	}
	var nl api.NodeList
	if err := cp.Admin(http.MethodPost, api.PathNodes, api.AddNodesRequest{IDs: []string{id},
		PairingKeys: map[string]string{id: api.PairingKeyGenerate}}, &nl); err != nil || nl.PairingKeys[id] == "" {
		t.Fatalf("pre-add with a pairing key: %+v, %v", nl, err)
	}
	key := nl.PairingKeys[id]
	flow := NewFlow(FlowDeps{Store: store, NodeID: id, Version: "test", PairingKey: key,
		Client: regclient.Options{CAFiles: []string{cp.CAPath}}})
	m := New(Deps{Styles: uitest.Styles(uitest.TrueColor), Flow: flow, Endpoint: cp.URL,
		Choices: []Choice{{Make: "Acme", Model: "EdgeBox 200"}}})
	tm := teatest.NewTestModel(t, uitest.Host{Screen: m}, teatest.WithInitialTermSize(80, 22),
		teatest.WithProgramOptions(tea.WithColorProfile(colorprofile.TrueColor)))
	waitOut(t, tm, "Check these values")
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEnter})
	waitOut(t, tm, "Registered as")
	if st, err := store.Load(); err != nil || st.State != regclient.Registered {
		t.Fatalf("state: %+v, %v", st, err)
	}
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEscape})
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEscape})
	tm.WaitFinished(t, teatest.WithFinalTimeout(20*time.Second))
	if out, _ := io.ReadAll(tm.FinalOutput(t)); bytes.Contains(out, []byte(key)) {
		t.Error("the pairing key was drawn on screen")
	}
}

// BenchmarkLicenseToRegistered measures License Node (admin API) to the
// screen drawing "Registered", through the long-poll. Goal: p99 under 1 s.
// It reports the mean (ms/activation) and, over all iterations, the p50 and
// p99 (e.g. -benchtime=200x for a p99 worth the name).
func BenchmarkLicenseToRegistered(b *testing.B) {
	// Every node of the run enrolls from 127.0.0.1: lift the per-IP
	// enrollment limit that stops a flood from one address.
	limits := ratelimit.Defaults()
	limits.EnrollPerIP = ratelimit.Limit{Burst: 1 << 20, Every: time.Microsecond}
	cp := cptest.NewWith(b, controlplane.Options{RateLimits: &limits})
	b.StopTimer()
	var samples []time.Duration
	for i := 0; i < b.N; i++ {
		m, store, _ := realScreen(b, cp)
		tm := teatest.NewTestModel(b, uitest.Host{Screen: m}, teatest.WithInitialTermSize(80, 22))
		waitOut(b, tm, "Check these values")
		tm.Send(tea.KeyPressMsg{Code: tea.KeyEnter})
		waitOut(b, tm, "Waiting for activation")
		st, _ := store.Load()
		start := time.Now()
		b.StartTimer()
		if _, err := cp.License(st.UserCode, "bench", ""); err != nil {
			b.Fatal(err)
		}
		waitOut(b, tm, "Registered as bench")
		b.StopTimer()
		samples = append(samples, time.Since(start))
		tm.Send(tea.KeyPressMsg{Code: tea.KeyEscape})
		tm.Send(tea.KeyPressMsg{Code: tea.KeyEscape})
		tm.WaitFinished(b, teatest.WithFinalTimeout(20*time.Second))
	}
	slices.Sort(samples)
	pct := func(p float64) float64 {
		return float64(samples[min(len(samples)-1, int(p*float64(len(samples))))].Microseconds()) / 1000
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/activation")
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}

// gated is the real flow with a gate before one step: the step waits there
// (parked, for the driver) until the test releases it, and then goes on
// with the context it was given, as it would have.
type gated struct {
	Flow
	d       *uitest.Driver
	at      string
	reached chan struct{}
	release chan struct{}
}

func (g *gated) gate(step string) {
	if step == g.at {
		g.d.Park(func() { close(g.reached); <-g.release })
	}
}

func (g *gated) Connectivity(ctx context.Context, ep string) []Check {
	g.gate("connectivity")
	return g.Flow.Connectivity(ctx, ep)
}

func (g *gated) PrepareKey(ctx context.Context) error {
	g.gate("key")
	return g.Flow.PrepareKey(ctx)
}

func (g *gated) Update(ctx context.Context, ep string) (UpdateResult, error) {
	g.gate("update")
	return g.Flow.Update(ctx, ep)
}

func (g *gated) Start(ctx context.Context, req Request) (Code, error) {
	g.gate("start")
	return g.Flow.Start(ctx, req)
}

// Next does not wait while a gate is set: a code shown after Esc is a
// failure the test reports, not a long-poll to wait out.
func (g *gated) Next(ctx context.Context) Outcome {
	if g.at != "" {
		return Outcome{Kind: Failed, Err: errors.New("polled after Esc")}
	}
	return g.Flow.Next(ctx)
}

// TestEscDuringStepsEnrollsNothing: Enter, then Esc while a step runs.
// The step's context is cancelled and its result dropped, so no later step
// runs and no enrollment reaches the control plane; Enter again then
// enrolls (the check would see one).
func TestEscDuringStepsEnrollsNothing(t *testing.T) {
	cp := cptest.New(t)
	for _, at := range []string{"connectivity", "key", "update", "start"} {
		t.Run(at, func(t *testing.T) {
			m, store, id := realScreen(t, cp)
			g := &gated{Flow: m.d.Flow, at: at, reached: make(chan struct{}), release: make(chan struct{})}
			m.d.Flow = g
			d := uitest.NewScreenDriver(t, m)
			g.d = d
			d.Init(m.Init())
			d.Keys("enter")
			<-g.reached // Settle returned: the step waits at its gate
			d.Keys("esc")
			if !strings.Contains(d.Text(), "Check these values") {
				t.Fatalf("Esc during %s must go back to the values:\n%s", at, d.Text())
			}
			close(g.release)
			d.Drain()
			if !strings.Contains(d.Text(), "Check these values") {
				t.Errorf("the %s result moved the screen on after Esc:\n%s", at, d.Text())
			}
			if st, err := store.Load(); err == nil && st.State != regclient.Unregistered {
				t.Errorf("state after Esc during %s: %+v", at, st)
			}
			nodes, err := cp.Nodes()
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range nodes {
				if n.ID == id {
					t.Fatalf("Esc during %s: an enrollment reached the control plane: %+v", at, n)
				}
			}
			// Without Esc the same steps do enroll.
			g.at = ""
			d.Deliver(uitest.Key("enter"))
			d.Until("the code is shown", func() bool { return m.ph == phCode })
			nodes, _ = cp.Nodes()
			if !slices.ContainsFunc(nodes, func(n api.Node) bool { return n.ID == id }) {
				t.Errorf("after Enter the node is not on the control plane: %+v", nodes)
			}
			m.Closed() // ends the long-poll
			d.Drain()
		})
	}
}
