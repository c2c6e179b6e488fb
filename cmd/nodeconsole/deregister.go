package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/nodeconsole/nodeconsole/regclient"
)

// confirmWord is the exact word that confirms deregistration.
const confirmWord = "DEREGISTER"

// cmdDeregister is `nodeconsole deregister --confirm DEREGISTER [--local]`.
//
// It sends the Deregister event over mutual TLS (10 s), then removes the
// identity and resets the state, keeping the node ID. --confirm must be the
// exact word DEREGISTER: anything else exits 2 with nothing changed. When
// the control plane cannot be reached (or refuses) it exits 1 with nothing
// changed, unless --local is given: then the identity is removed anyway and
// the portal keeps listing the node until an admin deletes it. A node that
// is not registered says so and exits 0.
func cmdDeregister(ctx context.Context, g globals, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("deregister", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	confirm := fs.String("confirm", "", "")
	local := fs.Bool("local", false, "")
	if err := parseNoArgs(fs, "deregister", args); err != nil {
		return err
	}
	if *confirm != confirmWord {
		return usagef("deregister: type --confirm %s exactly (nothing was changed)", confirmWord)
	}
	e, err := newEnv(ctx, g, envOpts{log: true, problems: stderr})
	if err != nil {
		return err
	}
	defer e.close()
	if ok, err := e.registered("deregister"); err != nil || !ok {
		if err == nil {
			fmt.Fprintln(stdout, "This node is not registered; nothing to do.")
		}
		return err
	}
	var r *regclient.Registrar
	if e.cfg.Site.Endpoint != "" {
		r, err = e.registrar("deregister")
	} else {
		err = errors.New("deregister: no control-plane endpoint: set site.endpoint in the config or pass --endpoint")
	}
	if err == nil {
		err = r.Deregister(ctx, "from console (nodeconsole deregister)", func(s regclient.DeregisterStep) {
			fmt.Fprintf(stdout, "%s...\n", s)
		})
		if err == nil {
			fmt.Fprintln(stdout, "Deregistered. This node can be registered again.")
			return nil
		}
	}
	if !*local {
		return fmt.Errorf("deregister: %s; nothing was changed (add --local to remove the identity anyway)", oneLine(err))
	}
	if r == nil {
		r = &regclient.Registrar{Store: e.store, NodeID: e.nodeID, Logger: e.log}
	}
	fmt.Fprintf(stdout, "The control plane was not told (%s).\n", oneLine(err))
	if err := r.DeregisterLocal("--local: " + oneLine(err)); err != nil {
		return fmt.Errorf("deregister: %w", err)
	}
	fmt.Fprintln(stdout, "Removed the identity locally. The portal keeps listing this node until an admin deletes it. This node can be registered again.")
	return nil
}
