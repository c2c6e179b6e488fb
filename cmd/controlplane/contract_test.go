package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"path/filepath"
	"strings"
	"testing"
)

// TestCommandLineContract: every command and flag of the fixed command-line
// contract (DESIGN.md section 6) exists, so a rename breaks this test. Flags
// are given with --help last: the parser accepts each in turn and stops at
// --help before anything runs. The user subcommands share one flag set, so
// their names are checked by running them in a temporary data directory.
func TestCommandLineContract(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	file := filepath.Join(dir, "file")
	ctx := context.Background()
	for _, args := range [][]string{
		{"--listen", "127.0.0.1:0", "--data", data, "--hostname", "cp.example.com", "--code-ttl", "10m",
			"--db", "postgres://cp@db.example.com/cp", "--tls-cert", file, "--tls-key", file,
			"--trusted-proxy", "10.0.0.0/8", "--metrics-listen", "127.0.0.1:0", "--cert-ttl", "24h",
			"--trust-domain", "cp.example.com", "--max-pending", "100", "--pending-retention", "24h",
			"--event-retention", "720h", "--help"},
		{"--data", data, "user", "add", "alice", "--role", "admin", "--sites", "s1,s2", "--password-stdin", "--help"},
		{"--data", data, "user", "list", "--json", "--help"},
		{"--data", data, "user", "token", "alice", "--expires", "30d", "--name", "ci", "--help"},
		{"--data", data, "backup", "--out", file, "--help"},
		{"restore", "--from", file, "--data", data, "--help"},
	} {
		if err := run(ctx, args, io.Discard, io.Discard); !errors.Is(err, flag.ErrHelp) {
			t.Errorf("controlplane %s: %v; want every flag accepted and the usage", strings.Join(args, " "), err)
		}
	}

	// Commands that need a user: "no such user" proves the command exists.
	for _, cmd := range []string{"disable", "enable", "reset-password", "delete", "totp"} {
		err := run(ctx, []string{"--data", data, "user", cmd, "nobody"}, io.Discard, io.Discard)
		if err == nil || strings.Contains(err.Error(), "unknown command") {
			t.Errorf("controlplane user %s nobody: %v; want an error about the user", cmd, err)
		}
	}
	if err := run(ctx, []string{"--data", data, "user", "list"}, io.Discard, io.Discard); err != nil {
		t.Errorf("controlplane user list: %v", err)
	}
	if err := run(ctx, []string{"--data", data, "admin-token", "rotate"}, io.Discard, io.Discard); err != nil {
		t.Errorf("controlplane admin-token rotate: %v", err)
	}

	// The checks above can fail: a flag or command that is not there.
	if err := run(ctx, []string{"--metrics-listn", "x", "--help"}, io.Discard, io.Discard); errors.Is(err, flag.ErrHelp) {
		t.Error("controlplane --metrics-listn was accepted")
	}
	if err := run(ctx, []string{"--data", data, "user", "disabel", "nobody"}, io.Discard, io.Discard); err == nil ||
		!strings.Contains(err.Error(), "unknown command") {
		t.Errorf("controlplane user disabel nobody: %v; want unknown command", err)
	}
}
