package controlplane

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"maps"
	"strings"

	"github.com/nodeconsole/nodeconsole/api"
	"github.com/nodeconsole/nodeconsole/controlplane/secrets"
	"github.com/nodeconsole/nodeconsole/controlplane/store"
)

// errBadCode is the one answer for wrong, expired and used codes.
func errBadCode() error {
	return errorf(api.CodeInvalidCode, "no pending activation has this code; codes are single use and expire")
}

// lookup finds the live pending enrollment with code, enforcing the limit
// on failed lookups of the caller's principal (RFC 8628 §5.1: an admin
// credential cannot be used to guess codes; anonymous callers never reach
// a lookup). nodeID, if set, must match too (QR page).
func (s *Server) lookup(ctx context.Context, code, nodeID, ip string) (store.Enrollment, error) {
	now := s.now()
	who := budgetKey(ctx)
	if wait := s.lookups.Wait(who, now); wait > 0 {
		return store.Enrollment{}, rateLimited(wait)
	}
	var e store.Enrollment
	err := s.store.View(ctx, func(tx store.Tx) error {
		c, ok := api.NormalizeUserCode(code)
		if !ok {
			return errBadCode()
		}
		var err error
		e, err = tx.EnrollmentByUserCode(c)
		if errors.Is(err, store.ErrNotFound) || (err == nil && (e.State != store.EnrollPending || !now.Before(e.ExpiresAt) ||
			(nodeID != "" && e.NodeID != nodeID))) {
			return errBadCode()
		}
		return err
	})
	var ae *apiError
	if errors.As(err, &ae) && ae.code == api.CodeInvalidCode {
		s.lookups.Charge(who, now)
		s.event(ctx, store.Event{Type: api.EventCodeLookupFailed, NodeID: nodeID, Time: now, SourceIP: ip,
			Message: "a wrong, expired or used activation code was entered"})
	}
	return e, err
}

// event records e outside any other transaction; failures are only logged.
func (s *Server) event(ctx context.Context, e store.Event) {
	if err := s.store.Update(ctx, func(tx store.Tx) error { return tx.AddEvent(e) }); err != nil {
		s.log.Error("record event", "type", e.Type, "err", err)
	}
}

// shownFingerprint is api.FingerprintDER of the key in a stored CSR (which
// passed ca.CheckCSR when it was stored).
func shownFingerprint(csrPEM string) string {
	block, _ := pem.Decode([]byte(csrPEM))
	if block == nil {
		return ""
	}
	csr, err := x509.ParseCertificateRequest(block.Bytes)
	if err != nil {
		return ""
	}
	return api.FingerprintDER(csr.RawSubjectPublicKeyInfo)
}

// activation is what Find shows of e: what the node reported, its key's
// fingerprint, and the other live enrollments for the same node ID.
func (s *Server) activation(ctx context.Context, e store.Enrollment) (api.Activation, error) {
	a := api.Activation{
		NodeID: e.NodeID, Make: e.Make, Model: e.Model, Version: e.Version, SourceIP: e.SourceIP,
		RequestedAt: e.CreatedAt.UTC(), ExpiresAt: e.ExpiresAt.UTC(), KeyFingerprint: shownFingerprint(e.CSR),
	}
	now := s.now()
	err := s.store.View(ctx, func(tx store.Tx) error {
		all, err := tx.EnrollmentsForNode(e.NodeID)
		a.Competing = nil
		for i := len(all) - 1; i >= 0; i-- { // oldest first
			o := all[i]
			if o.ID != e.ID && o.State == store.EnrollPending && now.Before(o.ExpiresAt) {
				a.Competing = append(a.Competing, api.CompetingRequest{
					KeyFingerprint: shownFingerprint(o.CSR), SourceIP: o.SourceIP, RequestedAt: o.CreatedAt.UTC()})
			}
		}
		return err
	})
	if err != nil {
		return api.Activation{}, fmt.Errorf("find %s: %w", e.NodeID, err)
	}
	return a, nil
}

// find is the portal's and admin API's Find.
func (s *Server) find(ctx context.Context, code, ip string) (api.Activation, error) {
	e, err := s.lookup(ctx, code, "", ip)
	if err != nil {
		return api.Activation{}, err
	}
	return s.activation(ctx, e)
}

// sameFingerprint compares fingerprints as people type them (case, spaces).
func sameFingerprint(a, b string) bool {
	norm := func(s string) string { return strings.ToLower(strings.Join(strings.Fields(s), "")) }
	return norm(a) == norm(b)
}

