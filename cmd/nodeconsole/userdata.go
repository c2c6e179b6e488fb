package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/nodeconsole/nodeconsole/config"
	"github.com/nodeconsole/nodeconsole/netconfig"
	"github.com/nodeconsole/nodeconsole/userdata"
)

// cmdUserdata is `nodeconsole userdata apply [--source DEV|IMAGE|DIR|imds]
// [--dry-run]` and `nodeconsole userdata show`.
func cmdUserdata(ctx context.Context, g globals, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return usagef("userdata needs a command: apply or show")
	}
	switch args[0] {
	case "apply":
		return userdataApply(ctx, g, args[1:], stdout)
	case "show":
		if len(args) > 1 {
			return usagef("userdata show takes no arguments, got %q", args[1])
		}
		return userdataShow(ctx, g, stdout)
	}
	return usagef("unknown userdata command %q (apply or show)", args[0])
}

// userdataFinder is the host's devices and metadata service. The
// NODECONSOLE_USERDATA_* variables point it elsewhere (tests: a fake
// /sys/block with a loop device, a fake DMI, a fake metadata service).
func (e *env) userdataFinder() userdata.Finder {
	f := userdata.DefaultFinder(e.log)
	f.DMIDir = e.dmiDir
	set := func(name string, dst *string) {
		if v := os.Getenv("NODECONSOLE_USERDATA_" + name); v != "" {
			*dst = v
		}
	}
	set("SYS_BLOCK", &f.SysBlock)
	set("DEV_DIR", &f.DevDir)
	set("DMI_DIR", &f.DMIDir)
	set("IMDS_URL", &f.IMDS)
	if d, err := time.ParseDuration(os.Getenv("NODECONSOLE_USERDATA_IMDS_TIMEOUT")); err == nil && d > 0 {
		f.Timeout = d
	}
	return f
}

// configDropInDir is config.d beside the config file.
func (g globals) configDropInDir() string {
	return filepath.Join(filepath.Dir(g.configPath), "config.d")
}

