package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nodeconsole/nodeconsole/controlplane/cptest"
	"github.com/nodeconsole/nodeconsole/testenv"
)

// udNode is a node (config, config.d, state) whose user-data scan looks
// only at a fake /sys/block and a fake DMI directory.
type udNode struct {
	dir, config, state, sysBlock, dmi string
}

func newUDNode(t *testing.T, config string) udNode {
	t.Helper()
	dir := t.TempDir()
	n := udNode{dir: dir, config: filepath.Join(dir, "etc", "config.yaml"), state: filepath.Join(dir, "state"),
		sysBlock: filepath.Join(dir, "sys", "block"), dmi: filepath.Join(dir, "dmi")}
	for _, d := range []string{filepath.Dir(n.config), n.sysBlock, n.dmi} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(n.config, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("NODECONSOLE_USERDATA_SYS_BLOCK", n.sysBlock)
	t.Setenv("NODECONSOLE_USERDATA_DEV_DIR", "/dev")
	t.Setenv("NODECONSOLE_USERDATA_DMI_DIR", n.dmi)
	t.Setenv("NODECONSOLE_USERDATA_IMDS_URL", "http://192.0.2.1:9") // never used without DMI saying AWS/Azure
	return n
}

func (n udNode) run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	return runCmd(t, append([]string{"--state-dir", n.state, "--config", n.config}, args...)...)
}

func (n udNode) dropIn() string {
	return filepath.Join(filepath.Dir(n.config), "config.d", "50-user-data.yaml")
}

// cpNodeConfig is a config that trusts cp (the endpoint comes from user
// data), with the node ID from name.
func cpNodeConfig(cp *cptest.Server, name string) string {
	return fmt.Sprintf("node: {name: %s}\nsite:\n  caCerts: [%s]\n", name, cp.CAPath)
}

// siteUserData is user data with cp's endpoint and tok.
func siteUserData(cp *cptest.Server, tok string) string {
	return fmt.Sprintf("#cloud-config\nhostname: edge\nnodeconsole:\n  site:\n    endpoint: %s\n    registrationToken: %q\n    tags: {site: berlin}\nruncmd: [true]\n", cp.URL, tok)
}

