package main

import (
	"context"
	"path/filepath"
	"sort"

	"github.com/nodeconsole/nodeconsole/regclient"
	"github.com/nodeconsole/nodeconsole/tui"
)

// registration is what the console's registration needs, from the config
// and the state dir; tui builds the screens, flows and commands from it.
// reboot is the menu's Reboot (powerCmd), for "reboot now" after
// activation.
func (e *env) registration(reboot func(context.Context) (string, error)) *tui.Registration {
	choices := []tui.Choice{{Make: e.make_, Model: e.model, Endpoint: e.cfg.Site.Endpoint}}
	keys := make([]string, 0, len(e.cfg.Models))
	for k := range e.cfg.Models {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		m := e.cfg.Models[k]
		choices = append(choices, tui.Choice{Make: m.Make, Model: m.Model, Endpoint: m.Endpoint})
	}
	s := e.cfg.Site
	return &tui.Registration{
		Store: e.store, NodeID: e.nodeID, Version: version, Logger: e.log,
		Client:   regclient.ConfigOptions(e.cfg, e.g.caFile, e.log, version),
		Choices:  choices,
		Endpoint: s.Endpoint, RegistrationURL: s.RegistrationURL, Token: s.RegistrationToken, Project: s.Project, Tags: s.Tags,
		PairingKey:     s.PairingKey,
		UpgradeCommand: e.cfg.Console.UpgradeCommand, UpdateDir: filepath.Join(e.g.stateDir, "updates"),
		Reboot: reboot, StateOK: e.stateErr == nil,
	}
}
