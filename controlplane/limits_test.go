package controlplane

import (
	"testing"
	"time"

	"github.com/nodeconsole/nodeconsole/controlplane/ratelimit"
)

// TestOpenSharesLimits: Open gives every limiter, the login ones too, the
// replica's share of its limit (ratelimit's TestReplicasShareLimits: the
// shares together allow what one server does).
func TestOpenSharesLimits(t *testing.T) {
	s, err := Open(Options{DataDir: t.TempDir(), Replicas: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got, want := s.lookups.Limit(), ratelimit.Defaults().LookupPerPrincipal.Share(3); got != want {
		t.Errorf("lookups limit %v, want %v", got, want)
	}
	// The portal's budgets (its TOTP one is 5 per 30 s: portal's
	// TestLoginBudgets) get the replica's share.
	if got, want := s.portalLimiter(5, 30*time.Second).(*ratelimit.Limiter).Limit(), (ratelimit.Limit{Burst: 2, Every: 90 * time.Second}); got != want {
		t.Errorf("portal TOTP limit %v, want %v", got, want)
	}
}
