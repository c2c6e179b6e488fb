package main

import (
	"path/filepath"
	"sort"

	"github.com/nodeconsole/nodeconsole/regclient"
	"github.com/nodeconsole/nodeconsole/screens/deregister"
	"github.com/nodeconsole/nodeconsole/screens/register"
	"github.com/nodeconsole/nodeconsole/tui"
)

// registration wires the Register Node and Deregister Node screens to the
// config, the state dir and the control plane.
func (e *env) registration() *tui.Registration {
	opts := regclient.ConfigOptions(e.cfg, e.g.caFile, e.log, version)
	reboot := e.cfg.Console.RebootCommand
	if e.demo != nil {
		reboot = nil // simulated: a demo never reboots anything
	}
	choices := []register.Choice{{Make: e.make_, Model: e.model, Endpoint: e.cfg.Site.Endpoint}}
	keys := make([]string, 0, len(e.cfg.Models))
	for k := range e.cfg.Models {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		m := e.cfg.Models[k]
		choices = append(choices, register.Choice{Make: m.Make, Model: m.Model, Endpoint: m.Endpoint})
	}
	return &tui.Registration{
		Register: register.FlowDeps{
			Store: e.store, NodeID: e.nodeID, Version: version, Client: opts,
			RegistrationURL: e.cfg.Site.RegistrationURL,
			UpgradeCommand:  e.cfg.Console.UpgradeCommand, UpdateDir: filepath.Join(e.g.stateDir, "updates"),
			RebootCommand: reboot, Logger: e.log,
		},
		Deregister: deregister.FlowDeps{Store: e.store, NodeID: e.nodeID, Client: opts, Logger: e.log},
		Choices:    choices,
	}
}
