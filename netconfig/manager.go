package netconfig

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"sync"
	"time"
)

// DHCPControl tells whatever runs DHCP on the interface (systemd-networkd,
// dhclient, dhcpcd, udhcpc ...) what an apply does, so that a lease cannot
// come back over a static address and a DHCP config gets a client. The
// Manager calls, with a bounded context and never from a UI's Update:
//
//   - Apply for a static config before the addresses are replaced (stop the
//     client), and for a DHCP config once the old addresses are gone (start
//     it). trial is false only for ApplySaved (boot), where nothing is
//     reverted later.
//   - Restore after a snapshot was put back (revert, deadline, a failed
//     step): undo what Apply did to the client.
//   - Commit once the applied config was saved (Confirm, ApplySaved): the
//     change is final, forget how to undo it.
//
// SystemDHCP is the real one; DHCPHook adapts a plain function.
type DHCPControl interface {
	Apply(ctx context.Context, cfg Config, trial bool) error
	Restore(ctx context.Context, snap *Snapshot) error
	Commit(ctx context.Context, cfg Config) error
}

// DHCPHook tells the DHCP client on ifname to run (true) or stop (false):
// Apply calls it with the config's mode, Restore with whether the snapshot
// held a lease, and Commit not at all. Simulated.DHCP is one.
type DHCPHook func(ctx context.Context, ifname string, run bool) error

// Apply implements DHCPControl.
func (h DHCPHook) Apply(ctx context.Context, cfg Config, trial bool) error {
	return h(ctx, cfg.Interface, cfg.Mode == ModeDHCP)
}

// Restore implements DHCPControl.
func (h DHCPHook) Restore(ctx context.Context, snap *Snapshot) error {
	return h(ctx, snap.Interface, snap.HadLease())
}

// Commit implements DHCPControl.
func (h DHCPHook) Commit(context.Context, Config) error { return nil }

// DefaultTryTimeout is how long a Trial waits for a confirmation.
const DefaultTryTimeout = 60 * time.Second

// Options are the dependencies of a Manager.
type Options struct {
	// Backend applies changes (required): NewNetlinkBackend or a Simulated.
	Backend Backend
	// Reader reads the current status (required), the same network as
	// Backend.
	Reader Reader
	// StateDir holds the saved config (STATE/network.json).
	StateDir string
	// NetworkdDir receives the rendered .network file; "" skips it.
	NetworkdDir string
	// DHCP starts or stops the DHCP client (NewSystemDHCP on a node, a
	// DHCPHook such as Simulated.DHCP otherwise); nil does nothing.
	DHCP DHCPControl
	// Logger receives audit and detail lines; nil discards them.
	Logger *slog.Logger
	// Prober runs the checks; nil builds one from Reader and Backend (when
	// Backend is a NeighborResolver).
	Prober *Prober
	// Endpoint is the control-plane URL the checks try to reach; "" limits
	// the checks to carrier, address and gateway.
	Endpoint string
	// TryTimeout is how long a Trial waits for Confirm; 0 means 60 s.
	TryTimeout time.Duration
	// LinkWait is how long ApplySaved waits for the saved interface to
	// appear (a slow driver, or udev renaming it at boot); 0 means
	// DefaultLinkWait, negative means not at all.
	LinkWait time.Duration
	// Now and After are the clock (nil: time.Now, time.After); tests
	// replace them to drive the deadline without waiting.
	Now   func() time.Time
	After func(time.Duration) <-chan time.Time
}

// Manager validates, previews, applies (with try and revert), persists and
// re-applies the WAN network configuration. Its methods are safe for
// concurrent use. At most one Trial is open at a time: Apply refuses a
// second one, and Pending and RevertPending find the open one, so that a
// program that stops (log-out, a signal) can put the previous settings back
// first.
type Manager struct {
	o Options

	mu       sync.Mutex    // guards the following fields; never held during I/O
	pending  *Trial        // the open trial, nil once decided
	applying chan struct{} // non-nil while Apply runs; closed when it returns
}

