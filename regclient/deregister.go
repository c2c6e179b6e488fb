package regclient

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nodeconsole/nodeconsole/api"
)

// DeregisterStep names a step of Deregister, for a screen's progress list.
type DeregisterStep int

// The steps of Deregister, in order.
const (
	// StepSendEvent: the Deregister event goes to the control plane over
	// mutual TLS (DeregisterTimeout); it revokes the certificate.
	StepSendEvent DeregisterStep = iota
	// StepDisconnect: connections to the control plane are closed.
	StepDisconnect
	// StepWipe: the identity is removed and state.json reset (Store.Reset).
	StepWipe
)

// String is the step as a screen line.
func (s DeregisterStep) String() string {
	switch s {
	case StepSendEvent:
		return "Send the Deregister event"
	case StepDisconnect:
		return "Close connections"
	case StepWipe:
		return "Remove certificates and reset"
	}
	return fmt.Sprintf("step %d", int(s))
}

// SendDeregisterEvent is the first step of Deregister: it sends the
// Deregister event over mutual TLS with the node's certificate. It marks
// state.json (deregisterStartedAt) first and clears the mark when the
// event could not be delivered, so a failure leaves the node registered
// and unchanged. A certificate the server already revoked (a previous
// attempt that crashed before the wipe) counts as delivered.
func (r *Registrar) SendDeregisterEvent(ctx context.Context, reason string) error {
	st, err := r.Recover()
	if err != nil {
		return err
	}
	if st.State != Registered {
		return ErrNotRegistered
	}
	cert, ca, err := r.Store.LoadCertificate()
	if err != nil {
		return err
	}
	mc, err := r.Client.WithCertificate(cert, ca)
	if err != nil {
		return err
	}
	defer mc.CloseIdleConnections()
	marked := st
	marked.DeregisterStartedAt = r.now().UTC().Round(time.Second)
	if err := r.Store.Save(marked); err != nil {
		return fmt.Errorf("regclient: deregister: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, DeregisterTimeout)
	defer cancel()
	_, err = mc.SendDeregister(ctx, reason)
	if errors.Is(err, ErrRevoked) {
		r.log().Info("deregister: the control plane had already revoked the certificate", "nodeId", r.NodeID)
		err = nil
	}
	if err != nil {
		if serr := r.Store.Save(st); serr != nil {
			r.log().Error("deregister: restore state", "err", serr)
		}
		r.log().Warn("deregister event not delivered", "nodeId", r.NodeID, "err", err)
		return err
	}
	r.log().Info("deregister event delivered", "nodeId", r.NodeID, "name", st.NodeName)
	return nil
}

// Disconnect is the second step: it closes kept-alive connections.
func (r *Registrar) Disconnect() {
	if r.Client != nil {
		r.Client.CloseIdleConnections()
	}
}

// Wipe is the last step: Store.Reset (crash-safe), keeping the node ID.
func (r *Registrar) Wipe() error {
	if r.Hook != nil {
		if err := r.Hook("wipe"); err != nil {
			return err
		}
	}
	r.sess = nil
	if err := r.Store.Reset(); err != nil {
		return err
	}
	r.log().Info("identity removed; node unregistered", "nodeId", r.NodeID)
	return nil
}

// Deregister runs the three steps (send the event, disconnect, wipe),
// calling progress (may be nil) before each. When the event cannot be
// delivered nothing is changed and the error is returned: a screen then
// offers DeregisterLocal behind a second confirmation.
func (r *Registrar) Deregister(ctx context.Context, reason string, progress func(DeregisterStep)) error {
	step := func(s DeregisterStep) {
		if progress != nil {
			progress(s)
		}
	}
	step(StepSendEvent)
	if err := r.SendDeregisterEvent(ctx, reason); err != nil {
		return err
	}
	step(StepDisconnect)
	r.Disconnect()
	step(StepWipe)
	return r.Wipe()
}

// DeregisterLocal removes the identity without telling the control plane
// (it is unreachable). The portal keeps listing the node until an admin
// deletes it; an audit line is logged.
func (r *Registrar) DeregisterLocal(reason string) error {
	st, err := r.Recover()
	if err != nil {
		return err
	}
	if st.State != Registered {
		return ErrNotRegistered
	}
	r.log().Warn("AUDIT: node deregistered locally without telling the control plane; an admin must delete it in the portal",
		"nodeId", r.NodeID, "name", st.NodeName, "reason", reason)
	r.Disconnect()
	return r.Wipe()
}

// CheckCertificate asks the control plane, over mutual TLS with the node's
// certificate, who this node is (GET node/self). When the control plane no
// longer accepts the certificate the error matches StaleCertificate
// (ErrRevoked, ErrCertificateExpired, ErrUnknownCertificate, whether the
// server answers JSON or, an older one, refuses the TLS handshake): call
// Reenroll. A node that is not registered gets ErrNotRegistered.
func (r *Registrar) CheckCertificate(ctx context.Context) (api.NodeSelf, error) {
	st, err := r.Recover()
	if err != nil {
		return api.NodeSelf{}, err
	}
	if st.State != Registered {
		return api.NodeSelf{}, ErrNotRegistered
	}
	cert, ca, err := r.Store.LoadCertificate()
	if err != nil {
		return api.NodeSelf{}, err
	}
	mc, err := r.Client.WithCertificate(cert, ca)
	if err != nil {
		return api.NodeSelf{}, err
	}
	defer mc.CloseIdleConnections()
	return mc.Self(ctx)
}

// Reenroll lets a registered node whose certificate the control plane
// refused (StaleCertificate(reason)) register again without losing its key
// (the control plane may still know it): node.crt and ca.crt are removed
// and state.json goes pending with State.Recovery naming reason, so that
// Start (a code) or RegisterWithToken follows. Other errors, and a node
// that is not registered, change nothing.
func (r *Registrar) Reenroll(reason error) error {
	if !StaleCertificate(reason) {
		return fmt.Errorf("regclient: re-enroll: the certificate was not refused (%w)", reason)
	}
	st, err := r.Recover()
	if err != nil {
		return err
	}
	if st.State != Registered {
		return nil
	}
	var why string
	switch {
	case errors.Is(reason, ErrCertificateExpired):
		why = "The control plane refused this node's certificate: it expired."
	case errors.Is(reason, ErrRevoked):
		why = "The control plane refused this node's certificate: it was revoked (the node was deregistered or deleted)."
	default:
		why = "The control plane does not know this node's certificate (another control plane, or its CA changed)."
	}
	r.sess = nil
	if _, err := r.Store.keepKey(st, why+" The node key was kept; register again."); err != nil {
		return err
	}
	r.log().Warn("certificate refused; enrolling again with the same key", "nodeId", r.NodeID, "reason", reason)
	return nil
}
