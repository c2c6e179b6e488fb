package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nodeconsole/nodeconsole/controlplane"
	"github.com/nodeconsole/nodeconsole/controlplane/cptest"
)

// cliNodeID is the node ID the test config pins (node.name).
const cliNodeID = "edge-0123456789abcdef0123456789abcdef"

// cliNode is a state dir and config talking to cp.
type cliNode struct {
	state, config string
}

func newCLINode(t *testing.T, cp *cptest.Server, site string) cliNode {
	t.Helper()
	dir := t.TempDir()
	n := cliNode{state: filepath.Join(dir, "state"), config: filepath.Join(dir, "config.yaml")}
	cfg := fmt.Sprintf("node: {name: %s, make: Acme, model: EdgeBox}\nsite:\n  endpoint: %s\n  caCerts: [%s]\n%s",
		cliNodeID, cp.URL, cp.CAPath, site)
	if err := os.WriteFile(n.config, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return n
}

func (n cliNode) run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	return runCmd(t, append([]string{"--state-dir", n.state, "--config", n.config}, args...)...)
}

// status is `status --json`'s registration part.
func (n cliNode) status(t *testing.T) (state, name string) {
	t.Helper()
	code, out, errs := n.run(t, "status", "--json")
	if code != 0 {
		t.Fatalf("status: exit %d: %s", code, errs)
	}
	var s struct {
		NodeID       string `json:"nodeId"`
		Registration struct {
			State    string `json:"state"`
			NodeName string `json:"nodeName"`
		} `json:"registration"`
	}
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatal(err)
	}
	if s.NodeID != cliNodeID {
		t.Errorf("status nodeId %s, want %s", s.NodeID, cliNodeID)
	}
	return s.Registration.State, s.Registration.NodeName
}

// noSecret fails if secret shows in any output or in the log file.
func (n cliNode) noSecret(t *testing.T, secret string, outs ...string) {
	t.Helper()
	logData, _ := os.ReadFile(filepath.Join(n.state, "nodeconsole.log"))
	for _, s := range append(outs, string(logData)) {
		if strings.Contains(s, secret) || strings.Contains(s, secret[5:]) {
			t.Errorf("the token shows in output or log:\n%s", s)
		}
	}
}

func TestRegisterTokenFromConfig(t *testing.T) {
	cp := cptest.New(t)
	tok, err := cp.CreateToken("line-1", "retail", "", true)
	if err != nil {
		t.Fatal(err)
	}
	n := newCLINode(t, cp, fmt.Sprintf("  registrationToken: %s\n  tags: {rack: r4}\n", tok.Token))
	code, out, errs := n.run(t, "register")
	if code != 0 || !strings.Contains(out, "Registered as "+cliNodeID+" (project retail)") {
		t.Fatalf("register: exit %d\nstdout %s\nstderr %s", code, out, errs)
	}
	n.noSecret(t, tok.Token, out, errs)
	if st, name := n.status(t); st != "registered" || name != cliNodeID {
		t.Errorf("status %s %s", st, name)
	}
	if node, _ := cp.Node(cliNodeID); node.Tags["rack"] != "r4" {
		t.Errorf("tags not sent: %+v", node.Tags)
	}
	// Already registered: says so, exit 0, nothing changes.
	code, out, _ = n.run(t, "register")
	if code != 0 || !strings.Contains(out, "already registered") {
		t.Errorf("second register: exit %d %q", code, out)
	}
}

func TestRegisterTokenFlagSpentToken(t *testing.T) {
	cp := cptest.New(t)
	tok, _ := cp.CreateToken("once", "", "", true)
	first := newCLINode(t, cp, "")
	tokFile := secretFile(t, tok.Token+"\n")
	if code, _, errs := first.run(t, "register", "--token-file", tokFile); code != 0 {
		t.Fatalf("first: %s", errs)
	}
	// The same single-use token on another node (another state dir, but
	// deleted on the server so the ID is free): a clear one-line error.
	if err := cp.DeleteNode(cliNodeID); err != nil {
		t.Fatal(err)
	}
	second := newCLINode(t, cp, "")
	code, out, errs := second.run(t, "register", "--token-file", tokFile)
	if code != 1 || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, "unknown, expired, revoked or already used") {
		t.Fatalf("spent token: exit %d, stderr %q", code, errs)
	}
	second.noSecret(t, tok.Token, out, errs)
	if st, _ := second.status(t); st != "unregistered" {
		t.Errorf("state %s after a refused token", st)
	}
}

// A pre-added ID without a pairing key is not a credential (issue 12): the
// node shows a code like any other, and licensing it keeps the admin's tags.
func TestRegisterManualID(t *testing.T) {
	cp := cptest.New(t)
	if _, err := cp.AddNodes([]string{cliNodeID}, map[string]string{"rack": "4"}); err != nil {
		t.Fatal(err)
	}
	n := newCLINode(t, cp, "")
	lines, done := startRegister(t, n)
	if _, err := cp.License(codeFrom(t, lines), "store-4", ""); err != nil {
		t.Fatal(err)
	}
	for range lines {
	}
	if res := <-done; res[0] != "0" {
		t.Fatalf("exit %s, stderr %q", res[0], res[1])
	}
	if st, _ := n.status(t); st != "registered" {
		t.Errorf("status %s", st)
	}
	if node, err := cp.Node(cliNodeID); err != nil || node.Tags["rack"] != "4" {
		t.Errorf("node = %+v, %v", node, err)
	}
}