func userdataApply(ctx context.Context, g globals, args []string, stdout io.Writer) error {
	fset := flag.NewFlagSet("userdata apply", flag.ContinueOnError)
	fset.SetOutput(io.Discard)
	source := fset.String("source", "", "")
	dryRun := fset.Bool("dry-run", false, "")
	if err := fset.Parse(args); err != nil {
		return flagErr("userdata apply", err, args)
	}
	if fset.NArg() > 0 {
		return usagef("userdata apply takes no arguments, got %q", fset.Arg(0))
	}
	if *source != "" && *source != "imds" {
		if _, err := os.Stat(*source); err != nil {
			return usagef("userdata apply: --source %s: %s", *source, errText(err))
		}
	}
	e, err := newEnv(ctx, g, envOpts{log: true})
	if err != nil {
		return err
	}
	defer e.close()
	if e.stateErr != nil && !*dryRun {
		return fmt.Errorf("userdata apply: %s", oneLine(e.stateErr))
	}
	finder := e.userdataFinder()
	var found *userdata.Found
	if *source == "" {
		found, err = finder.Find(ctx)
	} else {
		found, err = finder.FromSource(ctx, *source)
	}
	if err != nil {
		e.log.Warn("user data: read failed", "err", err)
		return fmt.Errorf("userdata apply: %s", oneLine(err))
	}
	if found == nil {
		e.log.Info("user data: none found")
		// User data refused earlier is gone (the stick was taken out):
		// the home screen stops saying why it was refused.
		if rec, err := userdata.LoadRecord(g.stateDir); err == nil && rec.Refused != nil && !*dryRun {
			rec.Refused = nil
			if err := rec.Save(g.stateDir); err != nil {
				e.log.Warn("user data: cannot update the record", "err", err)
			}
		}
		fmt.Fprintln(stdout, "No user data found: no CIDATA volume with a user-data file, and no instance metadata with user data.")
		return nil
	}
	s, err := userdata.Parse(found.Name, found.Data)
	var notOurs userdata.ErrNotOurs
	if errors.As(err, &notOurs) {
		e.log.Info("user data: ignored", "source", found.Source, "where", found.Where, "reason", notOurs.Reason)
		fmt.Fprintf(stdout, "User data from %s ignored: %s.\n", found.Source, notOurs.Reason)
		return nil
	}
	var probs config.Problems
	if errors.As(err, &probs) {
		return e.refuseUserdata(found, "", probs, *dryRun, stdout)
	}
	if err != nil {
		return fmt.Errorf("userdata apply: %w", err)
	}
	rec, err := userdata.LoadRecord(g.stateDir)
	if err != nil {
		e.log.Warn("user data: record unreadable; starting a new one", "err", err)
	}
	// The same user data again changes nothing, except that network
	// settings not kept last time (the control plane did not answer) are
	// tried again.
	retryNetwork := false
	if a := rec.Applied; a != nil && a.SHA256 == s.SHA256 {
		if s.Network == nil || a.NetworkKept || *dryRun {
			fmt.Fprintf(stdout, "The user data from %s is already applied (since %s); nothing to do.\n", found.Source, a.Time.Local().Format("2006-01-02 15:04"))
			return nil
		}
		retryNetwork = true
	}
	// Everything is checked before anything changes: the interface too.
	var netCfg *netconfig.Config
	if s.Network != nil {
		// At boot the NIC may appear late (slow driver, udev renaming
		// it): wait for it as `network apply` does.
		if d, err := time.ParseDuration(os.Getenv("NODECONSOLE_USERDATA_LINK_WAIT")); err == nil {
			e.linkWait = d
		}
		m, err := e.netManager()
		if err != nil {
			return fmt.Errorf("userdata apply: %w", err)
		}
		if err := m.WaitLink(ctx, s.Network.Interface); err != nil && ctx.Err() != nil {
			return fmt.Errorf("userdata apply: %w", err)
		}
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		st, err := e.net.Read(rctx)
		cancel()
		if err != nil {
			return fmt.Errorf("userdata apply: read the network: %w", err)
		}
		c, err := netconfig.ParseForm(*s.Network, st)
		if err == nil {
			// What the form cannot know: whether DHCPv6 is available.
			err = m.Validate(ctx, c)
		}
		if netconfig.IsInvalid(err) {
			return e.refuseUserdata(found, s.SHA256, s.NetworkProblems(err), *dryRun, stdout)
		}
		if err != nil {
			return fmt.Errorf("userdata apply: %w", err)
		}
		netCfg = &c
	}
	summary := userdata.Summary(s.Keys)
	if *dryRun {
		fmt.Fprintf(stdout, "User data from %s (%s) is valid and sets: %s.\n", found.Source, found.Where, summary)
		if s.DropIn != nil {
			fmt.Fprintf(stdout, "Would write %s.\n", filepath.Join(g.configDropInDir(), userdata.DropInName))
		}
		if site := s.SiteSettings(); site != "" {
			fmt.Fprintf(stdout, "Would set the %s.\n", site)
		}
		if netCfg != nil {
			fmt.Fprintf(stdout, "Would apply the network settings %s, and keep them if the control plane answers.\n", netCfg.Describe())
		}
		if rec.Applied != nil {
			fmt.Fprintf(stdout, "It would replace the user data from %s applied at %s.\n", rec.Applied.Source, rec.Applied.Time.Local().Format("2006-01-02 15:04"))
		}
		fmt.Fprintln(stdout, "Dry run: nothing was changed.")
		return nil
	}
	if retryNetwork {
		a := rec.Applied
		fmt.Fprintf(stdout, "The user data from %s is applied (since %s); its network settings were not kept, trying them again.\n", found.Source, a.Time.Local().Format("2006-01-02 15:04"))
		var netErr error
		a.Network, a.NetworkKept, netErr = e.userdataNetwork(ctx, *netCfg, stdout)
		if err := rec.Save(g.stateDir); err != nil {
			return fmt.Errorf("userdata apply: %w", err)
		}
		return netErr
	}
	now := time.Now()
	replaced, err := userdata.WriteDropIn(g.configDropInDir(), s, found, now)
	if err != nil {
		return fmt.Errorf("userdata apply: %w", err)
	}
	applied := &userdata.Applied{Source: found.Source, Where: found.Where, Time: now.UTC(), Keys: s.Keys, SHA256: s.SHA256}
	e.log.Info("user data applied", "audit", true, "source", found.Source, "where", found.Where, "keys", strings.Join(s.Keys, ","), "replaced", replaced)
	if rec.Applied != nil || replaced {
		from := "an earlier boot"
		if rec.Applied != nil {
			from = fmt.Sprintf("%s at %s", rec.Applied.Source, rec.Applied.Time.Local().Format("2006-01-02 15:04"))
		}
		fmt.Fprintf(stdout, "Replaced the older user data (from %s).\n", from)
	}
	fmt.Fprintf(stdout, "Site settings loaded from %s: %s.\n", found.Source, summary)
	siteErr := e.userdataSite(ctx, s, stdout)
	var netErr error
	if netCfg != nil {
		applied.Network, applied.NetworkKept, netErr = e.userdataNetwork(ctx, *netCfg, stdout)
	}
	rec.Applied, rec.Refused = applied, nil
	if err := rec.Save(g.stateDir); err != nil {
		return fmt.Errorf("userdata apply: %w", err)
	}
	return errors.Join(siteErr, netErr)
}

