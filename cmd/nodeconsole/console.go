package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/nodeconsole/nodeconsole/config"
	"github.com/nodeconsole/nodeconsole/netconfig"
	"github.com/nodeconsole/nodeconsole/netwatch"
	"github.com/nodeconsole/nodeconsole/regclient"
	"github.com/nodeconsole/nodeconsole/tui"
	"github.com/nodeconsole/nodeconsole/tui/ui"
	"github.com/nodeconsole/nodeconsole/userdata"
)

// consoleFPS caps the renderer's frame rate during bursts of changes. The
// patched bubbletea (third_party/bubbletea) only ticks while frames are
// pending: a change after a quiet spell (a key) is drawn at once, an idle
// console makes no wakeups whatever this is, and the first frame is drawn on
// the first tick, one interval after start (docs/performance.md).
const consoleFPS = 60

func runConsole(ctx context.Context, g globals) error {
	if fi, err := os.Stdout.Stat(); err == nil && fi.Mode()&os.ModeCharDevice == 0 {
		return usagef("the console needs a terminal; for scripts use 'nodeconsole status'")
	}
	e, err := newEnv(ctx, g, envOpts{log: true})
	if err != nil {
		return err
	}
	defer e.close()
	g = e.g // --demo moves the state dir

	tty := tui.TTYName()
	if !g.ascii {
		// Before the font is read; restored on every way out (a signal
		// ends the program gracefully, and this returns).
		defer tui.LoadHalfBlocks(0, tty, e.log)()
	}
	prof, termNotice := tui.DetectProfile(tui.TermInfo{Env: os.Environ(), TTY: tty, Baud: tui.Baud(0), ForceASCII: g.ascii, Profile: g.profile, VT: tui.ReadVT(0, tty)})
	styles := ui.NewStyles(prof)
	notices := map[string]string{}
	if termNotice != "" {
		notices["term"] = termNotice
		e.log.Warn("terminal", "notice", termNotice)
	}
	if e.stateErr != nil {
		msg := fmt.Sprintf("The state dir %s cannot be used: %s.", g.stateDir, e.stateErr)
		if is, ok := regclient.Storage(e.stateErr); ok {
			msg = ui.StorageSentence(is)
		}
		notices["state-dir"] = msg + " Registration and settings cannot be saved."
		e.log.Error("state dir not writable", "err", e.stateErr)
	}
	if msg := e.recoverAtStart(); msg != "" {
		notices["recovery"] = msg
	}
	if n := len(e.cfgProbs); n > 0 {
		notices["config"] = fmt.Sprintf("Config: %s (About this node lists all %d).", e.cfgProbs[0].String(), n)
	}
	var probs []string
	for _, p := range e.cfgProbs {
		probs = append(probs, p.String())
	}
	var notes []string
	if e.demo != nil {
		notes = e.demo.notes
	}
	e.lldp = &netconfig.LLDPTable{}
	var lis *netconfig.LLDPListener
	if e.demo != nil {
		e.demo.lldp(e.lldp)
	} else {
		lis = &netconfig.LLDPListener{Table: e.lldp, Reader: e.net, Log: e.log}
	}
	mgr, err := e.netManager()
	if err != nil {
		return err
	}
	if n := netconfig.ShadowedNotice(mgr.Shadowed()); n != "" {
		notices["networkd"] = "Network: " + n
		e.log.Warn("saved network settings shadowed", "notice", n)
	}
	watch := e.statusWatcher(lis)
	defer watch.Close()
	if lis != nil {
		// LLDP for 30 s on each NIC that is up, and again on one that
		// comes up; quiet without CAP_NET_RAW (one log line).
		lis.Start(watch.Notify)
		defer lis.Close()
	}
	// The first frame is drawn before the terminal reports its size: draw
	// it at the size the size filter will settle on for 0x0 (serial).
	initial := tui.FallbackSize(os.Getenv)
	if g.size != nil {
		initial = *g.size
	}
	reboot := e.powerCmd("reboot", e.cfg.Console.RebootCommand, mgr)
	site := e.site()
	var mode6 func(string) netconfig.IPv6Mode
	if e.demo == nil {
		mode6 = netconfig.KernelIPv6Mode // the simulated network has no sysctls
	}
	app := tui.NewConsole(tui.ConsoleDeps{
		IPv6Mode: mode6,
		Size:     initial,
		Network:  mgr, Endpoint: e.cfg.Site.Endpoint, Registration: e.registration(reboot),
		Site: &site, Proxy: e.cfg.Network.HTTPSProxy, NoProxy: e.cfg.Network.NoProxy, ProxyChanged: e.proxyChanged(mgr),
		Styles:    &styles,
		Collector: e.collector(),
		About: tui.AboutFacts{ConfigFiles: configFiles(g.configPath), StateDir: g.stateDir, LogFile: e.logFile,
			NodeIDSource: string(e.idSource), Terminal: termDesc(prof, tty), ConfigProblems: probs},
		Demo: g.demo, Notices: notices, Notes: notes, Log: e.log, Watch: watch, Refresh: 5 * time.Second,
		Reboot:   reboot,
		Poweroff: e.powerCmd("shut-down", e.cfg.Console.PoweroffCommand, mgr),
		// Idle log-out waits while a registration waits for activation.
		IdleLogout: e.cfg.Console.IdleLogout,
		Busy: func() bool {
			st, err := e.store.Load()
			return err == nil && st.State == regclient.Pending
		},
		Renew: e.backgroundRenew(), RenewEvery: renewEvery(),
	})
	p := tea.NewProgram(app,
		tea.WithFilter(tui.SizeFilter(g.size, initial)),
		tea.WithColorProfile(prof.Color),
		tea.WithFPS(consoleFPS),
		// Signals cancel ctx (main.go). bubbletea's own handler would race
		// that: when ctx wins, the handler blocks sending QuitMsg to the
		// stopped event loop and Run never returns (a SIGTERM hang).
		tea.WithoutSignalHandler(),
	)
	// A signal (ctx) ends the program gracefully: Quit waits for the input
	// reader to stop, where Kill (tea.WithContext) closes it under the
	// read loop's feet. Kill is the fallback if the loop does not stop.
	stopped := make(chan struct{})
	defer close(stopped)
	go func() {
		select {
		case <-stopped:
			return
		case <-ctx.Done():
		}
		e.log.Info("stopped by signal")
		p.Quit()
		select {
		case <-stopped:
		case <-time.After(3 * time.Second):
			p.Kill()
		}
	}()
	_, err = p.Run()
	if errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil {
		return nil
	}
	if err != nil {
		return fmt.Errorf("console: %w", err)
	}
	return nil
}

