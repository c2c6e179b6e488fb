package uitest

// Watch is what a screen needs of a status watcher (a netwatch.Watcher).
type Watch interface {
	Wait() bool
	Drain()
}

// ParkedWatch is a status watcher whose Wait the driver knows to be
// waiting for the test (Park), so that settling does not wait for it. Set
// D before the screen first waits.
type ParkedWatch struct {
	W Watch
	D *Driver
}

// Wait implements Watch.
func (p *ParkedWatch) Wait() (ok bool) {
	p.D.Park(func() { ok = p.W.Wait() })
	return ok
}

// Drain implements Watch.
func (p *ParkedWatch) Drain() { p.W.Drain() }
