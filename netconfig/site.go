package netconfig

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/nodeconsole/nodeconsole/atomicfile"
	"github.com/nodeconsole/nodeconsole/proxyurl"
)

// Site is where the node's site settings go: its host name, the NTP
// servers of its time service and the HTTPS proxy for everything it sends
// to the control plane. `network hostname|ntp|proxy` and the console's
// Site settings both write them through it.
type Site struct {
	// HostnameFile receives the host name; HostnameCommand sets the
	// running one ({name} is replaced; empty: none, as in --demo).
	HostnameFile    string
	HostnameCommand []string
	// NTP says where the servers go and how the service reloads.
	NTP NTPOptions
	// ProxyDir is the config.d directory that ProxyDropIn goes to.
	ProxyDir string
}

// ProxyDropIn is the config.d file the proxy is written to; it sorts after
// user data (50-user-data.yaml), so the operator's last word wins.
const ProxyDropIn = "60-network-proxy.yaml"

// SetHostname validates name, writes it and sets the running host name.
func (s Site) SetHostname(ctx context.Context, name string) error {
	return SetHostname(ctx, s.HostnameFile, s.HostnameCommand, name)
}

// Hostname returns the name in the host name file ("" when none).
func (s Site) Hostname() (string, error) { return ReadHostname(s.HostnameFile) }

// SetNTP writes the servers and reloads the time service; it returns the
// file written.
func (s Site) SetNTP(ctx context.Context, servers []string) (string, error) {
	return SetNTP(ctx, s.NTP, servers)
}

// NTPServers returns the servers written for the time service (nil when
// none).
func (s Site) NTPServers() ([]string, error) {
	servers, _, err := ReadNTP(s.NTP)
	return servers, err
}

// SetProxy writes network.httpsProxy and network.noProxy to ProxyDropIn in
// ProxyDir, where every later command (register, renew, the console at its
// next start) reads them; proxy "" clears it. It returns the file written.
// A URL with credentials is written readable by the owner only.
func (s Site) SetProxy(proxy, noProxy string) (string, error) {
	if proxy != "" {
		u, err := ParseProxyURL(proxy)
		if err != nil {
			return "", err
		}
		proxy = u.String()
	}
	if err := ValidateNoProxy(noProxy); err != nil {
		return "", err
	}
	doc := map[string]any{"network": map[string]string{"httpsProxy": proxy, "noProxy": strings.TrimSpace(noProxy)}}
	body, err := yaml.Marshal(doc)
	if err != nil {
		return "", fmt.Errorf("netconfig: write the proxy: %w", err)
	}
	body = append([]byte("# Written by 'nodeconsole network proxy'; changes here are overwritten.\n"), body...)
	if err := os.MkdirAll(s.ProxyDir, 0o755); err != nil {
		return "", fmt.Errorf("netconfig: write the proxy: %w", err)
	}
	mode := os.FileMode(0o644)
	if strings.Contains(proxy, "@") {
		mode = 0o600
	}
	path := filepath.Join(s.ProxyDir, ProxyDropIn)
	if err := atomicfile.WriteFile(path, body, mode); err != nil {
		return "", fmt.Errorf("netconfig: write the proxy to %s: %w", path, err)
	}
	return path, nil
}

// ParseProxyURL checks a proxy URL as regclient uses it and returns it
// normalised (proxyurl.Parse, which config check applies to
// network.httpsProxy too). The error never quotes the URL.
func ParseProxyURL(s string) (*url.URL, error) { return proxyurl.Parse(s) }

// ProxyShown renders a proxy URL without its credentials, noting that
// there are some: what a screen, stdout or a log may show.
func ProxyShown(s string) string {
	u, err := ParseProxyURL(s)
	if err != nil {
		return "(invalid)"
	}
	shown := u.Scheme + "://" + u.Host
	if u.User != nil {
		shown += " (with credentials)"
	}
	return shown
}

// ValidateNoProxy checks a no-proxy list (proxyurl.ValidateNoProxy, which
// config check applies to network.noProxy too).
func ValidateNoProxy(list string) error { return proxyurl.ValidateNoProxy(list) }
