package netconfig

import (
	"context"
	"net/netip"
	"testing"
)

// TestPreviewRoutes: one line per static route, kept, added or removed.
func TestPreviewRoutes(t *testing.T) {
	st, _ := NewSimulated().Read(context.Background())
	route := func(dst, gw string) Route {
		return Route{Dst: netip.MustParsePrefix(dst), Gateway: netip.MustParseAddr(gw)}
	}
	for i := range st.Interfaces {
		if st.Interfaces[i].Name == "mgmt0" {
			st.Interfaces[i].Routes = []Route{route("10.0.0.0/8", "198.51.100.1"), route("172.16.0.0/12", "198.51.100.1")}
		}
	}
	cfg := Config{Interface: "mgmt0", Mode: ModeStatic, Address: netip.MustParsePrefix("198.51.100.20/24"),
		Routes: []Route{route("10.0.0.0/8", "198.51.100.1"), route("203.0.113.0/24", "198.51.100.254")}}
	diffLines(t, "preview", PreviewChanges(st, cfg).Lines(), []string{
		"Interface mgmt0",
		"Mode          static (unchanged)",
		"Address       198.51.100.20/24 (unchanged)",
		"Default route 192.0.2.1 via eth0 (unchanged)",
		"DNS           192.0.2.53 (unchanged)",
		"Route         10.0.0.0/8 via 198.51.100.1 (unchanged)",
		"Route         none -> 203.0.113.0/24 via 198.51.100.254 added",
		"Route         172.16.0.0/12 via 198.51.100.1 -> removed",
	})
}
