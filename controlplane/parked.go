package controlplane

import (
	"bytes"
	"container/heap"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/nodeconsole/nodeconsole/api"
	"github.com/nodeconsole/nodeconsole/controlplane/access"
)

// Parked long-polls (docs/performance.md, "A held poll without a
// goroutine"). A poll held by its handler costs the handler's goroutine,
// net/http's connection state and, on HTTP/2, two more goroutines: ~60 KiB
// per waiting node. Over HTTP/1.1 a poll that has to wait is parked
// instead: the handler takes the connection over (Hijack), leaves it in its
// Serve call's parkingLot with the enrollment and a deadline, and returns.
// A notification (Notifier.SubscribeFunc) or the lot's one timer (the
// earliest deadline) takes it out, and a goroutine that lives only for the
// answer reads the enrollment as the held handler would have, writes the
// same HTTP answer and hands the connection back to the http.Server (or
// closes it). HTTP/2 streams cannot be taken over; their handler holds
// them as before.

// parkWriteTimeout bounds writing a parked poll's answer.
const parkWriteTimeout = 10 * time.Second

// errParked is poll's result when the poll was parked: its answer is
// written later, by the parking lot.
var errParked = errors.New("poll parked")

// parkState is where a parkedPoll is.
type parkState uint8

const (
	parkSetup     parkState = iota // subscribed; the handler has not parked it yet
	parkWoken                      // notified during setup: answer as soon as it is parked
	parkParked                     // in the lot, waiting
	parkAnswering                  // taken out; its answer is being written
)

// parkedPoll is one poll that waits without a goroutine. Until park it
// holds the handler's w and r; after it, only what its answer needs.
type parkedPoll struct {
	lot   *parkingLot
	w     http.ResponseWriter
	r     *http.Request
	state parkState // guarded by lot.mu
	index int       // in lot.queue while parked

	conn        net.Conn
	hash, ip    string
	deadline    time.Time
	closeAfter  bool // the client asked to close, or sent more than the poll
	unsubscribe func()
	late        *lateAnswer
	// woken is set by a notification (guarded by lot.mu): the answer
	// reads the store at once, without waiting for a poll turn
	// (pollturn.go).
	woken bool
	// recheck is set when the deadline is the code's expiry: only then
	// does a deadline's answer read the store (see Server.poll).
	recheck bool
}

// parkingLot holds one Serve call's parked polls, ordered by deadline, and
// one timer for the earliest.
type parkingLot struct {
	s    *Server
	ctx  context.Context // Serve's, as a node: store calls of the answers
	back *handbackListener

	mu     sync.Mutex
	closed bool
	queue  parkQueue
	timer  *time.Timer
	// active counts polls being parked, parked or being answered; close
	// waits for it.
	active sync.WaitGroup
}

type parkingKey struct{}

func newParkingLot(ctx context.Context, s *Server, back *handbackListener) *parkingLot {
	return &parkingLot{s: s, ctx: access.WithPrincipal(ctx, access.Principal{Kind: access.KindNode}), back: back}
}

// parkingFor returns a parkedPoll for r if r's poll can be parked (HTTP/1.1
// under Serve), else nil.
func parkingFor(w http.ResponseWriter, r *http.Request) *parkedPoll {
	lot, _ := r.Context().Value(parkingKey{}).(*parkingLot)
	if lot == nil || r.ProtoMajor != 1 || r.ProtoMinor != 1 {
		return nil
	}
	return &parkedPoll{lot: lot, w: w, r: r, index: -1}
}

// wake is the poll's notification: it is answered now (or as soon as it is
// parked).
func (p *parkedPoll) wake() {
	lot := p.lot
	lot.mu.Lock()
	defer lot.mu.Unlock()
	switch p.state {
	case parkSetup:
		p.state = parkWoken
	case parkParked:
		heap.Remove(&lot.queue, p.index)
		lot.dispatch(p, false)
	}
	p.woken = true
}

// park takes the connection over and parks the poll until wait has passed
// or it is woken; unsubscribe ends its subscription. It reports false when
// the poll was not parked (the server is stopping, or the connection
// cannot be taken over): the handler answers as usual.
func (p *parkedPoll) park(hash, ip string, wait time.Duration, unsubscribe func()) bool {
	lot := p.lot
	lot.mu.Lock()
	if lot.closed {
		lot.mu.Unlock()
		return false
	}
	lot.active.Add(1)
	lot.mu.Unlock()
	// What the client sent after its body would be lost with net/http's
	// buffer; a drained body leaves only a pipelined request there. A body
	// not drained (past the body limit, or broken) has bytes still to come
	// that are no request: the connection is closed after the answer, as
	// net/http closes it, never handed back to parse them as one.
	_, drainErr := io.Copy(io.Discard, p.r.Body)
	conn, brw, err := http.NewResponseController(p.w).Hijack()
	if err != nil {
		lot.active.Done()
		return false
	}
	p.late = lateAnswerOf(p.r)
	p.closeAfter = p.r.Close || drainErr != nil || brw.Reader.Buffered() > 0
	p.w, p.r = nil, nil // brw, net/http's buffers, goes with them
	conn.SetDeadline(time.Time{})
	p.conn, p.hash, p.ip, p.unsubscribe = conn, hash, ip, unsubscribe
	p.deadline = time.Now().Add(wait)
	lot.mu.Lock()
	defer lot.mu.Unlock()
	switch {
	case lot.closed:
		lot.dispatch(p, true)
	case p.state == parkWoken:
		lot.dispatch(p, false)
	default:
		p.state = parkParked
		lot.s.parked.Add(1)
		lot.s.parkedTotal.Add(1)
		heap.Push(&lot.queue, p)
		if p.index == 0 {
			lot.arm()
		}
	}
	return true
}

