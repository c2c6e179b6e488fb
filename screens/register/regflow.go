package register

import (
	"context"
	"log/slog"
	"runtime"
	"sync"
	"time"

	"github.com/nodeconsole/nodeconsole/api"
	"github.com/nodeconsole/nodeconsole/regclient"
)

// FlowDeps are what the real Flow needs.
type FlowDeps struct {
	Store   regclient.Store
	NodeID  string
	Version string
	// Client are the client options from the config (CAs, proxy, logger);
	// the endpoint is the one the operator confirmed.
	Client regclient.Options
	// RegistrationURL is site.registrationURL ("" for none).
	RegistrationURL string
	// PairingKey is site.pairingKey ("" for none): the secret that proves
	// this node is the one an admin pre-added, so its enrollment is
	// approved at once. Never shown or logged.
	PairingKey string
	// UpgradeCommand is console.upgradeCommand (empty: the update step is
	// skipped); downloads go to UpdateDir.
	UpgradeCommand []string
	UpdateDir      string
	// Reboot reboots the node (the menu's Reboot: console.rebootCommand,
	// simulated in --demo); nil when none is configured.
	Reboot func(ctx context.Context) (string, error)
	// Run runs commands; nil means regclient.ExecRunner.
	Run    regclient.Runner
	Logger *slog.Logger
}

// regFlow is the Flow backed by regclient and the real control plane.
// Start and Next run one after the other, but Cancel runs while a Next
// (a long-poll) may be in flight: mu guards reg, and Cancel works on its
// own Registrar so that it shares no session with the poll.
type regFlow struct {
	d   FlowDeps
	mu  sync.Mutex
	reg *regclient.Registrar
}

func (f *regFlow) registrar() *regclient.Registrar {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.reg
}

