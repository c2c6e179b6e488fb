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
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
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
	Name  string `yaml:"name" json:"name,omitempty" check:"text"`
	Make  string `yaml:"make" json:"make,omitempty" check:"text"`
	Model string `yaml:"model" json:"model,omitempty" check:"text"`
}

// Site holds what the site installer configures for registration.
type Site struct {
	Endpoint string `yaml:"endpoint" json:"endpoint,omitempty" check:"https"`
	// RegistrationToken is a secret: never log or print it (see Redact).
	RegistrationToken string            `yaml:"registrationToken" json:"-"`
	Project           string            `yaml:"project" json:"project,omitempty" check:"text"`
	RegistrationURL   string            `yaml:"registrationURL" json:"registrationURL,omitempty" check:"https"`
	CACerts           []string          `yaml:"caCerts" json:"caCerts,omitempty"`
	Tags              map[string]string `yaml:"tags" json:"tags,omitempty" check:"text"`

	// PairingKey proves that this node is the one an admin pre-added with
	// that pairing key (Add Edge Hosts). A secret like RegistrationToken:
	// never log or print it (config check shows only whether it is set).
	PairingKey string `yaml:"pairingKey" json:"-"`
}

// Network holds proxy settings, the paths network changes write to, and
// how the DHCP client of the WAN interface is told about a change.
type Network struct {
	HTTPSProxy  string `yaml:"httpsProxy" json:"httpsProxy,omitempty" check:"proxy"`
	NoProxy     string `yaml:"noProxy" json:"noProxy,omitempty" check:"noproxy"`
	ResolvConf  string `yaml:"resolvConf" json:"resolvConf" check:"abspath" local:"file"`
	NetworkdDir string `yaml:"networkdDir" json:"networkdDir" check:"abspath" local:"file"`
	// DHCPClient is what runs DHCP on the WAN interface: auto (networkd
	// when systemd-networkd runs, else process), networkd, process
	// (dhclient, dhcpcd or udhcpc processes) or none (leave it alone).
	DHCPClient string `yaml:"dhcpClient" json:"dhcpClient" check:"oneof=auto|networkd|process|none"`
	// DHCPStartCommand and DHCPStopCommand replace the built-in start and
	// stop of a DHCP client process; {interface} is replaced.
	DHCPStartCommand []string `yaml:"dhcpStartCommand" json:"dhcpStartCommand,omitempty" local:"command"`
	DHCPStopCommand  []string `yaml:"dhcpStopCommand" json:"dhcpStopCommand,omitempty" local:"command"`
	// DHCP6StartCommand and DHCP6StopCommand do the same for the DHCPv6
	// client of IPv6 dhcp (built in: dhclient -6, dhcpcd -6 or busybox
	// udhcpc6, stopped by SIGTERM).
	DHCP6StartCommand []string `yaml:"dhcp6StartCommand" json:"dhcp6StartCommand,omitempty" local:"command"`
	DHCP6StopCommand  []string `yaml:"dhcp6StopCommand" json:"dhcp6StopCommand,omitempty" local:"command"`
	// DHCP6PidFile and DHCP6LeaseFile are the files of the built-in
	// DHCPv6 client ({interface} is replaced), apart from the DHCPv4
	// client's.
	DHCP6PidFile   string `yaml:"dhcp6PidFile" json:"dhcp6PidFile" check:"abspath" local:"file"`
	DHCP6LeaseFile string `yaml:"dhcp6LeaseFile" json:"dhcp6LeaseFile" check:"abspath" local:"file"`
	// NetworkdRuntimeDir receives the .network file of a change on trial
	// (volatile: gone after a reboot).
	NetworkdRuntimeDir string `yaml:"networkdRuntimeDir" json:"networkdRuntimeDir" check:"abspath" local:"file"`
	// NetworkdReloadCommand makes systemd-networkd re-read its files.
	NetworkdReloadCommand []string `yaml:"networkdReloadCommand" json:"networkdReloadCommand" local:"command"`
	// HostnameFile receives the name `network hostname` sets.
	HostnameFile string `yaml:"hostnameFile" json:"hostnameFile" check:"abspath" local:"file"`
	// HostnameCommand sets the running host name ({name} is replaced);
	// empty: only the file is written.
	HostnameCommand []string `yaml:"hostnameCommand" json:"hostnameCommand,omitempty" local:"command"`
	// NTPClient is the time service `network ntp` configures: auto (chrony
	// when the directory of ChronySources exists, else timesyncd),
	// timesyncd or chrony.
	NTPClient string `yaml:"ntpClient" json:"ntpClient" check:"oneof=auto|timesyncd|chrony"`
	// TimesyncdDropIn and ChronySources are the files written for each.
	TimesyncdDropIn string `yaml:"timesyncdDropIn" json:"timesyncdDropIn" check:"abspath" local:"file"`
	ChronySources   string `yaml:"chronySources" json:"chronySources" check:"abspath" local:"file"`
	// NTPReloadCommand makes the time service re-read its servers; empty:
	// systemctl try-restart systemd-timesyncd, or chronyc reload sources.
	NTPReloadCommand []string `yaml:"ntpReloadCommand" json:"ntpReloadCommand,omitempty" local:"command"`
}

