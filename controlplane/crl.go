package controlplane

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nodeconsole/nodeconsole/api"
	"github.com/nodeconsole/nodeconsole/controlplane/ca"
	"github.com/nodeconsole/nodeconsole/controlplane/store"
)

// CRL reason codes (RFC 5280 §5.3.1) used here.
const (
	reasonSuperseded           = 4
	reasonCessationOfOperation = 5
)

const (
	// crlMaxAge is how old the served CRL may get before it is signed
	// again, even when nothing was revoked.
	crlMaxAge = 24 * time.Hour
	// crlValidity is its nextUpdate, counted from thisUpdate: a day more
	// than crlMaxAge, so a client that fetches daily never holds a stale
	// one.
	crlValidity = 2 * 24 * time.Hour
	// crlRecheck is how long a CRL is served without looking for new
	// revocations (renewals and deregistrations invalidate it at once).
	crlRecheck = 30 * time.Second
)

// setCertDefaults fills the certificate options of opts.
func setCertDefaults(opts *Options) {
	if opts.CertTTL <= 0 {
		opts.CertTTL = DefaultCertTTL
	}
	if opts.RenewGrace <= 0 {
		opts.RenewGrace = DefaultRenewGrace
	}
	if opts.ReenrollGrace <= 0 {
		opts.ReenrollGrace = DefaultReenrollGrace
	}
	if opts.TrustDomain == "" {
		opts.TrustDomain = "localhost"
		if len(opts.Hostnames) > 0 && strings.TrimSpace(opts.Hostnames[0]) != "" {
			opts.TrustDomain = strings.TrimSpace(opts.Hostnames[0])
		}
	}
	opts.TrustDomain = strings.ToLower(opts.TrustDomain)
}

// profile is what node certificates get from the options.
func (s *Server) profile() ca.NodeProfile {
	return ca.NodeProfile{TTL: s.opts.CertTTL, TrustDomain: s.opts.TrustDomain}
}

// issueNode signs csr for nodeID and records the certificate.
func (s *Server) issueNode(tx store.Tx, csr ca.CSR, nodeID string, now time.Time) (string, *x509.Certificate, error) {
	certPEM, cert, err := s.ca.SignNode(csr, nodeID, s.profile(), now)
	if err != nil {
		return "", nil, err
	}
	err = tx.PutNodeCert(store.NodeCert{Serial: ca.SerialHex(cert.SerialNumber), NodeID: nodeID, KeyFingerprint: csr.Fingerprint,
		Certificate: certPEM, IssuedAt: now, NotAfter: cert.NotAfter})
	return certPEM, cert, err
}

// revocation says whether c is revoked now and why (a CRL reason code),
// given its node (found false when the node is gone).
func revocation(c store.NodeCert, n store.Node, found bool, now time.Time) (bool, int) {
	switch {
	case !c.RevokedAt.IsZero():
		return true, c.Reason
	case !found || n.Status != api.StatusRegistered:
		return true, reasonCessationOfOperation
	case n.CertSerial == c.Serial:
		return false, 0
	case now.Before(c.GraceUntil):
		return false, 0
	}
	return true, reasonSuperseded
}

