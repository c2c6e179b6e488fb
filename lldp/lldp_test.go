package lldp

import (
	"encoding/binary"
	"reflect"
	"strings"
	"testing"
)

// tlv encodes one TLV.
func tlv(typ int, v ...byte) []byte {
	h := uint16(typ)<<9 | uint16(len(v))
	return append(binary.BigEndian.AppendUint16(nil, h), v...)
}

// testFrame is what a switch sends: chassis MAC, port name, TTL 120,
// port description, system name, port VLAN 42, end.
func testFrame(vlanTag bool) []byte {
	f := []byte{0x01, 0x80, 0xc2, 0x00, 0x00, 0x0e, 0x02, 0x00, 0x00, 0x00, 0x00, 0x99}
	if vlanTag {
		f = append(f, 0x81, 0x00, 0x00, 42)
	}
	f = append(f, 0x88, 0xcc)
	f = append(f, tlv(tlvChassisID, 4, 0x52, 0x54, 0x00, 0xaa, 0xbb, 0xcc)...)
	f = append(f, tlv(tlvPortID, append([]byte{5}, "Gi1/0/12"...)...)...)
	f = append(f, tlv(tlvTTL, 0, 120)...)
	f = append(f, tlv(tlvPortDesc, []byte("uplink to rack 4")...)...)
	f = append(f, tlv(tlvSysName, []byte("sw-core-1.example")...)...)
	f = append(f, tlv(tlvOrg, 0x00, 0x80, 0xc2, 1, 0, 42)...)
	f = append(f, tlv(tlvOrg, 0x00, 0x12, 0x0f, 1, 3, 0x6c, 0, 0, 0x10)...) // 802.3 MAC/PHY: skipped
	return append(f, tlv(tlvEnd)...)
}

var testNeighbor = Neighbor{ChassisID: "52:54:00:aa:bb:cc", PortID: "Gi1/0/12", PortDescription: "uplink to rack 4",
	SystemName: "sw-core-1.example", VLAN: 42, TTL: 120}

func TestParseFrame(t *testing.T) {
	for _, tagged := range []bool{false, true} {
		got, err := ParseFrame(testFrame(tagged))
		if err != nil || !reflect.DeepEqual(got, testNeighbor) {
			t.Errorf("tagged=%v: %+v, %v", tagged, got, err)
		}
	}
	// Network-address chassis (IPv4) and a MAC port ID.
	pdu := append(tlv(tlvChassisID, 5, 1, 192, 0, 2, 1), tlv(tlvPortID, 3, 2, 0, 0, 0, 0, 1)...)
	pdu = append(pdu, tlv(tlvTTL, 0, 30)...)
	if got, err := Parse(pdu); err != nil || got.ChassisID != "192.0.2.1" || got.PortID != "02:00:00:00:00:01" || got.TTL != 30 {
		t.Errorf("addresses: %+v, %v", got, err)
	}
	for name, tc := range map[string]struct {
		frame []byte
		want  string
	}{
		"short":         {[]byte{1, 2, 3}, "shorter than an Ethernet header"},
		"not lldp":      {append(make([]byte, 12), 0x08, 0x00), "is not LLDP"},
		"wrong order":   {append(append(make([]byte, 12), 0x88, 0xcc), tlv(tlvTTL, 0, 1)...), "must come first"},
		"past the end":  {append(append(make([]byte, 12), 0x88, 0xcc), 0x02, 0x20, 4), "runs past the frame"},
		"empty":         {append(make([]byte, 12), 0x88, 0xcc), "empty LLDPDU"},
		"truncated tag": {append(make([]byte, 12), 0x81, 0x00, 0), "truncated 802.1Q tag"},
	} {
		if _, err := ParseFrame(tc.frame); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", name, err, tc.want)
		}
	}
}

// FuzzParse: any input parses or fails without panicking, and what parses
// has a chassis or port ID.
func FuzzParse(f *testing.F) {
	f.Add(testFrame(false))
	f.Add(testFrame(true))
	f.Add([]byte{})
	f.Add(append(make([]byte, 12), 0x88, 0xcc, 0x02, 0x01))
	f.Fuzz(func(t *testing.T, b []byte) {
		n, err := ParseFrame(b)
		if err == nil && n.ChassisID == "" && n.PortID == "" {
			t.Errorf("accepted a frame with neither chassis nor port ID: %x", b)
		}
	})
}

// TestFrameRoundTrip: what Frame encodes, ParseFrame reads back.
func TestFrameRoundTrip(t *testing.T) {
	for _, n := range []Neighbor{
		{ChassisID: "00:1b:54:aa:bb:cc", PortID: "Gi1/0/12", PortDescription: "rack 12", SystemName: "sw-rack12", VLAN: 100, TTL: 120},
		{ChassisID: "sw-2", PortID: "port 9", TTL: 60},
	} {
		got, err := ParseFrame(Frame(n, [6]byte{2, 0, 0, 0, 0, 1}))
		if err != nil || got != n {
			t.Errorf("ParseFrame(Frame(%+v)) = %+v, %v", n, got, err)
		}
	}
}
