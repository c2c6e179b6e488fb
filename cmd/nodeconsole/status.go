package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"
)

func cmdStatus(ctx context.Context, g globals, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	asJSON := fs.Bool("json", false, "")
	if err := parseNoArgs(fs, "status", args); err != nil {
		return err
	}
	e, err := newEnv(ctx, g, envOpts{readOnly: true, problems: stderr})
	if err != nil {
		return err
	}
	defer e.close()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	s := e.collector().Collect(ctx)
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(s)
	}
	w := func(k, v string) { fmt.Fprintf(stdout, "%-13s %s\n", k+":", v) }
	w("Hostname", s.Hostname)
	w("Node ID", s.NodeID)
	w("Make/model", strings.TrimSpace(s.Make+" "+s.Model))
	w("Version", s.Version)
	w("Registration", s.Registration.RegistrationLine(time.Now()))
	if s.Certificate != nil {
		w("Certificate", s.Certificate.ExpiryLine(time.Now()))
	}
	if s.Endpoint != "" {
		w("Endpoint", s.Endpoint)
	}
	for _, ifc := range s.Interfaces {
		mark := ""
		if ifc.Default {
			mark = " (default route)"
		}
		w("Interface", fmt.Sprintf("%s %s %s %s%s", ifc.Name, ifc.State, ifc.MAC, strings.Join(ifc.Addresses, " "), mark))
	}
	if s.Gateway != "" {
		w("Gateway", s.Gateway+" via "+s.GatewayInterface)
	}
	w("DNS", strings.Join(s.DNS, ", "))
	for _, n := range s.Notes {
		w("Note", n)
	}
	for _, p := range s.Problems {
		w("Problem", p)
	}
	return nil
}