// startRegister runs `register` in the background; lines come from its
// stdout, and the exit code and stderr when it ends.
func startRegister(t *testing.T, n cliNode, args ...string) (lines <-chan string, done <-chan [2]string) {
	pr, pw := io.Pipe()
	lc := make(chan string, 100)
	dc := make(chan [2]string, 1)
	go func() {
		var errb bytes.Buffer
		code := run(context.Background(), append([]string{"--state-dir", n.state, "--config", n.config, "register"}, args...),
			strings.NewReader(""), pw, &errb)
		pw.Close()
		dc <- [2]string{fmt.Sprint(code), errb.String()}
	}()
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			lc <- sc.Text()
		}
		close(lc)
	}()
	return lc, dc
}

// codeFrom reads lines until the activation code.
func codeFrom(t *testing.T, lines <-chan string) string {
	t.Helper()
	for l := range lines {
		if c, ok := strings.CutPrefix(l, "Activation code: "); ok {
			return c
		}
	}
	t.Fatal("no activation code printed")
	return ""
}

func TestRegisterCodePath(t *testing.T) {
	cp := cptest.NewWith(t, controlplane.Options{PollInterval: time.Millisecond})
	n := newCLINode(t, cp, "  registrationURL: https://sites.example/register\n")
	lines, done := startRegister(t, n)
	code := codeFrom(t, lines)
	if _, err := cp.License(code, "store-21", "retail"); err != nil {
		t.Fatal(err)
	}
	var out []string
	for l := range lines {
		out = append(out, l)
	}
	res := <-done
	if res[0] != "0" || !strings.Contains(strings.Join(out, "\n"), "Registered as store-21 (project retail)") {
		t.Fatalf("exit %s, stderr %q, stdout %q", res[0], res[1], out)
	}
	if st, name := n.status(t); st != "registered" || name != "store-21" {
		t.Errorf("status %s %s", st, name)
	}
}

func TestRegisterCodePrintsURLsAndResumes(t *testing.T) {
	cp := cptest.New(t)
	n := newCLINode(t, cp, "  registrationURL: https://sites.example/register\n")
	code1, out1, errs1 := n.run(t, "register", "--timeout", "3s") // long enough for the enrollment itself on a loaded machine
	if code1 != 1 || !strings.Contains(errs1, "timed out after 3s") || !strings.Contains(errs1, "code stays valid") {
		t.Fatalf("timeout: exit %d, stderr %q", code1, errs1)
	}
	for _, want := range []string{"Activation code: ", "Enter it at:     " + cp.URL + "/activate",
		"Or open:         https://sites.example/register?code=", "node=" + cliNodeID} {
		if !strings.Contains(out1, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out1)
		}
	}
	if strings.Contains(out1, "\u2580") || strings.Contains(out1, "\u2584") {
		t.Error("a QR code was printed to a non-terminal")
	}
	// Running again shows the same code.
	_, out2, _ := n.run(t, "register", "--timeout", "3s") // long enough for the enrollment itself on a loaded machine
	line := func(s string) string {
		for _, l := range strings.Split(s, "\n") {
			if strings.HasPrefix(l, "Activation code: ") {
				return l
			}
		}
		return ""
	}
	if line(out1) == "" || line(out1) != line(out2) || !strings.Contains(out2, "Resuming") {
		t.Errorf("second run shows %q, want %q resumed", line(out2), line(out1))
	}
}

func TestRegisterDenied(t *testing.T) {
	cp := cptest.NewWith(t, controlplane.Options{PollInterval: time.Millisecond})
	n := newCLINode(t, cp, "")
	lines, done := startRegister(t, n)
	if err := cp.Deny(codeFrom(t, lines)); err != nil {
		t.Fatal(err)
	}
	for range lines {
	}
	res := <-done
	if res[0] != "1" || !strings.Contains(res[1], "denied") || strings.Count(res[1], "\n") != 1 {
		t.Fatalf("exit %s, stderr %q", res[0], res[1])
	}
}

func TestRegisterExpired(t *testing.T) {
	cp := cptest.NewWith(t, controlplane.Options{CodeTTL: 2 * time.Second, PollInterval: time.Millisecond})
	n := newCLINode(t, cp, "")
	code, _, errs := n.run(t, "register")
	if code != 1 || !strings.Contains(errs, "expired") {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
}

func TestRegisterBadInput(t *testing.T) {
	cp := cptest.New(t)
	n := newCLINode(t, cp, "")
	for _, args := range [][]string{
		{"register", "--bogus"},
		{"register", "extra"},
		{"register", "--timeout", "soon"},
	} {
		if code, _, errs := n.run(t, args...); code != 2 || strings.Count(errs, "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q", args, code, errs)
		}
	}
	// No endpoint at all.
	empty := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(empty, []byte("node: {name: x}\n"), 0o644)
	code, _, errs := runCmd(t, "--state-dir", t.TempDir(), "--config", empty, "register")
	if code != 2 || !strings.Contains(errs, "no control-plane endpoint") {
		t.Errorf("no endpoint: exit %d, %q", code, errs)
	}
}
