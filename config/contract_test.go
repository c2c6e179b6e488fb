package config

import (
	"reflect"
	"testing"
)

// TestDesignSchema: the config file of the fixed contract (DESIGN.md
// section 7), written out as it is there, loads without a problem and its
// values are the defaults, so renaming a key or changing a default breaks
// this test.
func TestDesignSchema(t *testing.T) {
	dir := t.TempDir()
	path := write(t, dir, "config.yaml", `
node:    {name: "", make: "", model: ""}
site:    {endpoint: "", registrationToken: "", pairingKey: "", project: "", registrationURL: "", caCerts: [], tags: {}}
network: {httpsProxy: "", noProxy: "", resolvConf: /etc/resolv.conf, networkdDir: /etc/systemd/network}
console: {rebootCommand: [systemctl, reboot], poweroffCommand: [systemctl, poweroff], upgradeCommand: [], idleLogout: 15m}
models:  # known make/model -> default endpoint, offered on the Register Node confirm screen
`)
	cfg, probs := Load(path, false)
	if len(probs) > 0 {
		t.Fatalf("problems: %v", probs)
	}
	def := Default()
	cfg.Site.CACerts, cfg.Site.Tags, cfg.Console.UpgradeCommand, cfg.Models = nil, nil, nil, nil
	if !reflect.DeepEqual(cfg, def) {
		t.Errorf("loaded %+v\nwant the defaults %+v", cfg, def)
	}
	if DefaultPath != "/etc/nodeconsole/config.yaml" {
		t.Errorf("DefaultPath = %q", DefaultPath)
	}
}
