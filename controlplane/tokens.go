package controlplane

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/nodeconsole/nodeconsole/api"
	"github.com/nodeconsole/nodeconsole/controlplane/ca"
	"github.com/nodeconsole/nodeconsole/controlplane/ratelimit"
	"github.com/nodeconsole/nodeconsole/controlplane/secrets"
	"github.com/nodeconsole/nodeconsole/controlplane/store"
)

const (
	defaultTokenTTL = 24 * time.Hour
	maxTokenTTL     = 5 * 365 * 24 * time.Hour
	// tokenPrefix marks registration tokens so they are recognisable in
	// config files and secret scanners.
	tokenPrefix = "ncrt_"
)

// tokenStatus is the status shown for a token at now.
func tokenStatus(t store.Token, now time.Time) string {
	switch {
	case t.Revoked:
		return "revoked"
	case t.SingleUse && t.Uses > 0:
		return "used"
	case !now.Before(t.ExpiresAt):
		return "expired"
	default:
		return "active"
	}
}

// createToken makes a registration token; its value is returned once and
// only its hash is stored.
func (s *Server) createToken(ctx context.Context, req api.CreateTokenRequest, ip string) (api.CreateTokenResponse, error) {
	req.Name, req.Project = strings.TrimSpace(req.Name), strings.TrimSpace(req.Project)
	if err := checkField("name", req.Name, true); err != nil {
		return api.CreateTokenResponse{}, err
	}
	if err := checkField("project", req.Project, false); err != nil {
		return api.CreateTokenResponse{}, err
	}
	ttl := defaultTokenTTL
	if req.ExpiresIn != "" {
		d, err := time.ParseDuration(req.ExpiresIn)
		if err != nil || d <= 0 || d > maxTokenTTL {
			return api.CreateTokenResponse{}, errorf(api.CodeInvalidRequest, "expiresIn must be a positive duration such as \"24h\", at most 5 years")
		}
		ttl = d
	}
	now := s.now()
	value := tokenPrefix + secrets.Random(32)
	t := store.Token{ID: secrets.NewID(), Name: req.Name, Project: req.Project, Hash: secrets.Hash(value), SingleUse: req.SingleUse,
		AllowProjectOverride: req.AllowProjectOverride, CreatedAt: now, ExpiresAt: now.Add(ttl)}
	err := s.store.Update(ctx, func(tx store.Tx) error {
		if err := tx.PutToken(t); err != nil {
			return err
		}
		kind := "reusable"
		if t.SingleUse {
			kind = "single-use"
		}
		return tx.AddEvent(store.Event{Type: api.EventTokenCreated, Time: now, SourceIP: ip,
			Message: fmt.Sprintf("registration token %q created (%s, project %q, expires %s)", t.Name, kind, t.Project, t.ExpiresAt.UTC().Format(time.RFC3339))})
	})
	if err != nil {
		return api.CreateTokenResponse{}, fmt.Errorf("create token: %w", err)
	}
	return api.CreateTokenResponse{ID: t.ID, Token: value}, nil
}

// tokens lists the tokens, without values.
func (s *Server) tokens(ctx context.Context) (api.TokenList, error) {
	out := api.TokenList{Tokens: []api.Token{}}
	now := s.now()
	err := s.store.View(ctx, func(tx store.Tx) error {
		toks, err := tx.Tokens()
		for _, t := range toks {
			out.Tokens = append(out.Tokens, api.Token{ID: t.ID, Name: t.Name, Project: t.Project, SingleUse: t.SingleUse,
				AllowProjectOverride: t.AllowProjectOverride,
				Status:               tokenStatus(t, now), Uses: t.Uses, CreatedAt: t.CreatedAt.UTC(), ExpiresAt: t.ExpiresAt.UTC()})
		}
		return err
	})
	if err != nil {
		return api.TokenList{}, fmt.Errorf("list tokens: %w", err)
	}
	return out, nil
}

// revokeToken stops a token from working.
func (s *Server) revokeToken(ctx context.Context, id, ip string) error {
	err := s.store.Update(ctx, func(tx store.Tx) error {
		t, err := tx.Token(id)
		if errors.Is(err, store.ErrNotFound) {
			return errorf(api.CodeNotFound, "no token %q", id)
		}
		if err != nil {
			return err
		}
		if t.Revoked { // a repeated DELETE answers 404, as for nodes and sites
			return errorf(api.CodeNotFound, "token %q is already revoked", id)
		}
		t.Revoked = true
		if err := tx.PutToken(t); err != nil {
			return err
		}
		return tx.AddEvent(store.Event{Type: api.EventTokenRevoked, Time: s.now(), SourceIP: ip,
			Message: fmt.Sprintf("registration token %q revoked", t.Name)})
	})
	if err != nil {
		return fmt.Errorf("revoke token: %w", err)
	}
	return nil
}