// Console holds the commands the console runs on the operator's behalf.
type Console struct {
	// RebootCommand and PoweroffCommand run from the menu's Reboot and
	// Shut down (and after a registration that needs a reboot).
	RebootCommand   []string `yaml:"rebootCommand" json:"rebootCommand" local:"command"`
	PoweroffCommand []string `yaml:"poweroffCommand" json:"poweroffCommand" local:"command"`
	UpgradeCommand  []string `yaml:"upgradeCommand" json:"upgradeCommand,omitempty" local:"command"`
	// IdleLogout ends the console session after this long without a key,
	// never while a network change is on trial or a registration waits;
	// 0 turns it off.
	IdleLogout time.Duration `yaml:"idleLogout" json:"idleLogout"`
}

// Model is a known make/model offered on the Register Node confirm screen.
type Model struct {
	Make     string `yaml:"make" json:"make" check:"text"`
	Model    string `yaml:"model" json:"model" check:"text"`
	Endpoint string `yaml:"endpoint" json:"endpoint,omitempty" check:"https"`
}

// Default returns the configuration used when no file sets a value.
func Default() Config {
	return Config{
		Network: Network{ResolvConf: "/etc/resolv.conf", NetworkdDir: "/etc/systemd/network",
			DHCPClient: "auto", NetworkdRuntimeDir: "/run/systemd/network",
			DHCP6PidFile: "/run/dhclient6.{interface}.pid", DHCP6LeaseFile: "/var/lib/dhcp/dhclient6.{interface}.leases",
			NetworkdReloadCommand: []string{"networkctl", "reload"},
			HostnameFile:          "/etc/hostname", HostnameCommand: []string{"hostname", "{name}"},
			NTPClient: "auto", TimesyncdDropIn: "/etc/systemd/timesyncd.conf.d/50-nodeconsole.conf",
			ChronySources: "/etc/chrony/sources.d/nodeconsole.sources"},
		Console: Console{RebootCommand: []string{"systemctl", "reboot"}, PoweroffCommand: []string{"systemctl", "poweroff"},
			IdleLogout: 15 * time.Minute},
	}
}

// Problem is one thing wrong with a config file.
type Problem struct {
	File string
	Line int    // 0 when the problem is not tied to a line
	Key  string // dotted path such as "site.endpoint"; "" for whole-file problems
	Msg  string
}

// String renders the problem as "file:line: key: message", with control
// characters escaped ("\x1b"): a key or value as user data spelled it
// reaches the console's screen and the terminal of `userdata apply`, and
// must not drive them.
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
	return escapeControl(b.String())
}

// escapeControl writes each control or format character, and each byte
// that is not UTF-8, as its Go escape.
func escapeControl(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, "\\x%02x", s[i])
		case r != ' ' && !unicode.IsPrint(r):
			q := strconv.QuoteRuneToASCII(r)
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
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

