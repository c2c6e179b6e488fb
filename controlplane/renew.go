package controlplane

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/nodeconsole/nodeconsole/api"
	"github.com/nodeconsole/nodeconsole/controlplane/ca"
	"github.com/nodeconsole/nodeconsole/controlplane/secrets"
	"github.com/nodeconsole/nodeconsole/controlplane/store"
)

// handleRenew issues a node a certificate for a new key over mutual TLS.
// The certificate it was called with keeps working until the new one is
// first used or RenewGrace passes; then it is superseded (in the CRL). A
// retry with the key of a certificate already issued by a renewal whose
// answer was lost gets that certificate again.
func (s *Server) handleRenew(w http.ResponseWriter, r *http.Request) {
	if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
		// Not with an access token: whoever replays a node's CSR to the
		// enroll endpoint can get one, and must not turn it into a
		// certificate for a key of their own.
		writeError(w, s.log, r, errorf(api.CodeUnauthorized, "a renewal needs mutual TLS with the node's current certificate"))
		return
	}
	n, cert, err := s.authNode(r.Context(), r)
	if err != nil {
		writeError(w, s.log, r, err)
		return
	}
	var req api.RenewRequest
	if err := decodeJSON(r, &req); err != nil {
		writeError(w, s.log, r, err)
		return
	}
	csr, err := ca.CheckCSR(req.CSR)
	if err != nil {
		writeError(w, s.log, r, errorf(api.CodeInvalidCSR, "%v", err))
		return
	}
	sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	presentedKey, presented := hex.EncodeToString(sum[:]), ca.SerialHex(cert.SerialNumber)
	if csr.Fingerprint == presentedKey {
		writeError(w, s.log, r, errorf(api.CodeInvalidCSR, "a renewal needs a new key: this CSR is for the key of the certificate it came with"))
		return
	}
	now, ip := s.now(), sourceIP(r)
	var reg api.Registration
	err = s.store.Update(r.Context(), func(tx store.Tx) error {
		cur, err := tx.Node(n.ID)
		if err != nil {
			return err
		}
		if cur.Status != api.StatusRegistered || cur.CertSerial != n.CertSerial {
			return errorf(api.CodeCertificateRevoked, "the certificate of %s was revoked", n.ID)
		}
		if cur.CertSerial != presented && cur.KeyFingerprint == csr.Fingerprint {
			// The answer to this renewal was lost: the same again.
			c, err := tx.NodeCert(cur.CertSerial)
			if err != nil {
				return err
			}
			reg = s.registration(cur, c.Certificate, now)
			return nil
		}
		old, err := tx.NodeCert(presented)
		if errors.Is(err, store.ErrNotFound) {
			// Issued before certificates were recorded.
			old = store.NodeCert{Serial: presented, NodeID: n.ID, KeyFingerprint: presentedKey,
				Certificate: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})),
				IssuedAt:    cert.NotBefore.Add(ca.CertBackdate), NotAfter: cert.NotAfter}
		} else if err != nil {
			return err
		}
		if old.GraceUntil.IsZero() {
			// A certificate already in its grace (renewing twice) keeps
			// the end it had: renewals never make an old one live longer.
			old.GraceUntil = now.Add(s.opts.RenewGrace)
		}
		if err := tx.PutNodeCert(old); err != nil {
			return err
		}
		certPEM, c, err := s.issueNode(tx, csr, n.ID, now)
		if err != nil {
			return err
		}
		cur.KeyFingerprint, cur.CertSerial, cur.CertNotAfter = csr.Fingerprint, ca.SerialHex(c.SerialNumber), c.NotAfter
		cur.LastSeen, cur.SourceIP = now, ip
		if err := tx.PutNode(cur); err != nil {
			return err
		}
		reg = s.registration(cur, certPEM, now)
		return tx.AddEvent(store.Event{Type: api.EventRenewed, NodeID: n.ID, Time: now, SourceIP: ip,
			Message: fmt.Sprintf("renewed its certificate with a new key (%s), valid until %s; the old one works until the new one is used, at most until %s",
				api.FingerprintDER(csr.Request.RawSubjectPublicKeyInfo), c.NotAfter.UTC().Format("2006-01-02 15:04 MST"), old.GraceUntil.UTC().Format("2006-01-02 15:04:05 MST"))})
	})
	if err != nil {
		writeError(w, s.log, r, fmt.Errorf("renew %s: %w", n.ID, err))
		return
	}
	s.crl.Invalidate()
	writeJSON(w, http.StatusOK, reg)
}

