package controlplane

import (
	"net/http"

	"github.com/nodeconsole/nodeconsole/api"
	"github.com/nodeconsole/nodeconsole/controlplane/access"
)

// adminRoutes registers the admin API; each route names the permission it
// needs (access.Perm), checked by requireAPI.
func (s *Server) adminRoutes(mux *routeMux) {
	h := func(pattern string, perm access.Perm, fn http.HandlerFunc) {
		mux.handle(pattern, perm, s.requireAPI(perm, fn))
	}
	h("GET "+api.PatternActivation, access.PermOperate, s.handleFind)
	h("POST "+api.PatternActivation, access.PermOperate, s.handleLicense)
	h("POST "+api.PatternActivationDeny, access.PermOperate, s.handleDeny)
	h("POST "+api.PathTokens, access.PermAdmin, s.handleCreateToken)
	h("GET "+api.PathTokens, access.PermAdmin, s.handleTokens)
	h("DELETE "+api.PatternToken, access.PermAdmin, s.handleRevokeToken)
	h("POST "+api.PathNodes, access.PermOperate, s.handleAddNodes)
	h("GET "+api.PathNodes, access.PermRead, s.handleNodes)
	h("GET "+api.PatternNode, access.PermRead, s.handleNode)
	h("DELETE "+api.PatternNode, access.PermOperate, s.handleDeleteNode)
	h("GET "+api.PathEvents, access.PermRead, s.handleEvents)
	h("GET "+api.PathSites, access.PermRead, s.handleSites)
	h("POST "+api.PathSites, access.PermAdmin, s.handleCreateSite)
	h("DELETE "+api.PatternSite, access.PermAdmin, s.handleDeleteSite)
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
	if err == nil {
		w.Header().Set("Location", api.PathTokens+"/"+resp.ID)
	}
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
	if err == nil && len(resp.Nodes) == 1 {
		w.Header().Set("Location", api.PathNodes+"/"+resp.Nodes[0].ID)
	}
	s.answer(w, r, http.StatusCreated, resp, err)
}

// handleNodes lists every node, or a page of them with ?limit= (and
// ?cursor= from the previous page's next).
func (s *Server) handleNodes(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("limit") == "" && q.Get("cursor") == "" {
		resp, err := s.nodes(r.Context())
		s.answer(w, r, http.StatusOK, resp, err)
		return
	}
	limit, err := pageLimit(q, defaultPageLimit)
	if err != nil {
		writeError(w, s.log, r, err)
		return
	}
	resp, err := s.nodePage(r.Context(), limit, q.Get("cursor"))
	s.answer(w, r, http.StatusOK, resp, err)
}

func (s *Server) handleNode(w http.ResponseWriter, r *http.Request) {
	resp, err := s.node(r.Context(), r.PathValue("id"))
	s.answer(w, r, http.StatusOK, resp, err)
}

func (s *Server) handleDeleteNode(w http.ResponseWriter, r *http.Request) {
	s.answer(w, r, http.StatusNoContent, nil, s.deleteNode(r.Context(), r.PathValue("id"), sourceIP(r)))
}

// handleEvents pages through events: ?limit= (default 100), ?cursor=,
// and filters ?actor=, ?node=, ?type=.
func (s *Server) handleEvents(w http.ResponseWriter, r *http.Request) {
	q, err := eventQuery(r.URL.Query(), defaultPageLimit)
	if err != nil {
		writeError(w, s.log, r, err)
		return
	}
	resp, err := s.eventPage(r.Context(), q)
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
	if err == nil {
		w.Header().Set("Location", api.PathSites+"/"+resp.ID)
	}
	s.answer(w, r, http.StatusCreated, resp, err)
}

func (s *Server) handleDeleteSite(w http.ResponseWriter, r *http.Request) {
	s.answer(w, r, http.StatusNoContent, nil, s.deleteSite(r.Context(), r.PathValue("id")))
}
