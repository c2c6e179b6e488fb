package tui

import (
	"context"

	tea "charm.land/bubbletea/v2"
	"log/slog"
	"time"

	"github.com/nodeconsole/nodeconsole/netconfig"
	"github.com/nodeconsole/nodeconsole/nodestatus"
	"github.com/nodeconsole/nodeconsole/screens/about"
	"github.com/nodeconsole/nodeconsole/screens/deregister"
	"github.com/nodeconsole/nodeconsole/screens/diagnostics"
	"github.com/nodeconsole/nodeconsole/screens/home"
	"github.com/nodeconsole/nodeconsole/screens/network"
	"github.com/nodeconsole/nodeconsole/screens/power"
	"github.com/nodeconsole/nodeconsole/screens/register"
	"github.com/nodeconsole/nodeconsole/tui/ui"
)

// ConsoleDeps is everything the console needs, built by cmd/nodeconsole.
type ConsoleDeps struct {
	Styles    *ui.Styles
	Collector nodestatus.Collector
	About     AboutFacts
	Demo      bool
	Notices   map[string]string
	// Notes are extra lines on the home screen (demo portal URL...).
	Notes []string
	Log   *slog.Logger
	// Watch says when the status may have changed (a netwatch.Watcher);
	// nil polls every Refresh.
	Watch   home.Watch
	Refresh time.Duration
	// Network applies network settings (netlink, or the simulated network
	// in --demo); nil leaves its entries out of the menu.
	Network *netconfig.Manager
	// Endpoint is the control-plane URL the network checks reach.
	Endpoint string
	// Site is where Network settings' Site settings write the host name,
	// NTP servers and proxy (nil: not offered); Proxy and NoProxy are the
	// proxy in use (config network.httpsProxy, network.noProxy).
	Site           *netconfig.Site
	Proxy, NoProxy string
	// IPv6Mode reads an interface's IPv6 mode from the kernel for the
	// network form (netconfig.KernelIPv6Mode); nil in --demo.
	IPv6Mode func(ifname string) netconfig.IPv6Mode
	// ProxyChanged, when set, is told of a proxy Site settings saved (in
	// Update: it must not block), so the checks and the background
	// renewal use it from then on.
	ProxyChanged func(proxy, noProxy string)
	// Registration, when set, adds Register Node and Deregister Node.
	Registration *Registration
	// Startup are commands run once at start (Registration.AutoRegister
	// is added to them).
	Startup []tea.Cmd
	// Size is the size to draw at until the terminal reports one.
	Size Size
	// Reboot and Poweroff, when set, add Reboot and Shut down to the menu
	// (each behind a confirmation); see power.Deps.Run.
	Reboot, Poweroff func(ctx context.Context) (string, error)
	// IdleLogout and Busy: see Options.
	IdleLogout time.Duration
	Busy       func() bool
	// Renew renews the node certificate in the background (Options.Renew);
	// RenewEvery spaces the checks (default hourly).
	Renew      RenewFunc
	RenewEvery time.Duration
}

// NewConsole wires the home screen and its menu into a shell.
func NewConsole(d ConsoleDeps) *App {
	collect := d.Collector.Collect
	// The proxy in use: the config's, then what Site settings saved.
	proxy, noProxy := d.Proxy, d.NoProxy
	proxyChanged := func(p, np string) {
		proxy, noProxy = p, np
		if d.ProxyChanged != nil {
			d.ProxyChanged(p, np)
		}
	}
	var actions []home.Action
	if d.Network != nil {
		actions = append(actions,
			home.Action{Label: "Network settings", Open: func() ui.Screen {
				return network.New(network.Deps{Styles: d.Styles, Manager: d.Network, Endpoint: d.Endpoint, TryTimeout: netconfig.DefaultTryTimeout,
					Site: d.Site, Proxy: proxy, NoProxy: noProxy, ProxyChanged: func(p, np string) { proxyChanged(p, np) }, IPv6Mode: d.IPv6Mode})
			}},
			home.Action{Label: "Test network", Open: func() ui.Screen {
				return diagnostics.New(diagnostics.Deps{Styles: d.Styles, Prober: d.Network.Prober(), Endpoint: d.Endpoint})
			}},
		)
	}
	var panel ui.Panel
	if r := d.Registration; r != nil {
		// A proxy saved in Site settings: Register Node and Deregister
		// Node opened from then on use it (all in Update, like the
		// screens' construction).
		changed := proxyChanged
		proxyChanged = func(p, np string) {
			changed(p, np)
			r.Client.HTTPSProxy, r.Client.NoProxy = p, np
		}
		regDeps := func() register.Deps {
			return register.Deps{Styles: d.Styles, Flow: register.NewFlow(r.registerFlow()),
				Choices: r.Choices, Endpoint: d.Endpoint}
		}
		actions = append(actions,
			home.Action{Label: "Register Node", Open: func() ui.Screen { return register.New(regDeps()) }},
			home.Action{Label: "Deregister Node", Open: func() ui.Screen {
				return deregister.New(deregister.Deps{Styles: d.Styles, Flow: deregister.NewFlow(r.deregisterFlow())})
			}},
		)
		if r.homeQR() {
			c := r.Choices[0]
			panel = register.NewPanel(register.PanelDeps{
				Styles: d.Styles, Flow: register.NewFlow(r.registerFlow()),
				Request: register.Request{Endpoint: c.Endpoint, Make: c.Make, Model: c.Model},
				Activated: func(name, project string) ui.Screen {
					return register.NewActivated(regDeps(), name, project)
				},
			})
		}
	}
	actions = append(actions, home.Action{Label: "About this node", Open: func() ui.Screen {
		return about.New(about.Deps{Styles: d.Styles, Facts: d.About, Collect: collect})
	}})
	if d.Reboot != nil {
		actions = append(actions, home.Action{Label: "Reboot", Open: func() ui.Screen {
			return power.New(power.Deps{Styles: d.Styles, Action: power.Reboot, Run: d.Reboot})
		}})
	}
	if d.Poweroff != nil {
		actions = append(actions, home.Action{Label: "Shut down", Open: func() ui.Screen {
			return power.New(power.Deps{Styles: d.Styles, Action: power.Poweroff, Run: d.Poweroff})
		}})
	}
	h := home.New(home.Deps{
		Styles:  d.Styles,
		Collect: func(ctx context.Context) nodestatus.Snapshot { return collect(ctx) },
		Actions: actions,
		Watch:   d.Watch,
		Refresh: d.Refresh,
		Notes:   d.Notes,
		Panel:   panel,
	})
	return New(Options{Styles: d.Styles, Home: h, Node: d.Collector.NodeID, Demo: d.Demo, Notices: d.Notices, Log: d.Log, Startup: append(d.Startup, d.Registration.AutoRegister()), Size: d.Size,
		IdleLogout: d.IdleLogout, Busy: d.Busy, Renew: d.Renew, RenewEvery: d.RenewEvery})
}
