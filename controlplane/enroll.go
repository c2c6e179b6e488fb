package controlplane

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/nodeconsole/nodeconsole/api"
)

// maxFieldLen bounds make, model, version, names and projects.
const maxFieldLen = 128

func checkField(name, v string, required bool) error {
	if required && strings.TrimSpace(v) == "" {
		return errorf(api.CodeInvalidRequest, "%s is required", name)
	}
	if len(v) > maxFieldLen {
		return errorf(api.CodeInvalidRequest, "%s is longer than %d bytes", name, maxFieldLen)
	}
	for _, r := range v {
		if r < ' ' || r == 0x7f {
			return errorf(api.CodeInvalidRequest, "%s contains control characters", name)
		}
	}
	return nil
}

func checkNodeID(id string) error {
	if !api.ValidNodeID(id) {
		return errorf(api.CodeInvalidRequest, "node ID must be \"edge-\" followed by 32 lowercase hex digits")
	}
	return nil
}

// intervalSeconds is the poll interval sent to nodes (whole seconds, >= 1).
func (s *Server) intervalSeconds() int {
	return max(1, int((s.opts.PollInterval+time.Second-1)/time.Second))
}

// enroll starts or resumes an enrollment.
func (s *Server) enroll(ctx context.Context, req api.EnrollRequest, ip, base string) (api.EnrollResponse, error) {
	if err := checkNodeID(req.NodeID); err != nil {
		return api.EnrollResponse{}, err
	}
	for _, f := range []struct{ name, v string }{{"make", req.Make}, {"model", req.Model}, {"version", req.Version}} {
		if err := checkField(f.name, f.v, false); err != nil {
			return api.EnrollResponse{}, err
		}
	}
	csr, err := checkCSR(req.CSR)
	if err != nil {
		return api.EnrollResponse{}, errorf(api.CodeInvalidCSR, "%v", err)
	}
	now := s.now()
	if wait := s.enrollIP.take(ip, now); wait > 0 {
		return api.EnrollResponse{}, rateLimited(wait)
	}
	var out Enrollment
	var wake []string
	err = s.store.Update(ctx, func(tx Tx) error {
		wake = wake[:0]
		node, err := tx.Node(req.NodeID)
		exists := err == nil
		if err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		enrollments, err := tx.EnrollmentsForNode(req.NodeID)
		if err != nil {
			return err
		}
		// Resume: the same key with a live pending enrollment, or with the
		// approved enrollment of the registration it produced.
		for _, e := range enrollments {
			if e.KeyFingerprint != csr.fingerprint {
				continue
			}
			if (e.State == EnrollPending && now.Before(e.ExpiresAt)) ||
				(e.State == EnrollApproved && exists && node.Status == api.StatusRegistered && node.KeyFingerprint == csr.fingerprint) {
				out = e
				return nil
			}
		}
		if exists && node.Status == api.StatusRegistered {
			return errorf(api.CodeConflict, "node %s is registered with another key; deregister or delete it first", req.NodeID)
		}
		for _, e := range enrollments {
			if e.State == EnrollPending {
				e.State, e.DecidedAt = EnrollSuperseded, now
				if err := tx.PutEnrollment(e); err != nil {
					return err
				}
				wake = append(wake, e.ID)
			}
		}
		e := Enrollment{
			ID: newID(), NodeID: req.NodeID, Make: req.Make, Model: req.Model, Version: req.Version,
			CSR: req.CSR, KeyFingerprint: csr.fingerprint, State: EnrollPending, SourceIP: ip,
			CreatedAt: now, ExpiresAt: now.Add(s.opts.CodeTTL),
		}
		e.DeviceCodeHash = sha256Hex(deviceCode(s.secret, e.ID))
		if e.UserCode, err = uniqueUserCode(tx, now); err != nil {
			return err
		}
		if !exists {
			node = Node{ID: req.NodeID, Name: req.NodeID, CreatedAt: now}
		}
		node.Status = api.StatusPending
		node.Make, node.Model, node.Version, node.SourceIP, node.LastSeen = req.Make, req.Model, req.Version, ip, now
		if err := tx.AddEvent(Event{Type: api.EventEnrollmentStarted, NodeID: req.NodeID, Time: now, SourceIP: ip,
			Message: fmt.Sprintf("%s %s asked for an activation code", req.Make, req.Model)}); err != nil {
			return err
		}
		if node.PreAdded {
			// Add Edge Hosts: approve at once with what the admin gave.
			if err := s.approve(tx, &e, &node, now, ip, "pre-added by an admin"); err != nil {
				return err
			}
		} else if err := tx.PutNode(node); err != nil {
			return err
		}
		if err := tx.PutEnrollment(e); err != nil {
			return err
		}
		out = e
		return nil
	})
	if err != nil {
		return api.EnrollResponse{}, fmt.Errorf("enroll %s: %w", req.NodeID, err)
	}
	for _, id := range wake {
		s.notify.Publish(id)
	}
	verify := base + api.PathActivatePage
	status := api.StatusPending
	if out.State == EnrollApproved {
		status = "approved"
	}
	return api.EnrollResponse{
		DeviceCode:              deviceCode(s.secret, out.ID),
		UserCode:                api.FormatUserCode(out.UserCode),
		VerificationURI:         verify,
		VerificationURIComplete: verify + "?code=" + api.FormatUserCode(out.UserCode),
		ExpiresIn:               max(0, int(out.ExpiresAt.Sub(now).Seconds())),
		Interval:                s.intervalSeconds(),
		Status:                  status,
		ServerTime:              now.UTC(),
	}, nil
}