// cidataDir is a directory holding files, for an image.
func cidataDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func mustRun(t *testing.T, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// makeISO makes a CIDATA ISO 9660 image with xorriso, as a site would.
func makeISO(t *testing.T, files map[string]string) string {
	t.Helper()
	x := testenv.RequireCommand(t, "xorriso")
	img := filepath.Join(t.TempDir(), "cidata.iso")
	mustRun(t, x, "-as", "mkisofs", "-quiet", "-V", "CIDATA", "-J", "-R", "-o", img, cidataDir(t, files))
	return img
}

// makeFAT makes a CIDATA FAT image with mkfs.vfat and mtools, as a site
// would make a USB stick.
func makeFAT(t *testing.T, files map[string]string) string {
	t.Helper()
	mkfs, mcopy := testenv.RequireCommand(t, "mkfs.vfat"), testenv.RequireCommand(t, "mcopy")
	img := filepath.Join(t.TempDir(), "cidata.img")
	if err := os.WriteFile(img, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(img, 4<<20); err != nil {
		t.Fatal(err)
	}
	mustRun(t, mkfs, "-n", "CIDATA", img)
	dir := cidataDir(t, files)
	for name := range files {
		mustRun(t, mcopy, "-i", img, filepath.Join(dir, name), "::"+name)
	}
	return img
}

// treeOf is every file under dirs with its mode and content.
func treeOf(t *testing.T, dirs ...string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, d := range dirs {
		filepath.Walk(d, func(p string, fi os.FileInfo, err error) error {
			if err == nil && !fi.IsDir() && filepath.Base(p) != "nodeconsole.log" {
				b, _ := os.ReadFile(p)
				out[p] = fi.Mode().String() + " " + string(b)
			}
			return nil
		})
	}
	return out
}

// applyThenRegister applies user data with args, checks the drop-in and
// the output, and registers with the token it carries.
func applyThenRegister(t *testing.T, cp *cptest.Server, n udNode, source string, args ...string) {
	t.Helper()
	code, out, errs := n.run(t, append([]string{"userdata", "apply"}, args...)...)
	if code != 0 || !strings.Contains(out, "Site settings loaded from "+source+": endpoint, registration token, tags.") {
		t.Fatalf("userdata apply: exit %d\nstdout %s\nstderr %s", code, out, errs)
	}
	fi, err := os.Stat(n.dropIn())
	if err != nil || fi.Mode().Perm() != 0o640 {
		t.Fatalf("drop-in: %v %v", fi, err)
	}
	code, out2, errs2 := n.run(t, "register")
	if code != 0 || !strings.Contains(out2, "Registered as") {
		t.Fatalf("register: exit %d\nstdout %s\nstderr %s", code, out2, errs2)
	}
	_, show, _ := n.run(t, "userdata", "show")
	if !strings.Contains(show, "Registration token: set") || !strings.Contains(show, "Source:") {
		t.Errorf("userdata show:\n%s", show)
	}
	n.noSecret(t, tokenOf(t, n), out, errs, out2, errs2, show)
}

// tokenOf reads the token back from the drop-in (the test wrote it).
func tokenOf(t *testing.T, n udNode) string {
	t.Helper()
	b, err := os.ReadFile(n.dropIn())
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(b), "registrationToken: ")
	if !ok {
		t.Fatalf("no token in the drop-in:\n%s", b)
	}
	tok, _, _ := strings.Cut(after, "\n")
	return strings.Trim(tok, `"'`)
}

func (n udNode) noSecret(t *testing.T, secret string, outs ...string) {
	t.Helper()
	cliNode{state: n.state}.noSecret(t, secret, outs...)
	rec, _ := os.ReadFile(filepath.Join(n.state, "userdata.json"))
	if strings.Contains(string(rec), secret) {
		t.Errorf("the token is in the record:\n%s", rec)
	}
}

// TestUserDataImagesRegister: an ISO made with xorriso and a FAT image made
// with mkfs.vfat, each named with --source, are applied, and the token they
// carry registers the node with the real control plane.
func TestUserDataImagesRegister(t *testing.T) {
	forEachImage(t, cptest.New(t), func(t *testing.T, cp *cptest.Server, kind string, make imageMaker, token string) {
		img := make(t, map[string]string{"user-data": siteUserData(cp, token), "meta-data": "instance-id: x\n"})
		n := newUDNode(t, cpNodeConfig(cp, "edge-img-"+kind))
		applyThenRegister(t, cp, n, "CIDATA (image)", "--source", img)
	})
}

// imageMaker makes a CIDATA volume image holding files.
type imageMaker func(*testing.T, map[string]string) string

// forEachImage runs fn as a subtest for an ISO and a FAT volume, each
// with a new single-use token from cp.
func forEachImage(t *testing.T, cp *cptest.Server, fn func(t *testing.T, cp *cptest.Server, kind string, make imageMaker, token string)) {
	for _, k := range []struct {
		name string
		make imageMaker
	}{{"iso", makeISO}, {"fat", makeFAT}} {
		t.Run(k.name, func(t *testing.T) {
			tok, err := cp.CreateToken(t.Name(), "retail", "", true)
			if err != nil {
				t.Fatal(err)
			}
			fn(t, cp, k.name, k.make, tok.Token)
		})
	}
}

// TestUserDataDirAndReplace: a directory source; the same user data again
// changes nothing; newer user data replaces the older and says so; a dry
// run changes nothing.
func TestUserDataDirAndReplace(t *testing.T) {
	n := newUDNode(t, "")
	dir := cidataDir(t, map[string]string{"user-data": "#cloud-config\nnodeconsole:\n  site: {endpoint: https://cp1.example.com}\n"})
	if code, out, errs := n.run(t, "userdata", "apply", "--source", dir); code != 0 || strings.Contains(out, "Replaced") {
		t.Fatalf("first: exit %d %s %s", code, out, errs)
	}
	before := treeOf(t, n.dir)
	if code, out, _ := n.run(t, "userdata", "apply", "--source", dir); code != 0 || !strings.Contains(out, "already applied") {
		t.Errorf("again: exit %d %s", code, out)
	}
	if after := treeOf(t, n.dir); !sameFiles(before, after) {
		t.Error("applying the same user data again changed files")
	}
	os.WriteFile(filepath.Join(dir, "user-data"), []byte("#cloud-config\nnodeconsole:\n  site: {endpoint: https://cp2.example.com}\n"), 0o644)
	if code, out, _ := n.run(t, "userdata", "apply", "--source", dir, "--dry-run"); code != 0 || !strings.Contains(out, "Dry run: nothing was changed") || !strings.Contains(out, "would replace") {
		t.Errorf("dry run: exit %d %s", code, out)
	}
	if after := treeOf(t, n.dir); !sameFiles(before, after) {
		t.Error("a dry run changed files")
	}
	code, out, _ := n.run(t, "userdata", "apply", "--source", dir)
	if code != 0 || !strings.Contains(out, "Replaced the older user data (from directory "+dir) {
		t.Errorf("newer: exit %d %s", code, out)
	}
	if b, _ := os.ReadFile(n.dropIn()); !strings.Contains(string(b), "cp2.example.com") || strings.Contains(string(b), "cp1") {
		t.Errorf("drop-in:\n%s", b)
	}
	_, st, _ := n.run(t, "status", "--json")
	if !strings.Contains(st, `"endpoint": "https://cp2.example.com"`) || !strings.Contains(st, "Site settings loaded from directory") {
		t.Errorf("status does not show the user data:\n%s", st)
	}
	if _, st, _ = n.run(t, "status"); !strings.Contains(st, "Note:         Site settings loaded from directory "+dir+" at ") {
		t.Errorf("status does not note the user data:\n%s", st)
	}
}

// TestUserDataBadChangesNothing: bad user data is reported with file and
// line, exits 2, and changes nothing but the record of the refusal (which
// the home screen shows); a FAT stick without user-data is ignored with a
// log line.
func TestUserDataBadChangesNothing(t *testing.T) {
	for _, tc := range []struct{ name, data, want string }{
		{"yaml", "#cloud-config\nnodeconsole:\n  site:\n    endpoint: https://x: y\n", "user-data:4: not valid YAML"},
		{"unknown key", "#cloud-config\nnodeconsole:\n  site:\n    endpiont: https://cp.example.com\n", "user-data:4: site.endpiont: unknown key"},
		{"bad ip", "#cloud-config\nnodeconsole:\n  site: {endpoint: https://cp.example.com}\n  network:\n    interface: {name: lo, address: 192.0.2.300/24, gateway: 192.0.2.1}\n", "user-data:5: network.interface.address:"},
		{"token", "#cloud-config\nnodeconsole:\n  site:\n    endpoint: https://cp.example.com\n    registrationToken: [tok-secret-xyz]\n", "user-data:5: site.registrationToken: must be a string"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := newUDNode(t, "site: {endpoint: https://old.example.com}\n")
			dir := cidataDir(t, map[string]string{"user-data": tc.data})
			before := treeOf(t, filepath.Dir(n.config))
			code, out, errs := n.run(t, "userdata", "apply", "--source", dir)
			if code != 2 || !strings.Contains(out, filepath.Join(dir, tc.want)) || !strings.Contains(errs, "nothing was applied") {
				t.Fatalf("exit %d\nstdout %s\nstderr %s", code, out, errs)
			}
			if after := treeOf(t, filepath.Dir(n.config)); !sameFiles(before, after) {
				t.Error("refused user data changed the config")
			}
			if strings.Contains(out+errs, "tok-secret-xyz") {
				t.Error("the token is printed")
			}
			_, st, _ := n.run(t, "status", "--json")
			if !strings.Contains(st, "not applied: "+filepath.Join(dir, "user-data:")) {
				t.Errorf("status does not say why:\n%s", st)
			}
			// The bad user data is gone at the next boot: so is the warning.
			if code, out, _ := n.run(t, "userdata", "apply"); code != 0 || !strings.Contains(out, "No user data found") {
				t.Errorf("no user data: exit %d %s", code, out)
			}
			if _, st, _ = n.run(t, "status", "--json"); strings.Contains(st, "not applied") {
				t.Errorf("status still warns:\n%s", st)
			}
		})
	}
	t.Run("fat without user-data", func(t *testing.T) {
		n := newUDNode(t, "")
		img := makeFAT(t, map[string]string{"meta-data": "instance-id: x\n"})
		code, out, errs := n.run(t, "userdata", "apply", "--source", img)
		if code != 1 || !strings.Contains(errs, "no user-data file") {
			t.Errorf("named: exit %d %s %s", code, out, errs)
		}
	})
}

// TestUserDataNoteOnHome: the console's home screen notes what user data
// set, and where it came from.
func TestUserDataNoteOnHome(t *testing.T) {
	n := newUDNode(t, "")
	dir := cidataDir(t, map[string]string{"user-data": "#cloud-config\nnodeconsole:\n  site: {endpoint: https://cp.example.com, registrationToken: tok-1}\n"})
	if code, out, errs := n.run(t, "userdata", "apply", "--source", dir); code != 0 {
		t.Fatalf("apply: exit %d %s %s", code, out, errs)
	}
	r := startConsole(t, 160, 40, []string{"TERM=xterm-256color", "LANG=C.UTF-8"}, "--config", n.config, "--state-dir", n.state)
	r.waitFor("Site settings loaded from directory", "endpoint, registration token")
	r.exit("q")
}