// certSerial is the ca.SerialHex of a PEM certificate, or "".
func certSerial(certPEM string) string {
	b, _ := pem.Decode([]byte(certPEM))
	if b == nil {
		return ""
	}
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		return ""
	}
	return ca.SerialHex(c.SerialNumber)
}

// reenroll answers an enrollment by a registered node's registered key
// (its key proves it is the same node): while the certificate is valid it
// is delivered again (a node that lost it, or the answer of a renewal);
// when it expired less than ReenrollGrace ago a new one is issued at once
// under the old name, project and tags, without an admin. done is false
// past the grace: the enrollment then waits for an admin as usual.
func (s *Server) reenroll(tx store.Tx, req api.EnrollRequest, csr ca.CSR, node *store.Node, now time.Time, ip, src string) (store.Enrollment, bool, error) {
	expired := !now.Before(node.CertNotAfter)
	if expired && now.Sub(node.CertNotAfter) >= s.opts.ReenrollGrace {
		return store.Enrollment{}, false, nil
	}
	e := store.Enrollment{
		ID: secrets.NewID(), NodeID: req.NodeID, Make: req.Make, Model: req.Model, Version: req.Version,
		CSR: req.CSR, KeyFingerprint: csr.Fingerprint, State: store.EnrollPending, SourceIP: ip, SourceKey: src,
		CreatedAt: now, ExpiresAt: now.Add(s.opts.CodeTTL),
	}
	e.DeviceCodeHash = secrets.Hash(secrets.DeviceCode(s.secret, e.ID))
	var err error
	if e.UserCode, err = uniqueUserCode(tx, now); err != nil {
		return store.Enrollment{}, false, err
	}
	if !expired {
		c, err := tx.NodeCert(node.CertSerial)
		if errors.Is(err, store.ErrNotFound) {
			// Issued before certificates were recorded: not ours to
			// deliver again; an admin decides.
			return store.Enrollment{}, false, nil
		}
		if err != nil {
			return store.Enrollment{}, false, err
		}
		e.State, e.DecidedAt, e.Certificate = store.EnrollApproved, now, c.Certificate
	} else {
		ago := now.Sub(node.CertNotAfter).Round(time.Minute)
		if err := s.approve(tx, &e, node, now, ip, fmt.Sprintf("its certificate expired %s ago; it enrolled again with its registered key within --reenroll-grace", ago)); err != nil {
			return store.Enrollment{}, false, err
		}
		if err := tx.AddEvent(store.Event{Type: api.EventReregistered, NodeID: node.ID, Time: now, SourceIP: ip,
			Message: fmt.Sprintf("re-registered as %q without an admin: its certificate expired %s ago and it proved its registered key", node.Name, ago)}); err != nil {
			return store.Enrollment{}, false, err
		}
	}
	if _, err := endOthers(tx, node.ID, e.ID, now); err != nil {
		return store.Enrollment{}, false, err
	}
	// A CSR is no fresh proof of the key: anyone who saw it can send it
	// again. What it fetches here is useless without the key, but a bearer
	// access token (which goes out with a first delivery) is not, so this
	// enrollment counts as delivered from the start and never carries one.
	e.DeliveredAt = now
	return e, true, tx.PutEnrollment(e)
}
