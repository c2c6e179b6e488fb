//go:build !linux

package netconfig

import (
	"context"
	"errors"
)

// NewReader returns a Reader; outside Linux it always fails, use Simulated.
func NewReader(resolvConf string) Reader { return unsupportedReader{} }

type unsupportedReader struct{}

// Read implements Reader.
func (unsupportedReader) Read(context.Context) (Status, error) {
	return Status{}, errors.New("netconfig: reading the network needs Linux netlink")
}
