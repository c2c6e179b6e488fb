package portal

import (
	"testing"
	"time"
)

type budget struct {
	burst int
	every time.Duration
}

func (budget) Wait(string, time.Time) time.Duration { return 0 }
func (budget) Charge(string, time.Time)             {}

// TestLoginBudgets pins the log-in failure budgets the portal asks the
// server for (the server takes its replica's share of each).
func TestLoginBudgets(t *testing.T) {
	lt := newLoginThrottle(func(burst int, every time.Duration) Limiter { return budget{burst, every} })
	for name, c := range map[string]struct {
		got  Limiter
		want budget
	}{
		"user":   {lt.user, budget{10, 30 * time.Second}},
		"device": {lt.device, budget{10, 6 * time.Second}},
		"totp":   {lt.totp, budget{5, 30 * time.Second}},
	} {
		if c.got != c.want {
			t.Errorf("%s budget %v, want %v", name, c.got, c.want)
		}
	}
}
