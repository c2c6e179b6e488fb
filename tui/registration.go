package tui

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/nodeconsole/nodeconsole/config"
	"github.com/nodeconsole/nodeconsole/regclient"
	"github.com/nodeconsole/nodeconsole/screens/about"
	"github.com/nodeconsole/nodeconsole/screens/deregister"
	"github.com/nodeconsole/nodeconsole/screens/register"
	"github.com/nodeconsole/nodeconsole/tui/ui"
)

// Choice is a make/model offered on Register Node's confirm step.
type Choice = register.Choice

// AboutFacts and FileFact are what About this node shows of the files and
// the terminal.
type (
	AboutFacts = about.Facts
	FileFact   = about.FileFact
)

// autoRegisterTimeout bounds the automatic registration with the site token.
const autoRegisterTimeout = time.Minute

// Registration is what Register Node, Deregister Node, the home screen's QR
// code and the automatic registration need: plain data from the config and
// the state dir. The console builds the flows and commands from it.
type Registration struct {
	Store   regclient.Store
	NodeID  string
	Version string
	// Client are the client options from the config (CAs, proxy, logger).
	Client regclient.Options
	Logger *slog.Logger
	// Choices are the make/model pairs offered: the node's own first.
	Choices []Choice
	// Endpoint, RegistrationURL, Token, Project and Tags are the site's
	// (site.endpoint, site.registrationURL, site.registrationToken...).
	Endpoint        string
	RegistrationURL string
	Token           string
	Project         string
	Tags            map[string]string
	// PairingKey is site.pairingKey: Register Node sends it, so a node an
	// admin pre-added with that key is approved at once. A secret.
	PairingKey string
	// UpgradeCommand and UpdateDir: the update step (console.upgradeCommand).
	UpgradeCommand []string
	UpdateDir      string
	// Reboot is the menu's Reboot (console.rebootCommand, simulated in
	// --demo), for "reboot now" after activation; nil when none.
	Reboot func(ctx context.Context) (string, error)
	// StateOK reports that the state dir can be used.
	StateOK bool
}

func (r *Registration) registerFlow() register.FlowDeps {
	return register.FlowDeps{Store: r.Store, NodeID: r.NodeID, Version: r.Version, Client: r.Client,
		RegistrationURL: r.RegistrationURL, PairingKey: r.PairingKey, UpgradeCommand: r.UpgradeCommand, UpdateDir: r.UpdateDir,
		Reboot: r.Reboot, Logger: r.Logger}
}

func (r *Registration) deregisterFlow() deregister.FlowDeps {
	return deregister.FlowDeps{Store: r.Store, NodeID: r.NodeID, Client: r.Client, Logger: r.Logger}
}

// homeQR is the home-screen QR policy: as Palette does at boot, an
// unregistered node with a registration page shows its QR code on the home
// screen. A site token registers by itself instead (AutoRegister).
func (r *Registration) homeQR() bool {
	return r.RegistrationURL != "" && r.Endpoint != "" && r.Token == "" && r.StateOK && len(r.Choices) > 0
}

func (r *Registration) logger() *slog.Logger {
	if r.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return r.Logger
}

// AutoRegister registers the node with site.registrationToken when the
// console starts on an unregistered node, in the background: the operator
// sees the home screen at once and a notice when it is done. It is nil when
// there is nothing to try; the command itself does nothing when the node is
// registered already.
func (r *Registration) AutoRegister() tea.Cmd {
	if r == nil || r.Token == "" || r.Endpoint == "" || !r.StateOK {
		return nil
	}
	reg, log := *r, r.logger()
	return func() tea.Msg {
		st, err := reg.Store.Load()
		// Unregistered, or pending only because a lost certificate is being
		// recovered with the kept key (the token issues it again).
		idle := st.State == regclient.Unregistered || st.State == regclient.Pending && st.Recovery != ""
		if err == nil && !idle || err != nil && !errors.Is(err, regclient.ErrNoState) {
			return nil
		}
		notice := func(text string) tea.Msg {
			return tea.BatchMsg{func() tea.Msg { return ui.NoticeMsg{Key: "autoreg", Text: text} }, ui.StatusChanged}
		}
		o := reg.Client
		o.Endpoint = reg.Endpoint
		c, err := regclient.New(o)
		if err != nil {
			log.Error("automatic registration: client", "err", err)
			return notice("Automatic registration with the site token failed: " + ui.ErrorSentence(err))
		}
		var mk, model string
		if len(reg.Choices) > 0 {
			mk, model = reg.Choices[0].Make, reg.Choices[0].Model
		}
		rr := &regclient.Registrar{Client: c, Store: reg.Store, NodeID: reg.NodeID, Make: mk, Model: model,
			Version: reg.Version, Logger: log}
		log.Info("automatic registration with the site token", "audit", true, "token", config.Redact(reg.Token))
		ctx, cancel := context.WithTimeout(context.Background(), autoRegisterTimeout)
		defer cancel()
		res, err := rr.RegisterWithToken(ctx, reg.Token, reg.Project, reg.Tags)
		if err != nil {
			log.Error("automatic registration failed", "err", err)
			return notice("Automatic registration with the site token failed: " + ui.ErrorSentence(err))
		}
		log.Info("registered", "audit", true, "name", res.Name, "project", res.Project)
		who := res.Name
		if res.Project != "" {
			who = fmt.Sprintf("%s (project %s)", res.Name, res.Project)
		}
		return notice("Registered with the site token as " + who + ".")
	}
}
