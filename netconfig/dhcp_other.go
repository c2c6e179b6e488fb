//go:build !linux

package netconfig

import (
	"context"
	"errors"
)

var errNoProcfs = errors.New("netconfig: controlling a DHCP client needs Linux")

func (d *SystemDHCP) networkdRuns() (bool, error)                    { return false, nil }
func (d *SystemDHCP) clients(string, dhcpFamily) ([]dhcpProc, error) { return nil, nil }
func (d *SystemDHCP) terminate(context.Context, dhcpProc) error      { return errNoProcfs }
func (d *SystemDHCP) waitGone(context.Context, dhcpProc) error       { return nil }
func (d *SystemDHCP) spawn(dhcpProc) (int, error)                    { return 0, errNoProcfs }
func (d *SystemDHCP) run(context.Context, string, []string) error    { return errNoProcfs }
