//go:build linux

package lldp

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"time"

	"golang.org/x/sys/unix"
)

// multicast is the nearest-bridge LLDP group address.
var multicast = [8]byte{0x01, 0x80, 0xc2, 0x00, 0x00, 0x0e}

// Conn receives LLDP frames on one interface (an AF_PACKET socket, which
// needs CAP_NET_RAW). It lives in the network namespace of the thread that
// opened it. The socket is non-blocking and waited for by the runtime's
// poller: a Conn waiting for frames wakes the program only when one comes.
type Conn struct {
	f *os.File
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// Open starts receiving LLDP frames on the interface with index ifindex.
func Open(ifindex int) (*Conn, error) {
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, int(htons(EtherType)))
	if err != nil {
		return nil, fmt.Errorf("lldp: open a packet socket (needs CAP_NET_RAW): %w", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(EtherType), Ifindex: ifindex}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("lldp: bind to interface %d: %w", ifindex, err)
	}
	// A real NIC filters the LLDP group address unless asked for it.
	mr := unix.PacketMreq{Ifindex: int32(ifindex), Type: unix.PACKET_MR_MULTICAST, Alen: 6, Address: multicast}
	if err := unix.SetsockoptPacketMreq(fd, unix.SOL_PACKET, unix.PACKET_ADD_MEMBERSHIP, &mr); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("lldp: join the LLDP multicast group on interface %d: %w", ifindex, err)
	}
	return &Conn{f: os.NewFile(uintptr(fd), "lldp")}, nil
}

// Close stops receiving.
func (c *Conn) Close() error { return c.f.Close() }

// Collect returns the neighbours heard within d (or until ctx ends), one
// per chassis and port, in the order first heard. Frames that do not parse
// are ignored.
func (c *Conn) Collect(ctx context.Context, d time.Duration) ([]Neighbor, error) {
	return c.Listen(ctx, d, nil)
}

// Listen is Collect that also calls heard with the neighbours so far each
// time a new one (or newer information from one) arrives.
func (c *Conn) Listen(ctx context.Context, d time.Duration, heard func([]Neighbor)) ([]Neighbor, error) {
	if err := c.f.SetReadDeadline(time.Now().Add(d)); err != nil {
		return nil, fmt.Errorf("lldp: set the listen deadline: %w", err)
	}
	stop := context.AfterFunc(ctx, func() { c.f.SetReadDeadline(time.Now()) })
	defer stop()
	rc, err := c.f.SyscallConn()
	if err != nil {
		return nil, fmt.Errorf("lldp: %w", err)
	}
	var out []Neighbor
	buf := make([]byte, 9216)
	for ctx.Err() == nil {
		var (
			n    int
			from unix.Sockaddr
			rerr error
		)
		err := rc.Read(func(fd uintptr) bool {
			n, from, rerr = unix.Recvfrom(int(fd), buf, 0)
			return !errors.Is(rerr, unix.EAGAIN)
		})
		if errors.Is(err, os.ErrDeadlineExceeded) {
			break
		}
		if err == nil {
			err = rerr
		}
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return out, fmt.Errorf("lldp: receive: %w", err)
		}
		if ll, ok := from.(*unix.SockaddrLinklayer); ok && ll.Pkttype == unix.PACKET_OUTGOING {
			continue // our own LLDP (lldpd on this node), not a neighbour's
		}
		nb, err := ParseFrame(buf[:n])
		if err != nil {
			continue
		}
		if i := slices.IndexFunc(out, func(o Neighbor) bool { return o.ChassisID == nb.ChassisID && o.PortID == nb.PortID }); i >= 0 {
			if out[i] == nb {
				continue // the switch repeating itself
			}
			out[i] = nb // the newest information
		} else {
			out = append(out, nb)
		}
		if heard != nil {
			heard(slices.Clone(out))
		}
	}
	return out, nil
}
