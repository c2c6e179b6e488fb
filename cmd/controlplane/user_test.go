package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/nodeconsole/nodeconsole/api"
	"github.com/nodeconsole/nodeconsole/controlplane/cptest"
)

// cli runs the controlplane command with --data dir and args.
func cli(t *testing.T, dir, in string, args ...string) (string, error) {
	t.Helper()
	stdin = strings.NewReader(in)
	defer func() { stdin = os.Stdin }()
	var out bytes.Buffer
	err := run(context.Background(), append([]string{"--data", dir}, args...), &out, &out)
	return out.String(), err
}

// status is the HTTP status of an admin API call with bearer tok.
func status(t *testing.T, cp *cptest.Server, method, path, tok string) int {
	t.Helper()
	req, _ := http.NewRequest(method, cp.URL+path, strings.NewReader(`{"name":"x","project":"p"}`))
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := cp.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestUserCommandsWhileServing runs the user commands on the data directory
// of a running server and checks the server honours each change at once.
func TestUserCommandsWhileServing(t *testing.T) {
	cp := cptest.New(t)
	dir := cp.DataDir
	if _, err := cli(t, dir, "op-password-1\n", "user", "add", "olga", "--role", "operator", "--password-stdin"); err != nil {
		t.Fatal(err)
	}
	out, err := cli(t, dir, "", "user", "token", "olga", "--name", "ci", "--expires", "30d")
	if err != nil {
		t.Fatal(err)
	}
	tok := regexp.MustCompile(`ncat_[A-Za-z0-9_-]{43}`).FindString(out)
	id := regexp.MustCompile(`API token (\S+)`).FindStringSubmatch(out)
	if tok == "" || id == nil {
		t.Fatalf("user token printed %q", out)
	}
	// The token acts with the operator role: reads nodes, may not create
	// registration tokens.
	if st := status(t, cp, "GET", api.PathNodes, tok); st != 200 {
		t.Fatalf("operator token GET nodes = %d", st)
	}
	if st := status(t, cp, "POST", api.PathTokens, tok); st != http.StatusForbidden {
		t.Fatalf("operator token POST tokens = %d, want 403", st)
	}
	if _, err := cli(t, dir, "", "user", "disable", "olga"); err != nil {
		t.Fatal(err)
	}
	if st := status(t, cp, "GET", api.PathNodes, tok); st != http.StatusUnauthorized {
		t.Fatalf("token of a disabled user = %d, want 401", st)
	}
	if _, err := cli(t, dir, "", "user", "enable", "olga"); err != nil {
		t.Fatal(err)
	}
	if out, err := cli(t, dir, "", "user", "tokens", "olga", "--json"); err != nil || !strings.Contains(out, `"label":"ci"`) || strings.Contains(out, tok) {
		t.Fatalf("user tokens = %q, %v", out, err)
	}
	if _, err := cli(t, dir, "", "user", "revoke-token", id[1]); err != nil {
		t.Fatal(err)
	}
	if st := status(t, cp, "GET", api.PathNodes, tok); st != http.StatusUnauthorized {
		t.Fatalf("revoked token = %d, want 401", st)
	}

	// A one-time password, to be changed at first login.
	out, err = cli(t, dir, "", "user", "add", "vic", "--role", "viewer")
	if err != nil || !strings.Contains(out, "One-time password") {
		t.Fatalf("user add without --password-stdin: %q, %v", out, err)
	}
	out, err = cli(t, dir, "", "user", "list", "--json")
	var list struct {
		Users []struct {
			Name               string `json:"name"`
			Role               string `json:"role"`
			MustChangePassword bool   `json:"mustChangePassword"`
		} `json:"users"`
	}
	if err != nil || json.Unmarshal([]byte(out), &list) != nil || len(list.Users) != 2 ||
		list.Users[1].Name != "vic" || !list.Users[1].MustChangePassword || list.Users[0].MustChangePassword {
		t.Fatalf("user list --json = %q, %v", out, err)
	}
	if out, err := cli(t, dir, "", "user", "totp", "vic"); err != nil || !strings.Contains(out, "otpauth://totp/nodeconsole:vic?") {
		t.Fatalf("user totp = %q, %v", out, err)
	}

	// admin-token rotate: the running server takes the new one at once.
	old := cp.AdminToken
	if _, err := cli(t, dir, "", "admin-token", "rotate"); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "admin-token"))
	if st := status(t, cp, "GET", api.PathNodes, old); st != http.StatusUnauthorized {
		t.Fatalf("old admin token = %d, want 401", st)
	}
	if st := status(t, cp, "GET", api.PathNodes, strings.TrimSpace(string(b))); st != 200 {
		t.Fatalf("new admin token = %d", st)
	}
	if _, err := cli(t, dir, "", "user", "delete", "vic"); err != nil {
		t.Fatal(err)
	}
	evs, err := cp.Control().Accounts().Users(context.Background())
	if err != nil || len(evs) != 1 {
		t.Fatalf("users after delete = %+v, %v", evs, err)
	}
}

func TestUserCommandUsageErrors(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"user"}, {"user", "add", "x"}, {"user", "add", "x", "--role", "boss"},
		{"user", "add", "x", "--role", "site"}, {"user", "add", "x", "--role", "site", "--sites", "nowhere"},
		{"user", "add", "Bad Name", "--role", "viewer"}, {"user", "add", "admin-token", "--role", "admin"},
		{"user", "list", "extra"}, {"user", "disable"}, {"user", "disable", "ghost"},
		{"user", "token", "ghost"}, {"user", "token", "x", "--expires", "soon"}, {"user", "list", "--role", "admin"},
		{"user", "frob", "x"}, {"admin-token"}, {"admin-token", "show"},
	} {
		_, err := cli(t, dir, "", args...)
		var ue usageError
		if !errors.As(err, &ue) {
			t.Errorf("%q = %v, want a usage error", args, err)
		}
	}
	if _, err := cli(t, dir, "short\n", "user", "add", "x", "--role", "viewer", "--password-stdin"); err == nil {
		t.Error("a 5-character password was accepted")
	}
}
