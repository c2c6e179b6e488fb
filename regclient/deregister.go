package regclient

import (
	"context"
	"errors"
	"fmt"
	"time"
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
	if deregisterHook != nil {
		if err := deregisterHook("wipe"); err != nil {
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
