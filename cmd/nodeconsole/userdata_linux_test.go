//go:build linux

package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vishvananda/netns"

	"github.com/nodeconsole/nodeconsole/controlplane/cptest"
	"github.com/nodeconsole/nodeconsole/netconfig"
	"github.com/nodeconsole/nodeconsole/testenv"
)

// loopDevice attaches img read-only to a loop device (root), detached
// when the test ends.
func loopDevice(t *testing.T, img string) string {
	t.Helper()
	testenv.RequireRoot(t)
	losetup := testenv.RequireCommand(t, "losetup")
	out, err := exec.Command(losetup, "--find", "--show", "--read-only", img).CombinedOutput()
	if err != nil {
		t.Fatalf("losetup: %v\n%s", err, out)
	}
	dev := strings.TrimSpace(string(out))
	t.Cleanup(func() { exec.Command(losetup, "-d", dev).Run() })
	return dev
}

// attach makes dev appear in the node's fake /sys/block: kind "usb"
// (under a USB controller), or "cd" (SCSI type 5).
func (n udNode) attach(t *testing.T, dev, kind string) {
	t.Helper()
	name := filepath.Base(dev)
	size, err := os.ReadFile(filepath.Join("/sys/block", name, "size"))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(n.dir, "sys", "devices", "pci0000:00", "0000:00:14.0", "usb1", "1-1", name)
	if kind == "cd" {
		dir = filepath.Join(n.dir, "sys", "devices", "pci0000:00", "ata1", name)
	}
	if err := os.MkdirAll(filepath.Join(dir, "device"), 0o755); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{"size": string(size), "removable": "1\n"}
	if kind == "cd" {
		files["device/type"] = "5\n"
	}
	for f, v := range files {
		if err := os.WriteFile(filepath.Join(dir, f), []byte(v), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(dir, filepath.Join(n.sysBlock, name)); err != nil {
		t.Fatal(err)
	}
}

// TestUserDataLoopDevicesRegister is the Done-when: with no
// --source, `userdata apply` scans the (fake) /sys/block, skips a volume
// with another label and a CIDATA stick without user-data (with a log
// line), finds the CIDATA ISO or FAT volume on a real loop device by its
// label, and the token it carries registers the node with the real control
// plane.
func TestUserDataLoopDevicesRegister(t *testing.T) {
	testenv.RequireRoot(t)
	forEachImage(t, cptest.New(t), func(t *testing.T, cp *cptest.Server, kind string, make imageMaker, token string) {
		n := newUDNode(t, cpNodeConfig(cp, "edge-loop-"+kind))
		// Optical drives are looked at first: a disc with another
		// label, then a CIDATA stick without user-data.
		other := makeFAT(t, map[string]string{"user-data": "#cloud-config\nnodeconsole: {site: {endpoint: https://wrong.example.com}}\n"})
		mustRun(t, testenv.RequireCommand(t, "fatlabel"), other, "OTHER")
		n.attach(t, loopDevice(t, other), "cd")
		empty := loopDevice(t, makeFAT(t, map[string]string{"meta-data": "instance-id: x\n"}))
		n.attach(t, empty, "cd")
		n.attach(t, loopDevice(t, make(t, map[string]string{"user-data": siteUserData(cp, token)})), "usb")

		applyThenRegister(t, cp, n, "CIDATA (USB)")
		if b, _ := os.ReadFile(n.dropIn()); strings.Contains(string(b), "wrong.example.com") {
			t.Error("the volume labelled OTHER was used")
		}
		log, _ := os.ReadFile(filepath.Join(n.state, "nodeconsole.log"))
		if !bytes.Contains(log, []byte("CIDATA volume without a user-data file ignored")) || !bytes.Contains(log, []byte(empty)) {
			t.Errorf("no log line for the CIDATA stick without user-data:\n%s", log)
		}
	})
}

// fakeIMDS is AWS's instance metadata service as far as user data goes:
// IMDSv2 only (a GET without the session token gets 401). hang makes it
// never answer.
type fakeIMDS struct {
	mu       sync.Mutex
	userData string
	hang     bool
	requests []string
}

func (f *fakeIMDS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.requests = append(f.requests, r.Method+" "+r.URL.Path)
	hang, data := f.hang, f.userData
	f.mu.Unlock()
	if hang {
		<-r.Context().Done()
		return
	}
	switch {
	case r.Method == http.MethodPut && r.URL.Path == "/latest/api/token" && r.Header.Get("X-aws-ec2-metadata-token-ttl-seconds") != "":
		fmt.Fprint(w, "AQAEAtoken==")
	case r.Method == http.MethodGet && r.URL.Path == "/latest/user-data":
		if r.Header.Get("X-aws-ec2-metadata-token") != "AQAEAtoken==" {
			http.Error(w, "", http.StatusUnauthorized)
			return
		}
		fmt.Fprint(w, data)
	default:
		http.Error(w, "", http.StatusNotFound)
	}
}

// listenInNetns listens on addr inside the named network namespace. The
// socket stays in that namespace; the thread that switched is discarded.
func listenInNetns(t *testing.T, name, addr string) net.Listener {
	t.Helper()
	type res struct {
		ln  net.Listener
		err error
	}
	ch := make(chan res)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread exits with the goroutine
		ns, err := netns.GetFromName(name)
		if err == nil {
			defer ns.Close()
			err = netns.Set(ns)
		}
		if err != nil {
			ch <- res{err: err}
			return
		}
		ln, err := net.Listen("tcp", addr)
		ch <- res{ln, err}
	}()
	r := <-ch
	if r.err != nil {
		t.Fatalf("listen in %s: %v", name, r.err)
	}
	return r.ln
}

// TestUserDataIMDSInNetns: a fake AWS metadata service at 169.254.169.254
// in a network namespace the test makes (the node's namespace reaches it
// over a veth pair) serves user data with IMDSv2; DMI says EC2, so `userdata
// apply` with no --source finds it, and the token registers the node. Then
// a service that never answers: apply ends within its timeout, fails, and
// changes nothing.
func TestUserDataIMDSInNetns(t *testing.T) {
	testenv.RequireRoot(t)
	ip := testenv.RequireCommand(t, "ip")
	cp := cptest.New(t)
	suffix := fmt.Sprintf("%d-%d", os.Getpid(), time.Now().UnixNano()%1e6)
	node, meta := "nc-udnode-"+suffix, "nc-imds-"+suffix
	ipc := func(args ...string) {
		t.Helper()
		if out, err := exec.Command(ip, args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	for _, ns := range []string{node, meta} {
		ipc("netns", "add", ns)
		ns := ns
		t.Cleanup(func() { exec.Command(ip, "netns", "del", ns).Run() })
		ipc("-n", ns, "link", "set", "lo", "up")
	}
	ipc("-n", node, "link", "add", "veth0", "type", "veth", "peer", "name", "meta0", "netns", meta)
	ipc("-n", node, "addr", "add", "169.254.0.2/16", "dev", "veth0")
	ipc("-n", node, "link", "set", "veth0", "up")
	ipc("-n", meta, "addr", "add", "169.254.169.254/16", "dev", "meta0")
	ipc("-n", meta, "link", "set", "meta0", "up")

	tok, err := cp.CreateToken("cloud", "retail", "", true)
	if err != nil {
		t.Fatal(err)
	}
	fake := &fakeIMDS{userData: siteUserData(cp, tok.Token)}
	srv := &http.Server{Handler: fake}
	go srv.Serve(listenInNetns(t, meta, "169.254.169.254:80"))
	t.Cleanup(func() { srv.Close() })

	// The fake insists on IMDSv2.
	rec := httptest.NewRecorder()
	fake.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/latest/user-data", nil))
	if rec.Code != http.StatusUnauthorized {
		t.Fatalf("GET without the token: %d, want 401", rec.Code)
	}
	fake.requests = nil

	n := newUDNode(t, cpNodeConfig(cp, "edge-cloud-1"))
	os.WriteFile(filepath.Join(n.dmi, "sys_vendor"), []byte("Amazon EC2\n"), 0o644)
	t.Setenv("NODECONSOLE_USERDATA_IMDS_URL", "http://169.254.169.254")
	t.Setenv("NODECONSOLE_USERDATA_IMDS_TIMEOUT", "1s")
	inNode := func(args ...string) (int, string, string, time.Duration) {
		t.Helper()
		full := append([]string{"netns", "exec", node, os.Args[0], "--config", n.config, "--state-dir", n.state}, args...)
		cmd := exec.CommandContext(context.Background(), ip, full...)
		cmd.Env = append(os.Environ(), "NODECONSOLE_TEST_MAIN=1")
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		start := time.Now()
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return code, out.String(), errb.String(), time.Since(start)
	}
	code, out, errs, _ := inNode("userdata", "apply")
	if code != 0 || !strings.Contains(out, "Site settings loaded from AWS instance metadata: endpoint, registration token, tags.") {
		t.Fatalf("apply: exit %d\nstdout %s\nstderr %s", code, out, errs)
	}
	fake.mu.Lock()
	if got := strings.Join(fake.requests, ", "); got != "PUT /latest/api/token, GET /latest/user-data" {
		t.Errorf("requests: %s", got)
	}
	fake.mu.Unlock()
	code, out2, errs2 := n.run(t, "register")
	if code != 0 || !strings.Contains(out2, "Registered as") {
		t.Fatalf("register: exit %d\nstdout %s\nstderr %s", code, out2, errs2)
	}
	n.noSecret(t, tok.Token, out, errs, out2, errs2)

	// A service that never answers.
	fake.mu.Lock()
	fake.hang, fake.userData = true, "#cloud-config\nnodeconsole: {site: {endpoint: https://other.example.com}}\n"
	fake.mu.Unlock()
	before := treeOf(t, n.dir)
	code, out, errs, took := inNode("userdata", "apply")
	if code != 1 || !strings.Contains(errs, "AWS instance metadata: no answer within 1s") {
		t.Errorf("never answers: exit %d\nstdout %s\nstderr %s", code, out, errs)
	}
	if took > 10*time.Second {
		t.Errorf("apply took %s with a 1 s timeout", took)
	}
	if after := treeOf(t, n.dir); !sameFiles(before, after) {
		t.Error("a metadata service that never answers changed files")
	}
}

// TestUserDataNetworkInNetns: network settings in user data go through the
// same validated path as `network set`, with boot semantics: kept when the
// check that matters passes (the gateway, with no endpoint configured), and
// otherwise (an endpoint that does not answer) restored, said on stderr, in
// `userdata show` and on the home screen (status problems). An interface
// that does not exist is refused with the line and changes nothing.
func TestUserDataNetworkInNetns(t *testing.T) {
	l := newNSLab(t)
	t.Setenv("NODECONSOLE_USERDATA_SYS_BLOCK", t.TempDir())
	t.Setenv("NODECONSOLE_USERDATA_LINK_WAIT", "300ms") // a missing interface is waited for; not long here
	dir := t.TempDir()
	write := func(s string) {
		if err := os.WriteFile(filepath.Join(dir, "user-data"), []byte("#cloud-config\nnodeconsole:\n"+s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	before := l.kernel()

	write("  network:\n    interface:\n      name: veth9\n      dhcp: true\n")
	code, out, errs := l.nodeconsole("userdata", "apply", "--source", dir)
	if code != 2 || !strings.Contains(out, filepath.Join(dir, "user-data")+":5: network.interface.name: Interface veth9 does not exist.") {
		t.Errorf("missing interface: exit %d\n%s\n%s", code, out, errs)
	}
	if log := l.read(filepath.Join(l.state, "nodeconsole.log")); !strings.Contains(log, "waiting for the interface to appear") {
		t.Errorf("did not wait for the interface:\n%s", log)
	}
	if l.kernel() != before {
		t.Error("refused user data changed the kernel")
	}

	write("  network:\n    interface:\n      name: veth0\n      address: 192.0.2.60/24\n      gateway: 192.0.2.1\n      dns: [192.0.2.53]\n")
	code, out, errs = l.nodeconsole("userdata", "apply", "--source", dir)
	if code != 0 || !strings.Contains(out, "OK   gateway  192.0.2.1 answers ARP") || !strings.Contains(out, "Kept and saved: the gateway answers.") {
		t.Fatalf("kept: exit %d\n%s\n%s", code, out, errs)
	}
	kept := l.kernel()
	if !strings.Contains(kept, "addr 192.0.2.60/24") {
		t.Errorf("kernel:\n%s", kept)
	}
	if _, err := os.Stat(filepath.Join(l.state, netconfig.SavedConfigFile)); err != nil {
		t.Errorf("not saved: %v", err)
	}

	// Newer user data with an endpoint nothing answers on.
	write("  site: {endpoint: \"https://192.0.2.1:8443\"}\n  network:\n    interface: {name: veth0, address: 192.0.2.70/24, gateway: 192.0.2.1}\n")
	code, out, errs = l.nodeconsole("userdata", "apply", "--source", dir)
	// (No DNS server answers in this namespace either, so the dns check,
	// which asks the configured server, fails first.)
	if code != 1 || !strings.Contains(errs, "network settings not kept (FAIL ") || !strings.Contains(out, "FAIL tcp") || !strings.Contains(out, "Not kept; the previous settings were restored.") {
		t.Errorf("not kept: exit %d\n%s\n%s", code, out, errs)
	}
	if got := l.kernel(); got != kept {
		t.Errorf("kernel not restored:\n%s\nwant:\n%s", got, kept)
	}
	// The next boot finds the same user data: only the network settings
	// are tried again.
	code, out, errs = l.nodeconsole("userdata", "apply", "--source", dir)
	if code != 1 || !strings.Contains(out, "its network settings were not kept, trying them again") || !strings.Contains(out, "FAIL tcp") || strings.Contains(out, "Replaced") {
		t.Errorf("retry: exit %d\n%s\n%s", code, out, errs)
	}
	if got := l.kernel(); got != kept {
		t.Errorf("kernel not restored after the retry:\n%s\nwant:\n%s", got, kept)
	}
	_, show, _ := l.nodeconsole("userdata", "show")
	if !strings.Contains(show, "veth0 static 192.0.2.70/24 gateway 192.0.2.1 not kept (FAIL ") {
		t.Errorf("userdata show:\n%s", show)
	}
	_, st, _ := l.nodeconsole("status", "--json")
	if !strings.Contains(st, "User data network settings not kept") {
		t.Errorf("status:\n%s", st)
	}
}
