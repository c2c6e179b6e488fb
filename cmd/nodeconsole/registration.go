package main

import (
	"context"
	"errors"
	"path/filepath"
	"sort"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/nodeconsole/nodeconsole/config"
	"github.com/nodeconsole/nodeconsole/tui/ui"

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
		// As Palette does at boot: an unregistered node with a registration
		// page shows its QR code on the home screen. A site token registers
		// by itself instead (autoRegisterCmd).
		HomeQR: e.cfg.Site.RegistrationURL != "" && e.cfg.Site.Endpoint != "" && e.cfg.Site.RegistrationToken == "" && e.stateErr == nil,
	}
}

// autoRegisterCmd registers the node with site.registrationToken when the
// console starts on an unregistered node, in the background: the operator
// sees the home screen at once and a notice when it is done. nil when there
// is nothing to do.
func (e *env) autoRegisterCmd() tea.Cmd {
	tok := e.cfg.Site.RegistrationToken
	if tok == "" || e.cfg.Site.Endpoint == "" || e.stateErr != nil {
		return nil
	}
	st, err := e.store.Load()
	// Unregistered, or pending only because a lost certificate is being
	// recovered with the kept key (the token issues it again).
	idle := st.State == regclient.Unregistered || st.State == regclient.Pending && st.Recovery != ""
	if err == nil && !idle || err != nil && !errors.Is(err, regclient.ErrNoState) {
		return nil
	}
	r, err := e.registrar("register")
	if err != nil {
		return nil
	}
	project, tags, log := e.cfg.Site.Project, e.cfg.Site.Tags, e.log
	return func() tea.Msg {
		log.Info("automatic registration with the site token", "audit", true, "token", config.Redact(tok))
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		reg, err := r.RegisterWithToken(ctx, tok, project, tags)
		if err != nil {
			log.Error("automatic registration failed", "err", err)
			return tea.BatchMsg{
				func() tea.Msg {
					return ui.NoticeMsg{Key: "autoreg", Text: "Automatic registration with the site token failed: " + oneLine(err)}
				},
				ui.StatusChanged,
			}
		}
		log.Info("registered", "audit", true, "name", reg.Name, "project", reg.Project)
		return tea.BatchMsg{
			func() tea.Msg {
				return ui.NoticeMsg{Key: "autoreg", Text: "Registered with the site token as " + nameProject(reg.Name, reg.Project) + "."}
			},
			ui.StatusChanged,
		}
	}
}
