package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/nodeconsole/nodeconsole/netconfig"
)

// historyJSON is one `network history --json` entry.
type historyJSON struct {
	N       int              `json:"n"`
	Time    time.Time        `json:"time"`
	Config  netconfig.Config `json:"config"`
	Changes []string         `json:"changes"`
}

// netHistory is `nodeconsole network history [--json]`: the last kept
// configurations, newest (the one saved now) first, numbered for restore.
func netHistory(ctx context.Context, g globals, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("network history", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	asJSON := fs.Bool("json", false, "")
	if err := parseNoArgs(fs, "network history", args); err != nil {
		return err
	}
	e, err := newEnv(ctx, g, envOpts{readOnly: true, problems: stderr})
	if err != nil {
		return err
	}
	defer e.close()
	m, err := e.netManager()
	if err != nil {
		return err
	}
	hist, err := m.History()
	if err != nil {
		return fmt.Errorf("network history: %w", err)
	}
	out := []historyJSON{}
	for i, h := range hist {
		out = append(out, historyJSON{N: i + 1, Time: h.Time, Config: h.Config, Changes: h.Changes})
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"history": out})
	}
	if len(out) == 0 {
		fmt.Fprintln(stdout, "No network settings have been kept yet.")
		return nil
	}
	for _, h := range out {
		current := ""
		if h.N == 1 {
			current = " (current)"
		}
		fmt.Fprintf(stdout, "%d  %s  %s%s\n   %s\n", h.N, h.Time.UTC().Format(time.RFC3339), h.Config.Describe(), current, strings.Join(h.Changes, "; "))
	}
	return nil
}

// netRestore is `nodeconsole network restore N [--try DURATION]`: entry N
// of network history goes through the same preview, apply, checks and
// keep-or-revert as network set.
func netRestore(ctx context.Context, g globals, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("network restore", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	try := fs.Duration("try", 0, "")
	var pos []string
	for rest := args; ; {
		if err := fs.Parse(rest); err != nil {
			return flagErr("network restore", err, args)
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	if len(pos) != 1 {
		return usagef("network restore takes the number of an entry of 'network history', like 2")
	}
	n, err := strconv.Atoi(pos[0])
	if err != nil || n < 1 || n > netconfig.MaxHistory {
		return usagef("network restore: %q is not an entry number from 1 to %d (see 'network history')", pos[0], netconfig.MaxHistory)
	}
	if *try < 0 {
		return usagef("network restore: --try must be a positive duration like 60s")
	}
	e, err := newEnv(ctx, g, envOpts{log: true, problems: stderr})
	if err != nil {
		return err
	}
	defer e.close()
	m, err := e.netManagerTry(*try)
	if err != nil {
		return err
	}
	hist, err := m.History()
	if err != nil {
		return fmt.Errorf("network restore: %w", err)
	}
	if n > len(hist) {
		return usagef("network restore: there is no entry %d; 'network history' lists %d", n, len(hist))
	}
	cfg := hist[n-1].Config
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	st, err := m.Status(rctx)
	cancel()
	if err != nil {
		return fmt.Errorf("network restore: %w", err)
	}
	if err := cfg.Validate(st); err != nil {
		return usagef("network restore: entry %d no longer fits this node: %s", n, netconfig.FieldMessages(err))
	}
	e.log.Info("network restore", "audit", true, "entry", n, "config", cfg.Describe())
	fmt.Fprintf(stdout, "Restoring entry %d, kept %s.\n", n, hist[n-1].Time.UTC().Format(time.RFC3339))
	return tryConfig(ctx, e, m, st, cfg, *try, stdin, stdout, "network restore")
}
