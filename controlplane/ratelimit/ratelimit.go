// Package ratelimit guards the control plane against guessing and
// unauthenticated load: token buckets keyed by string (Limiter), the limits
// a server runs with (Limits, Defaults) and one replica's share of them
// (Share), and the key an anonymous source is counted under (SourceKey).
// It knows nothing of HTTP or the store: the server decides what to key
// and when to charge.
package ratelimit

import (
	"math"
	"net/netip"
	"sync"
	"time"
)

// Limit is a token bucket: Burst attempts at once, refilled at one attempt
// per Every.
type Limit struct {
	Burst int
	Every time.Duration
}

// Limits configures the limits on guessing and on unauthenticated
// load. No bucket is shared between anonymous and authenticated callers, so
// anonymous traffic can never spend an admin's budget:
//
//   - anonymous callers are limited per source (an IPv4 address, or the
//     /64 of an IPv6 address; see SourceKey) and per target (a registration
//     token, a node ID's pairing key);
//   - authenticated callers are limited per principal (the credential they
//     proved; see access.Principal.Key), for failed user-code lookups (RFC 8628 §5.1).
type Limits struct {
	// FailPerIP: failures per source: bad, spent or revoked registration
	// tokens, wrong pairing keys, wrong admin bearer tokens, failed portal
	// logins. Past it the source gets 429 before its credential is checked.
	FailPerIP Limit
	// FailPerTarget: failures against one target (a registration token that
	// exists but is spent, expired or revoked; the pairing key of a node ID),
	// from any source.
	FailPerTarget Limit
	// LookupPerPrincipal: failed user-code lookups (Find, License, Deny, the
	// QR page) per admin credential.
	LookupPerPrincipal Limit
	// EnrollPerIP: new enrollments per source.
	EnrollPerIP Limit
}

// Defaults: 10 failures per source then one per 6 s; 20 failures
// per target then one per 30 s; 20 failed lookups per admin credential then
// one per 3 s; 30 enrollments per source then one per 2 s.
func Defaults() Limits {
	return Limits{
		FailPerIP:          Limit{Burst: 10, Every: 6 * time.Second},
		FailPerTarget:      Limit{Burst: 20, Every: 30 * time.Second},
		LookupPerPrincipal: Limit{Burst: 20, Every: 3 * time.Second},
		EnrollPerIP:        Limit{Burst: 30, Every: 2 * time.Second},
	}
}

// Share is one of n replicas' part of l: ceil(Burst/n) at once, refilled n
// times slower. n replicas together allow at most l plus n-1 attempts of
// rounding, so the RFC 8628 section 5.1 bound on guessing holds across
// them.
func (l Limit) Share(n int) Limit {
	if l.Burst <= 0 || n <= 1 {
		return l
	}
	return Limit{Burst: (l.Burst + n - 1) / n, Every: l.Every * time.Duration(n)}
}

// Share is Limit.Share of every limit.
func (r Limits) Share(n int) Limits {
	r.FailPerIP, r.FailPerTarget = r.FailPerIP.Share(n), r.FailPerTarget.Share(n)
	r.LookupPerPrincipal, r.EnrollPerIP = r.LookupPerPrincipal.Share(n), r.EnrollPerIP.Share(n)
	return r
}

// SourceKey is the key an anonymous request from ip is limited and counted
// under: an IPv4 address (also when written IPv4-mapped), or the /64 an IPv6
// address is in (one host usually holds a whole /64).
func SourceKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap().WithZone("")
	if a.Is4() {
		return a.String()
	}
	p, _ := a.Prefix(64)
	return p.String()
}

type bucket struct {
	tokens float64
	at     time.Time
}

// Limiter is a set of token buckets keyed by string (a source key, a
// target, a principal key), each refilled by one Limit. It is safe for
// concurrent use; a nil Limiter, or one with no Burst, never refuses.
type Limiter struct {
	limit Limit
	mu    sync.Mutex
	b     map[string]*bucket
}

// New returns a Limiter whose every key gets l.
func New(l Limit) *Limiter { return &Limiter{limit: l, b: make(map[string]*bucket)} }

// Limit is the limit every key of l gets.
func (l *Limiter) Limit() Limit { return l.limit }

// refill returns key's bucket brought up to now. Caller holds mu.
func (l *Limiter) refill(key string, now time.Time) *bucket {
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

// Wait reports how long until key may try again; 0 means now.
func (l *Limiter) Wait(key string, now time.Time) time.Duration { return l.try(key, now, false) }

// Take charges one attempt to key and reports how long to wait if there was
// none left (the attempt is then refused).
func (l *Limiter) Take(key string, now time.Time) time.Duration { return l.try(key, now, true) }

// try reports how long until key may try again (0: now) and, with take,
// spends the attempt it allows.
func (l *Limiter) try(key string, now time.Time, take bool) time.Duration {
	if l == nil || l.limit.Burst <= 0 {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.refill(key, now)
	if b.tokens >= 1 {
		if take {
			b.tokens--
		}
		return 0
	}
	return time.Duration((1 - b.tokens) * float64(l.limit.Every))
}

// Charge spends one attempt of key even if none is left (the bucket goes
// negative, so persistent guessing keeps being refused).
func (l *Limiter) Charge(key string, now time.Time) {
	if l == nil || l.limit.Burst <= 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.refill(key, now)
	b.tokens = math.Max(b.tokens-1, -float64(l.limit.Burst))
}