// arm sets the timer to the earliest deadline. Called with mu held.
func (lot *parkingLot) arm() {
	d := time.Until(lot.queue[0].deadline)
	if lot.timer == nil {
		lot.timer = time.AfterFunc(d, lot.expire)
		return
	}
	lot.timer.Reset(d)
}

// expire answers the polls whose deadline has passed.
func (lot *parkingLot) expire() {
	lot.mu.Lock()
	defer lot.mu.Unlock()
	now := time.Now()
	for len(lot.queue) > 0 && !lot.queue[0].deadline.After(now) {
		lot.dispatch(heap.Pop(&lot.queue).(*parkedPoll), false)
	}
	if len(lot.queue) > 0 && !lot.closed {
		lot.arm()
	}
}

// dispatch starts p's answer; stopping answers without reading the store
// (the server is stopping). Called with mu held, p out of the queue.
func (lot *parkingLot) dispatch(p *parkedPoll, stopping bool) {
	if p.state == parkParked {
		lot.s.parked.Add(-1)
	}
	p.state = parkAnswering
	go lot.answer(p, stopping)
}

// close answers every parked poll (the node polls again) and waits for the
// answers being written. Polls that try to park from now on are answered
// by their handlers.
func (lot *parkingLot) close() {
	lot.mu.Lock()
	lot.closed = true
	if lot.timer != nil {
		lot.timer.Stop()
	}
	for len(lot.queue) > 0 {
		lot.dispatch(heap.Pop(&lot.queue).(*parkedPoll), true)
	}
	lot.mu.Unlock()
	lot.active.Wait()
}

// answer reads p's enrollment (unless stopping), writes the answer the held
// handler would have written, and hands the connection back or closes it.
func (lot *parkingLot) answer(p *parkedPoll, stopping bool) {
	defer lot.active.Done()
	s := lot.s
	s.waiting.Add(-1)
	p.unsubscribe()
	var reg api.Registration
	var err error
	lot.mu.Lock()
	woken := p.woken
	lot.mu.Unlock()
	release, turn := func() {}, true
	switch {
	case stopping:
	case !woken && !p.recheck:
		// The hold's end: pending, unread (see Server.poll).
		err = errorf(api.CodeAuthorizationPending, "waiting for an admin to activate the code")
	default:
		if !woken {
			// The code's expiry, with the deadlines of others (pollturn.go).
			release, turn = s.pollTurn(lot.ctx)
		}
		if turn {
			var pending bool
			reg, _, pending, err = s.pollOnce(lot.ctx, p.hash, p.ip, s.now(), false)
			if err == nil && pending {
				err = errorf(api.CodeAuthorizationPending, "waiting for an admin to activate the code")
			}
		}
	}
	release()
	if stopping || !turn || (err != nil && lot.ctx.Err() != nil) {
		err = errorf(api.CodeAuthorizationPending, "the control plane is restarting; poll again")
	}
	rw := &bufferedAnswer{header: http.Header{}}
	secureHeaders(rw.header)
	if err != nil {
		writeError(rw, s.log, &http.Request{Method: http.MethodPost, URL: &url.URL{Path: api.PathEnrollPoll}}, err)
	} else {
		writeJSON(rw, http.StatusOK, reg)
	}
	closing := p.closeAfter || stopping
	rw.header.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	resp := http.Response{StatusCode: rw.status, ProtoMajor: 1, ProtoMinor: 1, Header: rw.header, Close: closing,
		ContentLength: int64(rw.body.Len()), Body: io.NopCloser(&rw.body)}
	var out bytes.Buffer
	resp.Write(&out)
	p.conn.SetWriteDeadline(time.Now().Add(parkWriteTimeout))
	_, werr := p.conn.Write(out.Bytes())
	if werr != nil || closing {
		p.conn.Close()
	} else {
		p.conn.SetDeadline(time.Time{})
		lot.back.handBack(p.conn)
	}
	p.late.answered(rw.status)
}

// bufferedAnswer is an http.ResponseWriter that keeps the answer, for
// writeJSON and writeError.
type bufferedAnswer struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferedAnswer) Header() http.Header { return b.header }

func (b *bufferedAnswer) WriteHeader(status int) {
	if b.status == 0 {
		b.status = status
	}
}

func (b *bufferedAnswer) Write(p []byte) (int, error) {
	b.WriteHeader(http.StatusOK)
	return b.body.Write(p)
}

// parkQueue is a min-heap of parked polls by deadline (container/heap).
type parkQueue []*parkedPoll

