package netconfig

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/nodeconsole/nodeconsole/atomicfile"
)

// SavedConfigFile is the name of the saved config in the state dir.
const SavedConfigFile = "network.json"

// ErrNoSavedConfig means no network config has been saved yet.
var ErrNoSavedConfig = errors.New("netconfig: no saved network config")

// NetworkdFileName returns the name of the systemd-networkd file rendered
// for ifname.
func NetworkdFileName(ifname string) string { return "10-nodeconsole-" + ifname + ".network" }

const networkdHeader = "# Written by nodeconsole (network settings); changes here are overwritten.\n"

// RenderNetworkd renders cfg as a systemd-networkd .network file.
func RenderNetworkd(cfg Config) []byte {
	var b bytes.Buffer
	b.WriteString(networkdHeader)
	fmt.Fprintf(&b, "[Match]\nName=%s\n\n", cfg.Interface)
	if cfg.MTU != 0 {
		fmt.Fprintf(&b, "[Link]\nMTUBytes=%d\n\n", cfg.MTU)
	}
	b.WriteString("[Network]\n")
	switch {
	case cfg.Mode == ModeDHCP && cfg.IPv6 == IPv6DHCP:
		b.WriteString("DHCP=yes\n")
	case cfg.Mode == ModeDHCP:
		b.WriteString("DHCP=ipv4\n")
	case cfg.IPv6 == IPv6DHCP:
		b.WriteString("DHCP=ipv6\n")
	}
	switch cfg.IPv6 {
	case IPv6Off:
		// networkd has no disable_ipv6 switch: no link-local address and
		// no router advertisements leave the link without IPv6.
		b.WriteString("LinkLocalAddressing=no\nIPv6AcceptRA=no\n")
	case IPv6Auto, IPv6DHCP:
		b.WriteString("IPv6AcceptRA=yes\n")
	case IPv6Static:
		b.WriteString("IPv6AcceptRA=no\n")
	}
	if cfg.IPv6 == IPv6Static {
		fmt.Fprintf(&b, "Address=%s\n", cfg.Address6)
		if cfg.Gateway6.IsValid() {
			fmt.Fprintf(&b, "Gateway=%s\n", cfg.Gateway6)
		}
	}
	if cfg.Mode == ModeDHCP {
		renderRoutes(&b, cfg.routes(true), false)
		return b.Bytes()
	}
	fmt.Fprintf(&b, "Address=%s\n", cfg.Address)
	if cfg.DefaultRoute && !cfg.OnLink() {
		fmt.Fprintf(&b, "Gateway=%s\n", cfg.Gateway)
	}
	for _, d := range append(slices.Clone(cfg.DNS), cfg.DNS6...) {
		fmt.Fprintf(&b, "DNS=%s\n", d)
	}
	if cfg.DefaultRoute && cfg.OnLink() {
		fmt.Fprintf(&b, "\n[Route]\nGateway=%s\nGatewayOnLink=yes\n", cfg.Gateway)
	}
	renderRoutes(&b, cfg.routes(false), cfg.OnLink())
	renderRoutes(&b, cfg.routes(true), false)
	return b.Bytes()
}

// renderRoutes writes a [Route] section per route (onlink: the gateways
// are outside the subnet).
func renderRoutes(b *bytes.Buffer, routes []Route, onlink bool) {
	for _, r := range routes {
		fmt.Fprintf(b, "\n[Route]\nDestination=%s\nGateway=%s\n", r.Dst, r.Gateway)
		if onlink {
			b.WriteString("GatewayOnLink=yes\n")
		}
	}
}