// uniqueUserCode draws a code no live pending enrollment uses.
func uniqueUserCode(tx Tx, now time.Time) (string, error) {
	for range 10 {
		code := newUserCode()
		e, err := tx.EnrollmentByUserCode(code)
		if errors.Is(err, ErrNotFound) || (err == nil && (e.State != EnrollPending || !now.Before(e.ExpiresAt))) {
			return code, nil
		}
		if err != nil {
			return "", err
		}
	}
	return "", errors.New("no free user code after 10 draws")
}

// approve signs e's CSR and marks e approved and node registered; the caller
// stores e (node is stored here) and publishes e.ID after commit.
func (s *Server) approve(tx Tx, e *Enrollment, node *Node, now time.Time, ip, how string) error {
	csr, err := checkCSR(e.CSR)
	if err != nil {
		return fmt.Errorf("approve %s: stored CSR: %w", e.NodeID, err)
	}
	certPEM, cert, err := s.ca.signNode(csr, e.NodeID, now)
	if err != nil {
		return err
	}
	e.State, e.DecidedAt, e.Certificate = EnrollApproved, now, certPEM
	node.Status = api.StatusRegistered
	node.Make, node.Model, node.Version = e.Make, e.Model, e.Version
	node.KeyFingerprint, node.CertSerial, node.CertNotAfter = csr.fingerprint, serialHex(cert.SerialNumber), cert.NotAfter
	node.RegisteredAt = now
	if node.CreatedAt.IsZero() {
		node.CreatedAt = now
	}
	if node.Name == "" {
		node.Name = node.ID
	}
	if err := tx.PutNode(*node); err != nil {
		return err
	}
	return tx.AddEvent(Event{Type: api.EventActivated, NodeID: e.NodeID, Time: now, SourceIP: ip,
		Message: fmt.Sprintf("licensed as %q (%s)", node.Name, how)})
}

// poll answers a node's poll, holding it while the enrollment is pending.
func (s *Server) poll(ctx context.Context, req api.PollRequest, ip string) (api.Registration, error) {
	if req.DeviceCode == "" || len(req.DeviceCode) > 256 {
		return api.Registration{}, errorf(api.CodeInvalidRequest, "device_code is required")
	}
	hash := sha256Hex(req.DeviceCode)
	var e Enrollment
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		e, err = tx.EnrollmentByDeviceHash(hash)
		return err
	})
	if errors.Is(err, ErrNotFound) {
		return api.Registration{}, errorf(api.CodeInvalidGrant, "unknown device code; start a new enrollment")
	}
	if err != nil {
		return api.Registration{}, fmt.Errorf("poll: %w", err)
	}
	hold := s.opts.LongPoll
	if req.Wait > 0 && time.Duration(req.Wait)*time.Second < hold {
		hold = time.Duration(req.Wait) * time.Second
	}
	// Subscribe before reading the state, so a change between the read and
	// the wait is not missed.
	changed, unsubscribe := s.notify.Subscribe(e.ID)
	defer unsubscribe()
	first := true
	for {
		now := s.now()
		reg, expires, pending, err := s.pollOnce(ctx, hash, ip, now, first)
		if err != nil || !pending {
			return reg, err
		}
		if !first {
			return api.Registration{}, errorf(api.CodeAuthorizationPending, "waiting for an admin to activate the code")
		}
		first = false
		wait := min(hold, expires.Sub(now))
		timer := time.NewTimer(max(wait, 0))
		s.waiting.Add(1)
		select {
		case <-changed:
		case <-timer.C:
		case <-ctx.Done():
			s.waiting.Add(-1)
			timer.Stop()
			return api.Registration{}, errorf(api.CodeAuthorizationPending, "waiting for an admin to activate the code")
		}
		s.waiting.Add(-1)
		timer.Stop()
	}
}