// UserDataDropIn is the drop-in in config.d that `userdata apply` writes
// user data to; Load merges it as user data (MergeUserData), so a key
// user data may not set is refused there too.
const UserDataDropIn = "50-user-data.yaml"

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
		probs = append(probs, MergeBytes(&cfg, path, data)...)
	case errors.Is(err, fs.ErrNotExist) && missingOK:
	default:
		probs = append(probs, Problem{File: path, Msg: "cannot read: " + errText(err)})
	}
	for _, f := range Files(path)[1:] {
		data, err := os.ReadFile(f)
		if err != nil {
			probs = append(probs, Problem{File: f, Msg: "cannot read: " + errText(err)})
			continue
		}
		if filepath.Base(f) == UserDataDropIn {
			probs = append(probs, mergeBytes(&cfg, f, data, true)...)
			continue
		}
		probs = append(probs, MergeBytes(&cfg, f, data)...)
	}
	return cfg, probs
}

// Parse decodes one config document, data read from file (the name only
// labels problems), onto Default(), with the same checks as Load: every
// problem carries file, line and key. It reads nothing from disk; user data
// and `config check` validate a document with it before writing it.
func Parse(file string, data []byte) (Config, Problems) {
	cfg := Default()
	probs := MergeBytes(&cfg, file, data)
	return cfg, probs
}

// Files returns the files Load reads for path, in order: path itself
// (whether or not it exists), then the config.d/*.yaml drop-ins there are.
func Files(path string) []string {
	dropins, _ := filepath.Glob(filepath.Join(filepath.Dir(path), "config.d", "*.yaml"))
	sort.Strings(dropins)
	return append([]string{path}, dropins...)
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

// endpointProblem says what is wrong with s as a control-plane URL, or "":
// it must be https://HOST[:PORT][/PATH] where HOST is a DNS name or a valid
// IP literal and PORT is 1-65535. Nothing is looked up.
func endpointProblem(s string) string {
	const example = "https://cp.example.com"
	if !strings.Contains(s, "://") {
		return fmt.Sprintf("must start with https:// (such as https://%s)", strings.TrimPrefix(s, "//"))
	}
	u, err := url.Parse(s)
	if err != nil {
		return "must be an https URL such as " + example
	}
	if u.Scheme != "https" {
		return "must use https, not " + u.Scheme
	}
	if u.User != nil {
		return "must not carry a user name or password"
	}
	host := u.Hostname()
	if host == "" {
		return "has no host name (such as " + example + ")"
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return fmt.Sprintf("port %s is not between 1 and 65535", p)
		}
	} else if strings.HasSuffix(u.Host, ":") {
		return "has an empty port"
	}
	if strings.HasPrefix(u.Host, "[") {
		if ip, err := netip.ParseAddr(host); err != nil || !ip.Is6() {
			return fmt.Sprintf("%s is not a valid IPv6 address", host)
		}
		return ""
	}
	if looksNumeric(host) {
		if _, err := netip.ParseAddr(host); err != nil {
			return fmt.Sprintf("%s is not a valid IP address", host)
		}
		return ""
	}
	for _, label := range strings.Split(strings.TrimSuffix(host, "."), ".") {
		if !validLabel(label) {
			return fmt.Sprintf("%q is not a valid host name", host)
		}
	}
	return ""
}

// looksNumeric reports whether host is digits and dots only: meant as an
// IPv4 address (a DNS name's last label is never all digits).
func looksNumeric(host string) bool {
	return strings.Trim(host, "0123456789.") == ""
}

func validLabel(l string) bool {
	if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
		return false
	}
	for _, r := range l {
		if !(r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

// ValidEndpoint returns nil when s is an https URL with a valid host and
// port, or an error sentence saying what is wrong. It does no DNS lookup.
func ValidEndpoint(s string) error {
	if msg := endpointProblem(s); msg != "" {
		return errors.New("the control-plane endpoint " + msg)
	}
	return nil
}
