package regclient

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"time"

	"github.com/nodeconsole/nodeconsole/api"
	"github.com/nodeconsole/nodeconsole/config"
)

// Polling rules (RFC 8628 §3.5 and the research notes).
const (
	// DefaultInterval is used when the server sends none (RFC 8628 §3.2).
	DefaultInterval = 5 * time.Second
	// SlowDownStep is added to the interval on each slow_down.
	SlowDownStep = 5 * time.Second
	// maxInterval caps a server's interval and the slow_down growth.
	maxInterval = 5 * time.Minute
	// backoffBase and backoffCap bound the wait after a failed poll.
	backoffBase = time.Second
	backoffCap  = 30 * time.Second
	// approvedCollectTime is how long the node keeps trying to collect
	// the certificate of an approved enrollment.
	approvedCollectTime = 15 * time.Minute
)

// Registrar runs registration for one node: the activation-code flow
// (Start, then Next until an outcome, or Cancel), token registration, and
// deregistration. Fill in the dependencies and use a pointer; it is not
// safe for concurrent use (a screen calls it from one command at a time).
type Registrar struct {
	// Client talks to the control plane (no client certificate needed).
	Client *Client
	// Store is the state dir.
	Store Store
	// NodeID is the node's ID (Store.EnsureNodeID).
	NodeID string
	// Make and Model are shown to the admin at Find.
	Make, Model string
	// Version is this nodeconsole's version.
	Version string
	// PairingKey, when set (config site.pairingKey, register
	// --pairing-key-file), is sent with the enrollment: it proves that this
	// is the node an admin pre-added with that key, which is then approved
	// at once. A secret: never logged, shown or stored in state.json.
	PairingKey string
	// Logger receives the detail; secrets are never logged. Default
	// discards.
	Logger *slog.Logger
	// Now is the clock; default time.Now (whose monotonic reading keeps
	// deadlines right when the wall clock jumps).
	Now func() time.Time
	// Sleep waits d or until ctx is done; default a timer.
	Sleep func(ctx context.Context, d time.Duration) error
	// Jitter returns a random duration in [0, d); default math/rand.
	Jitter func(d time.Duration) time.Duration
	// Hook, when set, is called between persisted steps: after Finalize
	// saved "received" and "written", before Deregister's "wipe". An error
	// stops there, as a crash would (tests). nil in production.
	Hook func(step string) error

	sess *session
}

// session is the enrollment being waited on.
type session struct {
	pending    PendingCode
	deviceCode string
	deadline   time.Time // monotonic when from Now
	interval   time.Duration
	lastPoll   time.Time // start of the last poll
	lastCheck  time.Time // wall time of the last answer
	failures   int
	waitBefore time.Duration // wait before the next poll
}

// PendingCode is an activation code being shown.
type PendingCode struct {
	// NodeID is the node's ID.
	NodeID string
	// UserCode is the code shown, XXXX-XXXX.
	UserCode string
	// VerificationURI is the portal page to type the code into.
	VerificationURI string
	// VerificationURIComplete is that page with the code filled in.
	VerificationURIComplete string
	// ExpiresAt is when the code stops working (wall clock, for display).
	ExpiresAt time.Time
	// Interval is the minimum time between polls.
	Interval time.Duration
	// KeyFingerprint is the short fingerprint of this node's key
	// (api.KeyFingerprint, grouped hex such as "3f2a 9c01 77be 0d4e a1c2").
	// Show it next to UserCode: the admin compares it with the one Find
	// shows before licensing the code.
	KeyFingerprint string
	// Approved reports that the control plane approved the enrollment at
	// once (the pairing key of a pre-added node, or an approval of this
	// key delivered again: see Redelivered): the next Next registers it
	// with no code typed.
	Approved bool
	// Resumed reports that the code came from state.json (a restart).
	Resumed bool
	// Redelivered reports an Approved enrollment that the control plane had
	// approved before for this key: a certificate was received but not
	// stored (a crash), or node.crt was lost. The next Next fetches it
	// again. Not a sign that an admin pre-added the node.
	Redelivered bool
	// Recovery, when set, is one sentence saying why this node enrolls
	// again with the key it already had (State.Recovery); show it.
	Recovery string
}