// pollOnce reads the enrollment and answers it; pending reports that the
// poll should wait, at most until expires. When first is set it enforces
// the interval (slow_down) and records the poll time.
func (s *Server) pollOnce(ctx context.Context, hash, ip string, now time.Time, first bool) (reg api.Registration, expires time.Time, pending bool, err error) {
	err = s.store.Update(ctx, func(tx Tx) error {
		e, err := tx.EnrollmentByDeviceHash(hash)
		if errors.Is(err, ErrNotFound) {
			return errorf(api.CodeInvalidGrant, "unknown device code; start a new enrollment")
		}
		if err != nil {
			return err
		}
		switch e.State {
		case EnrollApproved:
			node, err := tx.Node(e.NodeID)
			if err != nil {
				return err
			}
			firstDelivery := e.DeliveredAt.IsZero()
			node.LastSeen, node.SourceIP = now, ip
			if err := tx.PutNode(node); err != nil {
				return err
			}
			if firstDelivery {
				e.DeliveredAt = now
				if err := tx.PutEnrollment(e); err != nil {
					return err
				}
				if err := tx.AddEvent(Event{Type: api.EventRegistered, NodeID: e.NodeID, Time: now, SourceIP: ip,
					Message: "node received its certificate"}); err != nil {
					return err
				}
			}
			reg = s.registration(node, e.Certificate, now)
			return nil
		case EnrollDenied:
			return errorf(api.CodeAccessDenied, "an admin denied this activation code")
		case EnrollCancelled, EnrollSuperseded:
			return errorf(api.CodeInvalidGrant, "this enrollment was %s; start a new one", e.State)
		}
		if !now.Before(e.ExpiresAt) {
			return errorf(api.CodeExpiredToken, "the activation code expired; start a new enrollment")
		}
		if first {
			tooSoon := !e.LastPollAt.IsZero() && now.Sub(e.LastPollAt) < s.opts.PollInterval
			e.LastPollAt = now
			if err := tx.PutEnrollment(e); err != nil {
				return err
			}
			if tooSoon {
				return errorf(api.CodeSlowDown, "polling faster than every %d s; add 5 s to the interval", s.intervalSeconds())
			}
		}
		pending, expires = true, e.ExpiresAt
		return nil
	})
	return reg, expires, pending, err
}

func (s *Server) registration(n Node, certPEM string, now time.Time) api.Registration {
	return api.Registration{
		NodeID: n.ID, NodeName: n.Name, Project: n.Project, Site: n.Site, Tags: maps.Clone(n.Tags),
		Certificate: certPEM, CABundle: string(s.ca.certPEM), ServerTime: now.UTC(),
	}
}

// cancel abandons a pending enrollment.
func (s *Server) cancel(ctx context.Context, req api.CancelRequest, ip string) error {
	hash := sha256Hex(req.DeviceCode)
	var id string
	err := s.store.Update(ctx, func(tx Tx) error {
		e, err := tx.EnrollmentByDeviceHash(hash)
		if errors.Is(err, ErrNotFound) {
			return errorf(api.CodeInvalidGrant, "unknown device code")
		}
		if err != nil || e.State != EnrollPending {
			return err
		}
		now := s.now()
		e.State, e.DecidedAt, id = EnrollCancelled, now, e.ID
		if err := tx.PutEnrollment(e); err != nil {
			return err
		}
		return tx.AddEvent(Event{Type: api.EventCancelled, NodeID: e.NodeID, Time: now, SourceIP: ip,
			Message: "the node cancelled its enrollment"})
	})
	if err != nil {
		return fmt.Errorf("cancel enrollment: %w", err)
	}
	if id != "" {
		s.notify.Publish(id)
	}
	return nil
}