// registerWithToken registers a node at once with a registration token.
func (s *Server) registerWithToken(ctx context.Context, value string, req api.RegisterRequest, ip string) (api.Registration, error) {
	now := s.now()
	src := ratelimit.SourceKey(ip)
	if wait := s.failSource.Wait(src, now); wait > 0 {
		return api.Registration{}, rateLimited(wait)
	}
	if err := checkNodeID(req.NodeID); err != nil {
		return api.Registration{}, err
	}
	for _, f := range []struct{ name, v string }{{"make", req.Make}, {"model", req.Model}, {"version", req.Version},
		{"name", req.Name}, {"project", req.Project}} {
		if err := checkField(f.name, f.v, false); err != nil {
			return api.Registration{}, err
		}
	}
	if err := checkTags(req.Tags); err != nil {
		return api.Registration{}, err
	}
	csr, err := ca.CheckCSR(req.CSR)
	if err != nil {
		return api.Registration{}, errorf(api.CodeInvalidCSR, "%v", err)
	}
	var reg api.Registration
	var wake []string
	var rejected, repeat bool
	var target string
	err = s.store.Update(ctx, func(tx store.Tx) error {
		wake, rejected, repeat, target = nil, false, false, ""
		t, err := tx.TokenByHash(secrets.Hash(value))
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		node, nerr := tx.Node(req.NodeID)
		if errors.Is(nerr, store.ErrNotFound) {
			node = store.Node{ID: req.NodeID, Name: req.NodeID, CreatedAt: now}
		} else if nerr != nil {
			return nerr
		}
		if err == nil && tokenStatus(t, now) != "active" {
			// A node that registered with this token and crashed before
			// it stored its certificate asks again with the same key: it
			// gets a new certificate, and the token is not charged again.
			// Only the holder of the registered key can do this.
			repeat = !t.Revoked && node.Status == api.StatusRegistered && node.KeyFingerprint == csr.Fingerprint
			if !repeat {
				// A known token that no longer works: its failures are
				// also limited per token, whatever the source.
				target = "token:" + t.ID
				if wait := s.failTarget.Wait(target, now); wait > 0 {
					return rateLimited(wait)
				}
				err = store.ErrNotFound
			}
		}
		if errors.Is(err, store.ErrNotFound) {
			rejected = true
			return errorf(api.CodeInvalidToken, "the registration token is unknown, expired, revoked or used")
		}
		if node.Status == api.StatusRegistered && node.KeyFingerprint != csr.Fingerprint {
			return errorf(api.CodeConflict, "node %s is registered with another key; deregister or delete it first", req.NodeID)
		}
		certPEM, cert, err := s.issueNode(tx, csr, req.NodeID, now)
		if err != nil {
			return err
		}
		if repeat {
			node.CertSerial, node.CertNotAfter, node.LastSeen, node.SourceIP = ca.SerialHex(cert.SerialNumber), cert.NotAfter, now, ip
			if err := tx.PutNode(node); err != nil {
				return err
			}
			reg = s.registration(node, certPEM, now)
			return tx.AddEvent(store.Event{Type: api.EventRegistered, NodeID: req.NodeID, Time: now, SourceIP: ip,
				Message: fmt.Sprintf("registration with token %q repeated with the same key; certificate issued again", t.Name)})
		}
		project := strings.TrimSpace(req.Project)
		if project != "" && project != t.Project && !t.AllowProjectOverride {
			return errorf(api.CodeInvalidRequest, "the registration token is for project %q and does not allow choosing project %q", t.Project, project)
		}
		t.Uses++
		if err := tx.PutToken(t); err != nil {
			return err
		}
		// A valid token proves the node: its pending enrollments end.
		if wake, err = endOthers(tx, req.NodeID, "", now); err != nil {
			return err
		}
		if req.Name != "" {
			node.Name = req.Name
		}
		switch {
		case project != "":
			node.Project = project // site.project overrides the token's (if it allows)
		case node.Project == "" || !node.PreAdded:
			node.Project = t.Project
		}
		if len(req.Tags) > 0 {
			if node.Tags == nil {
				node.Tags = map[string]string{}
			}
			maps.Copy(node.Tags, req.Tags)
			if len(node.Tags) > maxTags {
				return errorf(api.CodeInvalidRequest, "node %s would have more than %d tags", req.NodeID, maxTags)
			}
		}
		node.Status, node.Make, node.Model, node.Version, node.SourceIP = api.StatusRegistered, req.Make, req.Model, req.Version, ip
		node.KeyFingerprint, node.CertSerial, node.CertNotAfter = csr.Fingerprint, ca.SerialHex(cert.SerialNumber), cert.NotAfter
		node.RegisteredAt, node.LastSeen = now, now
		if err := tx.PutNode(node); err != nil {
			return err
		}
		reg = s.registration(node, certPEM, now)
		return tx.AddEvent(store.Event{Type: api.EventRegistered, NodeID: req.NodeID, Time: now, SourceIP: ip,
			Message: fmt.Sprintf("registered with token %q", t.Name)})
	})
	if rejected {
		s.failSource.Charge(src, now)
		if target != "" {
			s.failTarget.Charge(target, now)
		}
		s.auditFailure(ctx, api.EventTokenRejected, req.NodeID, ip, "registration with an unknown, expired, revoked or used token refused")
	}
	if err != nil {
		return api.Registration{}, fmt.Errorf("register %s with token: %w", req.NodeID, err)
	}
	for _, id := range wake {
		s.notify.Publish(id)
	}
	return reg, nil
}
