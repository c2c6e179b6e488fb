// Package userdata reads site settings that come with the node instead of
// being typed at its console: a volume labelled CIDATA (ISO 9660 or FAT, as
// cloud-init's NoCloud reads it) with a user-data file at its root, or the
// cloud's instance metadata service (AWS IMDSv2, Azure IMDS).
//
// The user data is cloud-config YAML; nodeconsole's settings sit under a
// top-level nodeconsole: key with the config file's schema
// (docs/config.md), plus network.interface, network.hostname and
// network.ntp, which are applied like `nodeconsole network set`, `network
// hostname` and `network ntp` rather than written to the config (the proxy,
// network.httpsProxy and network.noProxy, is config, checked as `network
// proxy` checks it). Keys naming a command the node runs or a file it
// writes (config.MergeUserData) are refused: only the node's own config files
// set them. Volumes are read in user
// space (github.com/diskfs/go-diskfs) from a read-only file descriptor:
// never mounted, never written.
package userdata

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/nodeconsole/nodeconsole/config"
	"github.com/nodeconsole/nodeconsole/netconfig"
)

// Section is the top-level key that holds nodeconsole's settings.
const Section = "nodeconsole"

// Header is the first line cloud-init requires of cloud-config user data.
const Header = "#cloud-config"

// Settings is validated user data, ready to apply.
type Settings struct {
	// DropIn is the config drop-in to write (the nodeconsole section
	// without network.interface, network.hostname and network.ntp); nil
	// when the section sets nothing the config holds.
	DropIn []byte
	// Keys are the dotted keys the section sets, in file order
	// ("site.endpoint", "network.interface", ...).
	Keys []string
	// Network is the interface settings (network.interface), nil if none.
	Network *netconfig.Form
	// Hostname (network.hostname) and NTP (network.ntp) are the host name
	// and NTP servers to set, as `network hostname` and `network ntp`
	// set them; "" and nil when not given.
	Hostname string
	NTP      []string
	// SHA256 identifies the user data: the same user data found again is
	// not applied again.
	SHA256 string

	file       string
	netLines   map[netconfig.Field]int
	netLine    int
	routeLines []int // the line of each route in network.interface.routes
}

// ErrNotOurs says user data holds nothing for nodeconsole (not
// cloud-config, or no nodeconsole: key); it is ignored, not refused.
type ErrNotOurs struct{ Reason string }

func (e ErrNotOurs) Error() string { return e.Reason }