// checkCert says whether a node certificate that verifies against the CA
// is one the server still accepts for n. The node's current certificate
// is; its first use ends the grace of the ones it replaced (they are
// revoked). A replaced one is while its grace lasts.
func (s *Server) checkCert(ctx context.Context, n store.Node, serial string, now time.Time) error {
	if n.Status != api.StatusRegistered {
		return errorf(api.CodeCertificateRevoked, "the certificate of %s was revoked (deregistered, deleted or replaced)", n.ID)
	}
	if n.CertSerial == serial {
		var inGrace bool
		err := s.store.View(ctx, func(tx store.Tx) error {
			certs, err := tx.NodeCertsForNode(n.ID)
			for _, c := range certs {
				inGrace = inGrace || (c.Serial != serial && c.RevokedAt.IsZero() && now.Before(c.GraceUntil))
			}
			return err
		})
		if err != nil || !inGrace {
			return err
		}
		return s.supersede(ctx, n.ID, serial, now)
	}
	var c store.NodeCert
	err := s.store.View(ctx, func(tx store.Tx) error {
		var err error
		c, err = tx.NodeCert(serial)
		return err
	})
	if err == nil && c.NodeID == n.ID {
		if revoked, _ := revocation(c, n, true, now); !revoked {
			return nil
		}
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	return errorf(api.CodeCertificateRevoked, "the certificate of %s was revoked (deregistered, deleted, replaced or renewed)", n.ID)
}

// supersede revokes the certificates of nodeID in their renewal grace now
// that current was used, and signs a new CRL.
func (s *Server) supersede(ctx context.Context, nodeID, current string, now time.Time) error {
	err := s.store.Update(ctx, func(tx store.Tx) error {
		certs, err := tx.NodeCertsForNode(nodeID)
		if err != nil {
			return err
		}
		for _, c := range certs {
			if c.Serial != current && c.RevokedAt.IsZero() && now.Before(c.GraceUntil) {
				c.RevokedAt, c.Reason, c.GraceUntil = now, reasonSuperseded, now
				if err := tx.PutNodeCert(c); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("supersede certificates of %s: %w", nodeID, err)
	}
	s.crl.invalidate()
	return nil
}

// revokedCerts stamps the certificates that became revoked since the last
// call (node deregistered, deleted, re-registered, renewal grace over) and
// returns every revoked one that has not expired.
func (s *Server) revokedCerts(ctx context.Context, now time.Time) ([]store.NodeCert, error) {
	var live []store.NodeCert
	var fresh []store.NodeCert
	find := func(tx store.Tx) error {
		var err error
		live, fresh = nil, nil
		certs, err := tx.LiveNodeCerts(now)
		if err != nil {
			return err
		}
		nodes := map[string]*store.Node{}
		for _, c := range certs {
			n, ok := nodes[c.NodeID]
			if !ok {
				got, err := tx.Node(c.NodeID)
				if err != nil && !errors.Is(err, store.ErrNotFound) {
					return err
				}
				if err == nil {
					n = &got
				}
				nodes[c.NodeID] = n
			}
			var node store.Node
			if n != nil {
				node = *n
			}
			revoked, reason := revocation(c, node, n != nil, now)
			if !revoked {
				continue
			}
			if c.RevokedAt.IsZero() {
				c.RevokedAt, c.Reason = now, reason
				fresh = append(fresh, c)
			}
			live = append(live, c)
		}
		return nil
	}
	if err := s.store.View(ctx, find); err != nil {
		return nil, fmt.Errorf("revoked certificates: %w", err)
	}
	if len(fresh) == 0 {
		return live, nil
	}
	err := s.store.Update(ctx, func(tx store.Tx) error {
		if err := find(tx); err != nil {
			return err
		}
		for _, c := range fresh {
			if err := tx.PutNodeCert(c); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("revoked certificates: %w", err)
	}
	return live, nil
}

// crlCache holds the last CRL signed, with the serials it lists.
type crlCache struct {
	mu      sync.Mutex
	der     []byte
	serials []string
	at      time.Time // last checked for revocations
	signed  time.Time
	number  int64
}

// invalidate makes the next request look for revocations.
func (c *crlCache) invalidate() {
	c.mu.Lock()
	c.at = time.Time{}
	c.mu.Unlock()
}

// CRL returns the CA's current certificate revocation list (DER), signing a
// new one when a certificate was revoked since the last one or it is older
// than a day.
func (s *Server) CRL(ctx context.Context) ([]byte, error) {
	now := s.now()
	s.crl.mu.Lock()
	if s.crl.der != nil && now.Sub(s.crl.at) < crlRecheck && !now.Before(s.crl.at) {
		// Anonymous callers must not make every request a scan: the
		// revocations this server makes itself invalidate the cache at
		// once; others (an admin deleting a node) show within crlRecheck.
		der := s.crl.der
		s.crl.mu.Unlock()
		return der, nil
	}
	s.crl.mu.Unlock()
	revoked, err := s.revokedCerts(ctx, now)
	if err != nil {
		return nil, err
	}
	serials := make([]string, len(revoked))
	for i, c := range revoked {
		serials[i] = c.Serial
	}
	slices.Sort(serials)
	s.crl.mu.Lock()
	defer s.crl.mu.Unlock()
	if s.crl.der != nil && slices.Equal(serials, s.crl.serials) && now.Sub(s.crl.signed) < crlMaxAge {
		s.crl.at = now
		return s.crl.der, nil
	}
	entries := make([]x509.RevocationListEntry, 0, len(revoked))
	for _, c := range revoked {
		n, ok := new(big.Int).SetString(c.Serial, 16)
		if !ok {
			return nil, fmt.Errorf("controlplane: CRL: bad serial %q", c.Serial)
		}
		entries = append(entries, x509.RevocationListEntry{SerialNumber: n, RevocationTime: c.RevokedAt.UTC(), ReasonCode: c.Reason})
	}
	// The CRL number only grows: the signing time in milliseconds, or one
	// more than the last.
	number := max(now.UnixMilli(), s.crl.number+1)
	der, err := s.ca.SignCRL(&x509.RevocationList{
		Number:                    big.NewInt(number),
		ThisUpdate:                now.UTC(),
		NextUpdate:                now.Add(crlValidity).UTC(),
		RevokedCertificateEntries: entries,
	})
	if err != nil {
		return nil, fmt.Errorf("controlplane: sign CRL: %w", err)
	}
	s.crl.der, s.crl.serials, s.crl.at, s.crl.signed, s.crl.number = der, serials, now, now, number
	return der, nil
}

func (s *Server) certRoutes(mux registrar) {
	mux.HandleFunc("GET "+api.PathCA, s.handleCA)
	mux.HandleFunc("GET "+api.PathCACRL, s.handleCRL)
	mux.HandleFunc("POST "+api.PathNodeRenew, s.handleRenew)
	mux.HandleFunc("GET "+PathOAuthMetadata, s.handleOAuthMetadata)
}

func (s *Server) handleCA(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/x-pem-file")
	w.Write(s.ca.PEM())
}

func (s *Server) handleCRL(w http.ResponseWriter, r *http.Request) {
	der, err := s.CRL(r.Context())
	if err != nil {
		writeError(w, s.log, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-cache")
	if strings.Contains(r.Header.Get("Accept"), "application/x-pem-file") {
		w.Header().Set("Content-Type", "application/x-pem-file")
		w.Write(pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der}))
		return
	}
	w.Header().Set("Content-Type", "application/pkix-crl")
	http.ServeContent(w, r, "ca.crl", time.Time{}, bytes.NewReader(der))
}