// QRURL is the URL to encode in a QR code for p: registrationURL (config
// site.registrationURL) with the node ID and code when set, else the
// complete verification URL, else the plain one.
func (p PendingCode) QRURL(registrationURL string) string {
	return QRURL(registrationURL, p.NodeID, p.UserCode, p.VerificationURIComplete, p.VerificationURI)
}

// QRURL is the URL to encode in a QR code: registrationURL?node=ID&code=CODE
// when registrationURL is set, else complete, else plain.
func QRURL(registrationURL, nodeID, userCode, complete, plain string) string {
	if registrationURL != "" && userCode != "" {
		return api.RegisterPageURL(registrationURL, nodeID, userCode)
	}
	if complete != "" {
		return complete
	}
	return plain
}

// OutcomeKind is what one Next step ended with.
type OutcomeKind int

// Outcomes of Next.
const (
	// OutcomeWaiting: still pending; show "waiting for activation, last check
	// LastCheck" and call Next again.
	OutcomeWaiting OutcomeKind = iota
	// OutcomeRetrying: the check failed (network, 5xx, 429, not the API); the
	// code stays valid. Show Err as a short line and "retry in RetryIn",
	// then call Next again (it waits RetryIn first).
	OutcomeRetrying
	// OutcomeRegistered: done; Registration says as what. The certificate is
	// stored and state.json says registered.
	OutcomeRegistered
	// OutcomeExpired: the code expired. Offer "press Enter for a new code" and
	// call Start again (the same key is reused).
	OutcomeExpired
	// OutcomeDenied: an admin denied the code. Stop.
	OutcomeDenied
	// OutcomeRestart: the enrollment was cancelled or replaced elsewhere (for
	// example by a token registration); call Start again.
	OutcomeRestart
)

// String names the outcome for logs.
func (k OutcomeKind) String() string {
	return [...]string{"waiting", "retrying", "registered", "expired", "denied", "restart"}[k]
}

// Registration is what the node was registered as.
type Registration struct {
	// NodeID is the node's ID.
	NodeID string
	// Name is the node's name given by the admin (or the node ID).
	Name string
	// Project is the node's project, possibly empty.
	Project string
	// Site is the site chosen on the QR page, possibly empty.
	Site string
	// Tags are the node's labels.
	Tags map[string]string
}

// Outcome is the result of one Next step.
type Outcome struct {
	// Kind says what happened.
	Kind OutcomeKind
	// Pending is the code still being shown (OutcomeWaiting, OutcomeRetrying).
	Pending PendingCode
	// LastCheck is the wall time of the last answer from the server (zero
	// before the first).
	LastCheck time.Time
	// Registration is set when Kind is OutcomeRegistered.
	Registration Registration
	// Err is the reason for OutcomeRetrying, OutcomeExpired, OutcomeDenied or OutcomeRestart.
	Err error
	// RetryIn is how long the next Next waits before polling (OutcomeRetrying,
	// and OutcomeWaiting when interval polling).
	RetryIn time.Duration
}

func (r *Registrar) log() *slog.Logger {
	if r.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return r.Logger
}

func (r *Registrar) now() time.Time {
	if r.Now == nil {
		return time.Now()
	}
	return r.Now()
}

func (r *Registrar) sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	if r.Sleep != nil {
		return r.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (r *Registrar) jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	if r.Jitter != nil {
		return r.Jitter(d)
	}
	return rand.N(d)
}

// Recover makes the state dir consistent after a crash (Store.Recover) and
// logs what it did. Call it at start; Start calls it too.
func (r *Registrar) Recover() (State, error) {
	st, action, err := r.Store.Recover()
	if err != nil {
		return st, err
	}
	if action != RecoverNothing {
		r.log().Info("recovered registration state", "action", string(action), "state", string(st.State), "nodeId", r.NodeID)
	}
	return st, nil
}

