package tea

// Tests for the nodeconsole patch (README.md): the renderer's ticker runs
// only while there are frames to draw.

import (
	"context"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"
)

// countingRenderer wraps the real renderer and records every flush and
// which view content it drew.
type countingRenderer struct {
	renderer
	mu      sync.Mutex
	flushes int
	last    string // content of the latest render
	drawn   string // content at the latest flush
	flushed chan struct{}
}

func (r *countingRenderer) render(v View) {
	r.mu.Lock()
	r.last = v.Content
	r.mu.Unlock()
	r.renderer.render(v)
}

func (r *countingRenderer) flush(closing bool) error {
	err := r.renderer.flush(closing)
	r.mu.Lock()
	r.flushes++
	r.drawn = r.last
	r.mu.Unlock()
	select {
	case r.flushed <- struct{}{}:
	default:
	}
	return err
}

func (r *countingRenderer) state() (int, string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.flushes, r.drawn
}

// waitDrawn waits until a flush has drawn want.
func (r *countingRenderer) waitDrawn(t *testing.T, want string) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		if _, got := r.state(); got == want {
			return
		}
		select {
		case <-r.flushed:
		case <-deadline:
			_, got := r.state()
			t.Fatalf("view %q never drawn; last drawn %q", want, got)
		}
	}
}

type setMsg int

type counterModel struct{ n int }

func (m *counterModel) Init() Cmd { return nil }

func (m *counterModel) Update(msg Msg) (Model, Cmd) {
	if n, ok := msg.(setMsg); ok {
		m.n = int(n)
	}
	return m, nil
}

func (m *counterModel) View() View { return NewView(fmt.Sprintf("n=%d", m.n)) }

func startCounting(t *testing.T, fps int) (*Program, *countingRenderer) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	p := NewProgram(&counterModel{}, WithContext(ctx), WithInput(nil), WithOutput(io.Discard),
		WithFPS(fps), WithWindowSize(80, 24))
	r := &countingRenderer{renderer: newCursedRenderer(io.Discard, nil, 80, 24), flushed: make(chan struct{}, 1)}
	p.renderer = r
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = p.Run()
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return p, r
}

// settle waits until a whole window of ticks passes without a flush, and
// fails if that never happens: the renderer keeps ticking while idle.
func settle(t *testing.T, r *countingRenderer, window time.Duration) {
	t.Helper()
	for range 20 {
		n0, _ := r.state()
		time.Sleep(window)
		if n1, _ := r.state(); n1 == n0 {
			return
		}
	}
	n, _ := r.state()
	t.Fatalf("the renderer still flushes while nothing changes (%d flushes so far)", n)
}

// TestRendererSleepsWhileIdle: once the view stops changing, the renderer
// stops flushing (upstream v2.0.10 flushes on every tick, forever).
func TestRendererSleepsWhileIdle(t *testing.T) {
	t.Parallel()
	const fps = 120
	window := 30 * time.Second / fps // 30 frame intervals
	_, r := startCounting(t, fps)
	r.waitDrawn(t, "n=0")
	settle(t, r, window)
}

// TestRendererWakesForEveryChange: after an idle stretch a change is drawn,
// and in a burst of changes the last one is always drawn.
func TestRendererWakesForEveryChange(t *testing.T) {
	t.Parallel()
	const fps = 120
	window := 30 * time.Second / fps
	p, r := startCounting(t, fps)
	r.waitDrawn(t, "n=0")
	for round := 1; round <= 3; round++ {
		settle(t, r, window)
		n0, _ := r.state()
		p.Send(setMsg(round))
		r.waitDrawn(t, fmt.Sprintf("n=%d", round))
		if n1, _ := r.state(); n1 != n0+1 {
			t.Errorf("round %d: one change took %d flushes, want 1", round, n1-n0)
		}
	}

	// A burst: many changes, far fewer frames than changes (the FPS cap
	// still coalesces), and the final state is drawn.
	settle(t, r, window)
	n0, _ := r.state()
	const burst = 500
	for i := 1; i <= burst; i++ {
		p.Send(setMsg(100 + i))
	}
	r.waitDrawn(t, fmt.Sprintf("n=%d", 100+burst))
	if n1, _ := r.state(); n1-n0 >= burst {
		t.Errorf("a burst of %d changes took %d flushes: not coalesced", burst, n1-n0)
	}
	settle(t, r, window)
}
