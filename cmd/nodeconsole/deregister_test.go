package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nodeconsole/nodeconsole/api"
	"github.com/nodeconsole/nodeconsole/controlplane/cptest"
)

// registeredCLINode is a node registered with a token through the CLI.
func registeredCLINode(t *testing.T, cp *cptest.Server) cliNode {
	t.Helper()
	tok, err := cp.CreateToken("t", "retail", "", false)
	if err != nil {
		t.Fatal(err)
	}
	n := newCLINode(t, cp, "")
	if code, _, errs := n.run(t, "register", "--token", tok.Token); code != 0 {
		t.Fatalf("register: %s", errs)
	}
	return n
}

// snapshot is every file under dir (except the log) with its content.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && d.Name() != "nodeconsole.log" {
			b, _ := os.ReadFile(p)
			m[p] = string(b)
		}
		return nil
	})
	return m
}

func sameFiles(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestDeregisterWrongWordsChangeNothing(t *testing.T) {
	cp := cptest.New(t)
	n := registeredCLINode(t, cp)
	before := snapshot(t, n.state)
	for _, word := range []string{"deregister", "DEREGISTE", " DEREGISTER", "DEREGISTER ", "DEREGISTERX", ""} {
		code, out, errs := n.run(t, "deregister", "--confirm", word)
		if code != 2 || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, "--confirm DEREGISTER exactly") || out != "" {
			t.Errorf("--confirm %q: exit %d, stdout %q, stderr %q", word, code, out, errs)
		}
	}
	if code, _, _ := n.run(t, "deregister"); code != 2 {
		t.Errorf("no --confirm: exit %d, want 2", code)
	}
	if !sameFiles(before, snapshot(t, n.state)) {
		t.Error("a refused confirmation changed the state dir")
	}
	if st, _ := n.status(t); st != "registered" {
		t.Errorf("status %s", st)
	}
}

func TestDeregisterThenStatusUnregistered(t *testing.T) {
	cp := cptest.New(t)
	n := registeredCLINode(t, cp)
	code, out, errs := n.run(t, "deregister", "--confirm", "DEREGISTER")
	if code != 0 || !strings.Contains(out, "Deregistered. This node can be registered again.") {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", code, out, errs)
	}
	if st, _ := n.status(t); st != "unregistered" {
		t.Errorf("status %s", st)
	}
	if _, err := os.Stat(filepath.Join(n.state, "identity", "node.key")); !os.IsNotExist(err) {
		t.Errorf("node.key still there: %v", err)
	}
	if ok, _ := cp.HasEvent(api.EventDeregistered, cliNodeID); !ok {
		t.Error("no deregistered event on the control plane")
	}
	// Again: not registered, nothing to do.
	if code, out, _ := n.run(t, "deregister", "--confirm", "DEREGISTER"); code != 0 || !strings.Contains(out, "not registered") {
		t.Errorf("second deregister: exit %d %q", code, out)
	}
	// And it registers again.
	tok, _ := cp.CreateToken("again", "", "", true)
	if code, _, errs := n.run(t, "register", "--token", tok.Token); code != 0 {
		t.Errorf("register again: %s", errs)
	}
}

func TestDeregisterUnreachable(t *testing.T) {
	cp := cptest.New(t)
	n := registeredCLINode(t, cp)
	before := snapshot(t, n.state)
	cp.Stop()
	code, _, errs := n.run(t, "deregister", "--confirm", "DEREGISTER")
	if code != 1 || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, "nothing was changed") || !strings.Contains(errs, "--local") {
		t.Fatalf("unreachable: exit %d, stderr %q", code, errs)
	}
	if !sameFiles(before, snapshot(t, n.state)) {
		t.Error("an undelivered deregister changed the state dir")
	}
	code, out, errs := n.run(t, "deregister", "--confirm", "DEREGISTER", "--local")
	if code != 0 || !strings.Contains(out, "portal keeps listing this node") {
		t.Fatalf("--local: exit %d\nstdout %s\nstderr %s", code, out, errs)
	}
	if st, _ := n.status(t); st != "unregistered" {
		t.Errorf("status %s", st)
	}
	logData, _ := os.ReadFile(filepath.Join(n.state, "nodeconsole.log"))
	if !strings.Contains(string(logData), "AUDIT") {
		t.Error("no audit line in the log for the local removal")
	}
}