// reloadConfig reads the config again: the drop-in just written may set
// the endpoint the checks use, or the paths the host name and NTP servers
// go to.
func (e *env) reloadConfig() {
	e.cfg, e.cfgProbs = config.Load(e.g.configPath, !e.g.configSet)
	if e.g.endpoint != "" {
		e.cfg.Site.Endpoint = e.g.endpoint
	}
}

// userdataSite sets the host name and NTP servers of user data
// (network.hostname, network.ntp) as `network hostname` and `network ntp`
// do; an error says which failed, after trying both.
func (e *env) userdataSite(ctx context.Context, s *userdata.Settings, stdout io.Writer) error {
	if s.Hostname == "" && s.NTP == nil {
		return nil
	}
	e.reloadConfig()
	ctx, cancel := context.WithTimeout(ctx, systemCommandTimeout)
	defer cancel()
	site := e.site()
	var errs []error
	if s.Hostname != "" {
		if err := site.SetHostname(ctx, s.Hostname); err != nil {
			e.log.Info("network hostname failed", "audit", true, "hostname", s.Hostname, "from", "user data", "err", err.Error())
			errs = append(errs, fmt.Errorf("userdata apply: host name not set: %w", err))
		} else {
			e.log.Info("network hostname", "audit", true, "hostname", s.Hostname, "file", site.HostnameFile, "from", "user data")
			fmt.Fprintf(stdout, "Host name set to %s (%s).\n", s.Hostname, site.HostnameFile)
		}
	}
	if s.NTP != nil {
		if path, err := site.SetNTP(ctx, s.NTP); err != nil {
			e.log.Info("network ntp failed", "audit", true, "servers", strings.Join(s.NTP, ","), "from", "user data", "err", err.Error())
			errs = append(errs, fmt.Errorf("userdata apply: NTP servers not set: %w", err))
		} else {
			e.log.Info("network ntp", "audit", true, "servers", strings.Join(s.NTP, ","), "file", path, "from", "user data")
			fmt.Fprintf(stdout, "NTP servers %s written to %s.\n", strings.Join(s.NTP, ", "), path)
		}
	}
	return errors.Join(errs...)
}

// refuseUserdata reports every problem, records the refusal for the home
// screen (not in a dry run) and changes nothing else: exit 2.
func (e *env) refuseUserdata(found *userdata.Found, sum string, probs config.Problems, dryRun bool, stdout io.Writer) error {
	lines := make([]string, len(probs))
	for i, p := range probs {
		lines[i] = p.String()
		fmt.Fprintln(stdout, lines[i])
	}
	e.log.Warn("user data refused", "audit", true, "source", found.Source, "where", found.Where, "problems", strings.Join(lines, "; "))
	if !dryRun {
		rec, _ := userdata.LoadRecord(e.g.stateDir)
		rec.Refused = &userdata.Refused{Source: found.Source, Where: found.Where, Time: time.Now().UTC(), SHA256: sum, Problems: lines}
		if err := rec.Save(e.g.stateDir); err != nil {
			e.log.Warn("user data: cannot record the refusal", "err", err)
		}
	}
	n := "1 problem"
	if len(probs) != 1 {
		n = fmt.Sprintf("%d problems", len(probs))
	}
	return usagef("userdata apply: %s in %s; nothing was applied", n, found.Name)
}

