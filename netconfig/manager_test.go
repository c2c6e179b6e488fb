package netconfig

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// initialLines is NewSimulated rendered.
var initialLines = []string{
	"link eth0 up",
	"link eth1 up",
	"link mgmt0 up",
	"link wg0 up",
	"addr 192.0.2.10/24 dev eth0",
	"addr 198.51.100.20/24 dev mgmt0",
	"route default via 192.0.2.1 dev eth0",
	"resolv nameserver 192.0.2.53",
}

type simEnv struct {
	sim      *Simulated
	m        *Manager
	expire   chan time.Time
	hook     []string
	stateDir string
	netdDir  string
}

func newSimEnv(t *testing.T) *simEnv {
	t.Helper()
	e := &simEnv{sim: NewSimulated(), expire: make(chan time.Time, 1), stateDir: t.TempDir(), netdDir: t.TempDir()}
	m, err := NewManager(Options{
		Backend: e.sim, Reader: e.sim, StateDir: e.stateDir, NetworkdDir: e.netdDir,
		DHCP: DHCPHook(func(ctx context.Context, ifname string, run bool) error {
			e.hook = append(e.hook, ifname+" "+map[bool]string{true: "run", false: "stop"}[run])
			return e.sim.DHCP(ctx, ifname, run)
		}),
		Logger: slog.New(slog.DiscardHandler),
		After:  func(time.Duration) <-chan time.Time { return e.expire },
		Now:    func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) },
	})
	if err != nil {
		t.Fatal(err)
	}
	e.m = m
	return e
}

func cfgStatic(ifname, addr, gw string, dns ...string) Config {
	c := Config{Interface: ifname, Mode: ModeStatic, Address: netip.MustParsePrefix(addr), Gateway: netip.MustParseAddr(gw), DefaultRoute: true}
	for _, d := range dns {
		c.DNS = append(c.DNS, netip.MustParseAddr(d))
	}
	return c
}