// Start begins or resumes the activation-code flow and returns the code to
// show. Order: recover the state dir; an unexpired pending enrollment for
// the same endpoint in state.json is returned at once, without the network
// (PendingCode.Resumed); otherwise the node key is created or reused, a CSR is
// sent, and the answer is saved as pending before it is returned. A node
// registered already gets ErrRegistered.
func (r *Registrar) Start(ctx context.Context) (PendingCode, error) {
	r.sess = nil
	st, err := r.Recover()
	if err != nil {
		return PendingCode{}, err
	}
	if st.State == Registered {
		return PendingCode{}, ErrRegistered
	}
	now := r.now()
	if st.State == Pending && !st.CertReceived && st.DeviceCode != "" && st.Endpoint == r.Client.Endpoint() &&
		now.Before(st.ExpiresAt) && st.NodeID == r.NodeID {
		// The saved code is resumed only for the key it was asked with.
		if fp, err := r.keyFingerprint(); err == nil && (st.KeyFingerprint == "" || st.KeyFingerprint == fp) {
			p := PendingCode{
				NodeID: r.NodeID, UserCode: st.UserCode, VerificationURI: st.VerificationURI,
				VerificationURIComplete: st.VerificationURIComplete, ExpiresAt: st.ExpiresAt,
				Interval: clampInterval(st.Interval), KeyFingerprint: fp, Resumed: true, Recovery: st.Recovery,
			}
			r.sess = &session{pending: p, deviceCode: st.DeviceCode, deadline: now.Add(st.ExpiresAt.Sub(now)), interval: p.Interval}
			r.log().Info("resumed enrollment", "nodeId", r.NodeID, "expiresAt", st.ExpiresAt)
			return p, nil
		}
	}
	return r.enroll(ctx, st)
}

// clampInterval turns seconds from the server into a sane interval.
func clampInterval(sec int) time.Duration {
	if sec <= 0 {
		return DefaultInterval
	}
	return min(time.Duration(sec)*time.Second, maxInterval)
}

// keyFingerprint is api.KeyFingerprint of the node's key on disk.
func (r *Registrar) keyFingerprint() (string, error) {
	key, err := r.Store.LoadKey()
	if err != nil {
		return "", err
	}
	return api.KeyFingerprint(&key.PublicKey)
}

func (r *Registrar) enroll(ctx context.Context, st State) (PendingCode, error) {
	key, err := r.Store.EnsureKey()
	if err != nil {
		return PendingCode{}, err
	}
	fp, err := api.KeyFingerprint(&key.PublicKey)
	if err != nil {
		return PendingCode{}, fmt.Errorf("regclient: enroll: %w", err)
	}
	csr, err := CreateCSR(key, r.NodeID)
	if err != nil {
		return PendingCode{}, err
	}
	resp, err := r.Client.Enroll(ctx, api.EnrollRequest{NodeID: r.NodeID, Make: r.Make, Model: r.Model, Version: r.Version, CSR: csr, PairingKey: r.PairingKey})
	if err != nil {
		if (st.Recovery != "" || st.CertReceived) && errors.Is(err, ErrAlreadyRegistered) {
			var ae *Error
			if errors.As(err, &ae) {
				e := *ae
				e.Message = "the control plane has this node registered and no code to deliver its certificate again: " +
					"if it was registered with a registration token, register again with that token (the certificate is issued again for this key); " +
					"otherwise an admin must delete the node in the portal first"
				err = &e
			}
		}
		return PendingCode{}, err
	}
	if resp.KeyFingerprint != "" && resp.KeyFingerprint != fp {
		// Something between the node and the control plane replaced the
		// CSR: the code would license someone else's key. Nothing is saved.
		r.log().Error("enroll: the control plane saw a different key", "nodeId", r.NodeID, "local", fp, "server", resp.KeyFingerprint)
		return PendingCode{}, &Error{Op: "enroll", Status: 200, kind: ErrKeyMismatch,
			Message: fmt.Sprintf("the control plane saw a different key (%s) than this node's (%s): something on the network may have replaced the request (a man-in-the-middle); do not use this code", resp.KeyFingerprint, fp)}
	}
	now := r.now()
	ttl := time.Duration(resp.ExpiresIn) * time.Second
	if resp.Status == api.EnrollStatusApproved {
		// An approval does not expire: one resumed long after its code
		// expired (a lost certificate delivered again) still has to be
		// collected.
		ttl = max(ttl, approvedCollectTime)
	} else if ttl <= 0 {
		return PendingCode{}, &Error{Op: "enroll", Status: 200, Message: "the control plane sent an activation code that has already expired", kind: ErrExpired}
	}
	p := PendingCode{
		NodeID: r.NodeID, UserCode: resp.UserCode, VerificationURI: resp.VerificationURI,
		VerificationURIComplete: resp.VerificationURIComplete,
		ExpiresAt:               now.Add(ttl).Round(time.Second),
		Interval:                clampInterval(resp.Interval), KeyFingerprint: fp, Approved: resp.Status == api.EnrollStatusApproved,
		Recovery: st.Recovery,
	}
	p.Redelivered = p.Approved && (st.CertReceived || st.Recovery != "")
	// Save before showing: a restart shows the same code.
	next := State{
		NodeID: r.NodeID, State: Pending, Endpoint: r.Client.Endpoint(),
		UserCode: p.UserCode, VerificationURI: p.VerificationURI, VerificationURIComplete: p.VerificationURIComplete,
		DeviceCode: resp.DeviceCode, ExpiresAt: p.ExpiresAt, Interval: int(p.Interval / time.Second),
		KeyFingerprint: fp, Recovery: st.Recovery,
	}
	if err := r.Store.Save(next); err != nil {
		return PendingCode{}, fmt.Errorf("regclient: save pending enrollment: %w", err)
	}
	r.sess = &session{pending: p, deviceCode: resp.DeviceCode, deadline: now.Add(ttl), interval: p.Interval}
	r.log().Info("enrollment started", "nodeId", r.NodeID, "expiresIn", resp.ExpiresIn, "interval", resp.Interval,
		"approved", p.Approved, "redelivered", p.Redelivered, "keyFingerprint", fp, "pairingKey", r.PairingKey != "", "skew", resp.ServerTime.Sub(now).Round(time.Second))
	return p, nil
}

