package controlplane

import "net/http"

// portal is the server-rendered web portal.
type portal struct {
	s *Server
}

func newPortal(s *Server) (*portal, error) { return &portal{s: s}, nil }

func (p *portal) routes(mux *http.ServeMux) {}
