package config

import (
	"strings"
	"testing"
)

// FuzzParse: whatever a config file holds, loading it does not panic;
// every problem names the file and a line inside it (or none), and what
// is kept is valid (an endpoint is an https URL or empty).
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"node: {name: lab-01, make: Acme, model: EdgeBox}\nsite:\n  endpoint: https://cp.example.com\n  registrationToken: tok\n  pairingKey: pk\n  tags: {rack: r4}\n",
		"site: {endpoint: http://cp.example.com}\n",
		"site:\n  endpoint: https://[::1]:99999\n  caCerts: [a, b]\n",
		"network: {httpsProxy: 'http://proxy:3128', noProxy: .example.com, dhcpClient: bogus}\n",
		"console: {rebootCommand: [systemctl, reboot], idleLogout: 15m}\n",
		"models:\n  eb200: {make: Acme, model: EdgeBox 200, endpoint: https://cp.acme.example}\n",
		"a: &x [*x]\n",
		"- just\n- a list\n",
		"site: [1, 2]\nnode: 3\n",
		"\t tabs: bad\n",
		"site:\n  endpoint: !!binary aGVsbG8=\n",
		"",
		"---\n---\n",
		"node: {name: x}\nnode: {name: y}\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 64<<10 {
			return
		}
		cfg, probs := Parse("fuzz.yaml", data)
		lines := strings.Count(string(data), "\n") + strings.Count(string(data), "\r") + 1 // YAML breaks lines at CR too
		for _, p := range probs {
			if p.File != "fuzz.yaml" || p.Line < 0 || p.Line > lines+1 || p.Msg == "" {
				t.Fatalf("problem %+v (input has %d lines)", p, lines)
			}
			if !strings.HasPrefix(p.String(), "fuzz.yaml") {
				t.Fatalf("problem string %q does not name the file", p.String())
			}
		}
		if cfg.Site.Endpoint != "" {
			if err := ValidEndpoint(cfg.Site.Endpoint); err != nil {
				t.Fatalf("kept a bad endpoint %q: %v", cfg.Site.Endpoint, err)
			}
		}
	})
}