// license approves the pending enrollment with code (License Node) and ends
// the node ID's competing enrollments. nodeID, if set, must match (QR page);
// req.KeyFingerprint, if set, must be the key's (what Find showed).
func (s *Server) license(ctx context.Context, code, nodeID string, req api.LicenseRequest, ip string) (api.LicenseResponse, error) {
	req.Name, req.Project, req.Site = strings.TrimSpace(req.Name), strings.TrimSpace(req.Project), strings.TrimSpace(req.Site)
	if err := checkField("name", req.Name, true); err != nil {
		return api.LicenseResponse{}, err
	}
	if err := checkField("project", req.Project, false); err != nil {
		return api.LicenseResponse{}, err
	}
	if err := checkField("site", req.Site, false); err != nil {
		return api.LicenseResponse{}, err
	}
	found, err := s.lookup(ctx, code, nodeID, ip)
	if err != nil {
		return api.LicenseResponse{}, err
	}
	if req.KeyFingerprint != "" && !sameFingerprint(req.KeyFingerprint, shownFingerprint(found.CSR)) {
		return api.LicenseResponse{}, errorf(api.CodeConflict,
			"the key of this code is not the one with fingerprint %q; Find the code again and compare with the node's console", req.KeyFingerprint)
	}
	var out api.LicenseResponse
	var wake []string
	err = s.store.Update(ctx, func(tx store.Tx) error {
		e, err := tx.Enrollment(found.ID)
		if err != nil {
			return err
		}
		now := s.now()
		if e.State != store.EnrollPending || !now.Before(e.ExpiresAt) {
			return errBadCode() // lost a race with deny, cancel or another license
		}
		site := ""
		if req.Site != "" {
			st, err := siteByName(tx, req.Site)
			if err != nil {
				return err
			}
			site = st.Name
			if req.Project == "" {
				req.Project = st.Project
			}
		}
		node, err := tx.Node(e.NodeID)
		if errors.Is(err, store.ErrNotFound) {
			node = store.Node{ID: e.NodeID, CreatedAt: now}
		} else if err != nil {
			return err
		}
		node.Name, node.Site = req.Name, site
		if req.Project != "" || !node.PreAdded {
			node.Project = req.Project // a pre-added node keeps the admin's project unless one is given
		}
		how := "Activate Node"
		if nodeID != "" {
			how = "QR registration"
		}
		if err := s.approve(tx, &e, &node, now, ip, how); err != nil {
			return err
		}
		if wake, err = endOthers(tx, e.NodeID, e.ID, now); err != nil {
			return err
		}
		out = api.LicenseResponse{NodeID: e.NodeID, Name: node.Name}
		return tx.PutEnrollment(e)
	})
	if err != nil {
		return api.LicenseResponse{}, fmt.Errorf("license %s: %w", found.NodeID, err)
	}
	s.notify.Publish(found.ID)
	for _, id := range wake {
		s.notify.Publish(id)
	}
	return out, nil
}

func siteByName(tx store.Tx, name string) (store.Site, error) {
	sites, err := tx.Sites()
	if err != nil {
		return store.Site{}, err
	}
	for _, st := range sites {
		if st.Name == name || st.ID == name {
			return st, nil
		}
	}
	return store.Site{}, errorf(api.CodeInvalidRequest, "no site named %q", name)
}

// deny refuses the pending enrollment with code.
func (s *Server) deny(ctx context.Context, code, ip string) (api.DenyResponse, error) {
	found, err := s.lookup(ctx, code, "", ip)
	if err != nil {
		return api.DenyResponse{}, err
	}
	err = s.store.Update(ctx, func(tx store.Tx) error {
		e, err := tx.Enrollment(found.ID)
		if err != nil {
			return err
		}
		now := s.now()
		if e.State != store.EnrollPending || !now.Before(e.ExpiresAt) {
			return errBadCode()
		}
		e.State, e.DecidedAt = store.EnrollDenied, now
		if err := tx.PutEnrollment(e); err != nil {
			return err
		}
		return tx.AddEvent(store.Event{Type: api.EventDenied, NodeID: e.NodeID, Time: now, SourceIP: ip,
			Message: "an admin denied the activation code"})
	})
	if err != nil {
		return api.DenyResponse{}, fmt.Errorf("deny %s: %w", found.NodeID, err)
	}
	s.notify.Publish(found.ID)
	return api.DenyResponse{NodeID: found.NodeID}, nil
}

// pairingKeyPrefix marks generated pairing keys so they are recognisable
// in config files and secret scanners (like tokenPrefix).
const pairingKeyPrefix = "ncpk_"