// statusWatcher watches what the home screen's status reads: netlink (or
// the simulated network in --demo), resolv.conf, and the state dir's
// state.json, user data record and certificate. What cannot be watched is
// logged, and the watcher polls every 30 s instead (netwatch.Options). A
// link that comes up is passed to lis (nil: no LLDP listener).
func (e *env) statusWatcher(lis *netconfig.LLDPListener) *netwatch.Watcher {
	o := netwatch.Options{Log: e.log, Files: []string{
		filepath.Join(e.g.stateDir, regclient.StateFile),
		filepath.Join(e.g.stateDir, userdata.RecordFile),
	}}
	if _, err := os.Stat(filepath.Join(e.g.stateDir, regclient.IdentityDir)); err == nil {
		// Created by the first registration, which writes state.json too.
		o.Files = append(o.Files, filepath.Join(e.g.stateDir, regclient.CertFile))
	}
	if e.demo != nil {
		o.Sources = append(o.Sources, e.demo.net.Changed())
	} else {
		o.Netlink = true
		if lis != nil {
			o.LinkUp = lis.LinkUp
		}
		if rc := e.cfg.Network.ResolvConf; rc != "" {
			o.Files = append(o.Files, rc)
		}
	}
	w, _ := netwatch.New(o) // never nil; a failure is logged and polled around
	return w
}

func termDesc(p ui.Profile, tty string) string {
	parts := []string{"TERM=" + os.Getenv("TERM"), p.Color.String()}
	if p.ASCII {
		parts = append(parts, "ASCII")
	}
	if p.Serial {
		parts = append(parts, "serial profile")
	}
	if tty != "" {
		parts = append(parts, tty)
	}
	return strings.Join(parts, ", ")
}

// recoverAtStart finishes what a crash left in the state dir before the
// first frame reads it (regclient.Store.Recover: leftover temporary files in
// identity/, an unfinished registration or wipe, a lost certificate whose
// key is kept) and returns the sentence to show when the node must
// register again, or "".
func (e *env) recoverAtStart() string {
	if e.stateErr != nil {
		return ""
	}
	st, action, err := e.store.Recover()
	if err != nil {
		e.log.Error("recover the registration state", "err", err)
		return ""
	}
	if action != regclient.RecoverNothing {
		e.log.Info("recovered registration state", "action", string(action), "state", string(st.State))
	}
	if st.State == regclient.Pending && st.Recovery != "" {
		return st.Recovery
	}
	return ""
}

// powerCmd is what the menu's Reboot or Shut down runs: a network change on
// trial is reverted first, then argv (console.rebootCommand or
// console.poweroffCommand) runs. In --demo nothing runs. nil (no menu entry)
// when the command is configured empty.
func (e *env) powerCmd(what string, argv []string, mgr *netconfig.Manager) func(context.Context) (string, error) {
	if e.demo != nil {
		return func(context.Context) (string, error) {
			if what == "reboot" {
				e.demo.reboot() // the node's boot time moves on, as after a reboot
			}
			e.log.Info(what+" simulated", "audit", true)
			return "Simulated (demo): nothing was restarted or switched off.", nil
		}
	}
	if len(argv) == 0 {
		return nil
	}
	return func(ctx context.Context) (string, error) {
		if mgr != nil {
			if _, err := mgr.RevertPending(ctx, what); err != nil {
				return "", fmt.Errorf("%s: revert the network change on trial: %w", what, err)
			}
		}
		e.log.Info(what, "audit", true, "command", strings.Join(argv, " "))
		if err := regclient.ExecRunner(ctx, argv); err != nil {
			return "", fmt.Errorf("%s with %q: %w", what, strings.Join(argv, " "), err)
		}
		return "Started: the node goes down in a moment.", nil
	}
}

// configFiles lists the files the config is read from, each marked found or
// not, for About this node.
func configFiles(path string) []tui.FileFact {
	var out []tui.FileFact
	for _, f := range config.Files(path) {
		_, err := os.Stat(f)
		out = append(out, tui.FileFact{Path: f, Found: err == nil})
	}
	return out
}
