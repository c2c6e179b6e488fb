package main

import (
	"fmt"
	"os"

	"github.com/nodeconsole/nodeconsole/config"
	"github.com/nodeconsole/nodeconsole/netconfig"
)

// demoEnv is what --demo adds: a temporary state dir and a simulated
// network. It never touches the host.
type demoEnv struct {
	stateDir string
	net      *netconfig.Simulated
	notes    []string
}

func newDemo(g globals) (*demoEnv, error) {
	dir, err := os.MkdirTemp("", "nodeconsole-demo-*")
	if err != nil {
		return nil, fmt.Errorf("demo: create temporary state dir: %w", err)
	}
	return &demoEnv{stateDir: dir, net: netconfig.NewSimulated()}, nil
}

// apply points every path the console writes into the demo dir, so a demo
// never touches the host whatever the config says.
func (d *demoEnv) apply(c *config.Config) {
	c.Network.ResolvConf = d.stateDir + "/resolv.conf"
	c.Network.NetworkdDir = d.stateDir + "/network"
	c.Console.RebootCommand = nil
	if c.Node.Make == "" {
		c.Node.Make = "Demo"
	}
	if c.Node.Model == "" {
		c.Node.Model = "Edge Appliance"
	}
}

func (d *demoEnv) close() { os.RemoveAll(d.stateDir) }
