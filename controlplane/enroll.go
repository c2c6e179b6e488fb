package controlplane

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/nodeconsole/nodeconsole/api"
	"github.com/nodeconsole/nodeconsole/controlplane/ca"
	"github.com/nodeconsole/nodeconsole/controlplane/ratelimit"
	"github.com/nodeconsole/nodeconsole/controlplane/secrets"
	"github.com/nodeconsole/nodeconsole/controlplane/store"
)

// maxFieldLen bounds make, model, version, names and projects.
const maxFieldLen = 128

// Tag bounds (api.RegisterRequest.Tags, api.AddNodesRequest.Tags).
const (
	maxTags        = 32
	maxTagKeyLen   = 63
	maxTagValueLen = 255
)

// maxLivePerNode is how many live pending enrollments (different keys) one
// node ID may have at once; more get 429.
const maxLivePerNode = 3

// capRetryAfter is the Retry-After of an answer refused by a pending cap.
const capRetryAfter = time.Minute

// printable reports whether v is valid UTF-8 of printable characters (a
// space is printable; tabs, newlines, other control and format characters
// are not).
func printable(v string) bool {
	if !utf8.ValidString(v) {
		return false
	}
	for _, r := range v {
		if r != ' ' && !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

func checkField(name, v string, required bool) error {
	if required && strings.TrimSpace(v) == "" {
		return errorf(api.CodeInvalidRequest, "%s is required", name)
	}
	if len(v) > maxFieldLen {
		return errorf(api.CodeInvalidRequest, "%s is longer than %d bytes", name, maxFieldLen)
	}
	if !printable(v) {
		return errorf(api.CodeInvalidRequest, "%s contains control or non-printable characters", name)
	}
	return nil
}

// checkTags bounds tags: at most maxTags; keys of 1 to maxTagKeyLen
// characters of [A-Za-z0-9._/-]; printable values of at most maxTagValueLen
// bytes.
func checkTags(tags map[string]string) error {
	if len(tags) > maxTags {
		return errorf(api.CodeInvalidRequest, "at most %d tags", maxTags)
	}
	for k, v := range tags {
		if k == "" || len(k) > maxTagKeyLen || strings.IndexFunc(k, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._/-", r))
		}) >= 0 {
			return errorf(api.CodeInvalidRequest, "tag key %q must be 1 to %d characters of A-Z a-z 0-9 . _ / -", k, maxTagKeyLen)
		}
		if len(v) > maxTagValueLen || !printable(v) {
			return errorf(api.CodeInvalidRequest, "tag %s: the value must be at most %d bytes of printable characters", k, maxTagValueLen)
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

// pairingKeyHash is how a pairing key is stored: an HMAC with the server
// secret, bound to the node ID.
func pairingKeyHash(secret []byte, nodeID, key string) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("pairing-key\x00" + nodeID + "\x00" + key))
	return hex.EncodeToString(m.Sum(nil))
}

// pairingKeyMatches reports, in constant time, whether key is node's pairing
// key.
func (s *Server) pairingKeyMatches(node store.Node, key string) bool {
	if node.PairingKeyHash == "" || key == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(pairingKeyHash(s.secret, node.ID, key)), []byte(node.PairingKeyHash)) == 1
}

// enroll starts or resumes an enrollment. Nothing is approved here unless
// the request proves itself with the pre-added node ID's pairing key.
func (s *Server) enroll(ctx context.Context, req api.EnrollRequest, ip, base string) (api.EnrollResponse, error) {
	// Cheap checks first: the body size is limited already; then the node
	// ID and fields, the rate limit, and the CSR (key type before its
	// signature).
	if err := checkNodeID(req.NodeID); err != nil {
		return api.EnrollResponse{}, err
	}
	for _, f := range []struct{ name, v string }{{"make", req.Make}, {"model", req.Model}, {"version", req.Version}} {
		if err := checkField(f.name, f.v, false); err != nil {
			return api.EnrollResponse{}, err
		}
	}
	if len(req.PairingKey) > api.MaxPairingKeyLen {
		return api.EnrollResponse{}, errorf(api.CodeInvalidRequest, "pairing_key is longer than %d bytes", api.MaxPairingKeyLen)
	}
	now := s.now()
	src := ratelimit.SourceKey(ip)
	if wait := s.enrollSource.Take(src, now); wait > 0 {
		return api.EnrollResponse{}, rateLimited(wait)
	}
	if req.PairingKey != "" {
		if wait := s.failSource.Wait(src, now); wait > 0 {
			return api.EnrollResponse{}, rateLimited(wait)
		}
	}
	csr, err := ca.CheckCSR(req.CSR)
	if err != nil {
		return api.EnrollResponse{}, errorf(api.CodeInvalidCSR, "%v", err)
	}
	target := "pairing-key:" + req.NodeID
	var out store.Enrollment
	var wake []string
	var badKey bool
	var capped string
	enrollTx := func(tx store.Tx) error {
		wake, badKey, capped = nil, false, ""
		// An ID the server has not seen is the common case: its node is
		// created first, as it is stored below, without reading
		// (store.Tx.CreateNode), and it has no enrollments (deleting a
		// node deletes them).
		node := store.Node{ID: req.NodeID, Name: req.NodeID, CreatedAt: now}
		pendingNode(&node, req, ip, now)
		created, err := tx.CreateNode(node)
		if err != nil {
			return err
		}
		exists := !created
		var enrollments []store.Enrollment
		if exists {
			if node, err = tx.Node(req.NodeID); err != nil {
				return err
			}
			if enrollments, err = tx.EnrollmentsForNode(req.NodeID); err != nil {
				return err
			}
		}
		proof := false
		if req.PairingKey != "" {
			proof = exists && node.PreAdded && node.Status != api.StatusRegistered &&
				s.failTarget.Wait(target, now) == 0 && s.pairingKeyMatches(node, req.PairingKey)
			badKey = !proof
		}
		// Resume: the same key with a live pending enrollment, or with the
		// approved enrollment of the registration it produced.
		for _, e := range enrollments {
			if e.KeyFingerprint != csr.Fingerprint {
				continue
			}
			if e.State == store.EnrollPending && now.Before(e.ExpiresAt) {
				if proof {
					if wake, err = s.approveProven(tx, &e, &node, now, ip); err != nil {
						return err
					}
				}
				out = e
				return nil
			}
			if e.State == store.EnrollApproved && exists && node.Status == api.StatusRegistered && node.KeyFingerprint == csr.Fingerprint &&
				certSerial(e.Certificate) == node.CertSerial && now.Before(node.CertNotAfter) {
				out = e
				return nil
			}
		}
		if exists && node.Status == api.StatusRegistered && node.KeyFingerprint == csr.Fingerprint {
			// The registered key again (renew.go): its certificate is
			// delivered again, or issued again within --reenroll-grace
			// of its expiry.
			var done bool
			if out, done, err = s.reenroll(tx, req, csr, &node, now, ip, src); err != nil || done {
				return err
			}
		}
		if exists && node.Status == api.StatusRegistered && now.Before(node.CertNotAfter) {
			return errorf(api.CodeConflict, "node %s is registered with another key; deregister or delete it first", req.NodeID)
		}
		if !proof {
			// Another key for a pending ID competes; it never replaces the
			// live ones, but their number is bounded.
			var live []store.Enrollment
			for _, e := range enrollments {
				if e.State == store.EnrollPending && now.Before(e.ExpiresAt) {
					live = append(live, e)
				}
			}
			if len(live) >= maxLivePerNode {
				first := live[0].ExpiresAt
				for _, e := range live {
					if e.ExpiresAt.Before(first) {
						first = e.ExpiresAt
					}
				}
				return &apiError{code: api.CodeRateLimited, retryAfter: first.Sub(now),
					msg: fmt.Sprintf("node %s already has %d enrollments waiting for an admin; try again when one ends", req.NodeID, len(live))}
			}
			if capped, err = s.pendingCapped(tx, now, src); err != nil || capped != "" {
				if err == nil {
					err = &apiError{code: api.CodeRateLimited, retryAfter: capRetryAfter,
						msg: "too many enrollments are waiting for an admin; try again later"}
				}
				return err
			}
		}
		e := store.Enrollment{
			ID: secrets.NewID(), NodeID: req.NodeID, Make: req.Make, Model: req.Model, Version: req.Version,
			CSR: req.CSR, KeyFingerprint: csr.Fingerprint, State: store.EnrollPending, SourceIP: ip, SourceKey: src,
			CreatedAt: now, ExpiresAt: now.Add(s.opts.CodeTTL),
		}
		e.DeviceCodeHash = secrets.Hash(secrets.DeviceCode(s.secret, e.ID))
		if proof {
			// Approved at once: not covered by the unique index, and it
			// must not hide a pending enrollment with that code.
			if e.UserCode, err = uniqueUserCode(tx, now); err != nil {
				return err
			}
		} else {
			e.UserCode = secrets.UserCode()
		}
		pendingNode(&node, req, ip, now)
		if err := tx.AddEvent(store.Event{Type: api.EventEnrollmentStarted, NodeID: req.NodeID, Time: now, SourceIP: ip,
			Message: fmt.Sprintf("%s %s asked for an activation code (key %s)", req.Make, req.Model, api.FingerprintDER(csr.Request.RawSubjectPublicKeyInfo))}); err != nil {
			return err
		}
		if proof {
			if wake, err = s.approveProven(tx, &e, &node, now, ip); err != nil {
				return err
			}
		} else if !created {
			if err := tx.PutNode(node); err != nil {
				return err
			}
		}
		if err := tx.PutEnrollment(e); err != nil {
			return err
		}
		out = e
		return nil
	}
	// The user code is drawn without a lookup: one another pending
	// enrollment has is store.ErrConflict, and the enrollment runs again
	// with another (one in 2.5e10/pending draws).
	for range 3 {
		if err = s.store.Update(ctx, enrollTx); !errors.Is(err, store.ErrConflict) {
			break
		}
	}
	if badKey {
		s.failSource.Charge(src, now)
		s.failTarget.Charge(target, now)
		s.auditFailure(ctx, api.EventPairingKeyRejected, req.NodeID, ip,
			"an enrollment brought a pairing key that is not this node ID's (or the ID has none); it needs an activation code instead")
	}
	if capped != "" {
		s.auditFailure(ctx, api.EventPendingCapReached, "", "", capped)
	}
	if err != nil {
		return api.EnrollResponse{}, fmt.Errorf("enroll %s: %w", req.NodeID, err)
	}
	for _, id := range wake {
		s.notify.Publish(id)
	}
	verify := base + api.PathActivatePage
	status := api.EnrollStatusPending
	if out.State == store.EnrollApproved {
		status = api.EnrollStatusApproved
	}
	return api.EnrollResponse{
		DeviceCode:              secrets.DeviceCode(s.secret, out.ID),
		UserCode:                api.FormatUserCode(out.UserCode),
		VerificationURI:         verify,
		VerificationURIComplete: verify + "?code=" + api.FormatUserCode(out.UserCode),
		ExpiresIn:               max(0, int(out.ExpiresAt.Sub(now).Seconds())),
		Interval:                s.intervalSeconds(),
		Status:                  status,
		ServerTime:              now.UTC(),
		KeyFingerprint:          api.FingerprintDER(csr.Request.RawSubjectPublicKeyInfo),
	}, nil
}

// pendingNode sets what an enrollment without proof records on its node.
func pendingNode(node *store.Node, req api.EnrollRequest, ip string, now time.Time) {
	node.Status = api.StatusPending
	node.Make, node.Model, node.Version, node.SourceIP, node.LastSeen = req.Make, req.Model, req.Version, ip, now
}

// pendingCapped checks the caps on live pending enrollments (from src, and
// in all) and says which one is reached, or "". Past the per-source cap,
// the one in all reserves a place for the enrollment tx then stores
// (store.Tx.ReservePending).
func (s *Server) pendingCapped(tx store.Tx, now time.Time, src string) (string, error) {
	if s.opts.MaxPendingPerSource > 0 {
		n, err := tx.CountPending(now, src)
		if err != nil {
			return "", err
		}
		if n >= s.opts.MaxPendingPerSource {
			return fmt.Sprintf("new enrollments from %s refused: %d of theirs are waiting for an admin (cap %d per source)", src, n, s.opts.MaxPendingPerSource), nil
		}
	}
	if s.opts.MaxPending > 0 {
		n, ok, err := tx.ReservePending(now, s.opts.MaxPending)
		if err != nil {
			return "", err
		}
		if !ok {
			return fmt.Sprintf("new enrollments refused: %d are waiting for an admin (--max-pending %d)", n, s.opts.MaxPending), nil
		}
	}
	return "", nil
}

// approveProven approves e of a pre-added node that proved itself with its
// pairing key, and ends the node's other pending enrollments. It returns the
// enrollments to wake (e and the ended ones); the caller stores e.
func (s *Server) approveProven(tx store.Tx, e *store.Enrollment, node *store.Node, now time.Time, ip string) ([]string, error) {
	if err := s.approve(tx, e, node, now, ip, "pre-added by an admin; the node proved it with its pairing key"); err != nil {
		return nil, err
	}
	ended, err := endOthers(tx, e.NodeID, e.ID, now)
	return append(ended, e.ID), err
}

// endOthers marks every pending enrollment of nodeID but keep superseded
// (their polls get invalid_grant) and returns their IDs to wake.
func endOthers(tx store.Tx, nodeID, keep string, now time.Time) ([]string, error) {
	enrollments, err := tx.EnrollmentsForNode(nodeID)
	if err != nil {
		return nil, err
	}
	var ended []string
	for _, e := range enrollments {
		if e.ID != keep && e.State == store.EnrollPending {
			e.State, e.DecidedAt = store.EnrollSuperseded, now
			if err := tx.PutEnrollment(e); err != nil {
				return nil, err
			}
			ended = append(ended, e.ID)
		}
	}
	return ended, nil
}

// uniqueUserCode draws a code no live pending enrollment uses.
func uniqueUserCode(tx store.Tx, now time.Time) (string, error) {
	for range 10 {
		code := secrets.UserCode()
		e, err := tx.EnrollmentByUserCode(code)
		if errors.Is(err, store.ErrNotFound) || (err == nil && (e.State != store.EnrollPending || !now.Before(e.ExpiresAt))) {
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
func (s *Server) approve(tx store.Tx, e *store.Enrollment, node *store.Node, now time.Time, ip, how string) error {
	csr, err := ca.CheckCSR(e.CSR)
	if err != nil {
		return fmt.Errorf("approve %s: stored CSR: %w", e.NodeID, err)
	}
	certPEM, cert, err := s.issueNode(tx, csr, e.NodeID, now)
	if err != nil {
		return err
	}
	e.State, e.DecidedAt, e.Certificate = store.EnrollApproved, now, certPEM
	node.Status = api.StatusRegistered
	node.Make, node.Model, node.Version = e.Make, e.Model, e.Version
	node.KeyFingerprint, node.CertSerial, node.CertNotAfter = csr.Fingerprint, ca.SerialHex(cert.SerialNumber), cert.NotAfter
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
	msg := fmt.Sprintf("licensed as %q", node.Name)
	if node.Project != "" {
		msg += fmt.Sprintf(", project %q", node.Project)
	}
	if node.Site != "" {
		msg += fmt.Sprintf(", site %q", node.Site)
	}
	return tx.AddEvent(store.Event{Type: api.EventActivated, NodeID: e.NodeID, Time: now, SourceIP: ip,
		Message: msg + " (" + how + ")"})
}

// poll answers a node's poll, holding it while the enrollment is pending.
//
// held false (an RFC 8628 client that did not ask to wait) answers at
// once. With park, a poll that has to wait is parked (parked.go) and poll
// returns errParked; the lot writes its answer.
func (s *Server) poll(ctx context.Context, req api.PollRequest, ip string, held bool, park *parkedPoll) (api.Registration, error) {
	if req.DeviceCode == "" || len(req.DeviceCode) > 256 {
		return api.Registration{}, errorf(api.CodeInvalidRequest, "device_code is required")
	}
	// The poll's reads and its first answer wait for a turn (pollturn.go);
	// the turn is given back before the poll waits.
	release, ok := s.pollTurn(ctx)
	defer release()
	if !ok {
		return api.Registration{}, errorf(api.CodeAuthorizationPending, "waiting for an admin to activate the code")
	}
	hash := secrets.Hash(req.DeviceCode)
	var e store.Enrollment
	err := s.store.View(ctx, func(tx store.Tx) error {
		var err error
		e, err = tx.EnrollmentByDeviceHash(hash)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
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
	var changed <-chan struct{}
	var unsubscribe func()
	if park != nil {
		unsubscribe = s.notify.SubscribeFunc(e.ID, park.wake)
	} else {
		changed, unsubscribe = s.notify.Subscribe(e.ID)
	}
	parked := false
	defer func() {
		if !parked {
			unsubscribe()
		}
	}()
	first := true
	for {
		now := s.now()
		reg, expires, pending, err := s.pollOnce(ctx, hash, ip, now, first)
		if err != nil || !pending {
			return reg, err
		}
		if !first || !held {
			return api.Registration{}, errorf(api.CodeAuthorizationPending, "waiting for an admin to activate the code")
		}
		first = false
		if n := s.waiting.Add(1); s.opts.MaxHeldPolls > 0 && n > int64(s.opts.MaxHeldPolls) {
			// Past the cap on held polls: answer at once; the node waits
			// its interval and polls again.
			s.waiting.Add(-1)
			return api.Registration{}, errorf(api.CodeAuthorizationPending, "waiting for an admin to activate the code")
		}
		wait := max(min(hold, expires.Sub(now)), 0)
		// At the end of the hold the answer is authorization_pending
		// without reading the store: a change meanwhile was notified
		// (and a lost notification connection wakes every poll when it
		// is back), and the node polls again at once, which reads it.
		// Only when the code expires first is the state read again (the
		// answer is then expired_token). Every waiting node's poll ends
		// this way every LongPoll; the read was a third of the store's
		// work for 10,000 waiting nodes (docs/performance.md).
		recheck := wait < hold
		release()
		if park != nil {
			// The lot owns the subscription and the waiting count now.
			park.recheck = recheck
			if parked = park.park(hash, ip, wait, unsubscribe); parked {
				return api.Registration{}, errParked
			}
			s.waiting.Add(-1)
			return api.Registration{}, errorf(api.CodeAuthorizationPending, "waiting for an admin to activate the code")
		}
		timer := time.NewTimer(wait)
		select {
		case <-changed:
		case <-timer.C:
			if !recheck {
				s.waiting.Add(-1)
				return api.Registration{}, errorf(api.CodeAuthorizationPending, "waiting for an admin to activate the code")
			}
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
	err = s.store.Update(ctx, func(tx store.Tx) error {
		e, err := tx.EnrollmentByDeviceHash(hash)
		if errors.Is(err, store.ErrNotFound) {
			return errorf(api.CodeInvalidGrant, "unknown device code; start a new enrollment")
		}
		if err != nil {
			return err
		}
		switch e.State {
		case store.EnrollApproved:
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
				if err := tx.AddEvent(store.Event{Type: api.EventRegistered, NodeID: e.NodeID, Time: now, SourceIP: ip,
					Message: "node received its certificate"}); err != nil {
					return err
				}
			}
			reg = s.registration(node, e.Certificate, now)
			if firstDelivery {
				// The access token goes out with the first delivery only.
				// A resumed enrollment (same node ID and CSR, which is not
				// secret) hands out the device code again, so a later
				// delivery must not carry a bearer credential: the
				// certificate alone is useless without the node's key.
				reg = s.withAccessToken(reg, now)
			}
			return nil
		case store.EnrollDenied:
			return errorf(api.CodeAccessDenied, "an admin denied this activation code")
		case store.EnrollCancelled:
			return errorf(api.CodeInvalidGrant, "this enrollment was cancelled; start a new one")
		case store.EnrollSuperseded:
			return errorf(api.CodeInvalidGrant, "another enrollment of this node ID was licensed or registered; start a new one")
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

func (s *Server) registration(n store.Node, certPEM string, now time.Time) api.Registration {
	return api.Registration{
		NodeID: n.ID, NodeName: n.Name, Project: n.Project, Site: n.Site, Tags: maps.Clone(n.Tags),
		Certificate: certPEM, CABundle: string(s.ca.PEM()), ServerTime: now.UTC(),
	}
}

// cancel abandons a pending enrollment.
func (s *Server) cancel(ctx context.Context, req api.CancelRequest, ip string) error {
	hash := secrets.Hash(req.DeviceCode)
	var id string
	err := s.store.Update(ctx, func(tx store.Tx) error {
		e, err := tx.EnrollmentByDeviceHash(hash)
		if errors.Is(err, store.ErrNotFound) {
			return errorf(api.CodeInvalidGrant, "unknown device code")
		}
		if err != nil || e.State != store.EnrollPending {
			return err
		}
		now := s.now()
		e.State, e.DecidedAt, id = store.EnrollCancelled, now, e.ID
		if err := tx.PutEnrollment(e); err != nil {
			return err
		}
		return tx.AddEvent(store.Event{Type: api.EventCancelled, NodeID: e.NodeID, Time: now, SourceIP: ip,
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
