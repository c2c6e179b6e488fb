package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/nodeconsole/nodeconsole/config"
	"github.com/nodeconsole/nodeconsole/tui"
)

// globals are the flags that go before the subcommand.
type globals struct {
	configPath string
	configSet  bool
	stateDir   string
	endpoint   string
	caFile     string
	demo       bool
	ascii      bool
	size       *tui.Size
	profile    string
	logFile    string
}

// DefaultStateDir is the state dir on a node.
const DefaultStateDir = "/var/lib/nodeconsole"

func parseGlobal(args []string) (globals, []string, error) {
	g := globals{configPath: config.DefaultPath, stateDir: DefaultStateDir}
	fs := flag.NewFlagSet("nodeconsole", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Func("config", "", func(s string) error { g.configPath, g.configSet = s, true; return nil })
	fs.StringVar(&g.stateDir, "state-dir", g.stateDir, "")
	fs.StringVar(&g.endpoint, "endpoint", "", "")
	fs.StringVar(&g.caFile, "ca-file", "", "")
	fs.BoolVar(&g.demo, "demo", false, "")
	fs.BoolVar(&g.ascii, "ascii", false, "")
	fs.StringVar(&g.profile, "profile", "auto", "")
	fs.StringVar(&g.logFile, "log", "", "")
	var size string
	fs.StringVar(&size, "size", "", "")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return g, nil, errHelp
		}
		return g, nil, usagef("%s", flagError(err, args))
	}
	if size != "" {
		s, err := tui.ParseSize(size)
		if err != nil {
			return g, nil, usagef("%s", err.Error())
		}
		g.size = &s
	}
	switch g.profile {
	case "auto", "default", "serial":
	default:
		return g, nil, usagef("--profile must be auto, default or serial, not %q", g.profile)
	}
	if g.endpoint != "" {
		if err := config.ValidEndpoint(g.endpoint); err != nil {
			return g, nil, usagef("--endpoint: %s", err.Error())
		}
	}
	return g, fs.Args(), nil
}

// parseNoArgs parses a subcommand's flags, which take no positional
// arguments; every mistake is a usage error (exit 2) naming the command.
func parseNoArgs(fs *flag.FlagSet, name string, args []string) error {
	if err := fs.Parse(args); err != nil {
		return flagErr(name, err, args)
	}
	if fs.NArg() > 0 {
		return usagef("%s takes no arguments, got %q", name, fs.Arg(0))
	}
	return nil
}

// flagErr is a subcommand's flag-parsing error: --help (or -h) anywhere
// among its flags prints the usage (exit 0), anything else is a usage error
// naming the command.
func flagErr(name string, err error, args []string) error {
	if errors.Is(err, flag.ErrHelp) {
		return errHelp
	}
	return usagef("%s: %s", name, flagError(err, args))
}

// flagError turns the flag package's messages into one sentence. An unknown
// flag is named as the operator typed it (the flag package reports
// --frobnicate as -frobnicate).
func flagError(err error, args []string) string {
	s := err.Error()
	if name, ok := strings.CutPrefix(s, "flag provided but not defined: "); ok {
		return fmt.Sprintf("unknown flag %s (run 'nodeconsole --help' for the list)", asTyped(name, args))
	}
	return s
}

// asTyped finds the argument that the flag package calls name ("-x"), as
// typed: "--x" or "-x", without any "=value".
func asTyped(name string, args []string) string {
	bare := strings.TrimLeft(name, "-")
	for _, a := range args {
		if a == "--" {
			break
		}
		flag, _, _ := strings.Cut(a, "=")
		if strings.HasPrefix(flag, "-") && strings.TrimLeft(flag, "-") == bare {
			return flag
		}
	}
	return name
}

// checkConfigFlag fails, as bad input, when --config names a file that does
// not exist (the default path may be missing: a laptop, a fresh image).
func (g globals) checkConfigFlag() error {
	if !g.configSet {
		return nil
	}
	if _, err := os.Stat(g.configPath); errors.Is(err, fs.ErrNotExist) {
		return usagef("--config %s: no such file", g.configPath)
	}
	return nil
}
