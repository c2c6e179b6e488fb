// Package netconfig reads, validates, applies, checks, reverts and persists
// the node's WAN network configuration.
//
// The read side is a Reader: NewReader reads links, addresses and routes
// through netlink and nameservers from a resolv.conf file; NewSimulated
// returns an in-memory network for --demo and tests that behaves like the
// kernel without touching the host.
package netconfig
