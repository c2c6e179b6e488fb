package controlplane

import "context"

// pollTurns is how many polls nothing woke (a node's new poll, a parked
// poll's deadline) use the store at once in one server.
//
// Every held poll ends pending after LongPoll and is sent again at once,
// so the polls of nodes that started waiting together come back together:
// 10,000 waiting nodes bring 10,000 answers and re-polls within seconds,
// three transactions each. Unbounded, they took every connection of the
// store's pool and kept PostgreSQL's backends busy on the shared cores, so
// a License, and the answer of the poll it woke, waited behind them
// (docs/performance.md, "The License tail"). With a few turns, the wave
// queues here, where waiting costs nothing, and is served a little later;
// an admin's request and a woken poll's answer never take a turn.
const pollTurns = 4

// pollTurn waits for a turn at the store for a poll that nothing woke. It
// returns the function that gives the turn back (once; later calls do
// nothing), or false when ctx ends first.
func (s *Server) pollTurn(ctx context.Context) (release func(), ok bool) {
	select {
	case s.pollTurns <- struct{}{}:
	default:
		s.pollTurnWaits.Add(1)
		select {
		case s.pollTurns <- struct{}{}:
			s.pollTurnWaits.Add(-1)
		case <-ctx.Done():
			s.pollTurnWaits.Add(-1)
			return func() {}, false
		}
	}
	done := false
	return func() {
		if !done {
			done = true
			<-s.pollTurns
		}
	}, true
}
