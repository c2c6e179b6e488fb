package netconfig

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// cutShort is a Reader whose first reading has eth1 without an address
// and whose later ones last until their context ends, as a reading the
// lease wait's deadline interrupts.
type cutShort struct{ n atomic.Int32 }

func (c *cutShort) Read(ctx context.Context) (Status, error) {
	if c.n.Add(1) == 1 {
		return Status{Interfaces: []Interface{{Name: "eth1", State: LinkNoCarrier, Ethernet: true}}}, nil
	}
	<-ctx.Done()
	return Status{}, ctx.Err()
}

// TestLeaseWaitEndsWithItsFinding: when no lease comes, the address check
// says so ("no DHCP lease on eth1 within ..."), not what the deadline did
// to the reading under way ("context deadline exceeded", with the hint
// "Check the interface name.").
func TestLeaseWaitEndsWithItsFinding(t *testing.T) {
	p := &Prober{Reader: &cutShort{}, LeaseWait: 600 * time.Millisecond}
	if r := p.Lease(context.Background(), "eth1"); r.OK || r.Detail != "no DHCP lease on eth1 within 600ms" || !strings.Contains(r.Hint, "DHCP server") {
		t.Errorf("lease wait: %+v", r)
	}
}