// Parse validates user data read from file (the name labels problems). It
// returns ErrNotOurs when there is nothing for nodeconsole, config.Problems
// (every problem, with file and line) when anything is wrong, and
// otherwise the Settings. The interface named in network.interface is
// checked against the node's interfaces later, by NetworkProblems.
func Parse(file string, data []byte) (*Settings, error) {
	first, _, _ := bytes.Cut(data, []byte("\n"))
	if strings.TrimSpace(string(first)) != Header {
		return nil, ErrNotOurs{Reason: fmt.Sprintf("%s does not start with %s; it holds nothing for nodeconsole", file, Header)}
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		// The config loader words YAML errors; let it.
		_, probs := config.Parse(file, data)
		if len(probs) == 0 {
			probs = config.Problems{{File: file, Msg: "not valid YAML: " + err.Error()}}
		}
		return nil, probs
	}
	if len(root.Content) == 0 || root.Content[0].Kind != yaml.MappingNode {
		return nil, ErrNotOurs{Reason: file + " is not a cloud-config mapping; it holds nothing for nodeconsole"}
	}
	doc := root.Content[0]
	idx := -1
	for i := 0; i+1 < len(doc.Content); i += 2 {
		if doc.Content[i].Value == Section {
			idx = i
		}
	}
	if idx < 0 {
		return nil, ErrNotOurs{Reason: file + " has no " + Section + ": key; it holds nothing for nodeconsole"}
	}
	sum := sha256.Sum256(data)
	s := &Settings{file: file, SHA256: hex.EncodeToString(sum[:])}
	sec := doc.Content[idx+1]
	if sec.Kind == yaml.ScalarNode && sec.Tag == "!!null" {
		return nil, ErrNotOurs{Reason: file + ": the " + Section + ": key is empty"}
	}
	if sec.Kind != yaml.MappingNode {
		return nil, config.Problems{{File: file, Line: sec.Line, Key: Section, Msg: "must be a mapping of sections (node, site, network, console, models)"}}
	}
	// The config loader validates the section, lines and all.
	cfg := config.Default()
	probs := config.MergeUserData(&cfg, file, sec)
	var netNode *yaml.Node
	for i := 0; i+1 < len(sec.Content); i += 2 {
		k, v := sec.Content[i].Value, sec.Content[i+1]
		if k == "network" && v.Kind == yaml.MappingNode {
			netNode = v
		}
		s.Keys = append(s.Keys, keysOf(k, v)...)
	}
	// The loader does not know the network keys user data applies itself.
	probs = slices.DeleteFunc(probs, func(p config.Problem) bool {
		for _, k := range ownNetworkKeys {
			if p.Key == "network."+k || strings.HasPrefix(p.Key, "network."+k+".") {
				return true
			}
		}
		return false
	})
	if netNode != nil {
		probs = append(probs, s.parseNetwork(netNode)...)
	}
	if len(probs) > 0 {
		slices.SortStableFunc(probs, func(a, b config.Problem) int { return a.Line - b.Line })
		return nil, probs
	}
	dropIn, err := dropIn(sec)
	if err != nil {
		return nil, config.Problems{{File: file, Line: sec.Line, Key: Section, Msg: "cannot be rewritten as a config file: " + err.Error()}}
	}
	s.DropIn = dropIn
	return s, nil
}

// keysOf lists the dotted keys a section sets (one level deep: site.tags,
// not site.tags.x).
func keysOf(section string, v *yaml.Node) []string {
	if v.Kind != yaml.MappingNode || section == "models" {
		return []string{section}
	}
	var out []string
	for i := 0; i+1 < len(v.Content); i += 2 {
		out = append(out, section+"."+v.Content[i].Value)
	}
	return out
}

// dropIn renders the section without the network keys user data applies
// itself (ownNetworkKeys) as a config file; nil when nothing is left.
func dropIn(sec *yaml.Node) ([]byte, error) {
	out := &yaml.Node{Kind: yaml.MappingNode}
	for i := 0; i+1 < len(sec.Content); i += 2 {
		k, v := sec.Content[i], sec.Content[i+1]
		if k.Value == "network" && v.Kind == yaml.MappingNode {
			nv := *v
			nv.Content = nil
			for j := 0; j+1 < len(v.Content); j += 2 {
				if !slices.Contains(ownNetworkKeys, v.Content[j].Value) {
					nv.Content = append(nv.Content, v.Content[j], v.Content[j+1])
				}
			}
			if len(nv.Content) == 0 {
				continue
			}
			v = &nv
		}
		out.Content = append(out.Content, k, v)
	}
	if len(out.Content) == 0 {
		return nil, nil
	}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(out); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Summary names what keys set, for people: "endpoint, registration token,
// network".
func Summary(keys []string) string {
	var out []string
	for _, k := range keys {
		name := k
		switch {
		case k == "site.endpoint":
			name = "endpoint"
		case k == "site.registrationToken":
			name = "registration token"
		case k == "site.pairingKey":
			name = "pairing key"
		case k == "site.caCerts":
			name = "CA certificates"
		case k == "site.registrationURL":
			name = "registration URL"
		case strings.HasPrefix(k, "site."):
			name = strings.TrimPrefix(k, "site.")
		case strings.HasPrefix(k, "network"):
			name = "network"
		case strings.HasPrefix(k, "node."):
			name = "node " + strings.TrimPrefix(k, "node.")
		case strings.HasPrefix(k, "console"):
			name = "console"
		}
		if !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	return strings.Join(out, ", ")
}