// save writes cfg to stateDir/network.json and, when networkdDir is set,
// the .network file for its interface, removing nodeconsole's files for
// other interfaces. Each file is written atomically.
func save(stateDir, networkdDir string, cfg Config, now time.Time) error {
	if stateDir == "" {
		return errors.New("netconfig: save network config: no state dir configured")
	}
	var prev *Config
	switch c, err := loadSaved(stateDir); {
	case err == nil:
		prev = &c
	case !errors.Is(err, ErrNoSavedConfig):
		return fmt.Errorf("netconfig: save network config: %w", err)
	}
	history, err := savedHistory(stateDir)
	if err != nil {
		return fmt.Errorf("netconfig: save network config: %w", err)
	}
	data, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return fmt.Errorf("netconfig: save network config: %w", err)
	}
	hist, err := json.MarshalIndent(withHistory(history, prev, cfg, now), "  ", "  ")
	if err != nil {
		return fmt.Errorf("netconfig: save network config: %w", err)
	}
	// The config's own fields stay at the top level (what loadSaved and
	// older versions read); the history follows them.
	data = append(bytes.TrimSuffix(data, []byte("\n}")), ",\n  \"history\": "...)
	data = append(append(data, hist...), "\n}"...)
	if err := os.MkdirAll(stateDir, 0o755); err != nil {
		return fmt.Errorf("netconfig: save network config: %w", err)
	}
	if err := atomicfile.WriteFile(filepath.Join(stateDir, SavedConfigFile), append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("netconfig: save network config: %w", err)
	}
	if networkdDir == "" {
		return nil
	}
	if err := os.MkdirAll(networkdDir, 0o755); err != nil {
		return fmt.Errorf("netconfig: write networkd file: %w", err)
	}
	files := NetworkdFiles(cfg)
	for name, data := range files {
		if err := atomicfile.WriteFile(filepath.Join(networkdDir, name), data, 0o644); err != nil {
			return fmt.Errorf("netconfig: write networkd file: %w", err)
		}
	}
	for _, pattern := range []string{"10-nodeconsole-*.network", "10-nodeconsole-*.netdev"} {
		old, err := filepath.Glob(filepath.Join(networkdDir, pattern))
		if err != nil {
			return fmt.Errorf("netconfig: list networkd files: %w", err)
		}
		for _, p := range old {
			if _, keep := files[filepath.Base(p)]; !keep {
				if err := atomicfile.Remove(p); err != nil {
					return fmt.Errorf("netconfig: remove stale networkd file: %w", err)
				}
			}
		}
	}
	return nil
}

// NetworkdFiles returns the systemd-networkd files for cfg by name: the
// .network file of its interface, and for a VLAN the .netdev that creates
// the VLAN link, the NIC's .network that attaches it, and the VLAN link's
// .network with the settings.
func NetworkdFiles(cfg Config) map[string][]byte {
	if cfg.VLAN == 0 {
		return map[string][]byte{NetworkdFileName(cfg.Interface): RenderNetworkd(cfg)}
	}
	link := cfg.Link()
	return map[string][]byte{
		"10-nodeconsole-" + link + ".netdev": fmt.Appendf(nil, "%s[NetDev]\nName=%s\nKind=vlan\n\n[VLAN]\nId=%d\n", networkdHeader, link, cfg.VLAN),
		NetworkdFileName(cfg.Interface):      fmt.Appendf(nil, "%s[Match]\nName=%s\n\n[Network]\nVLAN=%s\nLinkLocalAddressing=no\n", networkdHeader, cfg.Interface, link),
		NetworkdFileName(link):               RenderNetworkd(cfg.forLink()),
	}
}

// loadSaved reads stateDir/network.json.
func loadSaved(stateDir string) (Config, error) {
	data, err := os.ReadFile(filepath.Join(stateDir, SavedConfigFile))
	if errors.Is(err, fs.ErrNotExist) {
		return Config{}, ErrNoSavedConfig
	}
	if err != nil {
		return Config{}, fmt.Errorf("netconfig: read saved network config: %w", err)
	}
	var cfg Config
	if err := json.Unmarshal(data, &cfg); err != nil {
		return Config{}, fmt.Errorf("netconfig: parse saved network config %s: %w", filepath.Join(stateDir, SavedConfigFile), err)
	}
	return cfg, nil
}
