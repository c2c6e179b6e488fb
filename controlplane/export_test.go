package controlplane

// ParkStats is how many polls are parked now and were ever parked
// (parked.go), for the tests.
func (s *Server) ParkStats() (now, total int64) { return s.parked.Load(), s.parkedTotal.Load() }
