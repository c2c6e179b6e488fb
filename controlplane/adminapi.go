package controlplane

import (
	"net/http"

	"github.com/nodeconsole/nodeconsole/api"
)

func (s *Server) adminRoutes(mux *http.ServeMux) {
	h := func(pattern string, fn http.HandlerFunc) { mux.Handle(pattern, s.requireAdmin(fn)) }
	h("GET "+api.PatternActivation, s.handleFind)
	h("POST "+api.PatternActivation, s.handleLicense)
	h("POST "+api.PatternActivationDeny, s.handleDeny)
	h("POST "+api.PathTokens, s.handleCreateToken)
	h("GET "+api.PathTokens, s.handleTokens)
	h("DELETE "+api.PatternToken, s.handleRevokeToken)
	h("POST "+api.PathNodes, s.handleAddNodes)
	h("GET "+api.PathNodes, s.handleNodes)
	h("GET "+api.PatternNode, s.handleNode)
	h("DELETE "+api.PatternNode, s.handleDeleteNode)
	h("GET "+api.PathEvents, s.handleEvents)
	h("GET "+api.PathSites, s.handleSites)
	h("POST "+api.PathSites, s.handleCreateSite)
	h("DELETE "+api.PatternSite, s.handleDeleteSite)
}

// requireAdmin answers 401 unless the request carries the admin token, and
// passes the request on with its principal. Failed attempts are limited per
// source: past the limit a wrong token gets 429. The right token is always
// accepted (it has 256 bits, so the limit is not what stops guessing), so
// failures from the admin's own address cannot lock the admin out.
func (s *Server) requireAdmin(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ip, now := sourceIP(r), s.now()
		tok := bearer(r)
		if !s.isAdmin(tok) {
			if wait := s.failSource.wait(sourceKey(ip), now); wait > 0 {
				writeError(w, s.log, r, rateLimited(wait))
				return
			}
			s.failSource.charge(sourceKey(ip), now)
			if tok != "" {
				s.auditFailure(r.Context(), api.EventAdminAuthFailed, "", ip, "an admin API request with a wrong bearer token was refused")
			}
			writeError(w, s.log, r, errorf(api.CodeUnauthorized, "Authorization: Bearer <admin token> is required"))
			return
		}
		h.ServeHTTP(w, r.WithContext(withPrincipal(r.Context(), adminPrincipal)))
	})
}

// answer writes v with status, or err.
func (s *Server) answer(w http.ResponseWriter, r *http.Request, status int, v any, err error) {
	if err != nil {
		writeError(w, s.log, r, err)
		return
	}
	if v == nil {
		w.WriteHeader(status)
		return
	}
	writeJSON(w, status, v)
}

func (s *Server) handleFind(w http.ResponseWriter, r *http.Request) {
	a, err := s.find(r.Context(), r.PathValue("code"), sourceIP(r))
	s.answer(w, r, http.StatusOK, a, err)
}

func (s *Server) handleLicense(w http.ResponseWriter, r *http.Request) {
	var req api.LicenseRequest
	if err := decodeJSON(r, &req); err != nil {
		writeError(w, s.log, r, err)
		return
	}
	resp, err := s.license(r.Context(), r.PathValue("code"), "", req, sourceIP(r))
	s.answer(w, r, http.StatusOK, resp, err)
}

func (s *Server) handleDeny(w http.ResponseWriter, r *http.Request) {
	resp, err := s.deny(r.Context(), r.PathValue("code"), sourceIP(r))
	s.answer(w, r, http.StatusOK, resp, err)
}

func (s *Server) handleCreateToken(w http.ResponseWriter, r *http.Request) {
	var req api.CreateTokenRequest
	if err := decodeJSON(r, &req); err != nil {
		writeError(w, s.log, r, err)
		return
	}
	resp, err := s.createToken(r.Context(), req, sourceIP(r))
	s.answer(w, r, http.StatusCreated, resp, err)
}

func (s *Server) handleTokens(w http.ResponseWriter, r *http.Request) {
	resp, err := s.tokens(r.Context())
	s.answer(w, r, http.StatusOK, resp, err)
}

func (s *Server) handleRevokeToken(w http.ResponseWriter, r *http.Request) {
	s.answer(w, r, http.StatusNoContent, nil, s.revokeToken(r.Context(), r.PathValue("id"), sourceIP(r)))
}

func (s *Server) handleAddNodes(w http.ResponseWriter, r *http.Request) {
	var req api.AddNodesRequest
	if err := decodeJSON(r, &req); err != nil {
		writeError(w, s.log, r, err)
		return
	}
	resp, err := s.addNodes(r.Context(), req, sourceIP(r))
	s.answer(w, r, http.StatusOK, resp, err)
}

func (s *Server) handleNodes(w http.ResponseWriter, r *http.Request) {
	resp, err := s.nodes(r.Context())
	s.answer(w, r, http.StatusOK, resp, err)
}

func (s *Server) handleNode(w http.ResponseWriter, r *http.Request) {
	resp, err := s.node(r.Context(), r.PathValue("id"))
	s.answer(w, r, http.StatusOK, resp, err)
}

func (s *Server) handleDeleteNode(w http.ResponseWriter, r *http.Request) {
	s.answer(w, r, http.StatusNoContent, nil, s.deleteNode(r.Context(), r.PathValue("id"), sourceIP(r)))
}

func (s *Server) handleEvents(w http.ResponseWriter, r *http.Request) {
	resp, err := s.events(r.Context(), 500)
	s.answer(w, r, http.StatusOK, resp, err)
}

func (s *Server) handleSites(w http.ResponseWriter, r *http.Request) {
	resp, err := s.sites(r.Context())
	s.answer(w, r, http.StatusOK, resp, err)
}

func (s *Server) handleCreateSite(w http.ResponseWriter, r *http.Request) {
	var req api.CreateSiteRequest
	if err := decodeJSON(r, &req); err != nil {
		writeError(w, s.log, r, err)
		return
	}
	resp, err := s.createSite(r.Context(), req)
	s.answer(w, r, http.StatusCreated, resp, err)
}

func (s *Server) handleDeleteSite(w http.ResponseWriter, r *http.Request) {
	s.answer(w, r, http.StatusNoContent, nil, s.deleteSite(r.Context(), r.PathValue("id")))
}
