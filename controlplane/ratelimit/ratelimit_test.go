package ratelimit

import (
	"testing"
	"time"
)

// Anonymous callers are limited per source: an IPv4 address (also written
// IPv4-mapped), or the /64 of an IPv6 address.
func TestSourceKey(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.10":               "192.0.2.10",
		"::ffff:192.0.2.10":        "192.0.2.10",
		"2001:db8:1:2::1":          "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff:ffff::": "2001:db8:1:2::/64",
		"2001:db8:1:3::1":          "2001:db8:1:3::/64",
		"fe80::1%eth0":             "fe80::/64",
		"not-an-address":           "not-an-address",
	} {
		if got := SourceKey(in); got != want {
			t.Errorf("SourceKey(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestReplicasShareLimits: n replicas, each with its share of a limit,
// let an attacker who spreads attempts over all of them make at most what
// one server allows (plus n-1 of rounding) in a code's lifetime
// (controlplane's TestOpenSharesLimits: Open gives every limiter its share).
func TestReplicasShareLimits(t *testing.T) {
	attempts := func(l Limit, n int) int {
		ls := make([]*Limiter, n)
		for i := range ls {
			ls[i] = New(l.Share(n))
		}
		start, count := time.Unix(1_800_000_000, 0), 0
		for at := time.Duration(0); at < 15*time.Minute; at += 100 * time.Millisecond {
			for _, lim := range ls {
				for lim.Wait("code-guesser", start.Add(at)) == 0 {
					lim.Charge("code-guesser", start.Add(at))
					count++
				}
			}
		}
		return count
	}
	d := Defaults()
	for _, l := range []Limit{d.LookupPerPrincipal, d.FailPerTarget, d.FailPerIP, {Burst: 5, Every: 30 * time.Second}} {
		one := attempts(l, 1)
		for n := 2; n <= 5; n++ {
			if got := attempts(l, n); got > one+n-1 {
				t.Errorf("%v over %d replicas: %d attempts, one server allows %d", l, n, got, one)
			}
		}
	}

}

// TestTakeWaitCharge: Take spends an attempt only when there is one, Wait
// spends none, Charge spends one even past zero but never more than Burst
// below it; a key refills at one attempt per Every.
func TestTakeWaitCharge(t *testing.T) {
	l := New(Limit{Burst: 2, Every: time.Second})
	t0 := time.Unix(1_800_000_000, 0)
	for i, want := range []time.Duration{0, 0, time.Second, time.Second} {
		if got := l.Take("k", t0); got != want {
			t.Fatalf("Take %d = %v, want %v", i+1, got, want)
		}
	}
	if got := l.Wait("other", t0); got != 0 {
		t.Fatalf("another key waits %v", got)
	}
	t1 := t0.Add(time.Second)
	if got := l.Wait("k", t1); got != 0 {
		t.Fatalf("after Every: Wait = %v, want 0", got)
	}
	for range 4 {
		l.Charge("k", t1)
	}
	if got := l.Wait("k", t1); got != 3*time.Second {
		t.Fatalf("after four charges on one attempt: Wait = %v, want 3s (floor at -Burst)", got)
	}
	var off *Limiter
	if off.Take("k", t0) != 0 || New(Limit{}).Take("k", t0) != 0 {
		t.Fatal("a nil or zero limiter refused")
	}
}