func diffLines(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got:\n  %s\nwant:\n  %s", what, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

// TestTrialStates drives the simulated backend through apply, confirm,
// revert and expiry, comparing the applied state as text.
func TestTrialStates(t *testing.T) {
	ctx := context.Background()
	moved := []string{
		"link eth0 up", "link eth1 up", "link mgmt0 up", "link wg0 up",
		"addr 198.51.100.10/24 dev eth0",
		"addr 198.51.100.20/24 dev mgmt0",
		"route default via 198.51.100.1 dev eth0",
		"resolv # Written by nodeconsole; nameservers from the network settings.",
		"resolv nameserver 198.51.100.53",
		"resolv nameserver 192.0.2.53",
	}
	tests := []struct {
		name    string
		setup   func(e *simEnv)
		cfg     Config
		decide  func(t *testing.T, e *simEnv, tr *Trial) Outcome
		applied []string // state right after apply
		final   []string // state after the decision
		hook    []string
	}{
		{
			name: "confirm keeps and saves",
			cfg:  cfgStatic("eth0", "198.51.100.10/24", "198.51.100.1", "198.51.100.53", "192.0.2.53"),
			decide: func(t *testing.T, e *simEnv, tr *Trial) Outcome {
				if err := tr.Confirm(ctx); err != nil {
					t.Fatal(err)
				}
				return OutcomeConfirmed
			},
			applied: moved, final: moved, hook: []string{"eth0 stop"},
		},
		{
			name: "revert restores exactly",
			cfg:  cfgStatic("eth0", "198.51.100.10/24", "198.51.100.1", "198.51.100.53", "192.0.2.53"),
			decide: func(t *testing.T, e *simEnv, tr *Trial) Outcome {
				if err := tr.Revert(ctx); err != nil {
					t.Fatal(err)
				}
				if err := tr.Confirm(ctx); !errors.Is(err, ErrTrialOver) {
					t.Errorf("Confirm after Revert = %v, want ErrTrialOver", err)
				}
				return OutcomeReverted
			},
			applied: moved, final: initialLines, hook: []string{"eth0 stop", "eth0 stop"},
		},
		{
			name: "deadline reverts",
			cfg:  cfgStatic("eth0", "198.51.100.10/24", "198.51.100.1", "198.51.100.53", "192.0.2.53"),
			decide: func(t *testing.T, e *simEnv, tr *Trial) Outcome {
				e.expire <- time.Time{}
				return OutcomeExpired
			},
			applied: moved, final: initialLines, hook: []string{"eth0 stop", "eth0 stop"},
		},
		{
			name: "dhcp to static removes the lease, revert brings it back and restarts the client",
			setup: func(e *simEnv) {
				_ = e.sim.ReplaceAddrs(ctx, "eth0", nil)
				_ = e.sim.DHCP(ctx, "eth0", true)
			},
			cfg: cfgStatic("eth0", "192.0.2.10/24", "192.0.2.1"),
			decide: func(t *testing.T, e *simEnv, tr *Trial) Outcome {
				_ = tr.Revert(ctx)
				return OutcomeReverted
			},
			applied: []string{
				"link eth0 up", "link eth1 up", "link mgmt0 up", "link wg0 up",
				"addr 192.0.2.10/24 dev eth0",
				"addr 198.51.100.20/24 dev mgmt0",
				"route default via 192.0.2.1 dev eth0",
				"resolv # Written by nodeconsole; nameservers from the network settings.",
				"resolv nameserver 192.0.2.53",
			},
			final: []string{
				"link eth0 up", "link eth1 up", "link mgmt0 up", "link wg0 up",
				"addr 192.0.2.100/24 dev eth0 dynamic",
				"addr 198.51.100.20/24 dev mgmt0",
				"route default via 192.0.2.1 dev eth0",
				"resolv # Written by nodeconsole; nameservers from the network settings.",
				"resolv nameserver 192.0.2.53",
			},
			hook: []string{"eth0 stop", "eth0 run"},
		},
		{
			name: "static /32 with on-link gateway on another interface moves the default route",
			cfg:  cfgStatic("eth1", "198.51.100.77/32", "203.0.113.1"),
			decide: func(t *testing.T, e *simEnv, tr *Trial) Outcome {
				_ = tr.Revert(ctx)
				return OutcomeReverted
			},
			applied: []string{
				"link eth0 up", "link eth1 up", "link mgmt0 up", "link wg0 up",
				"addr 192.0.2.10/24 dev eth0",
				"addr 198.51.100.77/32 dev eth1",
				"addr 198.51.100.20/24 dev mgmt0",
				"route default via 203.0.113.1 dev eth1 onlink",
				"resolv nameserver 192.0.2.53",
			},
			final: initialLines, hook: []string{"eth1 stop", "eth1 stop"},
		},
		{
			name: "dhcp apply flushes and starts the client",
			cfg:  Config{Interface: "mgmt0", Mode: ModeDHCP},
			decide: func(t *testing.T, e *simEnv, tr *Trial) Outcome {
				_ = tr.Revert(ctx)
				return OutcomeReverted
			},
			applied: []string{
				"link eth0 up", "link eth1 up", "link mgmt0 up", "link wg0 up",
				"addr 192.0.2.10/24 dev eth0",
				"addr 198.51.100.100/24 dev mgmt0 dynamic",
				"route default via 198.51.100.1 dev mgmt0",
				"resolv # Written by nodeconsole; nameservers from the network settings.",
				"resolv nameserver 198.51.100.53",
			},
			final: initialLines, hook: []string{"mgmt0 run", "mgmt0 stop"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newSimEnv(t)
			if tt.setup != nil {
				tt.setup(e)
			}
			before := e.sim.Render()
			tr, err := e.m.Apply(ctx, tt.cfg)
			if err != nil {
				t.Fatalf("Apply: %v", err)
			}
			diffLines(t, "after apply", e.sim.Render(), tt.applied)
			if got := tr.Snapshot().Lines(); len(got) == 0 {
				t.Error("empty snapshot")
			}
			want := tt.decide(t, e, tr)
			got, err := tr.Wait(ctx)
			if got != want || err != nil {
				t.Errorf("Wait = %q, %v; want %q, nil", got, err, want)
			}
			if tt.setup == nil && want != OutcomeConfirmed {
				diffLines(t, "after revert (vs before)", e.sim.Render(), before)
			}
			diffLines(t, "final", e.sim.Render(), tt.final)
			diffLines(t, "DHCP hook calls", e.hook, tt.hook)
			_, err = e.m.Saved()
			if saved := err == nil; saved != (want == OutcomeConfirmed) {
				t.Errorf("saved = %v (err %v), want %v", saved, err, want == OutcomeConfirmed)
			}
		})
	}
}

func TestApplyFailureRestores(t *testing.T) {
	ctx := context.Background()
	for _, method := range []string{"ReplaceAddrs", "LinkUp", "ReplaceDefaultRoute", "WriteDNS"} {
		t.Run(method, func(t *testing.T) {
			e := newSimEnv(t)
			e.sim.FailNext(method, errors.New("injected"))
			_, err := e.m.Apply(ctx, cfgStatic("eth0", "198.51.100.10/24", "198.51.100.1", "198.51.100.53"))
			if err == nil || !strings.Contains(err.Error(), "injected") || !strings.Contains(err.Error(), "previous settings restored") {
				t.Errorf("Apply error = %v", err)
			}
			if IsInvalid(err) {
				t.Error("a backend failure reported as invalid input")
			}
			diffLines(t, "state", e.sim.Render(), initialLines)
		})
	}
}

func TestApplyInvalidChangesNothing(t *testing.T) {
	e := newSimEnv(t)
	_, err := e.m.Apply(context.Background(), cfgStatic("eth0", "192.0.2.10/24", "198.51.100.1"))
	if !IsInvalid(err) {
		t.Fatalf("Apply error = %v, want a validation error", err)
	}
	diffLines(t, "state", e.sim.Render(), initialLines)
	if len(e.hook) != 0 {
		t.Errorf("DHCP hook called: %v", e.hook)
	}
}

func TestCancelledContextReverts(t *testing.T) {
	e := newSimEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	tr, err := e.m.Apply(ctx, cfgStatic("eth0", "198.51.100.10/24", "198.51.100.1"))
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	if o, err := tr.Wait(ctx); o != OutcomeCancelled || err != nil {
		t.Errorf("Wait = %q, %v", o, err)
	}
	diffLines(t, "state", e.sim.Render(), initialLines)
}

func TestTryCLIFlow(t *testing.T) {
	ctx := context.Background()
	cfg := cfgStatic("eth0", "198.51.100.10/24", "198.51.100.1")
	t.Run("no answer reverts at the deadline", func(t *testing.T) {
		e := newSimEnv(t)
		e.expire <- time.Time{}
		var results []string
		cfg := cfgStatic("eth0", "198.51.100.10/24", "198.51.100.254")
		o, err := e.m.Try(ctx, cfg, nil, func(r Result) { results = append(results, r.String()) })
		if o != OutcomeExpired || err != nil {
			t.Errorf("Try = %q, %v", o, err)
		}
		diffLines(t, "checks", results, []string{
			"OK   carrier  eth0 is up with a carrier",
			"OK   address  198.51.100.10/24 is on eth0",
			"FAIL gateway  198.51.100.254 does not answer ARP on eth0 (Check the gateway address, the VLAN and the cable.)",
		})
		diffLines(t, "state", e.sim.Render(), initialLines)
	})
	t.Run("yes confirms", func(t *testing.T) {
		e := newSimEnv(t)
		yes := make(chan bool, 1)
		yes <- true
		o, err := e.m.Try(ctx, cfg, yes, nil)
		if o != OutcomeConfirmed || err != nil {
			t.Errorf("Try = %q, %v", o, err)
		}
		got, err := e.m.Saved()
		if err != nil || !reflect.DeepEqual(got, cfg) {
			t.Errorf("Saved = %+v, %v", got, err)
		}
	})
}

func TestSaveAndApplySaved(t *testing.T) {
	ctx := context.Background()
	e := newSimEnv(t)
	if _, err := e.m.ApplySaved(ctx); !errors.Is(err, ErrNoSavedConfig) {
		t.Fatalf("ApplySaved with nothing saved = %v", err)
	}
	cfg := cfgStatic("eth0", "198.51.100.10/24", "198.51.100.1", "198.51.100.53")
	if err := os.WriteFile(filepath.Join(e.netdDir, NetworkdFileName("eth1")), []byte("stale"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := e.m.Save(cfg); err != nil {
		t.Fatal(err)
	}
	netd, err := os.ReadFile(filepath.Join(e.netdDir, "10-nodeconsole-eth0.network"))
	if err != nil {
		t.Fatal(err)
	}
	wantNetd := `# Written by nodeconsole (network settings); changes here are overwritten.
[Match]
Name=eth0

[Network]
Address=198.51.100.10/24
Gateway=198.51.100.1
DNS=198.51.100.53
`
	if string(netd) != wantNetd {
		t.Errorf("networkd file:\n%s\nwant:\n%s", netd, wantNetd)
	}
	if _, err := os.Stat(filepath.Join(e.netdDir, NetworkdFileName("eth1"))); !os.IsNotExist(err) {
		t.Errorf("stale networkd file for eth1 kept: %v", err)
	}

	// A fresh node (same state dir) applying the saved config ends up in
	// the confirmed state.
	fresh := newSimEnv(t)
	m2, _ := NewManager(Options{Backend: fresh.sim, Reader: fresh.sim, StateDir: e.stateDir})
	got, err := m2.ApplySaved(ctx)
	if err != nil || !reflect.DeepEqual(got, cfg) {
		t.Fatalf("ApplySaved = %+v, %v", got, err)
	}
	diffLines(t, "fresh node", fresh.sim.Render(), []string{
		"link eth0 up", "link eth1 up", "link mgmt0 up", "link wg0 up",
		"addr 198.51.100.10/24 dev eth0",
		"addr 198.51.100.20/24 dev mgmt0",
		"route default via 198.51.100.1 dev eth0",
		"resolv # Written by nodeconsole; nameservers from the network settings.",
		"resolv nameserver 198.51.100.53",
	})
}

func TestRenderNetworkd(t *testing.T) {
	tests := map[string]struct {
		cfg  Config
		want string
	}{
		"dhcp": {Config{Interface: "eth0", Mode: ModeDHCP}, "[Match]\nName=eth0\n\n[Network]\nDHCP=ipv4\n"},
		"slash 32 on-link": {cfgStatic("eth0", "198.51.100.10/32", "198.51.100.1"),
			"[Match]\nName=eth0\n\n[Network]\nAddress=198.51.100.10/32\n\n[Route]\nGateway=198.51.100.1\nGatewayOnLink=yes\n"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			got := string(RenderNetworkd(tt.cfg))
			_, body, _ := strings.Cut(got, "\n")
			if body != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s", body, tt.want)
			}
		})
	}
}

func TestPreview(t *testing.T) {
	st, _ := NewSimulated().Read(context.Background())
	tests := map[string]struct {
		cfg  Config
		want []string
	}{
		"static on the default-route interface": {cfgStatic("eth0", "198.51.100.10/24", "198.51.100.1", "198.51.100.53"), []string{
			"Interface eth0",
			"Mode          static (unchanged)",
			"Address       192.0.2.10/24 -> 198.51.100.10/24",
			"Default route 192.0.2.1 via eth0 -> 198.51.100.1 via eth0",
			"DNS           192.0.2.53 -> 198.51.100.53",
			"Warning: eth0 carries the default route; a mistake can cut this node off, so the change reverts by itself unless you confirm it.",
		}},
		"static moving the default route, dns kept": {cfgStatic("eth1", "198.51.100.30/24", "198.51.100.1"), []string{
			"Interface eth1",
			"Mode          none -> static",
			"Address       none -> 198.51.100.30/24",
			"Default route 192.0.2.1 via eth0 -> 198.51.100.1 via eth1",
			"DNS           192.0.2.53 (unchanged)",
			"Warning: The default route moves from eth0 to eth1.",
		}},
		"static on a second NIC without the default route": {Config{Interface: "mgmt0", Mode: ModeStatic, Address: netip.MustParsePrefix("198.51.100.21/24")}, []string{
			"Interface mgmt0",
			"Mode          static (unchanged)",
			"Address       198.51.100.20/24 -> 198.51.100.21/24",
			"Default route 192.0.2.1 via eth0 (unchanged)",
			"DNS           192.0.2.53 (unchanged)",
		}},
		"default route turned off where it is": {Config{Interface: "eth0", Mode: ModeStatic, Address: netip.MustParsePrefix("192.0.2.10/24")}, []string{
			"Interface eth0",
			"Mode          static (unchanged)",
			"Address       192.0.2.10/24 (unchanged)",
			"Default route 192.0.2.1 via eth0 -> none",
			"DNS           192.0.2.53 (unchanged)",
			"Warning: The default route via eth0 is removed and none replaces it: this node reaches only its local subnets until another interface gets one.",
		}},
		"dhcp": {Config{Interface: "mgmt0", Mode: ModeDHCP}, []string{
			"Interface mgmt0",
			"Mode          static -> DHCP",
			"Address       198.51.100.20/24 -> from DHCP",
			"Default route 192.0.2.1 via eth0 -> from DHCP",
			"DNS           192.0.2.53 -> from DHCP",
			"Warning: A DHCP server on mgmt0 may move the default route from eth0 to mgmt0.",
		}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			diffLines(t, "preview", PreviewChanges(st, tt.cfg).Lines(), tt.want)
		})
	}
}

