//go:build !linux

package netconfig

import (
	"context"
	"errors"
	"log/slog"
	"net/netip"

	"github.com/vishvananda/netlink"
)

// NetlinkBackend outside Linux fails every call; use Simulated.
type NetlinkBackend struct{}

var errNoNetlink = errors.New("netconfig: changing the network needs Linux netlink")

// NewNetlinkBackend returns a Backend that always fails outside Linux, so
// that programs using it still build there.
func NewNetlinkBackend(h *netlink.Handle, resolvConf string, log *slog.Logger) *NetlinkBackend {
	return &NetlinkBackend{}
}

// Snapshot implements Backend.
func (*NetlinkBackend) Snapshot(context.Context, string) (*Snapshot, error) { return nil, errNoNetlink }

// ReplaceAddrs implements Backend.
func (*NetlinkBackend) ReplaceAddrs(context.Context, string, []netip.Prefix) error {
	return errNoNetlink
}

// LinkUp implements Backend.
func (*NetlinkBackend) LinkUp(context.Context, string) error { return errNoNetlink }

// ReplaceDefaultRoute implements Backend.
func (*NetlinkBackend) ReplaceDefaultRoute(context.Context, string, netip.Addr, bool) error {
	return errNoNetlink
}

// AddVLAN implements Backend.
func (*NetlinkBackend) AddVLAN(context.Context, string, int, string) error { return errNoNetlink }

// DeleteLink implements Backend.
func (*NetlinkBackend) DeleteLink(context.Context, string) error { return errNoNetlink }

// SetMTU implements Backend.
func (*NetlinkBackend) SetMTU(context.Context, string, int) error { return errNoNetlink }

// ReplaceRoutes implements Backend.
func (*NetlinkBackend) ReplaceRoutes(context.Context, string, []Route, bool) error {
	return errNoNetlink
}

// WriteDNS implements Backend.
func (*NetlinkBackend) WriteDNS(context.Context, []netip.Addr) error { return errNoNetlink }

// WithNetns returns b (no namespaces outside Linux).
func (b *NetlinkBackend) WithNetns(func(func() error) error) *NetlinkBackend { return b }

// KernelIPv6Mode is IPv6Unset outside Linux.
func KernelIPv6Mode(string) IPv6Mode { return IPv6Unset }

// SetIPv6 implements Backend.
func (*NetlinkBackend) SetIPv6(context.Context, string, IPv6Settings) error { return errNoNetlink }

// Restore implements Backend.
func (*NetlinkBackend) Restore(context.Context, *Snapshot) error { return errNoNetlink }

// ResolveNeighbor implements NeighborResolver.
func (*NetlinkBackend) ResolveNeighbor(context.Context, string, netip.Addr) (string, error) {
	return "", errNoNetlink
}
