package controlplane

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"

	"github.com/nodeconsole/nodeconsole/api"
)

// handleRenew issues a node a certificate for a new key over mutual TLS.
// The certificate it was called with keeps working until the new one is
// first used or RenewGrace passes; then it is superseded (in the CRL). A
// retry with the key of a certificate already issued by a renewal whose
// answer was lost gets that certificate again.
func (s *Server) handleRenew(w http.ResponseWriter, r *http.Request) {
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
	csr, err := checkCSR(req.CSR)
	if err != nil {
		writeError(w, s.log, r, errorf(api.CodeInvalidCSR, "%v", err))
		return
	}
	sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	presentedKey, presented := hex.EncodeToString(sum[:]), serialHex(cert.SerialNumber)
	if csr.fingerprint == presentedKey {
		writeError(w, s.log, r, errorf(api.CodeInvalidCSR, "a renewal needs a new key: this CSR is for the key of the certificate it came with"))
		return
	}
	now, ip := s.now(), sourceIP(r)
	var reg api.Registration
	err = s.store.Update(r.Context(), func(tx Tx) error {
		cur, err := tx.Node(n.ID)
		if err != nil {
			return err
		}
		if cur.Status != api.StatusRegistered || cur.CertSerial != n.CertSerial {
			return errorf(api.CodeCertificateRevoked, "the certificate of %s was revoked", n.ID)
		}
		if cur.CertSerial != presented && cur.KeyFingerprint == csr.fingerprint {
			// The answer to this renewal was lost: the same again.
			c, err := tx.NodeCert(cur.CertSerial)
			if err != nil {
				return err
			}
			reg = s.registration(cur, c.Certificate, now)
			return nil
		}
		old, err := tx.NodeCert(presented)
		if errors.Is(err, ErrNotFound) {
			// Issued before certificates were recorded.
			old = NodeCert{Serial: presented, NodeID: n.ID, KeyFingerprint: presentedKey,
				Certificate: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})),
				IssuedAt:    cert.NotBefore.Add(certBackdate), NotAfter: cert.NotAfter}
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
		cur.KeyFingerprint, cur.CertSerial, cur.CertNotAfter = csr.fingerprint, serialHex(c.SerialNumber), c.NotAfter
		cur.LastSeen, cur.SourceIP = now, ip
		if err := tx.PutNode(cur); err != nil {
			return err
		}
		reg = s.registration(cur, certPEM, now)
		return tx.AddEvent(Event{Type: api.EventRenewed, NodeID: n.ID, Time: now, SourceIP: ip,
			Message: fmt.Sprintf("renewed its certificate with a new key (%s), valid until %s; the old one works until the new one is used, at most until %s",
				api.FingerprintDER(csr.csr.RawSubjectPublicKeyInfo), c.NotAfter.UTC().Format("2006-01-02 15:04 MST"), old.GraceUntil.UTC().Format("2006-01-02 15:04:05 MST"))})
	})
	if err != nil {
		writeError(w, s.log, r, fmt.Errorf("renew %s: %w", n.ID, err))
		return
	}
	s.crl.invalidate()
	writeJSON(w, http.StatusOK, reg)
}