// Current is the code being shown, if any.
func (r *Registrar) Current() (PendingCode, bool) {
	if r.sess == nil {
		return PendingCode{}, false
	}
	return r.sess.pending, true
}

// Next does one step of waiting: it waits what the previous step asked
// (an interval or a backoff), then polls once (a long-poll the server
// holds until something changes). It returns OutcomeWaiting or OutcomeRetrying to be
// called again, or a final outcome. On OutcomeRegistered the certificate is
// already stored (Finalize). ctx cancels the wait and the poll; the code
// stays valid and Next may be called again.
func (r *Registrar) Next(ctx context.Context) (Outcome, error) {
	s := r.sess
	if s == nil {
		return Outcome{}, errors.New("regclient: next: no enrollment started (call Start)")
	}
	if err := r.sleep(ctx, s.waitBefore); err != nil {
		return r.outcome(OutcomeRetrying, nil, s.waitBefore), err
	}
	s.waitBefore = 0
	if !r.now().Before(s.deadline) {
		return r.expire(ErrExpired)
	}
	start := r.now()
	s.lastPoll = start
	reg, err := r.Client.Poll(ctx, s.deviceCode)
	if err == nil {
		s.lastCheck = r.now()
		out, ferr := r.Finalize(reg)
		if ferr != nil {
			return Outcome{}, ferr
		}
		return Outcome{Kind: OutcomeRegistered, Registration: out, LastCheck: s.lastCheck}, nil
	}
	if ctx.Err() != nil {
		return r.outcome(OutcomeWaiting, nil, 0), ctx.Err()
	}
	var ae *Error
	gotAnswer := errors.As(err, &ae) && ae.Status != 0
	if gotAnswer && ae.Code != "" {
		s.lastCheck = r.now()
	}
	switch Code(err) {
	case api.CodeAuthorizationPending:
		s.failures = 0
		// Interval polling when the server did not hold the request.
		s.waitBefore = max(0, s.interval-r.now().Sub(start))
		return r.outcome(OutcomeWaiting, nil, s.waitBefore), nil
	case api.CodeSlowDown:
		s.failures = 0
		s.interval = min(s.interval+SlowDownStep, maxInterval)
		s.pending.Interval = s.interval
		s.waitBefore = s.interval
		r.log().Info("poll: slow down", "interval", s.interval)
		return r.outcome(OutcomeWaiting, nil, s.waitBefore), nil
	case api.CodeExpiredToken:
		return r.expire(err)
	case api.CodeAccessDenied:
		r.log().Warn("enrollment denied", "nodeId", r.NodeID)
		if rerr := r.resetPending(s.deviceCode); rerr != nil {
			return Outcome{}, rerr
		}
		r.sess = nil
		return Outcome{Kind: OutcomeDenied, Err: err, LastCheck: s.lastCheck}, nil
	case api.CodeInvalidGrant:
		r.log().Warn("enrollment gone", "nodeId", r.NodeID, "err", err)
		if rerr := r.resetPending(s.deviceCode); rerr != nil {
			return Outcome{}, rerr
		}
		r.sess = nil
		return Outcome{Kind: OutcomeRestart, Err: err, LastCheck: s.lastCheck}, nil
	}
	// Anything else is transient while the code is valid: back off with
	// jitter, honouring Retry-After.
	s.failures++
	d := min(backoffCap, backoffBase<<min(s.failures-1, 10))
	d = d/2 + r.jitter(d/2)
	if ae != nil && ae.RetryAfter > d {
		d = min(ae.RetryAfter, maxInterval)
	}
	d = max(d, s.interval-r.now().Sub(start))
	if left := s.deadline.Sub(r.now()); d > left {
		d = max(left, 0)
	}
	s.waitBefore = d
	r.log().Warn("poll failed; will retry", "err", err, "retryIn", d, "failures", s.failures)
	return r.outcome(OutcomeRetrying, err, d), nil
}