func (q parkQueue) Len() int           { return len(q) }
func (q parkQueue) Less(i, j int) bool { return q[i].deadline.Before(q[j].deadline) }
func (q parkQueue) Swap(i, j int) {
	q[i], q[j] = q[j], q[i]
	q[i].index, q[j].index = i, j
}
func (q *parkQueue) Push(x any) {
	p := x.(*parkedPoll)
	p.index = len(*q)
	*q = append(*q, p)
}
func (q *parkQueue) Pop() any {
	old := *q
	p := old[len(old)-1]
	old[len(old)-1] = nil
	*q = old[:len(old)-1]
	p.index = -1
	return p
}

// handbackListener is the listener http.Server accepts from: new
// connections from the inner listener, and connections of answered parked
// polls handed back for their next request.
type handbackListener struct {
	net.Listener
	back     chan net.Conn
	accepted chan acceptResult
	done     chan struct{}
	once     sync.Once

	mu sync.Mutex
	// waiting are the handed-back connections without a new request yet
	// (http.StateNew, which Shutdown would wait 5 s for).
	waiting map[net.Conn]struct{}
}

type acceptResult struct {
	c   net.Conn
	err error
}

func newHandbackListener(inner net.Listener) *handbackListener {
	l := &handbackListener{Listener: inner, back: make(chan net.Conn), accepted: make(chan acceptResult), done: make(chan struct{}),
		waiting: map[net.Conn]struct{}{}}
	go l.pump()
	return l
}

// pump accepts from the inner listener until it fails for good or l is
// closed.
func (l *handbackListener) pump() {
	defer close(l.accepted)
	for {
		c, err := l.Listener.Accept()
		select {
		case l.accepted <- acceptResult{c, err}:
		case <-l.done:
			if c != nil {
				c.Close()
			}
			return
		}
		var te interface{ Temporary() bool } // as http.Server retries them
		if err != nil && !(errors.As(err, &te) && te.Temporary()) {
			return
		}
	}
}

// Accept returns a handed-back or a new connection.
func (l *handbackListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.back:
		return c, nil
	case a, ok := <-l.accepted:
		if !ok {
			return nil, net.ErrClosed
		}
		return a.c, a.err
	}
}

// Close closes the inner listener (once; Serve and Shutdown both call
// it); handed-back connections are closed from now on.
func (l *handbackListener) Close() error {
	var err error
	l.once.Do(func() {
		close(l.done)
		err = l.Listener.Close()
	})
	return err
}

// handBack gives c to the http.Server for its next request, or closes it
// when the listener is closed.
func (l *handbackListener) handBack(c net.Conn) {
	l.mu.Lock()
	l.waiting[c] = struct{}{}
	l.mu.Unlock()
	select {
	case l.back <- c:
	case <-l.done:
		l.connState(c, http.StateClosed)
		c.Close()
	}
}

// connState is http.Server.ConnState: a handed-back connection that
// carries a request (or is gone) is no longer waiting.
func (l *handbackListener) connState(c net.Conn, st http.ConnState) {
	if st == http.StateNew {
		return
	}
	l.mu.Lock()
	delete(l.waiting, c)
	l.mu.Unlock()
}

// closeWaiting closes the handed-back connections that have no new request
// yet, as Shutdown closes idle ones. Call it after Close.
func (l *handbackListener) closeWaiting() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for c := range l.waiting {
		c.Close()
	}
	clear(l.waiting)
}

// lateAnswer carries the status of an answer written after its handler
// returned (a parked poll) to the middleware that counts and logs answers
// (afterAnswer).
type lateAnswer struct {
	mu     sync.Mutex
	parked bool
	status int // once answered
	then   []func(status int)
}

type lateAnswerKey struct{}

// withLateAnswer returns r with a lateAnswer for afterAnswer.
func withLateAnswer(r *http.Request) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), lateAnswerKey{}, &lateAnswer{}))
}

// lateAnswerOf marks r's answer as coming later and returns its
// lateAnswer (a fresh one when the middleware made none).
func lateAnswerOf(r *http.Request) *lateAnswer {
	la, _ := r.Context().Value(lateAnswerKey{}).(*lateAnswer)
	if la == nil {
		la = &lateAnswer{}
	}
	la.mu.Lock()
	la.parked = true
	la.mu.Unlock()
	return la
}

// answered reports the late answer's status.
func (la *lateAnswer) answered(status int) {
	la.mu.Lock()
	la.status = status
	then := la.then
	la.then = nil
	la.mu.Unlock()
	for _, fn := range then {
		fn(status)
	}
}

// afterAnswer calls fn with the status of r's answer: status now, or the
// late answer's once it is written.
func afterAnswer(r *http.Request, status int, fn func(status int)) {
	if la, _ := r.Context().Value(lateAnswerKey{}).(*lateAnswer); la != nil {
		la.mu.Lock()
		if la.parked && la.status == 0 {
			la.then = append(la.then, fn)
			la.mu.Unlock()
			return
		}
		if la.parked {
			status = la.status
		}
		la.mu.Unlock()
	}
	fn(status)
}
