package netconfig

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"slices"
	"strings"
	"syscall"
)

// simHosts are the names the simulated DNS servers know.
var simHosts = map[string]netip.Addr{
	"controlplane.example.com.": netip.MustParseAddr("203.0.113.10"),
	"www.example.com.":          netip.MustParseAddr("203.0.113.20"),
}

// simDNSServers are the simulated network's DNS servers (see NewSimulated
// and DHCP).
var simDNSServers = []netip.Addr{netip.MustParseAddr("192.0.2.53"), netip.MustParseAddr("198.51.100.53")}

// OnlyLoopback limits what Dial reaches on this host's loopback to addrs
// (--demo: the embedded control plane), so a probe in the demo never
// touches the host's own services. Without it every loopback address is
// reached (tests serve on loopback).
func (s *Simulated) OnlyLoopback(addrs ...netip.AddrPort) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.loopback = make([]netip.AddrPort, 0, len(addrs))
	for _, a := range addrs {
		s.loopback = append(s.loopback, netip.AddrPortFrom(a.Addr().Unmap(), a.Port()))
	}
}

// simDialError is the simulated network's refusal of a dial: err, and a
// note on why for the check's row (see dialReason).
type simDialError struct {
	network, address string
	err              error
	note             string
}

// simOnlyCP is the note of a dial that only a real network could answer.
const simOnlyCP = "simulated network: only the demo control plane answers"

func (e *simDialError) Error() string {
	s := "dial " + e.network + " " + e.address + ": " + e.err.Error()
	if e.note != "" {
		s += " (" + e.note + ")"
	}
	return s
}

func (e *simDialError) Unwrap() error { return e.err }

// Dial is a DialFunc for Prober in --demo: every probe runs against the
// simulated network, never the host's. Loopback addresses are dialled for
// real (the demo's embedded control plane listens there); port 53 of a
// simulated DNS server that the simulated routes reach answers DNS
// questions over the connection; anything else gets no answer.
func (s *Simulated) Dial(ctx context.Context, network, address string) (net.Conn, error) {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return nil, &simDialError{network, address, errors.New("simulated network: not an IP address and port"), ""}
	}
	ip := ap.Addr().Unmap()
	if ip.IsLoopback() {
		s.mu.Lock()
		allowed := s.loopback == nil || slices.Contains(s.loopback, netip.AddrPortFrom(ip, ap.Port()))
		s.mu.Unlock()
		if !allowed {
			return nil, &simDialError{network, address, syscall.ECONNREFUSED, simOnlyCP}
		}
		var d net.Dialer
		return d.DialContext(ctx, network, address)
	}
	s.mu.Lock()
	reach := s.reachableLocked(ip)
	s.mu.Unlock()
	if !reach {
		return nil, &simDialError{network, address, syscall.EHOSTUNREACH, "simulated network"}
	}
	if ap.Port() == 53 && slices.Contains(simDNSServers, ip) {
		client, server := net.Pipe()
		go serveSimDNS(server)
		return client, nil
	}
	return nil, &simDialError{network, address, os.ErrDeadlineExceeded, simOnlyCP}
}

// reachableLocked reports whether ip is on the subnet of a link that is up
// with a carrier, or a default route leaves through such a link.
func (s *Simulated) reachableLocked(ip netip.Addr) bool {
	usable := func(l simLink) bool { return l.up && l.carrier }
	for _, l := range s.links {
		if usable(l) && onSubnet(l.addrs, ip) {
			return true
		}
	}
	for _, r := range s.routes {
		if r.dst.Bits() != 0 {
			continue
		}
		for _, l := range s.links {
			if l.name == r.dev && usable(l) {
				return true
			}
		}
	}
	return false
}

// serveSimDNS answers DNS questions on c in the TCP framing (a 2-byte
// length before each message), which Go's resolver uses on a connection
// that is not a net.PacketConn: an A record from simHosts, or NXDOMAIN.
func serveSimDNS(c net.Conn) {
	defer c.Close()
	for {
		var l [2]byte
		if _, err := io.ReadFull(c, l[:]); err != nil {
			return
		}
		q := make([]byte, binary.BigEndian.Uint16(l[:]))
		if _, err := io.ReadFull(c, q); err != nil || len(q) < 12 {
			return
		}
		resp := simDNSAnswer(q)
		if resp == nil {
			return
		}
		out := binary.BigEndian.AppendUint16(nil, uint16(len(resp)))
		if _, err := c.Write(append(out, resp...)); err != nil {
			return
		}
	}
}

// simDNSAnswer builds the answer to query q, or nil when q is malformed.
func simDNSAnswer(q []byte) []byte {
	var labels []string
	i := 12
	for i < len(q) && q[i] != 0 {
		n := int(q[i])
		if n > 63 || i+1+n > len(q) {
			return nil
		}
		labels = append(labels, string(q[i+1:i+1+n]))
		i += n + 1
	}
	if i+5 > len(q) {
		return nil
	}
	qtype := binary.BigEndian.Uint16(q[i+1:])
	end := i + 5
	resp := append([]byte{}, q[:end]...)
	binary.BigEndian.PutUint16(resp[2:], 0x8180) // response, RD, RA, no error
	binary.BigEndian.PutUint16(resp[4:], 1)      // one question
	binary.BigEndian.PutUint16(resp[6:], 0)
	binary.BigEndian.PutUint16(resp[8:], 0)
	binary.BigEndian.PutUint16(resp[10:], 0)
	addr, ok := simHosts[strings.ToLower(strings.Join(labels, "."))+"."]
	switch {
	case !ok:
		binary.BigEndian.PutUint16(resp[2:], 0x8183) // NXDOMAIN
	case qtype == 1:
		binary.BigEndian.PutUint16(resp[6:], 1)
		a := addr.As4()
		resp = append(resp, 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4)
		resp = append(resp, a[:]...)
	}
	return resp
}
