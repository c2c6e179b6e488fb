// Package lldp reads LLDP (IEEE 802.1AB) frames, so that a technician sees
// which switch, port and VLAN a NIC's cable goes to. Parse is pure; Listen
// (Linux) collects the frames that arrive on an interface for a while.
package lldp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"unicode"
)

// EtherType is LLDP's Ethernet type.
const EtherType = 0x88cc

// Neighbor is what one LLDP frame says about the switch port at the other
// end of the cable.
type Neighbor struct {
	// ChassisID identifies the switch (often its MAC address).
	ChassisID string `json:"chassisId"`
	// PortID identifies its port (an interface name such as "Gi1/0/12",
	// or a MAC address).
	PortID string `json:"portId"`
	// PortDescription and SystemName are optional ("" when absent).
	PortDescription string `json:"portDescription,omitempty"`
	SystemName      string `json:"systemName,omitempty"`
	// VLAN is the port's native VLAN ID (IEEE 802.1 Port VLAN ID TLV),
	// 0 when not sent.
	VLAN int `json:"vlan,omitempty"`
	// TTL is how long the information is valid, in seconds.
	TTL int `json:"ttl"`
}

// TLV types.
const (
	tlvEnd       = 0
	tlvChassisID = 1
	tlvPortID    = 2
	tlvTTL       = 3
	tlvPortDesc  = 4
	tlvSysName   = 5
	tlvOrg       = 127
)

// ParseFrame parses an Ethernet frame carrying an LLDPDU (an 802.1Q tag
// before the EtherType is allowed).
func ParseFrame(frame []byte) (Neighbor, error) {
	if len(frame) < 14 {
		return Neighbor{}, errors.New("lldp: frame shorter than an Ethernet header")
	}
	et, rest := binary.BigEndian.Uint16(frame[12:]), frame[14:]
	if et == 0x8100 {
		if len(rest) < 4 {
			return Neighbor{}, errors.New("lldp: truncated 802.1Q tag")
		}
		et, rest = binary.BigEndian.Uint16(rest[2:]), rest[4:]
	}
	if et != EtherType {
		return Neighbor{}, fmt.Errorf("lldp: EtherType %#04x is not LLDP", et)
	}
	return Parse(rest)
}

// Parse parses an LLDPDU: the chassis ID, port ID and TTL TLVs must come
// first, as the standard says; unknown TLVs are skipped.
func Parse(pdu []byte) (Neighbor, error) {
	var n Neighbor
tlvs:
	for i := 0; len(pdu) > 0; i++ {
		if len(pdu) < 2 {
			return Neighbor{}, errors.New("lldp: truncated TLV header")
		}
		typ, l := int(pdu[0]>>1), int(pdu[0]&1)<<8|int(pdu[1])
		if len(pdu) < 2+l {
			return Neighbor{}, fmt.Errorf("lldp: TLV type %d of length %d runs past the frame", typ, l)
		}
		v := pdu[2 : 2+l]
		pdu = pdu[2+l:]
		if i < 3 && typ != i+1 {
			return Neighbor{}, fmt.Errorf("lldp: TLV %d is type %d; chassis ID, port ID and TTL must come first", i+1, typ)
		}
		switch typ {
		case tlvEnd:
			break tlvs
		case tlvChassisID, tlvPortID:
			if l < 2 {
				return Neighbor{}, fmt.Errorf("lldp: TLV type %d is too short", typ)
			}
			id := formatID(typ, v[0], v[1:])
			if typ == tlvChassisID {
				n.ChassisID = id
			} else {
				n.PortID = id
			}
		case tlvTTL:
			if l < 2 {
				return Neighbor{}, errors.New("lldp: TTL TLV is too short")
			}
			n.TTL = int(binary.BigEndian.Uint16(v))
		case tlvPortDesc:
			n.PortDescription = printable(v)
		case tlvSysName:
			n.SystemName = printable(v)
		case tlvOrg:
			// IEEE 802.1 (00-80-C2), subtype 1: Port VLAN ID.
			if l >= 6 && v[0] == 0x00 && v[1] == 0x80 && v[2] == 0xc2 && v[3] == 1 {
				n.VLAN = int(binary.BigEndian.Uint16(v[4:]))
			}
		}
	}
	if n.ChassisID == "" && n.PortID == "" {
		return Neighbor{}, errors.New("lldp: empty LLDPDU")
	}
	return n, nil
}

// formatID renders a chassis or port ID by its subtype: MAC addresses as
// aa:bb:..., network addresses as IPs, the rest as text (hex when not
// printable).
func formatID(typ int, subtype byte, id []byte) string {
	mac := (typ == tlvChassisID && subtype == 4) || (typ == tlvPortID && subtype == 3)
	addr := (typ == tlvChassisID && subtype == 5) || (typ == tlvPortID && subtype == 4)
	switch {
	case mac && len(id) == 6:
		return net.HardwareAddr(id).String()
	case addr && len(id) >= 1:
		if a, ok := netip.AddrFromSlice(id[1:]); ok {
			return a.String()
		}
	}
	return printable(id)
}

// printable returns b as text when it is printable UTF-8, else as hex.
func printable(b []byte) string {
	s := string(b)
	for _, r := range s {
		if r == unicode.ReplacementChar || !unicode.IsPrint(r) {
			return fmt.Sprintf("%x", b)
		}
	}
	return strings.TrimSpace(s)
}

// Frame encodes n as a switch would send it from the MAC address src: an
// Ethernet frame to the nearest-bridge group with the chassis and port IDs
// as locally assigned text, the TTL, the port description and system name
// when set, and the port VLAN ID when not 0. ParseFrame returns n from it.
// Tests and the simulated network of --demo use it.
func Frame(n Neighbor, src [6]byte) []byte {
	f := append([]byte{0x01, 0x80, 0xc2, 0x00, 0x00, 0x0e}, src[:]...)
	f = binary.BigEndian.AppendUint16(f, EtherType)
	add := func(typ int, v []byte) {
		f = binary.BigEndian.AppendUint16(f, uint16(typ)<<9|uint16(len(v)))
		f = append(f, v...)
	}
	add(tlvChassisID, append([]byte{7}, n.ChassisID...))
	add(tlvPortID, append([]byte{7}, n.PortID...))
	add(tlvTTL, binary.BigEndian.AppendUint16(nil, uint16(n.TTL)))
	if n.PortDescription != "" {
		add(tlvPortDesc, []byte(n.PortDescription))
	}
	if n.SystemName != "" {
		add(tlvSysName, []byte(n.SystemName))
	}
	if n.VLAN != 0 {
		add(tlvOrg, binary.BigEndian.AppendUint16([]byte{0x00, 0x80, 0xc2, 1}, uint16(n.VLAN)))
	}
	add(tlvEnd, nil)
	return f
}
