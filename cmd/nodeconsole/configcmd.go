package main

import (
	"fmt"
	"io"
	"os"

	"github.com/nodeconsole/nodeconsole/config"
)

// cmdConfig runs `config check`: every problem of the config file and its
// drop-ins on stdout, one per line as FILE:LINE: KEY: what; exit 2 when there
// is any, 0 when the config is clean.
func cmdConfig(g globals, args []string, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "check" {
		if len(args) == 0 {
			return usagef("config needs a command: check")
		}
		return usagef("unknown config command %q (check)", args[0])
	}
	if len(args) > 1 {
		return usagef("config check takes no arguments, got %q", args[1])
	}
	if err := g.checkConfigFlag(); err != nil {
		return err
	}
	cfg, probs := config.Load(g.configPath, !g.configSet)
	for _, p := range probs {
		fmt.Fprintln(stdout, p.String())
	}
	if n := len(probs); n > 0 {
		return usagef("config check: %d %s", n, plural(n, "problem", "problems"))
	}
	n := 0
	for _, f := range config.Files(g.configPath) {
		if _, err := os.Stat(f); err == nil {
			n++
		}
	}
	fmt.Fprintf(stdout, "config OK: %d %s read; site.registrationToken %s, site.pairingKey %s\n", n, plural(n, "file", "files"),
		isSet(cfg.Site.RegistrationToken), isSet(cfg.Site.PairingKey))
	return nil
}

// isSet says whether a secret is configured without showing any of it.
func isSet(secret string) string {
	if secret == "" {
		return "not set"
	}
	return "set"
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
