//go:build linux

package netconfig

import (
	"context"
	"fmt"
	"net"
	"net/netip"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// NewReader returns a Reader that reads links, addresses and routes through
// netlink in the network namespace of the calling thread, and nameservers
// from the resolv.conf file at resolvConf ("" means none).
func NewReader(resolvConf string) Reader {
	return &netlinkReader{h: &netlink.Handle{}, resolvConf: resolvConf}
}

// NewReaderAt is NewReader bound to a netlink handle, for instance one from
// netlink.NewHandleAt for another network namespace.
func NewReaderAt(h *netlink.Handle, resolvConf string) Reader {
	return &netlinkReader{h: h, resolvConf: resolvConf}
}

type netlinkReader struct {
	h          *netlink.Handle
	resolvConf string
}

// Read implements Reader.
func (r *netlinkReader) Read(ctx context.Context) (Status, error) {
	if err := ctx.Err(); err != nil {
		return Status{}, err
	}
	links, err := r.h.LinkList()
	if err != nil {
		return Status{}, fmt.Errorf("netconfig: list links: %w", err)
	}
	var st Status
	byIndex := map[int]int{} // link index -> position in st.Interfaces
	parents := map[int]int{} // position of a VLAN link -> its parent's link index
	for _, l := range links {
		a := l.Attrs()
		if a.Flags&net.FlagLoopback != 0 || a.EncapType == "loopback" {
			continue
		}
		ifc := Interface{
			Name:     a.Name,
			Index:    a.Index,
			State:    linkState(a),
			Ethernet: ethernetLike(l),
			MTU:      a.MTU,
		}
		if len(a.HardwareAddr) > 0 {
			ifc.MAC = a.HardwareAddr.String()
		}
		addrs, err := r.h.AddrList(l, netlink.FAMILY_ALL)
		if err != nil {
			return Status{}, fmt.Errorf("netconfig: list addresses of %s: %w", a.Name, err)
		}
		for _, ad := range addrs {
			if ad.Scope != unix.RT_SCOPE_UNIVERSE {
				continue
			}
			if p, ok := ipNetPrefix(ad.IPNet); ok {
				ifc.Addrs = append(ifc.Addrs, p)
				if p.Addr().Is4() && ad.ValidLft > 0 && ad.ValidLft != lifetimeForever {
					ifc.DHCP = true
				}
			}
		}
		sortAddrs(ifc.Addrs)
		if v, ok := l.(*netlink.Vlan); ok {
			ifc.VLANID = v.VlanId
			parents[len(st.Interfaces)] = a.ParentIndex
		}
		byIndex[a.Index] = len(st.Interfaces)
		st.Interfaces = append(st.Interfaces, ifc)
	}
	for _, fam := range []int{netlink.FAMILY_V4, netlink.FAMILY_V6} {
		routes, err := r.h.RouteList(nil, fam)
		if err != nil {
			return Status{}, fmt.Errorf("netconfig: list routes: %w", err)
		}
		bestMetric := -1
		for _, rt := range routes {
			if !isDefaultDst(rt.Dst) {
				i, ok := byIndex[rt.LinkIndex]
				dst, dok := ipNetPrefix(rt.Dst)
				gw, gok := netip.AddrFromSlice(rt.Gw)
				// IPv6: not those router advertisements bring and take.
				if ok && dok && gok && (rt.Table == 0 || rt.Table == unix.RT_TABLE_MAIN) && (fam == netlink.FAMILY_V4 || rt.Protocol != unix.RTPROT_RA) {
					st.Interfaces[i].Routes = append(st.Interfaces[i].Routes, Route{Dst: dst, Gateway: gw.Unmap()})
				}
				continue
			}
			hops := []*netlink.NexthopInfo{{LinkIndex: rt.LinkIndex, Gw: rt.Gw}}
			if len(rt.MultiPath) > 0 {
				hops = rt.MultiPath
			}
			for _, nh := range hops {
				i, ok := byIndex[nh.LinkIndex]
				if !ok {
					continue
				}
				st.Interfaces[i].Default = true
				if fam == netlink.FAMILY_V4 {
					st.Interfaces[i].Default4 = true
				} else {
					st.Interfaces[i].Default6 = true
				}
				gw, ok := netip.AddrFromSlice(nh.Gw)
				if ok && (bestMetric < 0 || rt.Priority < bestMetric) {
					bestMetric = rt.Priority
					if fam == netlink.FAMILY_V4 {
						st.Gateway, st.GatewayInterface = gw.Unmap(), st.Interfaces[i].Name
					} else {
						st.Gateway6, st.Gateway6Interface = gw, st.Interfaces[i].Name
					}
				}
			}
		}
	}
	for i, pidx := range parents {
		if j, ok := byIndex[pidx]; ok {
			st.Interfaces[i].VLANParent = st.Interfaces[j].Name
		}
	}
	sortInterfaces(st.Interfaces)
	st.DNS, err = readNameservers(r.resolvConf)
	if err != nil {
		return Status{}, err
	}
	return st, nil
}

// linkState maps kernel flags to a LinkState.
func linkState(a *netlink.LinkAttrs) LinkState {
	switch {
	case a.Flags&net.FlagUp == 0:
		return LinkDown
	case a.RawFlags&unix.IFF_LOWER_UP == 0:
		return LinkNoCarrier
	}
	return LinkUp
}

// ethernetLike reports whether l can carry the WAN configuration.
func ethernetLike(l netlink.Link) bool {
	if l.Attrs().EncapType != "ether" {
		return false
	}
	switch l.Type() {
	case "device", "veth", "bond", "bridge", "vlan", "macvlan":
		return true
	}
	return false
}

// isDefaultDst reports whether a route destination is a default route.
func isDefaultDst(d *net.IPNet) bool {
	if d == nil {
		return true
	}
	ones, _ := d.Mask.Size()
	return ones == 0 && d.IP.IsUnspecified()
}

// ipNetPrefix converts a kernel address to a netip.Prefix.
func ipNetPrefix(n *net.IPNet) (netip.Prefix, bool) {
	if n == nil {
		return netip.Prefix{}, false
	}
	a, ok := netip.AddrFromSlice(n.IP)
	if !ok {
		return netip.Prefix{}, false
	}
	ones, _ := n.Mask.Size()
	return netip.PrefixFrom(a.Unmap(), ones), true
}
