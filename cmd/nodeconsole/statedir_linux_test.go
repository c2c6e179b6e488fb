package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/nodeconsole/nodeconsole/api"
	"github.com/nodeconsole/nodeconsole/controlplane/cptest"
	"github.com/nodeconsole/nodeconsole/testenv"
)

// inMountNS runs script with sh in a mount namespace of its own, with
// $NC set to this test binary acting as nodeconsole. Mounts made there
// (a tmpfs over the state dir) vanish with it: the host never sees them.
func inMountNS(t *testing.T, script string, env ...string) string {
	t.Helper()
	testenv.RequireRoot(t)
	unshare := testenv.RequireCommand(t, "unshare")
	cmd := exec.Command(unshare, "--mount", "--propagation", "private", "sh", "-ec", script)
	cmd.Env = append([]string{"NC=" + os.Args[0], "PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("mount namespace script: %v\n%s", err, out)
	}
	return string(out)
}

// between returns what out holds between the lines "== a" and "== b".
func between(out, a, b string) string {
	_, rest, _ := strings.Cut(out, "== "+a+"\n")
	part, _, _ := strings.Cut(rest, "== "+b+"\n")
	return part
}

// tokenNode is a node (state dir made, not yet a mount point) and a
// single-use token of a real control plane.
func tokenNode(t *testing.T) (*cptest.Server, cliNode, api.CreateTokenResponse) {
	t.Helper()
	cp := cptest.New(t)
	tok, err := cp.CreateToken("site", "retail", "1h", true)
	if err != nil {
		t.Fatal(err)
	}
	n := newCLINode(t, cp, "")
	if err := os.MkdirAll(n.state, 0o755); err != nil {
		t.Fatal(err)
	}
	return cp, n, tok
}

// TestRegisterReadOnlyStateDir: on a read-only state dir, register exits
// non-zero with one sentence that names the dir and the fix, contacts no
// one, and leaves the single-use token unspent (it registers the node
// later, once the dir is writable).
func TestRegisterReadOnlyStateDir(t *testing.T) {
	cp, n, tok := tokenNode(t)
	out := inMountNS(t, `
mount -t tmpfs -o size=1m tmpfs "$ST"
mount -o remount,ro "$ST"
echo "== run"
NODECONSOLE_TEST_MAIN=1 NODECONSOLE_REGISTRATION_TOKEN="$TOK" "$NC" --state-dir "$ST" --config "$CFG" register 2>&1 && echo "exit=0" || echo "exit=$?"
echo "== files"
ls -A "$ST"
echo "== end"
`, "ST="+n.state, "CFG="+n.config, "TOK="+tok.Token)

	run := between(out, "run", "files")
	lines := strings.Split(strings.TrimSpace(run), "\n")
	if len(lines) != 2 || lines[1] != "exit=1" {
		t.Fatalf("want one line of error and exit 1, got:\n%s", run)
	}
	if want := "Cannot write to the state dir " + n.state + ": it is on a read-only file system"; !strings.Contains(lines[0], want) {
		t.Errorf("error %q, want it to say %q", lines[0], want)
	}
	if strings.Contains(out, tok.Token) || strings.Contains(out, tok.Token[4:]) {
		t.Error("the registration token reached the output")
	}
	if files := strings.TrimSpace(between(out, "files", "end")); files != "" {
		t.Errorf("files in the read-only state dir: %q", files)
	}
	if nodes, err := cp.Nodes(); err != nil || len(nodes) != 0 {
		t.Fatalf("control plane nodes after a failed start: %v, %v", nodes, err)
	}
	// The token was not spent: the same single-use token registers now.
	if code, stdout, stderr := n.run(t, "register", "--token", tok.Token); code != 0 {
		t.Fatalf("register once writable: exit %d: %s %s", code, stdout, stderr)
	}
	if state, _ := n.status(t); state != "registered" {
		t.Errorf("status %s after registering in a writable dir", state)
	}
}

// TestRegisterFullStateDir: with the state dir's disk full, register exits
// non-zero with one sentence, leaves no partial or temporary file behind,
// and once space is freed the same single-use token registers the node.
func TestRegisterFullStateDir(t *testing.T) {
	_, n, tok := tokenNode(t)
	out := inMountNS(t, `
mount -t tmpfs -o size=64k tmpfs "$ST"
dd if=/dev/zero of="$ST/fill" bs=4k 2>/dev/null || true
echo "== run"
NODECONSOLE_TEST_MAIN=1 NODECONSOLE_REGISTRATION_TOKEN="$TOK" "$NC" --state-dir "$ST" --config "$CFG" register 2>&1 && echo "exit=0" || echo "exit=$?"
echo "== files"
ls -A "$ST"
rm "$ST/fill"
echo "== again"
NODECONSOLE_TEST_MAIN=1 NODECONSOLE_REGISTRATION_TOKEN="$TOK" "$NC" --state-dir "$ST" --config "$CFG" register 2>&1 && echo "exit=0" || echo "exit=$?"
echo "== status"
NODECONSOLE_TEST_MAIN=1 "$NC" --state-dir "$ST" --config "$CFG" status --json
echo "== end"
`, "ST="+n.state, "CFG="+n.config, "TOK="+tok.Token)

	run := between(out, "run", "files")
	lines := strings.Split(strings.TrimSpace(run), "\n")
	if len(lines) != 2 || lines[1] != "exit=1" {
		t.Fatalf("want one line of error and exit 1, got:\n%s", run)
	}
	if want := "the disk is full; free some space and try again."; !strings.Contains(lines[0], want) {
		t.Errorf("error %q, want it to say %q", lines[0], want)
	}
	t.Logf("full state dir after the failure: %q", between(out, "files", "again"))
	for _, f := range strings.Fields(between(out, "files", "again")) {
		if f != "fill" && f != "nodeconsole.log" && f != "node-id" {
			t.Errorf("left in the full state dir: %s (nothing may be half-written)", f)
		}
	}
	if again := between(out, "again", "status"); !strings.Contains(again, "Registered as") || !strings.Contains(again, "exit=0") {
		t.Fatalf("register after freeing space:\n%s", again)
	}
	if status := between(out, "status", "end"); !strings.Contains(status, `"state": "registered"`) {
		t.Errorf("status after freeing space:\n%s", status)
	}
	if strings.Contains(out, tok.Token) {
		t.Error("the registration token reached the output")
	}
}