// ErrTrialPending is returned by Apply while another trial is open.
var ErrTrialPending = errors.New("netconfig: a network change is still on trial; keep or revert it first")

// NewManager returns a Manager, or an error if a required option is missing.
func NewManager(o Options) (*Manager, error) {
	if o.Backend == nil || o.Reader == nil {
		return nil, errors.New("netconfig: new manager: Backend and Reader are required")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.DHCP == nil {
		o.DHCP = DHCPHook(func(context.Context, string, bool) error { return nil })
	}
	if o.Prober == nil {
		nb, _ := o.Backend.(NeighborResolver)
		o.Prober = &Prober{Reader: o.Reader, Neighbors: nb}
	}
	if o.TryTimeout <= 0 {
		o.TryTimeout = DefaultTryTimeout
	}
	if o.LinkWait == 0 {
		o.LinkWait = DefaultLinkWait
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.After == nil {
		o.After = time.After
	}
	o.Logger = o.Logger.With("component", "netconfig")
	return &Manager{o: o}, nil
}

// Status reads the current network status.
func (m *Manager) Status(ctx context.Context) (Status, error) { return m.o.Reader.Read(ctx) }

// IsInvalid reports whether err is (or contains) a validation error, i.e.
// bad input that changed nothing (the CLI exits 2 for it).
func IsInvalid(err error) bool {
	var fe *FieldError
	return errors.As(err, &fe)
}

// Validate checks cfg against the current interfaces, and IPv6 dhcp
// against the DHCP control (see DHCPv6Support).
func (m *Manager) Validate(ctx context.Context, cfg Config) error {
	st, err := m.Status(ctx)
	if err != nil {
		return err
	}
	if err := cfg.Validate(st); err != nil {
		return err
	}
	if cfg.IPv6 == IPv6DHCP {
		return m.DHCPv6()
	}
	return nil
}

// DHCPv6 returns nil when IPv6 dhcp can be applied, else a FieldError of
// FieldIPv6 saying in one sentence why not (no DHCPv6 client installed,
// or a DHCP control that runs DHCPv4 only). It may read /proc and look
// for programs, so call it in a tea.Cmd.
func (m *Manager) DHCPv6() error {
	why := errors.New("the DHCP client in use runs DHCPv4 only")
	if d, ok := m.o.DHCP.(DHCPv6Support); ok {
		why = d.DHCPv6()
	}
	if why == nil {
		return nil
	}
	return &FieldError{Field: FieldIPv6, Index: -1,
		Message: "IPv6 dhcp (DHCPv6) is not available: " + why.Error() + "; choose IPv6 auto (SLAAC) or static."}
}

// DHCPv6Support is implemented by a DHCPControl that can say whether it
// runs DHCPv6 for IPv6 dhcp; one that does not implement it cannot.
type DHCPv6Support interface {
	// DHCPv6 returns nil when DHCPv6 is available, else why not, as a
	// clause ("the DHCP client in use runs DHCPv4 only").
	DHCPv6() error
}

// Preview reads the current status and returns what cfg would change.
func (m *Manager) Preview(ctx context.Context, cfg Config) (Preview, error) {
	st, err := m.Status(ctx)
	if err != nil {
		return Preview{}, err
	}
	return PreviewChanges(st, cfg), nil
}

// Checks returns the checks to run after applying cfg (see Prober.Checks).
func (m *Manager) Checks(cfg Config) []Check { return m.ChecksAt(cfg, m.o.Endpoint) }

// ChecksAt is Checks against another control-plane endpoint. Like Checks,
// it checks the link the settings apply to (a VLAN link, not its NIC).
func (m *Manager) ChecksAt(cfg Config, endpoint string) []Check {
	return m.o.Prober.Checks(cfg.forLink(), endpoint)
}

// Prober returns the prober, for a diagnostics screen.
func (m *Manager) Prober() *Prober { return m.o.Prober }

// Apply validates cfg, snapshots the current state and applies cfg. If any
// step fails it restores the snapshot and returns the error. On success it
// returns an open Trial: run its checks, then Confirm (which saves) or
// Revert; Wait reverts by itself at the deadline.
//
// Only one trial is open at a time: while one is, Apply returns
// ErrTrialPending and changes nothing.
func (m *Manager) Apply(ctx context.Context, cfg Config) (*Trial, error) {
	m.mu.Lock()
	switch {
	case m.pending != nil:
		ifname := m.pending.cfg.Interface
		m.mu.Unlock()
		return nil, fmt.Errorf("%w (%s)", ErrTrialPending, ifname)
	case m.applying != nil:
		m.mu.Unlock()
		return nil, fmt.Errorf("%w (an apply is running)", ErrTrialPending)
	}
	done := make(chan struct{})
	m.applying = done
	m.mu.Unlock()
	defer func() {
		m.mu.Lock()
		m.applying = nil
		m.mu.Unlock()
		close(done)
	}()

	snap, err := m.apply(ctx, cfg, true)
	if err != nil {
		return nil, err
	}
	t := &Trial{m: m, cfg: cfg, snap: snap, deadline: m.o.Now().Add(m.o.TryTimeout), done: make(chan struct{})}
	t.timer = m.o.After(m.o.TryTimeout)
	m.mu.Lock()
	m.pending = t
	m.mu.Unlock()
	m.o.Logger.Info("network trial started", "interface", cfg.Interface, "deadline", t.deadline)
	return t, nil
}

// Pending returns the open trial, or nil when none is waiting for a
// decision. It does no I/O.
func (m *Manager) Pending() *Trial {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.pending
}

// RevertPending reverts the open trial, if any, as a program that is
// stopping must (log-out, SIGTERM, SIGHUP, SIGINT): the snapshot is restored
// exactly and the trial ends as OutcomeCancelled. An Apply still running is
// waited for first (its own context bounds it), so that its trial is
// reverted too. It reports whether a trial was reverted, and the error of
// restoring it.
func (m *Manager) RevertPending(ctx context.Context, reason string) (bool, error) {
	for {
		m.mu.Lock()
		t, running := m.pending, m.applying
		m.mu.Unlock()
		if t == nil && running == nil {
			return false, nil
		}
		if t == nil {
			select {
			case <-running:
				continue
			case <-ctx.Done():
				return false, fmt.Errorf("netconfig: revert the network trial: an apply is still running: %w", ctx.Err())
			}
		}
		m.o.Logger.Info("network trial interrupted; reverting", "interface", t.cfg.Interface, "reason", reason)
		err := t.decideRevert(ctx, OutcomeCancelled)
		if o, _ := t.Outcome(); o == OutcomeConfirmed {
			return false, nil // a Confirm won the race: nothing was pending
		}
		return true, err
	}
}

// ended forgets t as the open trial.
func (m *Manager) ended(t *Trial) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.pending == t {
		m.pending = nil
	}
}

// apply validates, snapshots and applies cfg, restoring on failure. trial
// is passed on to the DHCP control (false: ApplySaved).
func (m *Manager) apply(ctx context.Context, cfg Config, trial bool) (*Snapshot, error) {
	if err := m.Validate(ctx, cfg); err != nil {
		return nil, err
	}
	log := m.o.Logger
	snap, err := m.snapshot(ctx, cfg)
	if err != nil {
		return nil, err
	}
	log.Info("network apply", "config", fmt.Sprintf("%+v", cfg), "snapshot", snap.Lines())
	if err := m.applySteps(ctx, cfg, trial); err != nil {
		log.Error("network apply failed; restoring", "err", err)
		if rerr := m.restore(context.WithoutCancel(ctx), snap); rerr != nil {
			return nil, fmt.Errorf("%w; restoring the previous settings also failed: %w", err, rerr)
		}
		return nil, fmt.Errorf("%w (previous settings restored)", err)
	}
	return snap, nil
}

// snapshot captures what applying cfg can change: its link, and for a VLAN
// the NIC too (or, when the VLAN link does not exist yet, that it did not).
func (m *Manager) snapshot(ctx context.Context, cfg Config) (*Snapshot, error) {
	snap, err := m.snapshotLinks(ctx, cfg)
	if err == nil && cfg.IPv6 == IPv6Unset {
		snap.IPv6 = nil // left alone, so not restored either
	}
	if err == nil && snap.Parent != nil {
		snap.Parent.IPv6 = nil // the NIC under a VLAN keeps its IPv6
	}
	return snap, err
}

func (m *Manager) snapshotLinks(ctx context.Context, cfg Config) (*Snapshot, error) {
	b := m.o.Backend
	if cfg.VLAN == 0 {
		return b.Snapshot(ctx, cfg.Interface)
	}
	parent, err := b.Snapshot(ctx, cfg.Interface)
	if err != nil {
		return nil, err
	}
	st, err := m.o.Reader.Read(ctx)
	if err != nil {
		return nil, err
	}
	snap := &Snapshot{Interface: cfg.Link(), Created: true, ResolvConf: parent.ResolvConf, ResolvConfExists: parent.ResolvConfExists}
	if _, ok := st.Interface(cfg.Link()); ok {
		if snap, err = b.Snapshot(ctx, cfg.Link()); err != nil {
			return nil, err
		}
	}
	snap.Parent = parent
	return snap, nil
}

func (m *Manager) applySteps(ctx context.Context, cfg Config, trial bool) error {
	b := m.o.Backend
	if cfg.VLAN != 0 {
		if err := b.AddVLAN(ctx, cfg.Interface, cfg.VLAN, cfg.Link()); err != nil {
			return err
		}
		if err := b.LinkUp(ctx, cfg.Interface); err != nil {
			return err
		}
	}
	cfg = cfg.forLink()
	ifname := cfg.Interface
	if cfg.Mode == ModeDHCP {
		if err := b.ReplaceAddrs(ctx, ifname, nil); err != nil {
			return err
		}
		if err := m.setMTU(ctx, cfg); err != nil {
			return err
		}
		if err := b.LinkUp(ctx, ifname); err != nil {
			return err
		}
		if err := b.ReplaceDefaultRoute(ctx, ifname, netip.Addr{}, false); err != nil {
			return err
		}
		if err := b.ReplaceRoutes(ctx, ifname, nil, false); err != nil {
			return err
		}
		if err := m.setIPv6(ctx, cfg); err != nil {
			return err
		}
		if err := m.o.DHCP.Apply(ctx, cfg, trial); err != nil {
			return fmt.Errorf("netconfig: start DHCP client on %s: %w", ifname, err)
		}
		return m.apply6(ctx, cfg, trial)
	}
	if err := m.o.DHCP.Apply(ctx, cfg, trial); err != nil {
		return fmt.Errorf("netconfig: stop DHCP client on %s: %w", ifname, err)
	}
	if err := b.ReplaceAddrs(ctx, ifname, []netip.Prefix{cfg.Address}); err != nil {
		return err
	}
	if err := m.setMTU(ctx, cfg); err != nil {
		return err
	}
	if err := b.LinkUp(ctx, ifname); err != nil {
		return err
	}
	// Off, only a default route through this interface is removed
	// (ReplaceDefaultRoute with no gateway); another interface's stays.
	gw := netip.Addr{}
	if cfg.DefaultRoute {
		gw = cfg.Gateway
	}
	if err := b.ReplaceDefaultRoute(ctx, ifname, gw, cfg.OnLink()); err != nil {
		return err
	}
	if err := b.ReplaceRoutes(ctx, ifname, cfg.routes(false), cfg.OnLink()); err != nil {
		return err
	}
	if err := m.setIPv6(ctx, cfg); err != nil {
		return err
	}
	if err := m.apply6(ctx, cfg, trial); err != nil {
		return err
	}
	if dns := append(slices.Clone(cfg.DNS), cfg.DNS6...); len(dns) > 0 {
		if err := b.WriteDNS(ctx, dns); err != nil {
			return err
		}
	}
	return nil
}

// setIPv6 applies the IPv6 settings, if any (IPv6Unset leaves IPv6 alone).
func (m *Manager) setIPv6(ctx context.Context, cfg Config) error {
	if cfg.IPv6 == IPv6Unset {
		return nil
	}
	return m.o.Backend.SetIPv6(ctx, cfg.Interface, IPv6Settings{Mode: cfg.IPv6, Addr: cfg.Address6, Gateway: cfg.Gateway6, Routes: cfg.routes(true)})
}

// apply6 starts or stops the DHCPv6 client for cfg's IPv6 mode, when the
// DHCP control runs it (DHCPv6Control); IPv6Unset leaves it alone.
func (m *Manager) apply6(ctx context.Context, cfg Config, trial bool) error {
	c, ok := m.o.DHCP.(DHCPv6Control)
	if !ok || cfg.IPv6 == IPv6Unset {
		return nil
	}
	if err := c.Apply6(ctx, cfg, trial); err != nil {
		return fmt.Errorf("netconfig: DHCPv6 client on %s: %w", cfg.Interface, err)
	}
	return nil
}

// setMTU sets the configured MTU, if any (0 leaves it alone).
func (m *Manager) setMTU(ctx context.Context, cfg Config) error {
	if cfg.MTU == 0 {
		return nil
	}
	return m.o.Backend.SetMTU(ctx, cfg.Interface, cfg.MTU)
}

// restore puts the snapshot back and the DHCP client as it was.
func (m *Manager) restore(ctx context.Context, snap *Snapshot) error {
	b := m.o.Backend
	dhcp := func() error {
		if err := m.o.DHCP.Restore(ctx, snap); err != nil {
			return fmt.Errorf("netconfig: restore DHCP client state on %s: %w", snap.Interface, err)
		}
		return nil
	}
	var err error
	if c, ok := m.o.DHCP.(DHCPv6Control); ok {
		// First, so that the DHCPv6 client it started adds nothing after
		// the snapshot is back.
		if serr := c.Stop6(ctx, snap.Interface); serr != nil {
			err = fmt.Errorf("netconfig: restore: stop the DHCPv6 client on %s: %w", snap.Interface, serr)
		}
	}
	if snap.Created {
		// A link the apply created: stop its DHCP client, then remove it.
		err = errors.Join(err, dhcp(), b.DeleteLink(ctx, snap.Interface))
	} else {
		err = errors.Join(err, b.Restore(ctx, snap))
	}
	if snap.Parent != nil {
		err = errors.Join(err, b.Restore(ctx, snap.Parent))
	}
	if !snap.Created {
		err = errors.Join(err, dhcp())
	}
	return err
}

// Save persists cfg: STATE/network.json and the networkd file.
func (m *Manager) Save(cfg Config) error {
	if err := save(m.o.StateDir, m.o.NetworkdDir, cfg, m.o.Now()); err != nil {
		return err
	}
	m.o.Logger.Info("network config saved", "interface", cfg.Interface, "stateDir", m.o.StateDir, "networkdDir", m.o.NetworkdDir)
	return nil
}

// commit tells the DHCP control that cfg is final. Its failure does not
// undo anything (the settings are in use and saved), so it is logged.
func (m *Manager) commit(ctx context.Context, cfg Config) {
	if err := m.o.DHCP.Commit(ctx, cfg.forLink()); err != nil {
		m.o.Logger.Warn("network settings kept, but finishing the DHCP client change failed", "interface", cfg.Interface, "err", err)
	}
}

// History returns the last kept configurations (at most MaxHistory),
// newest first: entry 0 is the saved config.
func (m *Manager) History() ([]HistoryEntry, error) { return savedHistory(m.o.StateDir) }

// Saved returns the saved config, or ErrNoSavedConfig.
func (m *Manager) Saved() (Config, error) { return loadSaved(m.o.StateDir) }

// ApplySaved re-applies the saved config without a trial (for
// `nodeconsole network apply` at boot). It returns ErrNoSavedConfig when
// nothing was saved. A failed step restores the previous state.
func (m *Manager) ApplySaved(ctx context.Context) (Config, error) {
	cfg, err := m.Saved()
	if err != nil {
		return Config{}, err
	}
	if err := m.waitLink(ctx, cfg.Interface); err != nil {
		return cfg, err
	}
	if _, err := m.apply(ctx, cfg, false); err != nil {
		return cfg, err
	}
	m.commit(ctx, cfg)
	m.o.Logger.Info("saved network config applied", "interface", cfg.Interface)
	return cfg, nil
}

// DefaultLinkWait is how long ApplySaved waits for a missing interface.
const DefaultLinkWait = 90 * time.Second

// WaitLink waits until the interface name exists, at most
// Options.LinkWait (user data naming an interface at boot waits as
// ApplySaved does). The error says it does not exist.
func (m *Manager) WaitLink(ctx context.Context, name string) error { return m.waitLink(ctx, name) }

// waitLink waits until the interface name exists, at most LinkWait: at
// boot a NIC can appear late (slow driver) or under its final name only
// once udev has renamed it, and applying before that would fail for good.
func (m *Manager) waitLink(ctx context.Context, name string) error {
	deadline := m.o.Now().Add(m.o.LinkWait)
	delay := 100 * time.Millisecond
	for logged := false; ; logged = true {
		st, err := m.o.Reader.Read(ctx)
		if err == nil {
			if _, ok := st.Interface(name); ok {
				if logged {
					m.o.Logger.Info("interface appeared", "interface", name)
				}
				return nil
			}
		}
		if m.o.LinkWait < 0 || !m.o.Now().Before(deadline) {
			return fmt.Errorf("netconfig: interface %s does not exist (waited %s for it to appear)", name, max(m.o.LinkWait, 0))
		}
		if !logged {
			m.o.Logger.Info("waiting for the interface to appear", "interface", name, "upTo", m.o.LinkWait.String())
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("netconfig: waiting for interface %s: %w", name, ctx.Err())
		case <-m.o.After(delay):
		}
		delay = min(2*delay, 2*time.Second)
	}
}

// Try applies cfg, reports each check result to report (may be nil), and
// waits for a decision on confirm (true: keep, false: revert; a closed or
// nil channel means no answer) until the deadline. It is the whole
// try-then-revert flow for a CLI.
func (m *Manager) Try(ctx context.Context, cfg Config, confirm <-chan bool, report func(Result)) (Outcome, error) {
	t, err := m.Apply(ctx, cfg)
	if err != nil {
		return "", err
	}
	t.RunChecks(ctx, report)
	go func() {
		select {
		case keep, ok := <-confirm:
			switch {
			case ok && keep:
				_ = t.Confirm(ctx)
			case ok:
				_ = t.Revert(ctx)
			}
		case <-t.done:
		}
	}()
	return t.Wait(ctx)
}

// Outcome is how a Trial ended.
type Outcome string

// Trial outcomes.
const (
	// OutcomePending means no decision yet.
	OutcomePending Outcome = ""
	// OutcomeConfirmed means the operator kept the settings (and they
	// were saved).
	OutcomeConfirmed Outcome = "confirmed"
	// OutcomeReverted means the operator chose Revert.
	OutcomeReverted Outcome = "reverted"
	// OutcomeExpired means nobody confirmed before the deadline, so the
	// previous settings were restored.
	OutcomeExpired Outcome = "expired"
	// OutcomeCancelled means the context ended (the program is stopping),
	// so the previous settings were restored.
	OutcomeCancelled Outcome = "cancelled"
)

// ErrTrialOver is returned by Confirm after the trial was reverted.
var ErrTrialOver = errors.New("netconfig: the trial is over; the settings were already reverted")

// Trial is an applied but unconfirmed config. Exactly one of Confirm,
// Revert or the deadline (observed by Wait) decides it; later calls see
// that outcome. A TUI calls Wait in a tea.Cmd, shows a countdown to
// Deadline, and calls Confirm or Revert from key presses.
type Trial struct {
	m        *Manager
	cfg      Config
	snap     *Snapshot
	deadline time.Time
	timer    <-chan time.Time
	done     chan struct{} // closed once decided

	mu      sync.Mutex // guards all following fields
	outcome Outcome
	err     error
}

// Config returns the applied config.
func (t *Trial) Config() Config { return t.cfg }

// Snapshot returns the state captured before the apply.
func (t *Trial) Snapshot() *Snapshot { return t.snap }

// Deadline returns when the trial reverts by itself.
func (t *Trial) Deadline() time.Time { return t.deadline }

// Done returns a channel closed once the trial is decided.
func (t *Trial) Done() <-chan struct{} { return t.done }

// Outcome returns the outcome so far and the error of the deciding
// action.
func (t *Trial) Outcome() (Outcome, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.outcome, t.err
}

// Checks returns the checks for the applied config.
func (t *Trial) Checks() []Check { return t.m.Checks(t.cfg) }

// RunChecks runs the checks in order, reporting each result to report (may
// be nil) as it arrives, and returns them all.
func (t *Trial) RunChecks(ctx context.Context, report func(Result)) []Result {
	var out []Result
	for _, c := range t.Checks() {
		r := c.Run(ctx)
		t.m.o.Logger.Info("network check", "check", r.Check, "ok", r.OK, "detail", r.Detail)
		if report != nil {
			report(r)
		}
		out = append(out, r)
	}
	return out
}

// Confirm keeps the applied settings and saves them. It returns
// ErrTrialOver if the trial was already reverted; a save error leaves the
// settings applied but not persisted.
func (t *Trial) Confirm(ctx context.Context) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	switch t.outcome {
	case OutcomeConfirmed:
		return t.err
	case OutcomePending:
	default:
		return ErrTrialOver
	}
	t.outcome = OutcomeConfirmed
	t.err = t.m.Save(t.cfg)
	// The settings stay in use even if saving failed: the DHCP client
	// change is final either way.
	t.m.commit(context.WithoutCancel(ctx), t.cfg)
	t.m.o.Logger.Info("network settings confirmed", "interface", t.cfg.Interface, "saveErr", errString(t.err))
	t.m.ended(t)
	close(t.done)
	return t.err
}