// NewFlow returns the real Flow.
func NewFlow(d FlowDeps) Flow {
	if d.Run == nil {
		d.Run = regclient.ExecRunner
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	return &regFlow{d: d}
}

func (f *regFlow) client(endpoint string) (*regclient.Client, error) {
	o := f.d.Client
	o.Endpoint = endpoint
	return regclient.New(o)
}

func (f *regFlow) Current(ctx context.Context) (Status, error) {
	st, _, err := f.d.Store.Recover()
	out := Status{State: st}
	if err == nil && st.State == regclient.Pending {
		out.Code = &Code{UserCode: st.UserCode, VerificationURI: st.VerificationURI,
			VerificationURIComplete: st.VerificationURIComplete, ExpiresAt: st.ExpiresAt,
			QRURL:          regclient.QRURL(f.d.RegistrationURL, st.NodeID, st.UserCode, st.VerificationURIComplete, st.VerificationURI),
			KeyFingerprint: f.fingerprint()}
	}
	return out, err
}

// fingerprint is the node key's fingerprint, "" when there is no key yet.
func (f *regFlow) fingerprint() string {
	key, err := f.d.Store.LoadKey()
	if err != nil {
		f.d.Logger.Warn("register: node key fingerprint", "err", err)
		return ""
	}
	fp, err := api.KeyFingerprint(key.Public())
	if err != nil {
		f.d.Logger.Warn("register: node key fingerprint", "err", err)
		return ""
	}
	return fp
}

func (f *regFlow) Connectivity(ctx context.Context, endpoint string) []Check {
	c, err := f.client(endpoint)
	if err != nil {
		return []Check{{Name: "Endpoint", Detail: err.Error(), Hint: "Check site.endpoint and site.caCerts in the config."}}
	}
	rep := c.Probe(ctx)
	var out []Check
	for _, p := range []struct {
		name string
		r    regclient.ProbeResult
	}{{"DNS", rep.DNS}, {"TCP", rep.TCP}, {"TLS", rep.TLS}, {"clock", rep.Clock}} {
		if p.r.Status == regclient.ProbeSkipped {
			continue
		}
		out = append(out, Check{Name: p.name, OK: p.r.Status != regclient.ProbeFailed, Detail: p.r.Detail, Hint: p.r.Hint})
	}
	return out
}

func (f *regFlow) PrepareKey(ctx context.Context) error {
	key, err := f.d.Store.EnsureKey()
	if err != nil {
		return err
	}
	_, err = regclient.CreateCSR(key, f.d.NodeID)
	return err
}

func (f *regFlow) Update(ctx context.Context, endpoint string) (UpdateResult, error) {
	if len(f.d.UpgradeCommand) == 0 {
		return UpdateResult{Skipped: true}, nil
	}
	c, err := f.client(endpoint)
	if err != nil {
		return UpdateResult{}, err
	}
	r := regclient.Updater{Client: c, Version: f.d.Version, Arch: runtime.GOARCH, Command: f.d.UpgradeCommand,
		Dir: f.d.UpdateDir, Run: f.d.Run}.Update(ctx)
	switch r.Status {
	case regclient.UpdateFailed:
		return UpdateResult{}, r.Err
	case regclient.UpdateInstalled:
		return UpdateResult{Text: "installed " + r.Version}, nil
	}
	return UpdateResult{Text: string(r.Status)}, nil
}

func (f *regFlow) Start(ctx context.Context, req Request) (Code, error) {
	c, err := f.client(req.Endpoint)
	if err != nil {
		return Code{}, err
	}
	reg := &regclient.Registrar{Client: c, Store: f.d.Store, NodeID: f.d.NodeID, Make: req.Make, Model: req.Model,
		Version: f.d.Version, Logger: f.d.Logger, PairingKey: f.d.PairingKey}
	f.mu.Lock()
	f.reg = reg
	f.mu.Unlock()
	p, err := reg.Start(ctx)
	if err != nil {
		return Code{}, err
	}
	return Code{UserCode: p.UserCode, VerificationURI: p.VerificationURI, VerificationURIComplete: p.VerificationURIComplete,
		QRURL: p.QRURL(f.d.RegistrationURL), ExpiresAt: p.ExpiresAt, KeyFingerprint: f.fingerprint()}, nil
}

func (f *regFlow) Next(ctx context.Context) Outcome {
	if f.registrar() == nil {
		// The screen showed a saved code (resume): attach to it first.
		st, err := f.d.Store.Load()
		if err != nil {
			return Outcome{Kind: Failed, Err: err}
		}
		if _, err := f.Start(ctx, Request{Endpoint: st.Endpoint}); err != nil {
			return Outcome{Kind: Retrying, Err: err, RetryIn: time.Second}
		}
	}
	o, err := f.registrar().Next(ctx)
	if err != nil && o.Kind != regclient.OutcomeRetrying {
		return Outcome{Kind: Failed, Err: err}
	}
	out := Outcome{LastCheck: o.LastCheck, RetryIn: o.RetryIn, Err: o.Err}
	switch o.Kind {
	case regclient.OutcomeWaiting:
		out.Kind = Waiting
	case regclient.OutcomeRetrying:
		out.Kind = Retrying
		if out.Err == nil {
			out.Err = err
		}
	case regclient.OutcomeRegistered:
		out.Kind, out.NodeName, out.Project = Registered, o.Registration.Name, o.Registration.Project
	case regclient.OutcomeExpired, regclient.OutcomeRestart:
		out.Kind = Expired
	case regclient.OutcomeDenied:
		out.Kind = Denied
	default:
		out.Kind = Failed
	}
	return out
}

func (f *regFlow) Cancel(ctx context.Context) error {
	// The code to cancel is the one saved as pending; a fresh Registrar
	// (no session) reads it from there.
	st, err := f.d.Store.Load()
	if err != nil {
		return err
	}
	c, err := f.client(st.Endpoint)
	if err != nil {
		return err
	}
	return (&regclient.Registrar{Client: c, Store: f.d.Store, NodeID: f.d.NodeID, Logger: f.d.Logger}).Cancel(ctx)
}

func (f *regFlow) Reboot(ctx context.Context) (string, error) {
	if f.d.Reboot == nil {
		return "No reboot command is configured (console.rebootCommand): restart the node to finish.", nil
	}
	return f.d.Reboot(ctx)
}