// userdataNetwork applies network settings from user data as the boot
// does: nobody is there to confirm a trial, so they are kept when the
// control plane answers (the gateway, without an endpoint), and otherwise
// the previous settings are restored. It returns what happened, for the
// record, and an error when they were not kept.
func (e *env) userdataNetwork(ctx context.Context, cfg netconfig.Config, stdout io.Writer) (string, bool, error) {
	e.reloadConfig()
	m, err := e.netManager()
	if err != nil {
		return "not applied: " + oneLine(err), false, fmt.Errorf("userdata apply: network settings not applied: %w", err)
	}
	e.log.Info("network apply", "audit", true, "config", cfg.Describe(), "from", "user data")
	fmt.Fprintln(stdout, "Network settings: "+cfg.Describe())
	t, err := m.Apply(ctx, cfg)
	if err != nil {
		return "not applied: " + oneLine(err), false, fmt.Errorf("userdata apply: network settings not applied (the previous ones stay): %w", err)
	}
	fmt.Fprintln(stdout, "Applied. Checks:")
	results := t.RunChecks(ctx, func(r netconfig.Result) { fmt.Fprintln(stdout, r.String()) })
	want := "tls"
	if e.cfg.Site.Endpoint == "" {
		want = "gateway"
	}
	var failed *netconfig.Result
	kept := false
	for i, r := range results {
		if r.Check == want && r.OK {
			kept = true
		}
		if !r.OK && failed == nil {
			failed = &results[i]
		}
	}
	if kept && ctx.Err() == nil {
		if err := t.Confirm(ctx); err != nil {
			return "in use but not saved: " + oneLine(err), true, fmt.Errorf("userdata apply: the network settings are in use but were not saved: %w", err)
		}
		what := "the control plane answers"
		if want == "gateway" {
			what = "the gateway answers"
		}
		e.log.Info("network confirm", "audit", true, "interface", cfg.Interface, "from", "user data")
		fmt.Fprintf(stdout, "Kept and saved: %s.\n", what)
		return "kept: " + cfg.Describe(), true, nil
	}
	why := "the control plane did not answer"
	if want == "gateway" {
		why = "the gateway did not answer"
	}
	if failed != nil {
		why = failed.String()
	}
	if ctx.Err() != nil {
		why = "stopped"
	}
	rerr := t.Revert(ctx)
	e.log.Info("network trial ended", "audit", true, "interface", cfg.Interface, "outcome", "reverted", "reason", why, "err", netErrString(rerr))
	if rerr != nil {
		return "not kept (" + why + "); restoring the previous settings failed: " + oneLine(rerr), false,
			fmt.Errorf("userdata apply: network settings not kept (%s); restoring the previous settings failed: %w", why, rerr)
	}
	fmt.Fprintln(stdout, "Not kept; the previous settings were restored.")
	return fmt.Sprintf("%s not kept (%s); the previous settings were restored", cfg.Describe(), why), false,
		fmt.Errorf("userdata apply: network settings not kept (%s); the previous settings were restored, the other settings were applied", why)
}

func userdataShow(ctx context.Context, g globals, stdout io.Writer) error {
	rec, err := userdata.LoadRecord(g.stateDir)
	if err != nil {
		return fmt.Errorf("userdata show: %w", err)
	}
	w := func(k, v string) { fmt.Fprintf(stdout, "%-19s %s\n", k+":", v) }
	dropIn := filepath.Join(g.configDropInDir(), userdata.DropInName)
	a := rec.Applied
	if a == nil {
		w("User data", "none applied")
	} else {
		if strings.Contains(a.Source, a.Where) {
			w("Source", a.Source)
		} else {
			w("Source", a.Source+" ("+a.Where+")")
		}
		w("Applied", a.Time.Local().Format("2006-01-02 15:04:05 MST"))
		w("Keys", strings.Join(a.Keys, ", "))
		setOrNot := func(key string) string {
			if slices.Contains(a.Keys, key) {
				return "set"
			}
			return "not set"
		}
		w("Registration token", setOrNot("site.registrationToken"))
		w("Pairing key", setOrNot("site.pairingKey"))
		if a.Network != "" {
			w("Network", a.Network)
		}
		if _, err := os.Stat(dropIn); err == nil {
			w("File", dropIn)
		} else if errors.Is(err, fs.ErrNotExist) && slices.ContainsFunc(a.Keys, func(k string) bool { return k != "network.interface" }) {
			w("File", dropIn+" (missing: removed since)")
		}
	}
	if f := rec.Refused; f != nil && (a == nil || f.Time.After(a.Time)) {
		w("Refused", fmt.Sprintf("user data from %s (%s) at %s:", f.Source, f.Where, f.Time.Local().Format("2006-01-02 15:04:05 MST")))
		for _, p := range f.Problems {
			fmt.Fprintln(stdout, "  "+p)
		}
	}
	return nil
}

// errText is an error without its path: "no such file or directory".
func errText(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}
