package controlplane

import (
	"math"
	"sync"
	"time"
)

// Limit is a token bucket: Burst attempts at once, refilled at one attempt
// per Every.
type Limit struct {
	Burst int
	Every time.Duration
}

// RateLimits configures the limits on guessing. Failed user-code lookups and
// failed token registrations are charged to the source IP and to a global
// bucket; new enrollments are charged per source IP.
type RateLimits struct {
	FailPerIP   Limit
	FailGlobal  Limit
	EnrollPerIP Limit
}

// DefaultRateLimits: 10 failures per IP then one per 6 s; 100 failures in
// all then 2 per second; 30 enrollments per IP then one per 2 s.
func DefaultRateLimits() RateLimits {
	return RateLimits{
		FailPerIP:   Limit{Burst: 10, Every: 6 * time.Second},
		FailGlobal:  Limit{Burst: 100, Every: 500 * time.Millisecond},
		EnrollPerIP: Limit{Burst: 30, Every: 2 * time.Second},
	}
}

type bucket struct {
	tokens float64
	at     time.Time
}

// limiter is a set of token buckets keyed by string (source IP, or "" for a
// global bucket).
type limiter struct {
	limit Limit
	mu    sync.Mutex
	b     map[string]*bucket
}

func newLimiter(l Limit) *limiter { return &limiter{limit: l, b: make(map[string]*bucket)} }

// refill returns key's bucket brought up to now. Caller holds mu.
func (l *limiter) refill(key string, now time.Time) *bucket {
	b, ok := l.b[key]
	if !ok {
		if len(l.b) > 100000 { // bound memory: forget everyone
			l.b = make(map[string]*bucket)
		}
		b = &bucket{tokens: float64(l.limit.Burst), at: now}
		l.b[key] = b
	}
	if l.limit.Every > 0 && now.After(b.at) {
		b.tokens = math.Min(float64(l.limit.Burst), b.tokens+float64(now.Sub(b.at))/float64(l.limit.Every))
	}
	b.at = now
	return b
}

// wait reports how long until key may try again; 0 means now.
func (l *limiter) wait(key string, now time.Time) time.Duration {
	if l == nil || l.limit.Burst <= 0 {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.refill(key, now)
	if b.tokens >= 1 {
		return 0
	}
	return time.Duration((1 - b.tokens) * float64(l.limit.Every))
}

// take charges one attempt to key and reports how long to wait if there was
// none left (the attempt is then refused).
func (l *limiter) take(key string, now time.Time) time.Duration {
	if l == nil || l.limit.Burst <= 0 {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.refill(key, now)
	if b.tokens >= 1 {
		b.tokens--
		return 0
	}
	return time.Duration((1 - b.tokens) * float64(l.limit.Every))
}

// charge spends one attempt of key even if none is left (the bucket goes
// negative, so persistent guessing keeps being refused).
func (l *limiter) charge(key string, now time.Time) {
	if l == nil || l.limit.Burst <= 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.refill(key, now)
	b.tokens = math.Max(b.tokens-1, -float64(l.limit.Burst))
}
