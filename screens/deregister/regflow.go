package deregister

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/nodeconsole/nodeconsole/regclient"
)

// Reason is recorded with the Deregister event.
const Reason = "the operator confirmed it at the node's console"

// FlowDeps are what the real Flow needs.
type FlowDeps struct {
	Store  regclient.Store
	NodeID string
	// Client are the client options from the config; the endpoint is the
	// one the node registered with (state.json), else this one.
	Client regclient.Options
	Logger *slog.Logger
}

type regFlow struct {
	d   FlowDeps
	reg *regclient.Registrar
}

// NewFlow returns the Flow backed by regclient and the real control plane.
func NewFlow(d FlowDeps) Flow {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	return &regFlow{d: d}
}

func (f *regFlow) registrar() (*regclient.Registrar, error) {
	if f.reg != nil {
		return f.reg, nil
	}
	o := f.d.Client
	if st, err := f.d.Store.Load(); err == nil && st.Endpoint != "" {
		o.Endpoint = st.Endpoint
	}
	c, err := regclient.New(o)
	if err != nil {
		return nil, err
	}
	f.reg = &regclient.Registrar{Client: c, Store: f.d.Store, NodeID: f.d.NodeID, Logger: f.d.Logger}
	return f.reg, nil
}

func (f *regFlow) Current(context.Context) (regclient.State, error) {
	st, _, err := f.d.Store.Recover()
	return st, err
}

func (f *regFlow) SendEvent(ctx context.Context) error {
	r, err := f.registrar()
	if err != nil {
		return err
	}
	return r.SendDeregisterEvent(ctx, Reason)
}

func (f *regFlow) CloseConnections(context.Context) {
	if f.reg != nil {
		f.reg.Disconnect()
	}
}

// Wipe removes the identity, unless ctx ended first (the screen closed):
// the removal itself is local and quick, so it is not interrupted.
func (f *regFlow) Wipe(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("remove the identity: %w", err)
	}
	r, err := f.registrar()
	if err != nil {
		// No client can be built (a broken endpoint): wipe through the store.
		return f.d.Store.Reset()
	}
	return r.Wipe()
}