// checkPairingKey checks a pairing key an admin chose.
func checkPairingKey(id, key string) error {
	if len(key) < api.MinPairingKeyLen || len(key) > api.MaxPairingKeyLen || strings.ContainsRune(key, ' ') || !printable(key) {
		return errorf(api.CodeInvalidRequest, "pairing key of %s: %d to %d printable characters without spaces, or %q",
			id, api.MinPairingKeyLen, api.MaxPairingKeyLen, api.PairingKeyGenerate)
	}
	return nil
}

// addNodes pre-adds node IDs (Add Edge Hosts), optionally with pairing keys.
// Nothing is approved here: a pre-added node is approved when it enrolls
// with its pairing key or registers with a token; otherwise its code is
// licensed like any other (and it keeps the admin's project and tags).
func (s *Server) addNodes(ctx context.Context, req api.AddNodesRequest, ip string) (api.NodeList, error) {
	if len(req.IDs) == 0 {
		return api.NodeList{}, errorf(api.CodeInvalidRequest, "ids is empty")
	}
	if len(req.IDs) > 1000 {
		return api.NodeList{}, errorf(api.CodeInvalidRequest, "at most 1000 ids at once")
	}
	ids := map[string]bool{}
	for _, id := range req.IDs {
		if err := checkNodeID(id); err != nil {
			return api.NodeList{}, errorf(api.CodeInvalidRequest, "%q: node ID must be \"edge-\" followed by 32 lowercase hex digits", id)
		}
		ids[id] = true
	}
	if err := checkField("project", req.Project, false); err != nil {
		return api.NodeList{}, err
	}
	if err := checkTags(req.Tags); err != nil {
		return api.NodeList{}, err
	}
	hashes := map[string]string{}
	generated := map[string]string{}
	for id, key := range req.PairingKeys {
		if !ids[id] {
			return api.NodeList{}, errorf(api.CodeInvalidRequest, "pairingKeys: %q is not in ids", id)
		}
		if key == api.PairingKeyGenerate {
			key = pairingKeyPrefix + secrets.Random(24)
			generated[id] = key
		} else if err := checkPairingKey(id, key); err != nil {
			return api.NodeList{}, err
		}
		hashes[id] = pairingKeyHash(s.secret, id, key)
	}
	var out api.NodeList
	err := s.store.Update(ctx, func(tx store.Tx) error {
		out.Nodes = nil
		now := s.now()
		for _, id := range req.IDs {
			node, err := tx.Node(id)
			if errors.Is(err, store.ErrNotFound) {
				node = store.Node{ID: id, Name: id, CreatedAt: now}
			} else if err != nil {
				return err
			}
			if node.Status == api.StatusRegistered {
				if hashes[id] != "" {
					return errorf(api.CodeConflict, "node %s is registered; a pairing key is only for a node that has not registered yet", id)
				}
				out.Nodes = append(out.Nodes, apiNode(node))
				continue
			}
			node.Status, node.PreAdded = api.StatusPending, true
			if req.Project != "" {
				node.Project = req.Project
			}
			if len(req.Tags) > 0 {
				if node.Tags == nil {
					node.Tags = map[string]string{}
				}
				maps.Copy(node.Tags, req.Tags)
				if len(node.Tags) > maxTags {
					return errorf(api.CodeInvalidRequest, "node %s would have more than %d tags", id, maxTags)
				}
			}
			msg := "an admin pre-added the node ID"
			if h := hashes[id]; h != "" {
				node.PairingKeyHash = h
				msg += " with a pairing key"
			}
			if err := tx.PutNode(node); err != nil {
				return err
			}
			if err := tx.AddEvent(store.Event{Type: api.EventNodeAdded, NodeID: id, Time: now, SourceIP: ip, Message: msg}); err != nil {
				return err
			}
			out.Nodes = append(out.Nodes, apiNode(node))
		}
		return nil
	})
	if err != nil {
		return api.NodeList{}, fmt.Errorf("add nodes: %w", err)
	}
	if len(generated) > 0 {
		out.PairingKeys = generated
	}
	return out, nil
}

func apiNode(n store.Node) api.Node {
	return api.Node{
		ID: n.ID, Name: n.Name, Status: n.Status, Project: n.Project, Site: n.Site, Make: n.Make, Model: n.Model,
		Version: n.Version, SourceIP: n.SourceIP, Tags: maps.Clone(n.Tags), PreAdded: n.PreAdded, PairingKey: n.PairingKeyHash != "",
		CreatedAt: n.CreatedAt.UTC(), RegisteredAt: n.RegisteredAt.UTC(), LastSeen: n.LastSeen.UTC(),
	}
}

