package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nodeconsole/nodeconsole/api"
	"github.com/nodeconsole/nodeconsole/controlplane/cptest"
	"github.com/nodeconsole/nodeconsole/regclient"
)

// secretFile writes content to a 0600 file and returns its path.
func secretFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// Each way to pass a token registers the node and never shows the token;
// only --token (readable by other users in ps) warns, once, on stderr.
func TestRegisterTokenSources(t *testing.T) {
	cp := cptest.New(t)
	for _, src := range []string{"file", "env", "flag"} {
		t.Run(src, func(t *testing.T) {
			cp.DeleteNode(cliNodeID) // free the ID from an earlier subtest
			tok, err := cp.CreateToken("t-"+src, "retail", "", true)
			if err != nil {
				t.Fatal(err)
			}
			n := newCLINode(t, cp, "")
			args := []string{"register"}
			switch src {
			case "file":
				args = append(args, "--token-file", secretFile(t, "  "+tok.Token+"\n"))
			case "env":
				t.Setenv(TokenEnv, tok.Token)
			case "flag":
				args = append(args, "--token", tok.Token)
			}
			code, out, errs := n.run(t, args...)
			if code != 0 || !strings.Contains(out, "Registered as "+cliNodeID+" (project retail)") {
				t.Fatalf("exit %d\nstdout %s\nstderr %s", code, out, errs)
			}
			n.noSecret(t, tok.Token, out, errs)
			warn := strings.Count(errs, "process list (ps)")
			if src == "flag" && (warn != 1 || strings.Count(errs, "\n") != 1) || src != "flag" && errs != "" {
				t.Errorf("%s: stderr %q; want exactly one ps warning for --token and nothing otherwise", src, errs)
			}
			if st, _ := n.status(t); st != "registered" {
				t.Errorf("status %s", st)
			}
		})
	}
}

// Bad secret input exits 2 with one line, shows no secret and changes
// nothing.
func TestRegisterSecretBadInput(t *testing.T) {
	cp := cptest.New(t)
	n := newCLINode(t, cp, "")
	const secret = "tok_do_not_print_me_0123456789"
	for name, args := range map[string][]string{
		"missing token file":   {"register", "--token-file", filepath.Join(t.TempDir(), "nope")},
		"empty token file":     {"register", "--token-file", secretFile(t, "\n \n")},
		"two-line token file":  {"register", "--token-file", secretFile(t, secret+"\n"+secret+"\n")},
		"huge token file":      {"register", "--token-file", secretFile(t, strings.Repeat(secret, 200))},
		"token file and flag":  {"register", "--token-file", secretFile(t, secret), "--token", secret},
		"missing pairing file": {"register", "--pairing-key-file", filepath.Join(t.TempDir(), "nope")},
		"empty pairing file":   {"register", "--pairing-key-file", secretFile(t, "")},
		"token file is a dir":  {"register", "--token-file", t.TempDir()},
	} {
		code, out, errs := n.run(t, args...)
		if code != 2 || !strings.HasPrefix(errs, "nodeconsole: register: ") || strings.Count(errs, "\n") != 1 {
			t.Errorf("%s: exit %d, stderr %q", name, code, errs)
		}
		if strings.Contains(out+errs, secret[4:]) {
			t.Errorf("%s: the secret shows: %q %q", name, out, errs)
		}
	}
	if _, err := os.Stat(filepath.Join(n.state, "identity")); err == nil {
		t.Error("bad input created the node identity")
	}
}

