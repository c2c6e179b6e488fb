package netconfig

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/nodeconsole/nodeconsole/atomicfile"
)

// SavedConfigFile is the name of the saved config in the state dir.
const SavedConfigFile = "network.json"

// ErrNoSavedConfig means no network config has been saved yet.
var ErrNoSavedConfig = errors.New("netconfig: no saved network config")

// NetworkdFileName returns the name of the systemd-networkd file rendered
// for ifname.
func NetworkdFileName(ifname string) string { return "10-nodeconsole-" + ifname + ".network" }

// RenderNetworkd renders cfg as a systemd-networkd .network file.
func RenderNetworkd(cfg Config) []byte {
	var b bytes.Buffer
	b.WriteString("# Written by nodeconsole (network settings); changes here are overwritten.\n")
	fmt.Fprintf(&b, "[Match]\nName=%s\n\n", cfg.Interface)
	if cfg.MTU != 0 {
		fmt.Fprintf(&b, "[Link]\nMTUBytes=%d\n\n", cfg.MTU)
	}
	b.WriteString("[Network]\n")
	if cfg.Mode == ModeDHCP {
		b.WriteString("DHCP=ipv4\n")
		return b.Bytes()
	}
	fmt.Fprintf(&b, "Address=%s\n", cfg.Address)
	if cfg.DefaultRoute && !cfg.OnLink() {
		fmt.Fprintf(&b, "Gateway=%s\n", cfg.Gateway)
	}
	for _, d := range cfg.DNS {
		fmt.Fprintf(&b, "DNS=%s\n", d)
	}
	if cfg.DefaultRoute && cfg.OnLink() {
		fmt.Fprintf(&b, "\n[Route]\nGateway=%s\nGatewayOnLink=yes\n", cfg.Gateway)
	}
	for _, r := range cfg.Routes {
		fmt.Fprintf(&b, "\n[Route]\nDestination=%s\nGateway=%s\n", r.Dst, r.Gateway)
		if cfg.OnLink() {
			b.WriteString("GatewayOnLink=yes\n")
		}
	}
	return b.Bytes()
}

// save writes cfg to stateDir/network.json and, when networkdDir is set,
// the .network file for its interface, removing nodeconsole's files for
// other interfaces. Each file is written atomically.
func save(stateDir, networkdDir string, cfg Config) error {
	if stateDir == "" {
		return errors.New("netconfig: save network config: no state dir configured")
	}
	data, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return fmt.Errorf("netconfig: save network config: %w", err)
	}
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
	name := NetworkdFileName(cfg.Interface)
	if err := atomicfile.WriteFile(filepath.Join(networkdDir, name), RenderNetworkd(cfg), 0o644); err != nil {
		return fmt.Errorf("netconfig: write networkd file: %w", err)
	}
	old, err := filepath.Glob(filepath.Join(networkdDir, "10-nodeconsole-*.network"))
	if err != nil {
		return fmt.Errorf("netconfig: list networkd files: %w", err)
	}
	for _, p := range old {
		if filepath.Base(p) != name && strings.HasPrefix(filepath.Base(p), "10-nodeconsole-") {
			if err := atomicfile.Remove(p); err != nil {
				return fmt.Errorf("netconfig: remove stale networkd file: %w", err)
			}
		}
	}
	return nil
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