// nodes lists every node.
func (s *Server) nodes(ctx context.Context) (api.NodeList, error) {
	out := api.NodeList{Nodes: []api.Node{}}
	err := s.store.View(ctx, func(tx store.Tx) error {
		nodes, err := tx.Nodes()
		for _, n := range nodes {
			out.Nodes = append(out.Nodes, apiNode(n))
		}
		return err
	})
	if err != nil {
		return api.NodeList{}, fmt.Errorf("list nodes: %w", err)
	}
	return out, nil
}

// node returns one node.
func (s *Server) node(ctx context.Context, id string) (api.Node, error) {
	var n store.Node
	err := s.store.View(ctx, func(tx store.Tx) error {
		var err error
		n, err = tx.Node(id)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return api.Node{}, errorf(api.CodeNotFound, "no node %q", id)
	}
	if err != nil {
		return api.Node{}, fmt.Errorf("get node %s: %w", id, err)
	}
	return apiNode(n), nil
}

// deleteNode forgets a node and its enrollments; its certificate is refused
// from then on, and the ID may register again with any key.
func (s *Server) deleteNode(ctx context.Context, id, ip string) error {
	var wake []string
	err := s.store.Update(ctx, func(tx store.Tx) error {
		wake = nil
		if _, err := tx.Node(id); errors.Is(err, store.ErrNotFound) {
			return errorf(api.CodeNotFound, "no node %q", id)
		} else if err != nil {
			return err
		}
		enrollments, err := tx.EnrollmentsForNode(id)
		if err != nil {
			return err
		}
		for _, e := range enrollments {
			wake = append(wake, e.ID)
		}
		if err := tx.DeleteEnrollmentsForNode(id); err != nil {
			return err
		}
		if err := tx.DeleteNode(id); err != nil {
			return err
		}
		return tx.AddEvent(store.Event{Type: api.EventNodeDeleted, NodeID: id, Time: s.now(), SourceIP: ip,
			Message: "an admin deleted the node"})
	})
	if err != nil {
		return fmt.Errorf("delete node %s: %w", id, err)
	}
	for _, w := range wake {
		s.notify.Publish(w)
	}
	return nil
}

// sites lists the sites.
func (s *Server) sites(ctx context.Context) (api.SiteList, error) {
	out := api.SiteList{Sites: []api.Site{}}
	err := s.store.View(ctx, func(tx store.Tx) error {
		sites, err := tx.Sites()
		for _, st := range sites {
			out.Sites = append(out.Sites, api.Site{ID: st.ID, Name: st.Name, Project: st.Project})
		}
		return err
	})
	if err != nil {
		return api.SiteList{}, fmt.Errorf("list sites: %w", err)
	}
	return out, nil
}

// createSite adds a site.
func (s *Server) createSite(ctx context.Context, req api.CreateSiteRequest) (api.Site, error) {
	req.Name, req.Project = strings.TrimSpace(req.Name), strings.TrimSpace(req.Project)
	if err := checkField("name", req.Name, true); err != nil {
		return api.Site{}, err
	}
	if err := checkField("project", req.Project, false); err != nil {
		return api.Site{}, err
	}
	st := store.Site{ID: secrets.NewID(), Name: req.Name, Project: req.Project}
	err := s.store.Update(ctx, func(tx store.Tx) error {
		if _, err := siteByName(tx, req.Name); err == nil {
			return errorf(api.CodeConflict, "a site named %q exists", req.Name)
		}
		if err := tx.PutSite(st); err != nil {
			return err
		}
		msg := fmt.Sprintf("site %q added", st.Name)
		if st.Project != "" {
			msg += fmt.Sprintf(" with project %q", st.Project)
		}
		return tx.AddEvent(store.Event{Type: api.EventSiteCreated, Time: s.now(), Message: msg})
	})
	if err != nil {
		return api.Site{}, fmt.Errorf("create site: %w", err)
	}
	return api.Site{ID: st.ID, Name: st.Name, Project: st.Project}, nil
}

// deleteSite removes a site.
func (s *Server) deleteSite(ctx context.Context, id string) error {
	err := s.store.Update(ctx, func(tx store.Tx) error {
		st, err := tx.Site(id)
		if errors.Is(err, store.ErrNotFound) {
			return errorf(api.CodeNotFound, "no site %q", id)
		} else if err != nil {
			return err
		}
		if err := tx.DeleteSite(id); err != nil {
			return err
		}
		return tx.AddEvent(store.Event{Type: api.EventSiteDeleted, Time: s.now(), Message: fmt.Sprintf("site %q removed", st.Name)})
	})
	if err != nil {
		return fmt.Errorf("delete site: %w", err)
	}
	return nil
}
