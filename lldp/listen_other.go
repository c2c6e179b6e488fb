//go:build !linux

package lldp

import (
	"context"
	"errors"
	"time"
)

// Conn is not available outside Linux.
type Conn struct{}

// Open fails outside Linux.
func Open(ifindex int) (*Conn, error) { return nil, errors.New("lldp: needs Linux AF_PACKET") }

// Close does nothing.
func (c *Conn) Close() error { return nil }

// Collect returns nothing.
func (c *Conn) Collect(context.Context, time.Duration) ([]Neighbor, error) { return nil, nil }

// Listen returns nothing.
func (c *Conn) Listen(context.Context, time.Duration, func([]Neighbor)) ([]Neighbor, error) {
	return nil, nil
}
