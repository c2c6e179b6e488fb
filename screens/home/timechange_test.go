package home

import (
	"testing"
	"time"

	"github.com/nodeconsole/nodeconsole/nodestatus"
	"github.com/nodeconsole/nodeconsole/regclient"
)

// TestNextTimeChange: with a watcher nothing polls, so the screen sets one
// timer for the next line the clock alone changes, and none when no line
// will.
func TestNextTimeChange(t *testing.T) {
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	at := func(d time.Duration) *time.Time { x := now.Add(d); return &x }
	cert := func(left time.Duration) *nodestatus.Certificate {
		return &nodestatus.Certificate{NotAfter: now.Add(left)}
	}
	for _, tc := range []struct {
		name string
		s    nodestatus.Snapshot
		want time.Duration
	}{
		{"unregistered", nodestatus.Snapshot{Registration: nodestatus.Registration{State: regclient.Unregistered}}, 0},
		{"code expires in 10 min", nodestatus.Snapshot{Registration: nodestatus.Registration{State: regclient.Pending, ExpiresAt: at(10 * time.Minute)}}, 10*time.Minute + time.Second},
		{"code expired", nodestatus.Snapshot{Registration: nodestatus.Registration{State: regclient.Pending, ExpiresAt: at(-time.Minute)}}, 0},
		{"certificate far from its notice", nodestatus.Snapshot{Registration: nodestatus.Registration{State: regclient.Registered},
			Certificate: cert(regclient.RenewNotice + 48*time.Hour)}, 48*time.Hour + time.Second},
		{"certificate in its notice: hourly", nodestatus.Snapshot{Registration: nodestatus.Registration{State: regclient.Registered},
			Certificate: cert(3 * 24 * time.Hour)}, time.Hour},
		{"certificate expires in 10 min", nodestatus.Snapshot{Registration: nodestatus.Registration{State: regclient.Registered},
			Certificate: cert(10 * time.Minute)}, 10*time.Minute + time.Second},
		{"certificate expired", nodestatus.Snapshot{Registration: nodestatus.Registration{State: regclient.Registered},
			Certificate: cert(-time.Hour)}, 0},
	} {
		if got := nextTimeChange(tc.s, now); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
}
