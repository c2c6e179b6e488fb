package netconfig

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// MaxHistory is how many kept configurations network.json remembers.
const MaxHistory = 5

// HistoryEntry is one kept configuration: when it was kept and what it
// changed from the one kept before.
type HistoryEntry struct {
	Time    time.Time `json:"time"`
	Config  Config    `json:"config"`
	Changes []string  `json:"changes"`
}

// savedHistory reads the "history" list of stateDir/network.json (none:
// nil).
func savedHistory(stateDir string) ([]HistoryEntry, error) {
	data, err := os.ReadFile(filepath.Join(stateDir, SavedConfigFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("netconfig: read network history: %w", err)
	}
	var v struct {
		History []HistoryEntry `json:"history"`
	}
	if err := json.Unmarshal(data, &v); err != nil {
		return nil, fmt.Errorf("netconfig: parse network history in %s: %w", filepath.Join(stateDir, SavedConfigFile), err)
	}
	return v.History, nil
}

// withHistory returns history with cfg kept at now in front (described
// against the previously saved config prev, nil when none), at most
// MaxHistory entries.
func withHistory(history []HistoryEntry, prev *Config, cfg Config, now time.Time) []HistoryEntry {
	changes := []string{"first saved settings"}
	if prev != nil {
		changes = ConfigChanges(*prev, cfg)
	}
	out := append([]HistoryEntry{{Time: now.UTC().Truncate(time.Second), Config: cfg, Changes: changes}}, history...)
	return out[:min(len(out), MaxHistory)]
}

// ConfigChanges describes, one line per setting, what differs from a to b
// ("address 192.0.2.10/24 -> 192.0.2.20/24"); ["no change"] when nothing.
func ConfigChanges(a, b Config) []string {
	var out []string
	diff := func(name, x, y string) {
		if x != y {
			out = append(out, fmt.Sprintf("%s %s -> %s", name, orNone(x), orNone(y)))
		}
	}
	addr := func(p netip.Prefix) string {
		if !p.IsValid() {
			return ""
		}
		return p.String()
	}
	ip := func(a netip.Addr) string {
		if !a.IsValid() {
			return ""
		}
		return a.String()
	}
	num := func(n int) string {
		if n == 0 {
			return ""
		}
		return fmt.Sprint(n)
	}
	onOff := map[bool]string{true: "on", false: "off"}
	diff("interface", a.Interface, b.Interface)
	diff("vlan", num(a.VLAN), num(b.VLAN))
	diff("mode", string(a.Mode), string(b.Mode))
	diff("address", addr(a.Address), addr(b.Address))
	diff("gateway", ip(a.Gateway), ip(b.Gateway))
	diff("default route", onOff[a.DefaultRoute], onOff[b.DefaultRoute])
	diff("dns", joinAddrs(a.DNS), joinAddrs(b.DNS))
	diff("mtu", num(a.MTU), num(b.MTU))
	diff("ipv6", string(a.IPv6), string(b.IPv6))
	diff("ipv6 address", addr(a.Address6), addr(b.Address6))
	diff("ipv6 gateway", ip(a.Gateway6), ip(b.Gateway6))
	diff("ipv6 dns", joinAddrs(a.DNS6), joinAddrs(b.DNS6))
	if !slices.Equal(a.Routes, b.Routes) {
		diff("routes", strings.TrimSuffix(joinRoutes(a.Routes), "none"), strings.TrimSuffix(joinRoutes(b.Routes), "none"))
	}
	if len(out) == 0 {
		out = []string{"no change"}
	}
	return out
}