// Revert restores the snapshot exactly. Reverting an already reverted
// trial returns its result again; reverting a confirmed one is an error.
func (t *Trial) Revert(ctx context.Context) error {
	return t.decideRevert(ctx, OutcomeReverted)
}

func (t *Trial) decideRevert(ctx context.Context, o Outcome) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	switch t.outcome {
	case OutcomePending:
	case OutcomeConfirmed:
		return errors.New("netconfig: revert: the settings were already confirmed")
	default:
		return t.err
	}
	t.outcome = o
	t.err = t.m.restore(context.WithoutCancel(ctx), t.snap)
	t.m.o.Logger.Info("network settings reverted", "interface", t.cfg.Interface, "outcome", string(o), "restoreErr", errString(t.err))
	t.m.ended(t)
	close(t.done)
	return t.err
}

// Wait blocks until the trial is decided: by Confirm or Revert, by the
// deadline (revert, OutcomeExpired) or by ctx ending (revert,
// OutcomeCancelled). It returns the outcome and the error of the deciding
// action.
func (t *Trial) Wait(ctx context.Context) (Outcome, error) {
	select {
	case <-t.done:
	case <-t.timer:
		_ = t.decideRevert(ctx, OutcomeExpired)
	case <-ctx.Done():
		_ = t.decideRevert(ctx, OutcomeCancelled)
	}
	return t.Outcome()
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
