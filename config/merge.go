package config

import (
	"fmt"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// mergeFile decodes one YAML document onto cfg key by key, so that a bad
// value only loses that key and every problem carries its line.
func mergeFile(cfg *Config, file string, data []byte) Problems {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return Problems{{File: file, Line: yamlErrLine(err), Msg: "not valid YAML: " + yamlErrMsg(err)}}
	}
	if len(root.Content) == 0 {
		return nil // empty file
	}
	doc := root.Content[0]
	if doc.Kind != yaml.MappingNode {
		return Problems{{File: file, Line: doc.Line, Msg: "must be a mapping of sections (node, site, network, console, models)"}}
	}
	m := merger{file: file}
	m.eachKey(doc, "", func(key string, v *yaml.Node) {
		switch key {
		case "node":
			m.eachKey(v, "node", func(k string, v *yaml.Node) {
				switch k {
				case "name":
					m.str(v, "node.name", &cfg.Node.Name)
				case "make":
					m.str(v, "node.make", &cfg.Node.Make)
				case "model":
					m.str(v, "node.model", &cfg.Node.Model)
				default:
					m.unknown(v, "node."+k)
				}
			})
		case "site":
			m.eachKey(v, "site", func(k string, v *yaml.Node) {
				switch k {
				case "endpoint":
					var s string
					if m.str(v, "site.endpoint", &s) {
						if msg := validEndpoint(s); s != "" && msg != "" {
							m.add(v, "site.endpoint", msg)
						} else {
							cfg.Site.Endpoint = s
						}
					}
				case "registrationToken":
					m.str(v, "site.registrationToken", &cfg.Site.RegistrationToken)
				case "pairingKey":
					m.str(v, "site.pairingKey", &cfg.Site.PairingKey)
				case "project":
					m.str(v, "site.project", &cfg.Site.Project)
				case "registrationURL":
					var s string
					if m.str(v, "site.registrationURL", &s) {
						if msg := validEndpoint(s); s != "" && msg != "" {
							m.add(v, "site.registrationURL", msg)
						} else {
							cfg.Site.RegistrationURL = s
						}
					}
				case "caCerts":
					m.decode(v, "site.caCerts", &cfg.Site.CACerts, "must be a list of PEM file paths or PEM blocks")
				case "tags":
					m.decode(v, "site.tags", &cfg.Site.Tags, "must be a mapping of tag names to values")
				default:
					m.unknown(v, "site."+k)
				}
			})
		case "network":
			m.eachKey(v, "network", func(k string, v *yaml.Node) {
				switch k {
				case "httpsProxy":
					m.str(v, "network.httpsProxy", &cfg.Network.HTTPSProxy)
				case "noProxy":
					m.str(v, "network.noProxy", &cfg.Network.NoProxy)
				case "resolvConf":
					m.path(v, "network.resolvConf", &cfg.Network.ResolvConf)
				case "networkdDir":
					m.path(v, "network.networkdDir", &cfg.Network.NetworkdDir)
				case "dhcpClient":
					var c string
					if m.str(v, "network.dhcpClient", &c) {
						if c == "" {
							c = "auto"
						}
						if !slices.Contains(DHCPClients, c) {
							m.add(v, "network.dhcpClient", fmt.Sprintf("must be one of %s, not %q", strings.Join(DHCPClients, ", "), c))
						} else {
							cfg.Network.DHCPClient = c
						}
					}
				case "dhcpStartCommand":
					m.command(v, "network.dhcpStartCommand", &cfg.Network.DHCPStartCommand)
				case "dhcpStopCommand":
					m.command(v, "network.dhcpStopCommand", &cfg.Network.DHCPStopCommand)
				case "networkdRuntimeDir":
					m.path(v, "network.networkdRuntimeDir", &cfg.Network.NetworkdRuntimeDir)
				case "networkdReloadCommand":
					m.command(v, "network.networkdReloadCommand", &cfg.Network.NetworkdReloadCommand)
				default:
					m.unknown(v, "network."+k)
				}
			})
		case "console":
			m.eachKey(v, "console", func(k string, v *yaml.Node) {
				switch k {
				case "rebootCommand":
					m.command(v, "console.rebootCommand", &cfg.Console.RebootCommand)
				case "upgradeCommand":
					m.command(v, "console.upgradeCommand", &cfg.Console.UpgradeCommand)
				default:
					m.unknown(v, "console."+k)
				}
			})
		case "models":
			var models map[string]Model
			if m.decode(v, "models", &models, "must map a model key to {make, model, endpoint}") {
				if cfg.Models == nil {
					cfg.Models = map[string]Model{}
				}
				for name, mod := range models {
					if mod.Endpoint != "" {
						if msg := validEndpoint(mod.Endpoint); msg != "" {
							m.add(v, "models."+name+".endpoint", msg)
							mod.Endpoint = ""
						}
					}
					cfg.Models[name] = mod
				}
			}
		default:
			m.unknown(v, key)
		}
	})
	return m.probs
}

type merger struct {
	file  string
	probs Problems
}

func (m *merger) add(n *yaml.Node, key, msg string) {
	m.probs = append(m.probs, Problem{File: m.file, Line: n.Line, Key: key, Msg: msg})
}

func (m *merger) unknown(n *yaml.Node, key string) {
	m.add(n, key, "unknown key")
}

// eachKey calls fn for each key of a mapping node; a null node is an empty
// section.
func (m *merger) eachKey(n *yaml.Node, section string, fn func(string, *yaml.Node)) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return
	}
	if n.Kind != yaml.MappingNode {
		m.add(n, section, "must be a mapping")
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		fn(n.Content[i].Value, n.Content[i+1])
	}
}

func (m *merger) str(n *yaml.Node, key string, dst *string) bool {
	if n.Kind != yaml.ScalarNode {
		m.add(n, key, "must be a string")
		return false
	}
	if n.Tag == "!!null" {
		*dst = ""
		return true
	}
	*dst = n.Value
	return true
}

func (m *merger) path(n *yaml.Node, key string, dst *string) {
	var s string
	if !m.str(n, key, &s) {
		return
	}
	if !strings.HasPrefix(s, "/") {
		m.add(n, key, fmt.Sprintf("must be an absolute path, not %q", s))
		return
	}
	*dst = s
}

func (m *merger) command(n *yaml.Node, key string, dst *[]string) {
	var cmd []string
	if !m.decode(n, key, &cmd, "must be a list of strings such as [systemctl, reboot]") {
		return
	}
	*dst = cmd
}

func (m *merger) decode(n *yaml.Node, key string, dst any, msg string) bool {
	if err := n.Decode(dst); err != nil {
		m.add(n, key, msg)
		return false
	}
	return true
}

func yamlErrLine(err error) int {
	var line int
	if _, e := fmt.Sscanf(strings.TrimPrefix(err.Error(), "yaml: "), "line %d:", &line); e == nil {
		return line
	}
	return 0
}

func yamlErrMsg(err error) string {
	s := strings.TrimPrefix(err.Error(), "yaml: ")
	if i := strings.Index(s, ": "); strings.HasPrefix(s, "line ") && i > 0 {
		s = s[i+2:]
	}
	return s
}