func (r *Registrar) outcome(k OutcomeKind, err error, retryIn time.Duration) Outcome {
	s := r.sess
	return Outcome{Kind: k, Pending: s.pending, LastCheck: s.lastCheck, Err: err, RetryIn: retryIn}
}

// expire ends the session: state goes back to unregistered (the key is
// kept for the next code).
func (r *Registrar) expire(err error) (Outcome, error) {
	last := r.sess.lastCheck
	r.log().Info("activation code expired", "nodeId", r.NodeID)
	if rerr := r.resetPending(r.sess.deviceCode); rerr != nil {
		return Outcome{}, rerr
	}
	r.sess = nil
	if !errors.Is(err, ErrExpired) {
		err = ErrExpired
	}
	return Outcome{Kind: OutcomeExpired, Err: err, LastCheck: last}, nil
}

// resetPending returns the pending state of enrollment deviceCode to
// unregistered, keeping the node ID and the key. A state that is not
// pending, or is pending for another enrollment (a newer code saved by
// another screen or process), is left alone.
func (r *Registrar) resetPending(deviceCode string) error {
	st, err := r.Store.Load()
	if err != nil && !errors.Is(err, ErrNoState) {
		return err
	}
	if st.State != Pending || st.CertReceived || deviceCode != "" && st.DeviceCode != deviceCode {
		return nil
	}
	if err := r.Store.Save(State{NodeID: r.NodeID, State: Unregistered}); err != nil {
		return fmt.Errorf("regclient: reset pending state: %w", err)
	}
	return nil
}

// Cancel abandons the code being shown: it tells the server (best effort,
// with the client's timeout) and returns state.json to unregistered. The
// local reset happens even when the server cannot be told; the error then
// says so.
func (r *Registrar) Cancel(ctx context.Context) error {
	var code string
	if r.sess != nil {
		code = r.sess.deviceCode
	} else if st, err := r.Store.Load(); err == nil && st.State == Pending {
		code = st.DeviceCode
	}
	r.sess = nil
	var serr error
	if code != "" {
		serr = r.Client.CancelEnrollment(ctx, code)
	}
	if err := r.resetPending(code); err != nil {
		return err
	}
	r.log().Info("enrollment cancelled", "nodeId", r.NodeID, "toldServer", serr == nil)
	if serr != nil {
		return fmt.Errorf("regclient: cancelled here, but the control plane was not told: %w", serr)
	}
	return nil
}

