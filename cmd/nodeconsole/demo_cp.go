//go:build !nodemo

package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"

	"github.com/nodeconsole/nodeconsole/controlplane"
)

// startEmbeddedControlPlane runs the reference control plane in-process on
// 127.0.0.1 with its data under dir, for --demo. Release builds leave it out
// (-tags nodemo) to keep the node binary small.
func startEmbeddedControlPlane(ctx context.Context, dir string, logTo io.Writer) (*embeddedCP, error) {
	cp, err := controlplane.Open(controlplane.Options{
		DataDir:   filepath.Join(dir, "controlplane"),
		Hostnames: []string{"127.0.0.1", "localhost"},
		Logger:    slog.New(slog.NewJSONHandler(logTo, nil)).With("component", "controlplane"),
	})
	if err != nil {
		return nil, fmt.Errorf("demo: start the control plane: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		cp.Close()
		return nil, fmt.Errorf("demo: listen on loopback: %w", err)
	}
	cp.SetListenAddr(ln.Addr())
	sctx, cancel := context.WithCancel(ctx)
	e := &embeddedCP{url: cp.URL(), adminToken: cp.AdminToken(), caPEM: cp.CAPEM(), done: make(chan struct{})}
	e.stop = func() {
		cancel()
		<-e.done
	}
	go func() {
		defer close(e.done)
		cp.Serve(sctx, ln)
		cp.Close()
	}()
	return e, nil
}
