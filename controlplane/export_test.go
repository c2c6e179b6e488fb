package controlplane

// ParkStats is how many polls are parked now and were ever parked
// (parked.go), for the tests.
func (s *Server) ParkStats() (now, total int64) { return s.parked.Load(), s.parkedTotal.Load() }

// TakePollTurns takes every poll turn (pollturn.go) until release.
func (s *Server) TakePollTurns() (release func()) {
	for range cap(s.pollTurns) {
		s.pollTurns <- struct{}{}
	}
	return func() {
		for range cap(s.pollTurns) {
			<-s.pollTurns
		}
	}
}

// PollTurnWaits reports how many polls wait for a turn.
func (s *Server) PollTurnWaits() int64 { return s.pollTurnWaits.Load() }
