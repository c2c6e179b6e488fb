//go:build linux

package home

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/nodeconsole/nodeconsole/netconfig"
	"github.com/nodeconsole/nodeconsole/netwatch"
	"github.com/nodeconsole/nodeconsole/nodestatus"
	"github.com/nodeconsole/nodeconsole/regclient"
	"github.com/nodeconsole/nodeconsole/testenv"
	"github.com/nodeconsole/nodeconsole/tui/uitest"
)

// TestStatusFollowsTheKernel: in a namespace of its own, an address added
// and a link set down by ip(8) from outside the program, and resolv.conf
// and state.json rewritten, reach the home screen through netlink and
// inotify notifications, with a tick source that never fires: no timer is
// even started.
func TestStatusFollowsTheKernel(t *testing.T) {
	node, peer := testenv.NamedNetns(t, "home"), testenv.NamedNetns(t, "gw")
	ip := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v %s", strings.Join(args, " "), err, out)
		}
	}
	ip("-n", node, "link", "add", "veth0", "type", "veth", "peer", "name", "veth1", "netns", peer)
	ip("-n", peer, "link", "set", "veth1", "up")
	ip("-n", node, "link", "set", "veth0", "up")

	ns, h := testenv.NetnsHandle(t, node)
	dir := t.TempDir()
	resolv, statePath := filepath.Join(dir, "resolv.conf"), filepath.Join(dir, regclient.StateFile)
	if err := os.WriteFile(resolv, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	store := regclient.Store{Dir: dir}
	c := nodestatus.Collector{NodeID: "edge-1", Net: netconfig.NewReaderAt(h, resolv), State: store,
		Hostname: func() (string, error) { return "node-lab-01", nil }}
	w, err := netwatch.New(netwatch.Options{Netlink: true, Namespace: &ns, Files: []string{resolv, statePath}})
	if err != nil {
		t.Fatal(err)
	}
	pw := &uitest.ParkedWatch{W: w}
	m := New(Deps{Styles: uitest.Styles(uitest.MonoASCII), Collect: c.Collect, Watch: pw,
		Tick: func(d time.Duration, fn func(time.Time) tea.Msg) tea.Cmd {
			t.Errorf("a %s timer was started", d)
			return nil
		}})
	d := uitest.NewScreenDriver(t, m)
	pw.D = d
	defer func() {
		w.Close() // the parked Wait returns false
		d.Drain()
	}()
	d.Send(tea.WindowSizeMsg{Width: 80, Height: 24})
	d.Init(m.Init())
	line := func(name string) string {
		for _, l := range strings.Split(d.Text(), "\n") {
			if strings.Contains(l, " "+name+" ") {
				return l
			}
		}
		return ""
	}
	d.Await("veth0 up without an address", func() bool {
		l := line("veth0")
		return strings.Contains(l, " up ") && strings.Contains(l, "no address")
	})

	ip("-n", node, "addr", "add", "192.0.2.10/24", "dev", "veth0")
	d.Await("192.0.2.10/24 on veth0", func() bool { return strings.Contains(line("veth0"), "192.0.2.10/24") })

	ip("-n", node, "link", "set", "veth0", "down")
	d.Await("veth0 down", func() bool { return strings.Contains(line("veth0"), " down ") })

	tmp := resolv + ".tmp"
	if err := os.WriteFile(tmp, []byte("nameserver 192.0.2.53\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, resolv); err != nil {
		t.Fatal(err)
	}
	d.Await("DNS 192.0.2.53", func() bool { return strings.Contains(d.Text(), "192.0.2.53") })

	// Another process registers the node (nodeconsole register).
	if err := store.Save(regclient.State{NodeID: "edge-1", State: regclient.Registered, NodeName: "store-17"}); err != nil {
		t.Fatal(err)
	}
	d.Await("registered as store-17", func() bool { return strings.Contains(d.Text(), "Registered as store-17") })
	if n := d.Timers(); n != 0 {
		t.Errorf("%d timers pending; the status needs none", n)
	}
}