// recordingDHCP is a DHCPControl that records its calls.
type recordingDHCP struct {
	calls []string
	block chan struct{} // when set, Apply waits for it to close
}

func (r *recordingDHCP) Apply(ctx context.Context, cfg Config, trial bool) error {
	r.calls = append(r.calls, fmt.Sprintf("apply %s %s trial=%v", cfg.Interface, cfg.Mode, trial))
	if r.block != nil {
		<-r.block
	}
	return nil
}

func (r *recordingDHCP) Restore(ctx context.Context, s *Snapshot) error {
	r.calls = append(r.calls, "restore "+s.Interface)
	return nil
}

func (r *recordingDHCP) Commit(ctx context.Context, cfg Config) error {
	r.calls = append(r.calls, "commit "+cfg.Interface)
	return nil
}

// TestPendingTrial: the Manager knows its open trial; a second Apply is
// refused while it is open; RevertPending restores it exactly (as log-out
// and signals do), and the DHCP control sees apply, restore and commit in
// the right places.
func TestPendingTrial(t *testing.T) {
	ctx := context.Background()
	sim := NewSimulated()
	dhcp := &recordingDHCP{}
	m, err := NewManager(Options{Backend: sim, Reader: sim, StateDir: t.TempDir(), DHCP: dhcp,
		After: func(time.Duration) <-chan time.Time { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	before := sim.Render()
	if reverted, err := m.RevertPending(ctx, "test"); reverted || err != nil {
		t.Fatalf("RevertPending with nothing open = %v, %v", reverted, err)
	}
	tr, err := m.Apply(ctx, cfgStatic("eth0", "198.51.100.10/24", "198.51.100.1"))
	if err != nil {
		t.Fatal(err)
	}
	if m.Pending() != tr {
		t.Fatal("Pending is not the open trial")
	}
	if _, err := m.Apply(ctx, cfgStatic("eth1", "198.51.100.30/24", "198.51.100.1")); !errors.Is(err, ErrTrialPending) {
		t.Fatalf("a second Apply = %v, want ErrTrialPending", err)
	}
	if reverted, err := m.RevertPending(ctx, "log out"); !reverted || err != nil {
		t.Fatalf("RevertPending = %v, %v", reverted, err)
	}
	if o, err := tr.Outcome(); o != OutcomeCancelled || err != nil {
		t.Errorf("outcome = %q, %v", o, err)
	}
	diffLines(t, "state after RevertPending", sim.Render(), before)
	if m.Pending() != nil {
		t.Error("the reverted trial is still pending")
	}

	// Confirm ends it too, and commits.
	tr, err = m.Apply(ctx, cfgStatic("eth0", "198.51.100.10/24", "198.51.100.1"))
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Confirm(ctx); err != nil {
		t.Fatal(err)
	}
	if m.Pending() != nil {
		t.Error("a confirmed trial is still pending")
	}
	if reverted, err := m.RevertPending(ctx, "test"); reverted || err != nil {
		t.Errorf("RevertPending after Confirm = %v, %v", reverted, err)
	}
	if _, err := m.ApplySaved(ctx); err != nil {
		t.Fatal(err)
	}
	diffLines(t, "DHCP control calls", dhcp.calls, []string{
		"apply eth0 static trial=true", "restore eth0",
		"apply eth0 static trial=true", "commit eth0",
		"apply eth0 static trial=false", "commit eth0",
	})
}

// TestRevertPendingWaitsForApply: a stop that arrives while Apply runs
// waits for it and reverts its trial, rather than leaving it applied.
func TestRevertPendingWaitsForApply(t *testing.T) {
	ctx := context.Background()
	sim := NewSimulated()
	dhcp := &recordingDHCP{block: make(chan struct{})}
	m, err := NewManager(Options{Backend: sim, Reader: sim, StateDir: t.TempDir(), DHCP: dhcp,
		After: func(time.Duration) <-chan time.Time { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	before := sim.Render()
	applied := make(chan error, 1)
	go func() {
		_, err := m.Apply(ctx, cfgStatic("eth0", "198.51.100.10/24", "198.51.100.1"))
		applied <- err
	}()
	// Wait until Apply is inside the DHCP step.
	for {
		m.mu.Lock()
		running := m.applying != nil
		m.mu.Unlock()
		if running {
			break
		}
		runtime.Gosched()
	}
	// While Apply runs there is something to revert: RevertPending does
	// not report "nothing pending"; it waits (here until its context ends).
	stopped, cancel := context.WithCancel(ctx)
	cancel()
	if r, err := m.RevertPending(stopped, "SIGTERM"); r || err == nil || !strings.Contains(err.Error(), "an apply is still running") {
		t.Fatalf("RevertPending during Apply = %v, %v", r, err)
	}
	reverted := make(chan bool, 1)
	go func() {
		r, _ := m.RevertPending(ctx, "SIGTERM")
		reverted <- r
	}()
	close(dhcp.block)
	if err := <-applied; err != nil {
		t.Fatal(err)
	}
	if !<-reverted {
		t.Fatal("RevertPending did not revert the trial that was being applied")
	}
	diffLines(t, "state", sim.Render(), before)
}

// TestDHCPChecks: after a DHCP apply the address check waits for the
// lease and the gateway check asks the router the DHCP server gave; without
// a lease (no carrier) both fail with a hint.
func TestDHCPChecks(t *testing.T) {
	ctx := context.Background()
	e := newSimEnv(t)
	e.m.o.Prober.LeaseWait = 300 * time.Millisecond // the failing case only
	tr, err := e.m.Apply(ctx, Config{Interface: "eth0", Mode: ModeDHCP})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range tr.RunChecks(ctx, nil) {
		got = append(got, r.String())
	}
	diffLines(t, "checks on eth0", got, []string{
		"OK   carrier  eth0 is up with a carrier",
		"OK   address  192.0.2.100/24 is on eth0 (from DHCP)",
		"OK   gateway  192.0.2.1 answers ARP (52:54:00:00:00:01)",
	})
	if err := tr.Revert(ctx); err != nil {
		t.Fatal(err)
	}

	tr, err = e.m.Apply(ctx, Config{Interface: "eth1", Mode: ModeDHCP})
	if err != nil {
		t.Fatal(err)
	}
	got = nil
	for _, r := range tr.RunChecks(ctx, nil) {
		got = append(got, r.String())
	}
	diffLines(t, "checks on eth1 without carrier", got, []string{
		"FAIL carrier  eth1 has no carrier (Check the cable and the switch port.)",
		"FAIL address  no DHCP lease on eth1 within 300ms (Check that a DHCP server answers on this network, or set a static address.)",
		"FAIL gateway  no default route through eth1: no DHCP lease (Fix the address check first.)",
	})
}

// lateReader hides an interface for the first reads, as a NIC that appears
// late (or under its final name only after udev renamed it) at boot.
type lateReader struct {
	Reader
	hide  string
	reads int
	until int
}

func (r *lateReader) Read(ctx context.Context) (Status, error) {
	st, err := r.Reader.Read(ctx)
	r.reads++
	if r.reads <= r.until {
		var keep []Interface
		for _, i := range st.Interfaces {
			if i.Name != r.hide {
				keep = append(keep, i)
			}
		}
		st.Interfaces = keep
	}
	return st, err
}

// TestApplySavedWaitsForLateInterface: at boot the saved interface may not
// exist yet; ApplySaved waits for it (bounded) and then applies, instead of
// failing for good; an interface that never comes is a clear error after
// LinkWait.
func TestApplySavedWaitsForLateInterface(t *testing.T) {
	ctx := context.Background()
	e := newSimEnv(t)
	cfg := cfgStatic("eth0", "198.51.100.10/24", "198.51.100.1", "198.51.100.53")
	if err := e.m.Save(cfg); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		until   int
		wantErr bool
	}{{until: 3}, {until: 1000, wantErr: true}} {
		sim := NewSimulated()
		r := &lateReader{Reader: sim, hide: "eth0", until: tc.until}
		now := time.Unix(0, 0)
		m, err := NewManager(Options{Backend: sim, Reader: r, StateDir: e.stateDir, LinkWait: 30 * time.Second,
			Now: func() time.Time { return now },
			After: func(d time.Duration) <-chan time.Time {
				now = now.Add(d)
				c := make(chan time.Time, 1)
				c <- now
				return c
			}})
		if err != nil {
			t.Fatal(err)
		}
		_, err = m.ApplySaved(ctx)
		switch {
		case tc.wantErr:
			if err == nil || !strings.Contains(err.Error(), "interface eth0 does not exist (waited 30s") {
				t.Errorf("an interface that never appears: err = %v", err)
			}
			if now.Sub(time.Unix(0, 0)) < 30*time.Second || now.Sub(time.Unix(0, 0)) > 33*time.Second {
				t.Errorf("gave up after %s, want about 30s", now.Sub(time.Unix(0, 0)))
			}
		case err != nil:
			t.Errorf("interface appearing after %d reads: %v", tc.until, err)
		case r.reads != tc.until+2 || !strings.Contains(strings.Join(sim.Render(), "\n"), "198.51.100.10/24"):
			t.Errorf("reads %d; applied state:\n%s", r.reads, strings.Join(sim.Render(), "\n"))
		}
	}
}

// TestStaticSecondNICKeepsDefaultRoute: a static address without the default
// route on eth1 leaves the default route on eth0, applied and saved; with
// the choice on, it moves.
func TestStaticSecondNICKeepsDefaultRoute(t *testing.T) {
	ctx := context.Background()
	e := newSimEnv(t)
	cfg := Config{Interface: "eth1", Mode: ModeStatic, Address: netip.MustParsePrefix("198.51.100.30/24")}
	tr, err := e.m.Apply(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Confirm(ctx); err != nil {
		t.Fatal(err)
	}
	diffLines(t, "state", e.sim.Render(), []string{
		"link eth0 up", "link eth1 up", "link mgmt0 up", "link wg0 up",
		"addr 192.0.2.10/24 dev eth0",
		"addr 198.51.100.30/24 dev eth1",
		"addr 198.51.100.20/24 dev mgmt0",
		"route default via 192.0.2.1 dev eth0",
		"resolv nameserver 192.0.2.53",
	})
	netd, err := os.ReadFile(filepath.Join(e.netdDir, NetworkdFileName("eth1")))
	if err != nil || strings.Contains(string(netd), "Gateway") {
		t.Errorf("saved networkd file has a gateway (%v):\n%s", err, netd)
	}
	cfg.Gateway, cfg.DefaultRoute = netip.MustParseAddr("198.51.100.1"), true
	tr, err = e.m.Apply(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Revert(ctx)
	if got := e.sim.Render(); !slices.Contains(got, "route default via 198.51.100.1 dev eth1") || slices.Contains(got, "route default via 192.0.2.1 dev eth0") {
		t.Errorf("with the choice on, the default route must move to eth1:\n%s", strings.Join(got, "\n"))
	}
}

// TestVLANSimulated: a VLAN config creates eth0.100 beside eth0's own
// settings, the checks and DHCP client act on eth0.100, a revert removes it
// exactly, and the kept config is saved as .netdev + two .network files
// (removing a stale .netdev) that ApplySaved reproduces. The netlink side
// is TestNetlinkVLAN.
func TestVLANSimulated(t *testing.T) {
	ctx := context.Background()
	e := newSimEnv(t)
	cfg := Config{Interface: "eth0", VLAN: 100, Mode: ModeDHCP, MTU: 1400}
	st, _ := e.sim.Read(ctx)
	p := PreviewChanges(st, cfg)
	if p.Interface != "eth0.100" || p.Changes[0].String() != "VLAN          none -> 100, link eth0.100 will be created" {
		t.Errorf("preview:\n%s", strings.Join(p.Lines(), "\n"))
	}
	tr, err := e.m.Apply(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	withVLAN := []string{
		"link eth0 up", "link eth0.100 up mtu 1400", "link eth1 up", "link mgmt0 up", "link wg0 up",
		"addr 192.0.2.10/24 dev eth0",
		"addr 198.51.100.100/24 dev eth0.100 dynamic",
		"addr 198.51.100.20/24 dev mgmt0",
		"route default via 198.51.100.1 dev eth0.100",
		"resolv # Written by nodeconsole; nameservers from the network settings.",
		"resolv nameserver 198.51.100.53",
	}
	diffLines(t, "after apply", e.sim.Render(), withVLAN)
	var checks []string
	for _, c := range tr.Checks() {
		checks = append(checks, c.Run(ctx).String())
	}
	if !strings.Contains(strings.Join(checks, "\n"), "eth0.100") {
		t.Errorf("checks do not test eth0.100:\n%s", strings.Join(checks, "\n"))
	}
	if err := tr.Revert(ctx); err != nil {
		t.Fatal(err)
	}
	diffLines(t, "after revert", e.sim.Render(), initialLines)
	diffLines(t, "DHCP client calls", e.hook, []string{"eth0.100 run", "eth0.100 stop"})

	if err := os.WriteFile(filepath.Join(e.netdDir, "10-nodeconsole-eth1.7.netdev"), []byte("stale"), 0o644); err != nil {
		t.Fatal(err)
	}
	tr, err = e.m.Apply(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Confirm(ctx); err != nil {
		t.Fatal(err)
	}
	var names []string
	entries, _ := os.ReadDir(e.netdDir)
	for _, de := range entries {
		names = append(names, de.Name())
	}
	diffLines(t, "networkd files", names, []string{"10-nodeconsole-eth0.100.netdev", "10-nodeconsole-eth0.100.network", "10-nodeconsole-eth0.network"})
	b, _ := os.ReadFile(filepath.Join(e.netdDir, "10-nodeconsole-eth0.100.network"))
	if want := "[Match]\nName=eth0.100\n\n[Link]\nMTUBytes=1400\n\n[Network]\nDHCP=ipv4\n"; !strings.Contains(string(b), want) {
		t.Errorf("VLAN .network = %q, want %q", b, want)
	}
	fresh := newSimEnv(t)
	m2, _ := NewManager(Options{Backend: fresh.sim, Reader: fresh.sim, StateDir: e.stateDir, DHCP: DHCPHook(fresh.sim.DHCP)})
	if got, err := m2.ApplySaved(ctx); err != nil || !reflect.DeepEqual(got, cfg) {
		t.Fatalf("ApplySaved = %+v, %v", got, err)
	}
	diffLines(t, "fresh node", fresh.sim.Render(), withVLAN)
}

// TestHistoryKeepsLastFive: each save records when and what changed, the
// newest first, at most MaxHistory; network.json still reads as the config.
func TestHistoryKeepsLastFive(t *testing.T) {
	e := newSimEnv(t)
	for i := 1; i <= 7; i++ {
		cfg := cfgStatic("eth0", fmt.Sprintf("192.0.2.%d/24", 10+i), "192.0.2.1")
		if i == 7 {
			cfg.MTU, cfg.Routes = 1400, []Route{{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParseAddr("192.0.2.254")}}
		}
		if err := e.m.Save(cfg); err != nil {
			t.Fatal(err)
		}
	}
	h, err := e.m.History()
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != MaxHistory {
		t.Fatalf("history has %d entries, want %d", len(h), MaxHistory)
	}
	diffLines(t, "newest changes", h[0].Changes, []string{"address 192.0.2.16/24 -> 192.0.2.17/24", "mtu none -> 1400", "routes none -> 10.0.0.0/8@192.0.2.254"})
	diffLines(t, "oldest kept", h[4].Changes, []string{"address 192.0.2.12/24 -> 192.0.2.13/24"})
	if h[4].Config.Address != netip.MustParsePrefix("192.0.2.13/24") || !h[0].Time.Equal(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)) {
		t.Errorf("entries: %+v", h)
	}
	if saved, err := e.m.Saved(); err != nil || !reflect.DeepEqual(saved, h[0].Config) {
		t.Errorf("Saved = %+v, %v; want the newest entry", saved, err)
	}
}

// recordingDHCP6 is a recordingDHCP that runs DHCPv6 too (DHCPv6Control).
// Each Apply6 and Stop6 records what the network looks like then: whether
// eth0 has IPv6 yet (the settings come first) and still the trial's
// address (Stop6 comes before the restore).
type recordingDHCP6 struct {
	recordingDHCP
	sim *Simulated
}

func (r *recordingDHCP6) DHCPv6() error { return nil }

func (r *recordingDHCP6) state(ifname string) string {
	st, _ := r.sim.Read(context.Background())
	ifc, _ := st.Interface(ifname)
	var out []string
	for _, a := range ifc.Addrs {
		out = append(out, a.String())
	}
	return strings.Join(out, ",")
}

func (r *recordingDHCP6) Apply6(ctx context.Context, cfg Config, trial bool) error {
	r.calls = append(r.calls, fmt.Sprintf("apply6 %s %s trial=%v on %s", cfg.Interface, cfg.IPv6, trial, r.state(cfg.Interface)))
	return nil
}

func (r *recordingDHCP6) Stop6(ctx context.Context, ifname string) error {
	r.calls = append(r.calls, "stop6 "+ifname+" on "+r.state(ifname))
	return nil
}

// TestDHCPv6ControlCalls: with a DHCP control that runs DHCPv6, IPv6 dhcp
// is accepted; the DHCPv6 client is started once the IPv6 settings are
// applied (static and DHCP IPv4 alike), stopped before a revert puts the
// snapshot back, and started at boot (ApplySaved, trial false). IPv6 left
// unset leaves it alone.
func TestDHCPv6ControlCalls(t *testing.T) {
	ctx := context.Background()
	sim := NewSimulated()
	dhcp := &recordingDHCP6{sim: sim}
	m, err := NewManager(Options{Backend: sim, Reader: sim, StateDir: t.TempDir(), DHCP: dhcp,
		After: func(time.Duration) <-chan time.Time { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.DHCPv6(); err != nil {
		t.Fatalf("DHCPv6() = %v", err)
	}
	cfg := cfgStatic("eth0", "198.51.100.10/24", "198.51.100.1")
	cfg.IPv6 = IPv6DHCP
	tr, err := m.Apply(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Revert(ctx); err != nil {
		t.Fatal(err)
	}
	tr, err = m.Apply(ctx, Config{Interface: "eth0", Mode: ModeDHCP, IPv6: IPv6DHCP})
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Confirm(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := m.ApplySaved(ctx); err != nil {
		t.Fatal(err)
	}
	tr, err = m.Apply(ctx, cfgStatic("eth0", "198.51.100.10/24", "198.51.100.1"))
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Confirm(ctx); err != nil {
		t.Fatal(err)
	}
	diffLines(t, "DHCP control calls", dhcp.calls, []string{
		"apply eth0 static trial=true", "apply6 eth0 dhcp trial=true on 198.51.100.10/24,2001:db8:5::2/64",
		"stop6 eth0 on 198.51.100.10/24,2001:db8:5::2/64", "restore eth0",
		"apply eth0 dhcp trial=true", "apply6 eth0 dhcp trial=true on 2001:db8:5::2/64", "commit eth0",
		"apply eth0 dhcp trial=false", "apply6 eth0 dhcp trial=false on 2001:db8:5::2/64", "commit eth0",
		"apply eth0 static trial=true", "commit eth0",
	})
}
