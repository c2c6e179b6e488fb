package controlplane

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/nodeconsole/nodeconsole/api"
	"github.com/nodeconsole/nodeconsole/controlplane/ca"
	"github.com/nodeconsole/nodeconsole/controlplane/crl"
	"github.com/nodeconsole/nodeconsole/controlplane/store"
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
		return s.crl.Supersede(ctx, n.ID, serial, now)
	}
	var c store.NodeCert
	err := s.store.View(ctx, func(tx store.Tx) error {
		var err error
		c, err = tx.NodeCert(serial)
		return err
	})
	if err == nil && c.NodeID == n.ID {
		if revoked, _ := crl.Revoked(c, n, true, now); !revoked {
			return nil
		}
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	return errorf(api.CodeCertificateRevoked, "the certificate of %s was revoked (deregistered, deleted, replaced or renewed)", n.ID)
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
	der, err := s.crl.DER(r.Context(), s.now())
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