// Finalize stores a registration: state.json records the name with
// certReceived (still pending), then ca.crt and node.crt are written, then
// state.json says registered. A crash at any point is finished by Recover
// at the next start (or the server delivers the certificate again).
// The certificate must match the node's key and ID.
func (r *Registrar) Finalize(reg api.Registration) (Registration, error) {
	key, err := r.Store.LoadKey()
	if err != nil {
		return Registration{}, err
	}
	cert, err := parseNodeCertificate(reg.Certificate, key, r.NodeID)
	if err != nil {
		return Registration{}, fmt.Errorf("regclient: finalize: %w", err)
	}
	if !reg.ServerTime.IsZero() && !cert.NotAfter.After(reg.ServerTime) {
		// Expired by the control plane's own clock (not ours, which may be
		// wrong): storing it would leave a node that cannot authenticate.
		return Registration{}, &Error{Op: "finalize", Status: 200, kind: ErrCertificateExpired,
			Message: fmt.Sprintf("the control plane delivered a certificate that expired at %s (its clock says %s); an admin must delete the node in the portal so that it can register again",
				cert.NotAfter.UTC().Format(time.RFC3339), reg.ServerTime.UTC().Format(time.RFC3339))}
	}
	out := Registration{NodeID: r.NodeID, Name: reg.NodeName, Project: reg.Project, Site: reg.Site, Tags: maps.Clone(reg.Tags)}
	if out.Name == "" {
		out.Name = r.NodeID
	}
	// A state that cannot be read stops here rather than be overwritten.
	if _, err := r.Store.Load(); err != nil && !errors.Is(err, ErrNoState) {
		return Registration{}, err
	}
	at := r.now().UTC().Round(time.Second)
	st := State{
		NodeID: r.NodeID, State: Pending, Endpoint: r.Client.Endpoint(),
		NodeName: out.Name, Project: out.Project, Site: out.Site, RegisteredAt: at, CertReceived: true,
	}
	if err := r.Store.Save(st); err != nil {
		return Registration{}, fmt.Errorf("regclient: finalize: %w", err)
	}
	if r.Hook != nil {
		if err := r.Hook("received"); err != nil {
			return Registration{}, err
		}
	}
	if err := r.Store.writeCertificates(reg.Certificate, reg.CABundle); err != nil {
		return Registration{}, fmt.Errorf("regclient: finalize: %w", err)
	}
	if r.Hook != nil {
		if err := r.Hook("written"); err != nil {
			return Registration{}, err
		}
	}
	if err := r.Store.Save(registeredState(st, out.Name, out.Project, out.Site, at)); err != nil {
		return Registration{}, fmt.Errorf("regclient: finalize: %w", err)
	}
	r.sess = nil
	r.log().Info("registered", "nodeId", r.NodeID, "name", out.Name, "project", out.Project)
	return out, nil
}

// RegisterWithToken registers at once with a registration token (config
// site.registrationToken): the node key is created or reused, and the
// certificate stored as Finalize does. project, when set (site.project),
// asks for that project instead of the token's default; tags are stored
// with the node. The token is never logged (only config.Redact of it).
func (r *Registrar) RegisterWithToken(ctx context.Context, token, project string, tags map[string]string) (Registration, error) {
	if token == "" {
		return Registration{}, errors.New("regclient: register with token: no token")
	}
	st, err := r.Recover()
	if err != nil {
		return Registration{}, err
	}
	if st.State == Registered {
		return Registration{}, ErrRegistered
	}
	key, err := r.Store.EnsureKey()
	if err != nil {
		return Registration{}, err
	}
	csr, err := CreateCSR(key, r.NodeID)
	if err != nil {
		return Registration{}, err
	}
	r.log().Info("registering with token", "nodeId", r.NodeID, "token", config.Redact(token), "project", project)
	reg, err := r.Client.Register(ctx, token, api.RegisterRequest{
		NodeID: r.NodeID, Make: r.Make, Model: r.Model, Version: r.Version, CSR: csr, Tags: tags,
	}, project)
	if err != nil {
		r.log().Warn("token registration failed", "nodeId", r.NodeID, "token", config.Redact(token), "err", err)
		return Registration{}, err
	}
	return r.Finalize(reg)
}
