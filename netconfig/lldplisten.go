package netconfig

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"sync"
	"time"

	"github.com/nodeconsole/nodeconsole/lldp"
)

// DefaultLLDPListen is how long the console listens for LLDP on a NIC
// after start and after the NIC comes up: switches send every 30 s.
const DefaultLLDPListen = 30 * time.Second

// LLDPConn is what LLDPListener needs of an lldp.Conn.
type LLDPConn interface {
	Listen(ctx context.Context, d time.Duration, heard func([]lldp.Neighbor)) ([]lldp.Neighbor, error)
	Close() error
}

// LLDPListener listens for LLDP in the background on every Ethernet NIC
// that is up: at Start and again on a NIC when it comes up (LinkUp), each
// time for Listen. What it hears goes into Table as it is heard, and
// changed is called; after a listen without a frame the NIC's entry is an
// empty list (changed is called when that changes the table). Without
// CAP_NET_RAW it logs once and stays quiet. Close stops it and waits for
// every listen to end.
type LLDPListener struct {
	// Table receives the neighbours (required).
	Table *LLDPTable
	// Reader finds the NICs (required).
	Reader Reader
	// Listen is how long each listen lasts; 0 means DefaultLLDPListen.
	Listen time.Duration
	// Open opens a listening socket on an interface index; nil means
	// lldp.Open.
	Open func(ifindex int) (LLDPConn, error)
	// Log receives one line when listening is impossible; nil discards.
	Log *slog.Logger

	mu       sync.Mutex
	ctx      context.Context // nil until Start; cancelled by Close
	cancel   context.CancelFunc
	changed  func()
	active   map[int]context.CancelFunc // interface index -> its listen
	disabled bool                       // Open was refused (no CAP_NET_RAW)
	wg       sync.WaitGroup
}

// Start begins listening on every Ethernet NIC that is up; changed is
// called each time the table changes (the console's watcher's Notify).
func (l *LLDPListener) Start(changed func()) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ctx != nil {
		return
	}
	if l.Listen <= 0 {
		l.Listen = DefaultLLDPListen
	}
	if l.Open == nil {
		l.Open = func(i int) (LLDPConn, error) { return lldp.Open(i) }
	}
	if l.Log == nil {
		l.Log = slog.New(slog.DiscardHandler)
	}
	l.ctx, l.cancel = context.WithCancel(context.Background())
	l.changed, l.active = changed, map[int]context.CancelFunc{}
	l.scanLocked(-1)
}

// LinkUp listens again on the interface with this index, if it is an
// Ethernet NIC: a cable was plugged in or the link set up (netwatch's
// Options.LinkUp). It does nothing before Start or after Close.
func (l *LLDPListener) LinkUp(index int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.scanLocked(index)
}

// Close stops every listen and waits for them.
func (l *LLDPListener) Close() {
	l.mu.Lock()
	if l.cancel != nil {
		l.cancel()
	}
	l.mu.Unlock()
	l.wg.Wait()
}

// scanLocked reads the status in the background and listens on the up
// Ethernet NICs (only index, unless -1; that one restarts). l.mu is held.
func (l *LLDPListener) scanLocked(index int) {
	if l.ctx == nil || l.ctx.Err() != nil || l.disabled {
		return
	}
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		ctx, cancel := context.WithTimeout(l.ctx, 10*time.Second)
		st, err := l.Reader.Read(ctx)
		cancel()
		if err != nil {
			return // the status screen says it; the next link-up retries
		}
		l.mu.Lock()
		defer l.mu.Unlock()
		for _, ifc := range st.Interfaces {
			if ifc.Ethernet && ifc.State == LinkUp && (index < 0 || ifc.Index == index) {
				l.listenLocked(ifc.Index, ifc.Name, index >= 0)
			}
		}
	}()
}

// listenLocked starts a listen on one NIC unless one runs (restart: stop
// it and start afresh). l.mu is held.
func (l *LLDPListener) listenLocked(index int, name string, restart bool) {
	if l.ctx.Err() != nil || l.disabled {
		return
	}
	if stop, ok := l.active[index]; ok {
		if !restart {
			return
		}
		stop()
	}
	ctx, cancel := context.WithCancel(l.ctx)
	l.active[index] = cancel
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		defer cancel()
		nbs, ok := l.listen(ctx, index, name)
		l.mu.Lock()
		defer l.mu.Unlock()
		if ctx.Err() != nil && l.ctx.Err() == nil {
			return // restarted: the new listen has the NIC
		}
		delete(l.active, index)
		// Heard neighbours were announced as they came; what the listen
		// ends with is announced only when it changes the table: the
		// first "nothing heard" on a NIC, or a switch no longer heard.
		if ok && l.Table.Set(name, nbs) {
			l.changed()
		}
	}()
}

// listen listens on one NIC for l.Listen, putting what it hears in the
// table as it comes; ok is false when it could not listen.
func (l *LLDPListener) listen(ctx context.Context, index int, name string) ([]lldp.Neighbor, bool) {
	c, err := l.Open(index)
	if err != nil {
		l.mu.Lock()
		defer l.mu.Unlock()
		if errors.Is(err, fs.ErrPermission) {
			if !l.disabled {
				l.Log.Info("LLDP: not listening (needs CAP_NET_RAW)", "err", err)
			}
			l.disabled = true
		} else {
			l.Log.Warn("LLDP: cannot listen", "interface", name, "err", err)
		}
		return nil, false
	}
	defer c.Close()
	nbs, err := c.Listen(ctx, l.Listen, func(nbs []lldp.Neighbor) {
		l.Table.Set(name, nbs)
		l.changed()
	})
	if err != nil {
		l.Log.Warn("LLDP: listen", "interface", name, "err", err)
	}
	return nbs, true
}
