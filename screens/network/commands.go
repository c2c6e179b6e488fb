package network

import (
	"context"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/nodeconsole/nodeconsole/netconfig"
	"github.com/nodeconsole/nodeconsole/tui/ui"
)

// loadCmd reads the status (the interface list) in a tea.Cmd.
func (m *Model) loadCmd() tea.Cmd {
	m.phase = phaseLoading
	return m.readCmd(false)
}

// readCmd reads the status in a tea.Cmd: for loading, or (refresh) again
// under the list shown, which stays until the answer replaces it.
func (m *Model) readCmd(refresh bool) tea.Cmd {
	m.gen++
	mgr, timeout, gen, mode6 := m.d.Manager, m.d.Timeout, m.gen, m.d.IPv6Mode
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		st, err := mgr.Status(ctx)
		var modes6 map[string]netconfig.IPv6Mode
		if mode6 != nil {
			modes6 = map[string]netconfig.IPv6Mode{}
			for _, ifc := range st.Interfaces {
				modes6[ifc.Name] = mode6(ifc.Name)
			}
		}
		saved, serr := mgr.Saved()
		if serr != nil {
			saved = netconfig.Config{} // none yet, or unreadable: the IPv6 mode is inferred
		}
		// Whether DHCPv6 can be chosen, and if not why (shown under the
		// IPv6 row while it is).
		return statusMsg{gen: gen, st: st, saved: saved, modes6: modes6, dhcp6: mgr.DHCPv6(), err: err, refresh: refresh}
	}
}

// startPreview previews cfg: it reads the current status (a tea.Cmd) and
// shows "current → new".
func (m *Model) startPreview(cfg netconfig.Config) tea.Cmd {
	m.gen++
	m.phase, m.scroll, m.cfg = phasePreview, 0, cfg
	m.preview, m.previewErr = netconfig.Preview{}, ""
	mgr, timeout, gen := m.d.Manager, m.d.Timeout, m.gen
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		p, err := mgr.Preview(ctx, cfg)
		return previewMsg{gen: gen, p: p, err: err}
	}
}

// apply runs Manager.Apply in a tea.Cmd.
func (m *Model) apply() tea.Cmd {
	m.gen++
	m.phase = phaseApplying
	m.trial, m.results, m.checks, m.expired, m.outcome, m.outErr, m.applyErr = nil, nil, nil, false, "", nil, ""
	mgr, cfg, gen, timeout := m.d.Manager, m.cfg, m.gen, m.d.Timeout
	return tea.Batch(ui.Audit("network apply", cfgAttrs(cfg)...), func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		t, err := mgr.Apply(ctx, cfg)
		return appliedMsg{gen: gen, trial: t, err: err}
	})
}

// cfgAttrs are the audit line's attributes of cfg.
func cfgAttrs(cfg netconfig.Config) []any {
	attrs := []any{"interface", cfg.Interface, "mode", string(cfg.Mode)}
	if cfg.VLAN != 0 {
		attrs = append(attrs, "vlan", cfg.VLAN)
	}
	if cfg.MTU != 0 {
		attrs = append(attrs, "mtu", cfg.MTU)
	}
	if cfg.IPv6 != netconfig.IPv6Unset {
		attrs = append(attrs, "ipv6", string(cfg.IPv6))
	}
	if cfg.IPv6 == netconfig.IPv6Static {
		attrs = append(attrs, "address6", cfg.Address6.String(), "gateway6", cfg.Gateway6.String())
	}
	if cfg.Mode == netconfig.ModeStatic {
		dns := make([]string, len(cfg.DNS))
		for i, d := range cfg.DNS {
			dns[i] = d.String()
		}
		routes := make([]string, len(cfg.Routes))
		for i, r := range cfg.Routes {
			routes[i] = r.String()
		}
		attrs = append(attrs, "address", cfg.Address.String(), "gateway", cfg.Gateway.String(), "defaultRoute", cfg.DefaultRoute,
			"dns", strings.Join(dns, ","), "routes", strings.Join(routes, ","))
	}
	return attrs
}

// nextCheck runs the next check in its own tea.Cmd.
func (m *Model) nextCheck() tea.Cmd {
	i := len(m.results)
	if i >= len(m.checks) {
		return nil
	}
	c, gen := m.checks[i], m.gen
	return func() tea.Msg {
		return checkMsg{gen: gen, i: i, r: c.Run(context.Background())}
	}
}

// tick schedules the next countdown second.
func (m *Model) tick() tea.Cmd {
	gen := m.gen
	return m.d.Tick(time.Second, func(time.Time) tea.Msg { return tickMsg{gen: gen} })
}

// waitCmd waits for the trial's end: Keep or Revert decided, or the
// Manager's own deadline reverted by itself (the safety net when this
// screen is closed, or the shell logs out).
func (m *Model) waitCmd() tea.Cmd {
	t, gen, park := m.trial, m.gen, m.d.Park
	return func() tea.Msg {
		var o netconfig.Outcome
		var err error
		park(func() { o, err = t.Wait(context.Background()) })
		return outcomeMsg{gen: gen, outcome: o, err: err}
	}
}

// decide keeps (Confirm, which saves) or reverts the trial in a tea.Cmd.
func (m *Model) decide(keep bool, reason string) tea.Cmd {
	if m.phase != phaseTrial {
		return nil
	}
	m.phase = phaseDeciding
	t, gen := m.trial, m.gen
	audit := ui.Audit("network revert", "interface", t.Config().Link(), "reason", reason)
	if keep {
		audit = ui.Audit("network confirm", "interface", t.Config().Link())
	}
	return tea.Batch(audit, func() tea.Msg {
		var err error
		if keep {
			err = t.Confirm(context.Background())
		} else {
			err = t.Revert(context.Background())
		}
		o, oerr := t.Outcome()
		if oerr == nil {
			oerr = err
		}
		return outcomeMsg{gen: gen, outcome: o, err: oerr}
	})
}
