package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/nodeconsole/nodeconsole/atomicfile"
	"github.com/nodeconsole/nodeconsole/config"
	"github.com/nodeconsole/nodeconsole/lldp"
	"github.com/nodeconsole/nodeconsole/netconfig"
)

// demoEnv is what --demo adds: a temporary state dir, a simulated network
// and an embedded control plane with its portal on loopback. It never
// touches the host's network and never reboots.
type demoEnv struct {
	stateDir string
	net      *netconfig.Simulated
	cp       *embeddedCP
	caFile   string
	notes    []string
	stop     context.CancelFunc
	served   chan struct{}
	dir      string
	// booted is when the simulated node booted: the demo's start, and each
	// simulated reboot (a registration before it needs no more reboot).
	booted atomic.Pointer[time.Time]
}

// bootTime is nodestatus.Collector.BootTime for the simulated node.
func (d *demoEnv) bootTime() (time.Time, error) { return *d.booted.Load(), nil }

// reboot simulates a reboot: the node has booted now.
func (d *demoEnv) reboot() {
	now := time.Now()
	d.booted.Store(&now)
}

func newDemo(ctx context.Context, g globals, logTo io.Writer) (*demoEnv, error) {
	dir, err := os.MkdirTemp("", "nodeconsole-demo-*")
	if err != nil {
		return nil, fmt.Errorf("demo: create temporary state dir: %w", err)
	}
	d := &demoEnv{stateDir: filepath.Join(dir, "state"), net: netconfig.NewSimulated(), served: make(chan struct{})}
	d.reboot() // booted as the demo starts
	fail := func(err error) (*demoEnv, error) {
		os.RemoveAll(dir)
		return nil, err
	}
	if err := os.MkdirAll(d.stateDir, 0o755); err != nil {
		return fail(fmt.Errorf("demo: %w", err))
	}
	// The simulated node is named as this host (the header said so while
	// Site settings and network show found no name): its hostname file
	// starts with the host's name, which the demo never changes.
	if h, err := os.Hostname(); err == nil && h != "" {
		if err := atomicfile.WriteFile(d.hostnameFile(), []byte(h+"\n"), 0o644); err != nil {
			return fail(fmt.Errorf("demo: %w", err))
		}
	}
	cp, err := startEmbeddedControlPlane(ctx, dir, logTo)
	if errors.Is(err, errNoEmbeddedControlPlane) {
		d.net.OnlyLoopback() // nothing on this host's loopback
		// A release build (-tags nodemo): the demo runs without a control
		// plane; Register Node then says it cannot reach one.
		d.stop = func() {}
		close(d.served)
		d.dir = dir
		d.notes = []string{"Demo without a control plane: this build has none embedded."}
		return d, nil
	}
	if err != nil {
		return fail(err)
	}
	d.cp = cp
	// The simulated network reaches only the control plane on this host's
	// loopback: a probe in the demo never touches the host's services.
	if u, err := url.Parse(cp.url); err == nil {
		if ap, err := netip.ParseAddrPort(u.Host); err == nil {
			d.net.OnlyLoopback(ap)
		}
	}
	d.caFile = filepath.Join(dir, "controlplane-ca.pem")
	if err := atomicfile.WriteFile(d.caFile, cp.caPEM, 0o644); err != nil {
		cp.stop()
		return fail(err)
	}
	d.stop = cp.stop
	go func() { <-cp.done; close(d.served) }()
	d.notes = []string{
		"Demo portal  " + cp.url + "/",
		"Log in as    admin-token",
		"Password     " + cp.adminToken,
	}
	d.dir = dir
	return d, nil
}

// apply points every path the console writes into the demo dir and the
// endpoint at the embedded control plane, whatever the config says.
// lldp fills in what the demo's LLDP listener would have heard: a switch
// port with VLAN 100 on eth0, nothing on mgmt0 (eth1 has no carrier, so
// it was not listened on).
func (d *demoEnv) lldp(t *netconfig.LLDPTable) {
	t.Set("eth0", []lldp.Neighbor{{ChassisID: "00:1b:54:aa:bb:cc", PortID: "Gi1/0/12", PortDescription: "rack 12 node 3",
		SystemName: "sw-rack12.example", VLAN: 100, TTL: 120}})
	t.Set("mgmt0", nil)
}

// hostnameFile is the simulated node's network.hostnameFile.
func (d *demoEnv) hostnameFile() string { return filepath.Join(d.stateDir, "hostname") }

func (d *demoEnv) apply(c *config.Config) {
	c.Network.ResolvConf = filepath.Join(d.stateDir, "resolv.conf")
	c.Network.NetworkdDir = filepath.Join(d.stateDir, "network")
	c.Network.HostnameFile = d.hostnameFile()
	c.Network.HostnameCommand = nil // never the host's name
	c.Network.NTPClient = netconfig.NTPTimesyncd
	c.Network.TimesyncdDropIn = filepath.Join(d.stateDir, "timesyncd.conf")
	c.Network.NTPReloadCommand = []string{"true"}
	c.Console.RebootCommand = nil // simulated
	c.Console.PoweroffCommand = nil
	c.Console.UpgradeCommand = nil
	if d.cp != nil {
		c.Site.Endpoint = d.cp.url
		c.Site.CACerts = append(c.Site.CACerts, d.caFile)
	}
	if c.Node.Make == "" {
		c.Node.Make = "Demo"
	}
	if c.Node.Model == "" {
		c.Node.Model = "Edge Appliance"
	}
}

func (d *demoEnv) close() {
	d.stop()
	<-d.served
	os.RemoveAll(d.dir)
}

// embeddedCP is a control plane running inside the process for --demo.
type embeddedCP struct {
	url        string
	adminToken string
	caPEM      []byte
	stop       func() // stops serving and waits
	done       chan struct{}
}

// errNoEmbeddedControlPlane: this build has no control plane inside.
var errNoEmbeddedControlPlane = errors.New("demo: this build has no embedded control plane")