// The code path prints this node key's fingerprint next to the code (the
// admin compares it with Find's); a pairing key from a file is used and
// never shown or logged.
func TestRegisterPrintsFingerprintKeepsPairingKeySecret(t *testing.T) {
	cp := cptest.New(t)
	const pairingKey = "pk_never_print_this_key_42"
	n := newCLINode(t, cp, "")
	code, out, errs := n.run(t, "register", "--pairing-key-file", secretFile(t, pairingKey+"\n"), "--timeout", "3s") // long enough for the enrollment itself on a loaded machine
	if code != 1 || !strings.Contains(errs, "timed out") {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	key, err := regclient.Store{Dir: n.state}.LoadKey()
	if err != nil {
		t.Fatal(err)
	}
	fp, _ := api.KeyFingerprint(&key.PublicKey)
	if !strings.Contains(out, "Key fingerprint: "+fp+" ") {
		t.Errorf("stdout lacks the key fingerprint %q:\n%s", fp, out)
	}
	n.noSecret(t, pairingKey, out, errs)
	// status --json carries it too (the home panel reads the same state).
	_, js, _ := n.run(t, "status", "--json")
	if !strings.Contains(js, fmt.Sprintf(`"keyFingerprint": %q`, fp)) {
		t.Errorf("status --json lacks the fingerprint:\n%s", js)
	}
}

// A redelivered certificate (a crash after approval, a lost node.crt) is
// never worded as an admin having pre-added the node.
func TestPrintCodeRedelivery(t *testing.T) {
	var b bytes.Buffer
	printCode(&b, regclient.PendingCode{Approved: true, Redelivered: true}, "", false, false)
	if strings.Contains(b.String(), "admin") || !strings.Contains(b.String(), "already approved") {
		t.Errorf("redelivery says %q", b.String())
	}
	b.Reset()
	printCode(&b, regclient.PendingCode{Approved: true}, "", true, false)
	if !strings.Contains(b.String(), "pairing key") {
		t.Errorf("approval with a pairing key says %q", b.String())
	}
}

// registeredByTokenFile is a node registered with a token from a file on a
// fresh control plane; it returns the token file and the node key.
func registeredByTokenFile(t *testing.T, singleUse bool) (*cptest.Server, cliNode, string, []byte) {
	t.Helper()
	cp := cptest.New(t)
	tok, err := cp.CreateToken("t", "", "", singleUse)
	if err != nil {
		t.Fatal(err)
	}
	n := newCLINode(t, cp, "")
	tokFile := secretFile(t, tok.Token)
	if code, _, errs := n.run(t, "register", "--token-file", tokFile); code != 0 {
		t.Fatalf("register: %s", errs)
	}
	key, err := os.ReadFile(regclient.Store{Dir: n.state}.Path(regclient.KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	return cp, n, tokFile, key
}

// A damaged node.crt does not make register delete node.key: it says what
// happened and the same token registers the same key again.
func TestRegisterDamagedCertificateKeepsKey(t *testing.T) {
	_, n, tokFile, key := registeredByTokenFile(t, true)
	store := regclient.Store{Dir: n.state}
	os.WriteFile(store.Path(regclient.CertFile), []byte("not a certificate"), 0o644)
	code, out, errs := n.run(t, "register", "--token-file", tokFile)
	if code != 0 || !strings.Contains(out, "was damaged or not for this node's key") || !strings.Contains(out, "Registered as") {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", code, out, errs)
	}
	if now, _ := os.ReadFile(store.Path(regclient.KeyFile)); !bytes.Equal(now, key) {
		t.Error("node.key was replaced")
	}
	if st, _ := n.status(t); st != "registered" {
		t.Errorf("status %s", st)
	}
}

// register --pairing-key-file: a node pre-added with that pairing key is
// approved with no code, and the key never shows.
func TestRegisterPairingKeyFile(t *testing.T) {
	cp := cptest.New(t)
	var nl api.NodeList
	if err := cp.Admin("POST", api.PathNodes, api.AddNodesRequest{IDs: []string{cliNodeID},
		PairingKeys: map[string]string{cliNodeID: api.PairingKeyGenerate}}, &nl); err != nil {
		t.Fatal(err)
	}
	key := nl.PairingKeys[cliNodeID]
	n := newCLINode(t, cp, "")
	code, out, errs := n.run(t, "register", "--pairing-key-file", secretFile(t, key+"\n"), "--timeout", "30s")
	if code != 0 || !strings.Contains(out, "accepted the pairing key") || !strings.Contains(out, "Registered as") || strings.Contains(out, "Activation code") {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", code, out, errs)
	}
	n.noSecret(t, key, out, errs)
	if st, _ := n.status(t); st != "registered" {
		t.Errorf("status %s", st)
	}
}

// register on a node whose certificate the control plane refuses (the
// node was deleted in the portal) says why and enrolls again with the
// same key, instead of "already registered".
func TestRegisterStaleCertificateEnrollsAgain(t *testing.T) {
	cp, n, tokFile, key := registeredByTokenFile(t, false)
	if code, out, _ := n.run(t, "register", "--token-file", tokFile); code != 0 || !strings.Contains(out, "already registered") {
		t.Fatalf("register on a good certificate: exit %d %q", code, out)
	}
	if err := cp.DeleteNode(cliNodeID); err != nil {
		t.Fatal(err)
	}
	code, out, errs := n.run(t, "register", "--token-file", tokFile)
	if code != 0 || !strings.Contains(out, "refused this node's certificate") || !strings.Contains(out, "Registered as") {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", code, out, errs)
	}
	if now, _ := os.ReadFile(regclient.Store{Dir: n.state}.Path(regclient.KeyFile)); !bytes.Equal(now, key) {
		t.Error("node.key was replaced")
	}
}

// The console's automatic registration with site.registrationToken also
// recovers a node whose certificate was damaged (the key kept, pending
// with a recovery note): the same token issues the certificate again.
func TestAutoRegisterRecoversDamagedCertificate(t *testing.T) {
	cp := cptest.New(t)
	tok, err := cp.CreateToken("site", "", "", true)
	if err != nil {
		t.Fatal(err)
	}
	n := newCLINode(t, cp, "  registrationToken: "+tok.Token+"\n")
	if code, _, errs := n.run(t, "register"); code != 0 {
		t.Fatalf("register: %s", errs)
	}
	store := regclient.Store{Dir: n.state}
	os.WriteFile(store.Path(regclient.CertFile), []byte("damaged"), 0o644)
	if _, _, err := store.Recover(); err != nil {
		t.Fatal(err)
	}
	e, err := newEnv(context.Background(), globals{configPath: n.config, configSet: true, stateDir: n.state}, envOpts{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.close()
	cmd := e.registration(nil).AutoRegister()
	if cmd == nil {
		t.Fatal("no automatic registration for a node recovering its certificate")
	}
	cmd()
	if st, _ := n.status(t); st != "registered" {
		t.Errorf("status %s after the automatic registration", st)
	}
}

// The console recovers the state dir at start: leftover temporary files in
// identity/ go, and a damaged certificate keeps the key and becomes a
// notice saying what happened.
func TestConsoleRecoversAtStart(t *testing.T) {
	_, n, _, key := registeredByTokenFile(t, true)
	store := regclient.Store{Dir: n.state}
	tmp := store.Path(regclient.IdentityDir) + "/.node.key.tmp-1234"
	os.WriteFile(tmp, []byte("partial key"), 0o600)
	os.WriteFile(store.Path(regclient.CertFile), []byte("damaged"), 0o644)
	e, err := newEnv(context.Background(), globals{configPath: n.config, configSet: true, stateDir: n.state}, envOpts{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.close()
	if msg := e.recoverAtStart(); !strings.Contains(msg, "was damaged") {
		t.Errorf("notice %q", msg)
	}
	if _, err := os.Stat(tmp); err == nil {
		t.Error("the leftover temporary file is still there")
	}
	if now, _ := os.ReadFile(store.Path(regclient.KeyFile)); !bytes.Equal(now, key) {
		t.Error("node.key was not kept")
	}
}
