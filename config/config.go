// Package config loads the nodeconsole configuration file (YAML) and the
// drop-ins in config.d/*.yaml next to it, merged in lexical order.
//
// Loading never fails as a whole: every problem (unreadable file, bad YAML,
// unknown key, bad value) is returned as a Problem naming the file, the line
// and the key, and the valid parts are still used. A broken drop-in never
// hides the primary file.
package config

import (
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// DefaultPath is where the config file lives on a node.
const DefaultPath = "/etc/nodeconsole/config.yaml"

// Config is the merged configuration.
type Config struct {
	Node    Node             `yaml:"node" json:"node"`
	Site    Site             `yaml:"site" json:"site"`
	Network Network          `yaml:"network" json:"network"`
	Console Console          `yaml:"console" json:"console"`
	Models  map[string]Model `yaml:"models" json:"models,omitempty"`
}

// Node describes the appliance itself.
type Node struct {
	// Name, when set, is the source of the node ID (see regclient.DeriveNodeID).
	Name  string `yaml:"name" json:"name,omitempty"`
	Make  string `yaml:"make" json:"make,omitempty"`
	Model string `yaml:"model" json:"model,omitempty"`
}

// Site holds what the site installer configures for registration.
type Site struct {
	Endpoint string `yaml:"endpoint" json:"endpoint,omitempty"`
	// RegistrationToken is a secret: never log or print it (see Redact).
	RegistrationToken string            `yaml:"registrationToken" json:"-"`
	Project           string            `yaml:"project" json:"project,omitempty"`
	RegistrationURL   string            `yaml:"registrationURL" json:"registrationURL,omitempty"`
	CACerts           []string          `yaml:"caCerts" json:"caCerts,omitempty"`
	Tags              map[string]string `yaml:"tags" json:"tags,omitempty"`

	// PairingKey proves that this node is the one an admin pre-added with
	// that pairing key (Add Edge Hosts). A secret like RegistrationToken:
	// never log or print it (config check shows only whether it is set).
	PairingKey string `yaml:"pairingKey" json:"-"`
}

// Network holds proxy settings, the paths network changes write to, and
// how the DHCP client of the WAN interface is told about a change.
type Network struct {
	HTTPSProxy  string `yaml:"httpsProxy" json:"httpsProxy,omitempty"`
	NoProxy     string `yaml:"noProxy" json:"noProxy,omitempty"`
	ResolvConf  string `yaml:"resolvConf" json:"resolvConf"`
	NetworkdDir string `yaml:"networkdDir" json:"networkdDir"`
	// DHCPClient is what runs DHCP on the WAN interface: auto (networkd
	// when systemd-networkd runs, else process), networkd, process
	// (dhclient, dhcpcd or udhcpc processes) or none (leave it alone).
	DHCPClient string `yaml:"dhcpClient" json:"dhcpClient"`
	// DHCPStartCommand and DHCPStopCommand replace the built-in start and
	// stop of a DHCP client process; {interface} is replaced.
	DHCPStartCommand []string `yaml:"dhcpStartCommand" json:"dhcpStartCommand,omitempty"`
	DHCPStopCommand  []string `yaml:"dhcpStopCommand" json:"dhcpStopCommand,omitempty"`
	// NetworkdRuntimeDir receives the .network file of a change on trial
	// (volatile: gone after a reboot).
	NetworkdRuntimeDir string `yaml:"networkdRuntimeDir" json:"networkdRuntimeDir"`
	// NetworkdReloadCommand makes systemd-networkd re-read its files.
	NetworkdReloadCommand []string `yaml:"networkdReloadCommand" json:"networkdReloadCommand"`
}

// DHCPClients are the values network.dhcpClient accepts.
var DHCPClients = []string{"auto", "networkd", "process", "none"}

// Console holds the commands the console runs on the operator's behalf.
type Console struct {
	RebootCommand  []string `yaml:"rebootCommand" json:"rebootCommand"`
	UpgradeCommand []string `yaml:"upgradeCommand" json:"upgradeCommand,omitempty"`
}

// Model is a known make/model offered on the Register Node confirm screen.
type Model struct {
	Make     string `yaml:"make" json:"make"`
	Model    string `yaml:"model" json:"model"`
	Endpoint string `yaml:"endpoint" json:"endpoint,omitempty"`
}

// Default returns the configuration used when no file sets a value.
func Default() Config {
	return Config{
		Network: Network{ResolvConf: "/etc/resolv.conf", NetworkdDir: "/etc/systemd/network",
			DHCPClient: "auto", NetworkdRuntimeDir: "/run/systemd/network",
			NetworkdReloadCommand: []string{"networkctl", "reload"}},
		Console: Console{RebootCommand: []string{"systemctl", "reboot"}},
	}
}

// Problem is one thing wrong with a config file.
type Problem struct {
	File string
	Line int    // 0 when the problem is not tied to a line
	Key  string // dotted path such as "site.endpoint"; "" for whole-file problems
	Msg  string
}

// String renders the problem as "file:line: key: message".
func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		fmt.Fprintf(&b, ":%d", p.Line)
	}
	b.WriteString(": ")
	if p.Key != "" {
		b.WriteString(p.Key + ": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// Problems is a list of config problems; it implements error.
type Problems []Problem

func (ps Problems) Error() string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return strings.Join(s, "; ")
}

// Load reads path and then path's directory's config.d/*.yaml in lexical
// order, each overriding what came before. A missing primary file is not a
// problem when missingOK is true (the default path on a laptop). It always
// returns a usable Config.
func Load(path string, missingOK bool) (Config, Problems) {
	cfg := Default()
	var probs Problems
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		probs = append(probs, mergeFile(&cfg, path, data)...)
	case errors.Is(err, fs.ErrNotExist) && missingOK:
	default:
		probs = append(probs, Problem{File: path, Msg: "cannot read: " + errText(err)})
	}
	dropins, err := filepath.Glob(filepath.Join(filepath.Dir(path), "config.d", "*.yaml"))
	if err == nil {
		sort.Strings(dropins)
		for _, f := range dropins {
			data, err := os.ReadFile(f)
			if err != nil {
				probs = append(probs, Problem{File: f, Msg: "cannot read: " + errText(err)})
				continue
			}
			probs = append(probs, mergeFile(&cfg, f, data)...)
		}
	}
	return cfg, probs
}

// Parse decodes one config document, data read from file (the name only
// labels problems), onto Default(), with the same checks as Load: every
// problem carries file, line and key. It reads nothing from disk; user data
// and `config check` validate a document with it before writing it.
func Parse(file string, data []byte) (Config, Problems) {
	cfg := Default()
	probs := mergeFile(&cfg, file, data)
	return cfg, probs
}

func errText(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// Redact shortens a secret to its first four characters, for logs and screens.
func Redact(secret string) string {
	if secret == "" {
		return ""
	}
	if len(secret) <= 4 {
		return "****"
	}
	return secret[:4] + "…"
}

// validEndpoint reports why s is not an https URL with a host, or "".
func validEndpoint(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return "must be an https URL such as https://cp.example.com"
	}
	if u.Scheme != "https" {
		return "must use https, not " + u.Scheme
	}
	return ""
}

// ValidEndpoint returns nil when s is an https URL with a host, or an error
// sentence saying what is wrong.
func ValidEndpoint(s string) error {
	if msg := validEndpoint(s); msg != "" {
		return errors.New("the control-plane endpoint " + msg)
	}
	return nil
}
