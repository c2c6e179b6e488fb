package nodestatus

import (
	"testing"
	"time"

	"github.com/nodeconsole/nodeconsole/regclient"
)

func TestRegistrationLine(t *testing.T) {
	now := time.Now()
	past := now.Add(-time.Minute)
	for _, tt := range []struct {
		r    Registration
		want string
	}{
		{Registration{State: regclient.Unregistered}, "Unregistered"},
		{Registration{State: regclient.Registered, NodeName: "store-17", Project: "retail"}, "Registered as store-17 (retail)"},
		{Registration{State: regclient.Pending, UserCode: "BCDF-GHJK"}, "Awaiting activation (code BCDF-GHJK)"},
		{Registration{State: regclient.Pending, UserCode: "BCDF-GHJK", ExpiresAt: &past}, "Awaiting activation (code expired)"},
		{Registration{State: regclient.Pending}, "Awaiting activation"},
		// The key kept after a lost or refused certificate (issue 12).
		{Registration{State: regclient.Pending, Recovery: "The node certificate was damaged."}, "Certificate lost; key kept (register again)"},
	} {
		if got := tt.r.RegistrationLine(now); got != tt.want {
			t.Errorf("%+v: %q, want %q", tt.r, got, tt.want)
		}
	}
}
