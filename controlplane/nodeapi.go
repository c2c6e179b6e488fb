package controlplane

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/nodeconsole/nodeconsole/api"
	"github.com/nodeconsole/nodeconsole/controlplane/ca"
	"github.com/nodeconsole/nodeconsole/controlplane/store"
)

func (s *Server) nodeRoutes(mux registrar) {
	mux.HandleFunc("POST "+api.PathEnroll, s.handleEnroll)
	mux.HandleFunc("POST "+api.PathEnrollPoll, s.handlePoll)
	mux.HandleFunc("POST "+api.PathEnrollCancel, s.handleCancel)
	mux.HandleFunc("POST "+api.PathRegister, s.handleRegister)
	mux.HandleFunc("GET "+api.PathNodeSelf, s.handleSelf)
	mux.HandleFunc("POST "+api.PathNodeDeregister, s.handleDeregister)
	mux.HandleFunc("GET "+api.PathTime, s.handleTime)
	mux.HandleFunc("GET "+api.PathUpdate, s.handleUpdate)
	mux.HandleFunc("GET "+pathUpdateFiles+"{file}", s.handleUpdateFile)
}

func (s *Server) handleEnroll(w http.ResponseWriter, r *http.Request) {
	var req api.EnrollRequest
	if err := decodeEnroll(r, &req); err != nil {
		writeError(w, s.log, r, err)
		return
	}
	resp, err := s.enroll(r.Context(), req, sourceIP(r), s.baseURL(r))
	if err != nil {
		writeError(w, s.log, r, err)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

func (s *Server) handlePoll(w http.ResponseWriter, r *http.Request) {
	var req api.PollRequest
	held, err := decodePoll(r, &req)
	if err != nil {
		writeError(w, s.log, r, err)
		return
	}
	var park *parkedPoll
	if held {
		park = parkingFor(w, r)
	}
	reg, err := s.poll(r.Context(), req, sourceIP(r), held, park)
	if errors.Is(err, errParked) {
		return // the parking lot answers
	}
	if err != nil && r.Context().Err() != nil {
		// The server is stopping (or the node hung up): nothing was
		// decided, so the node should simply poll again.
		err = errorf(api.CodeAuthorizationPending, "the control plane is restarting; poll again")
	}
	if err != nil {
		writeError(w, s.log, r, err)
		return
	}
	writeJSON(w, http.StatusOK, reg)
}

func (s *Server) handleCancel(w http.ResponseWriter, r *http.Request) {
	var req api.CancelRequest
	if err := decodeJSON(r, &req); err != nil {
		writeError(w, s.log, r, err)
		return
	}
	if err := s.cancel(r.Context(), req, sourceIP(r)); err != nil {
		writeError(w, s.log, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleRegister(w http.ResponseWriter, r *http.Request) {
	tok := bearer(r)
	if tok == "" {
		writeError(w, s.log, r, errorf(api.CodeInvalidToken, "Authorization: Bearer <registration token> is required"))
		return
	}
	var req api.RegisterRequest
	if err := decodeJSON(r, &req); err != nil {
		writeError(w, s.log, r, err)
		return
	}
	reg, err := s.registerWithToken(r.Context(), tok, req, sourceIP(r))
	if err != nil {
		writeError(w, s.log, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, reg)
}

// authNode identifies the node from its client certificate. Only the
// certificate most recently issued to a registered node is accepted.
func (s *Server) authNode(ctx context.Context, r *http.Request) (store.Node, *x509.Certificate, error) {
	if tok := bearer(r); tok != "" && (r.TLS == nil || len(r.TLS.PeerCertificates) == 0) {
		// The access token of a successful poll, where mTLS cannot pass.
		return s.authNodeToken(ctx, tok)
	}
	if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
		return store.Node{}, nil, errorf(api.CodeUnauthorized, "a client certificate issued by this control plane is required")
	}
	cert := r.TLS.PeerCertificates[0]
	inter := x509.NewCertPool()
	for _, c := range r.TLS.PeerCertificates[1:] {
		inter.AddCert(c)
	}
	if _, err := cert.Verify(x509.VerifyOptions{Roots: s.ca.Pool(), Intermediates: inter, CurrentTime: s.now(),
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		var inv x509.CertificateInvalidError
		if errors.As(err, &inv) && inv.Reason == x509.Expired {
			return store.Node{}, nil, errorf(api.CodeCertificateExpired,
				"the client certificate is outside its validity (%s to %s); enroll again", cert.NotBefore.UTC().Format(time.RFC3339), cert.NotAfter.UTC().Format(time.RFC3339))
		}
		return store.Node{}, nil, errorf(api.CodeUnknownCertificate, "the client certificate was not issued to a node by this control plane: %v", err)
	}
	id := cert.Subject.CommonName
	var n store.Node
	err := s.store.View(ctx, func(tx store.Tx) error {
		var err error
		n, err = tx.Node(id)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return store.Node{}, nil, errorf(api.CodeCertificateRevoked, "the certificate of %s was revoked (deregistered, deleted or replaced)", id)
	}
	if err == nil {
		// The current certificate, or one a renewal replaced, in its grace.
		err = s.checkCert(ctx, n, ca.SerialHex(cert.SerialNumber), s.now())
	}
	if err != nil {
		return store.Node{}, nil, fmt.Errorf("authenticate node %s: %w", id, err)
	}
	return n, cert, nil
}

func (s *Server) handleSelf(w http.ResponseWriter, r *http.Request) {
	n, cert, err := s.authNode(r.Context(), r)
	if err != nil {
		writeError(w, s.log, r, err)
		return
	}
	now := s.now()
	err = s.store.Update(r.Context(), func(tx store.Tx) error {
		cur, err := tx.Node(n.ID)
		if err != nil {
			return err
		}
		cur.LastSeen, cur.SourceIP = now, sourceIP(r)
		return tx.PutNode(cur)
	})
	if err != nil {
		writeError(w, s.log, r, fmt.Errorf("node self %s: %w", n.ID, err))
		return
	}
	writeJSON(w, http.StatusOK, api.NodeSelf{
		NodeID: n.ID, Name: n.Name, Project: n.Project, Site: n.Site, Status: n.Status, Tags: n.Tags,
		RegisteredAt: n.RegisteredAt.UTC(), CertificateNotAfter: cert.NotAfter.UTC(), ServerTime: now.UTC(),
	})
}

func (s *Server) handleDeregister(w http.ResponseWriter, r *http.Request) {
	n, _, err := s.authNode(r.Context(), r)
	if err != nil {
		writeError(w, s.log, r, err)
		return
	}
	var req api.DeregisterRequest
	if r.ContentLength != 0 {
		if err := decodeJSON(r, &req); err != nil {
			writeError(w, s.log, r, err)
			return
		}
	}
	reason := strings.TrimSpace(req.Reason)
	if len(reason) > 256 {
		reason = reason[:256]
	}
	now := s.now()
	err = s.store.Update(r.Context(), func(tx store.Tx) error {
		cur, err := tx.Node(n.ID)
		if err != nil {
			return err
		}
		if cur.CertSerial != n.CertSerial {
			return errorf(api.CodeCertificateRevoked, "the certificate was revoked")
		}
		cur.Status, cur.CertSerial, cur.PreAdded, cur.LastSeen = api.StatusDeregistered, "", false, now
		if err := tx.PutNode(cur); err != nil {
			return err
		}
		// The approved enrollment must not hand the certificate out again.
		if err := tx.DeleteEnrollmentsForNode(n.ID); err != nil {
			return err
		}
		// The node's reason finishes the sentence once: "Device was
		// deregistered: the operator confirmed it at the node's console".
		msg := "Device was deregistered"
		if reason != "" {
			msg += ": " + reason
		}
		return tx.AddEvent(store.Event{Type: api.EventDeregistered, NodeID: n.ID, Time: now, SourceIP: sourceIP(r), Message: msg})
	})
	if err != nil {
		writeError(w, s.log, r, fmt.Errorf("deregister %s: %w", n.ID, err))
		return
	}
	s.crl.Invalidate()
	writeJSON(w, http.StatusOK, api.DeregisterResponse{NodeID: n.ID, Status: api.StatusDeregistered})
}

func (s *Server) handleTime(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, api.TimeResponse{ServerTime: s.now().UTC()})
}
