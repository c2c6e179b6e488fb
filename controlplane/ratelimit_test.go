package controlplane

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
		if got := sourceKey(in); got != want {
			t.Errorf("sourceKey(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestReplicasShareLimits: n replicas, each with its share of a limit,
// let an attacker who spreads attempts over all of them make at most what
// one server allows (plus n-1 of rounding) in a code's lifetime; Open
// gives every limiter, the login ones too, its share.
func TestReplicasShareLimits(t *testing.T) {
	attempts := func(l Limit, n int) int {
		ls := make([]*limiter, n)
		for i := range ls {
			ls[i] = newLimiter(l.Share(n))
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
	d := DefaultRateLimits()
	for _, l := range []Limit{d.LookupPerPrincipal, d.FailPerTarget, d.FailPerIP, {Burst: 5, Every: 30 * time.Second}} {
		one := attempts(l, 1)
		for n := 2; n <= 5; n++ {
			if got := attempts(l, n); got > one+n-1 {
				t.Errorf("%v over %d replicas: %d attempts, one server allows %d", l, n, got, one)
			}
		}
	}

	s, err := Open(Options{DataDir: t.TempDir(), Replicas: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got, want := s.lookups.limit, d.LookupPerPrincipal.Share(3); got != want {
		t.Errorf("lookups limit %v, want %v", got, want)
	}
	// The portal's budgets (its TOTP one is 5 per 30 s: portal's
	// TestLoginBudgets) get the replica's share.
	if got, want := s.portalLimiter(5, 30*time.Second).(*limiter).limit, (Limit{Burst: 2, Every: 90 * time.Second}); got != want {
		t.Errorf("portal TOTP limit %v, want %v", got, want)
	}
}
