package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"

	"github.com/nodeconsole/nodeconsole/atomicfile"
	"github.com/nodeconsole/nodeconsole/config"
	"github.com/nodeconsole/nodeconsole/controlplane"
	"github.com/nodeconsole/nodeconsole/netconfig"
)

// demoEnv is what --demo adds: a temporary state dir, a simulated network
// and an embedded control plane with its portal on loopback. It never
// touches the host's network and never reboots.
type demoEnv struct {
	stateDir string
	net      *netconfig.Simulated
	cp       *controlplane.Server
	caFile   string
	notes    []string
	stop     context.CancelFunc
	served   chan struct{}
	dir      string
}

func newDemo(ctx context.Context, g globals, logTo io.Writer) (*demoEnv, error) {
	dir, err := os.MkdirTemp("", "nodeconsole-demo-*")
	if err != nil {
		return nil, fmt.Errorf("demo: create temporary state dir: %w", err)
	}
	d := &demoEnv{stateDir: filepath.Join(dir, "state"), net: netconfig.NewSimulated(), served: make(chan struct{})}
	fail := func(err error) (*demoEnv, error) {
		os.RemoveAll(dir)
		return nil, err
	}
	if err := os.MkdirAll(d.stateDir, 0o755); err != nil {
		return fail(fmt.Errorf("demo: %w", err))
	}
	cp, err := controlplane.Open(controlplane.Options{
		DataDir:   filepath.Join(dir, "controlplane"),
		Hostnames: []string{"127.0.0.1", "localhost"},
		Logger:    slog.New(slog.NewJSONHandler(logTo, nil)).With("component", "controlplane"),
	})
	if err != nil {
		return fail(fmt.Errorf("demo: start the control plane: %w", err))
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		cp.Close()
		return fail(fmt.Errorf("demo: listen on loopback: %w", err))
	}
	cp.SetListenAddr(ln.Addr())
	d.cp = cp
	d.caFile = filepath.Join(dir, "controlplane-ca.pem")
	if err := atomicfile.WriteFile(d.caFile, cp.CAPEM(), 0o644); err != nil {
		ln.Close()
		cp.Close()
		return fail(err)
	}
	sctx, stop := context.WithCancel(ctx)
	d.stop = stop
	go func() {
		defer close(d.served)
		cp.Serve(sctx, ln)
	}()
	d.notes = []string{
		"Demo portal  " + cp.URL() + "/",
		"Admin token  " + cp.AdminToken(),
	}
	d.dir = dir
	return d, nil
}

// apply points every path the console writes into the demo dir and the
// endpoint at the embedded control plane, whatever the config says.
func (d *demoEnv) apply(c *config.Config) {
	c.Network.ResolvConf = filepath.Join(d.stateDir, "resolv.conf")
	c.Network.NetworkdDir = filepath.Join(d.stateDir, "network")
	c.Console.RebootCommand = nil // simulated
	c.Console.UpgradeCommand = nil
	c.Site.Endpoint = d.cp.URL()
	c.Site.CACerts = append(c.Site.CACerts, d.caFile)
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
	d.cp.Close()
	os.RemoveAll(d.dir)
}
