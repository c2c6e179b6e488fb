// Package nodestatus gathers what the home screen and `nodeconsole status`
// show: identity, version, network and registration state. It reads through
// narrow interfaces (netconfig.Reader, regclient.Store) so the screen can be
// tested with fakes and the CLI uses the real thing.
package nodestatus

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/nodeconsole/nodeconsole/lldp"
	"github.com/nodeconsole/nodeconsole/netconfig"
	"github.com/nodeconsole/nodeconsole/regclient"
)

// Snapshot is one reading of the node's status. Its JSON form is the
// contract of `nodeconsole status --json`.
type Snapshot struct {
	NodeID           string       `json:"nodeId"`
	Hostname         string       `json:"hostname"`
	Make             string       `json:"make,omitempty"`
	Model            string       `json:"model,omitempty"`
	Version          string       `json:"version"`
	Endpoint         string       `json:"endpoint,omitempty"`
	Registration     Registration `json:"registration"`
	Interfaces       []Interface  `json:"interfaces"`
	Gateway          string       `json:"gateway,omitempty"`
	GatewayInterface string       `json:"gatewayInterface,omitempty"`
	DNS              []string     `json:"dns"`
	// Certificate is the node certificate's lifetime, when registered.
	Certificate *Certificate `json:"certificate,omitempty"`
	// Notes are things worth knowing that are not problems ("Site
	// settings loaded from CIDATA (USB) at 10:42: endpoint, ...").
	Notes []string `json:"notes,omitempty"`
	// Problems are things the operator should know (network unreadable,
	// state file damaged, config problems).
	Problems []string `json:"problems,omitempty"`
}

// Registration is the registration part of a Snapshot.
type Registration struct {
	State           regclient.Phase `json:"state"`
	NodeName        string          `json:"nodeName,omitempty"`
	Project         string          `json:"project,omitempty"`
	UserCode        string          `json:"userCode,omitempty"`
	VerificationURI string          `json:"verificationUri,omitempty"`
	ExpiresAt       *time.Time      `json:"expiresAt,omitempty"`
	RegisteredAt    *time.Time      `json:"registeredAt,omitempty"`

	// RebootPending: registered during this boot; the reboot that makes
	// the node use its new certificate has not happened yet.
	RebootPending bool `json:"rebootPending,omitempty"`

	// KeyFingerprint is the node key's short fingerprint while pending,
	// shown next to the code so the admin can compare it with Find's.
	KeyFingerprint string `json:"keyFingerprint,omitempty"`
	// Recovery, while pending, says why the node enrolls again with the
	// key it kept (its certificate was lost, damaged or refused).
	Recovery string `json:"recovery,omitempty"`
}

// Interface is one interface in a Snapshot.
type Interface struct {
	Name      string   `json:"name"`
	MAC       string   `json:"mac,omitempty"`
	State     string   `json:"state"`
	Addresses []string `json:"addresses"`
	Default   bool     `json:"default"`
	// LLDP are the switch ports the console heard on this NIC, as in
	// netconfig.Interface.LLDP and `network show --json --lldp`'s "lldp"
	// (left out until the console has listened; `status` never listens).
	LLDP []lldp.Neighbor `json:"lldp,omitempty"`
}

// Collector reads a Snapshot. Every field is a dependency; nothing is global.
type Collector struct {
	NodeID   string
	Make     string
	Model    string
	Version  string
	Endpoint string
	// Hostname returns the host name; nil means os.Hostname.
	Hostname func() (string, error)
	Net      netconfig.Reader
	State    regclient.Store
	// Problems are added to every snapshot (config problems found at start).
	Problems []string
	// UserData, when set, says what user data set and what went wrong
	// with it (each "" when nothing); read at every collect.
	UserData func() (note, problem string)
	// BootTime returns when this boot started; nil reads btime from
	// /proc/stat. A registration after it needs a reboot to finish.
	BootTime func() (time.Time, error)
}

// RebootNote is the home screen's note while a registration made during
// this boot waits for the reboot that finishes it.
const RebootNote = "Reboot to finish registration: the node uses its new certificate after a restart (menu: Reboot)."

// ProcBootTime reads when this boot started from /proc/stat (btime).
func ProcBootTime() (time.Time, error) {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return time.Time{}, fmt.Errorf("nodestatus: read boot time: %w", err)
	}
	for _, l := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(l, "btime "); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil {
				break
			}
			return time.Unix(n, 0), nil
		}
	}
	return time.Time{}, errors.New("nodestatus: no btime in /proc/stat")
}

// Collect reads everything. It never fails: what cannot be read becomes a
// problem line and the rest is still returned.
func (c Collector) Collect(ctx context.Context) Snapshot {
	s := Snapshot{NodeID: c.NodeID, Make: c.Make, Model: c.Model, Version: c.Version,
		Endpoint: c.Endpoint, Interfaces: []Interface{}, DNS: []string{}}
	s.Problems = append(s.Problems, c.Problems...)
	if c.UserData != nil {
		note, problem := c.UserData()
		if note != "" {
			s.Notes = append(s.Notes, note)
		}
		if problem != "" {
			s.Problems = append(s.Problems, problem)
		}
	}
	host := c.Hostname
	if host == nil {
		host = os.Hostname
	}
	if h, err := host(); err == nil {
		s.Hostname = h
	} else {
		s.Problems = append(s.Problems, "cannot read the hostname: "+err.Error())
	}
	if c.Net != nil {
		ns, err := c.Net.Read(ctx)
		if err != nil {
			s.Problems = append(s.Problems, "cannot read the network state: "+err.Error())
		}
		for _, ifc := range ns.Interfaces {
			i := Interface{Name: ifc.Name, MAC: ifc.MAC, State: string(ifc.State), Default: ifc.Default, Addresses: []string{}, LLDP: ifc.LLDP}
			for _, a := range ifc.Addrs {
				i.Addresses = append(i.Addresses, a.String())
			}
			s.Interfaces = append(s.Interfaces, i)
		}
		if ns.Gateway.IsValid() {
			s.Gateway, s.GatewayInterface = ns.Gateway.String(), ns.GatewayInterface
		}
		for _, d := range ns.DNS {
			s.DNS = append(s.DNS, d.String())
		}
	}
	st, err := c.State.Load()
	if err != nil && !errors.Is(err, regclient.ErrNoState) {
		s.Problems = append(s.Problems, "cannot read the registration state: "+err.Error())
	}
	s.Registration = Registration{State: st.State, NodeName: st.NodeName, Project: st.Project}
	if st.State == "" {
		s.Registration.State = regclient.Unregistered
	}
	if st.State == regclient.Pending {
		s.Registration.UserCode = st.UserCode
		s.Registration.KeyFingerprint = st.KeyFingerprint
		s.Registration.Recovery = st.Recovery
		s.Registration.VerificationURI = st.VerificationURI
		if !st.ExpiresAt.IsZero() {
			t := st.ExpiresAt
			s.Registration.ExpiresAt = &t
		}
	}
	if st.State == regclient.Registered && !st.RegisteredAt.IsZero() {
		t := st.RegisteredAt
		s.Registration.RegisteredAt = &t
		boot := c.BootTime
		if boot == nil {
			boot = ProcBootTime
		}
		if bt, err := boot(); err == nil && t.After(bt) {
			s.Registration.RebootPending = true
			s.Notes = append([]string{RebootNote}, s.Notes...)
		}
	}
	if st.State == regclient.Registered {
		if info, err := c.State.CertificateInfo(); err == nil {
			s.Certificate = &Certificate{NotAfter: info.NotAfter, RenewAfter: info.RenewAfter}
		}
	}
	if st.Endpoint != "" && s.Endpoint == "" {
		s.Endpoint = st.Endpoint
	}
	return s
}

// ReadDMI returns the vendor and product name from a DMI directory
// (normally /sys/class/dmi/id), "" where unreadable or a placeholder.
func ReadDMI(dir string) (vendor, product string) {
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return ""
		}
		v := strings.TrimSpace(string(b))
		switch strings.ToLower(v) {
		case "", "to be filled by o.e.m.", "default string", "system product name", "system manufacturer", "not specified", "none":
			return ""
		}
		return v
	}
	return read("sys_vendor"), read("product_name")
}

// RegistrationLine is the one-line registration status an operator reads:
// "Unregistered", "Awaiting activation (code BCDF-GHJK)", "Registered as NAME".
func (r Registration) RegistrationLine(now time.Time) string {
	switch r.State {
	case regclient.Registered:
		line := "Registered"
		if r.NodeName != "" {
			line += " as " + r.NodeName
		}
		if r.Project != "" {
			line += " (" + r.Project + ")"
		}
		return line
	case regclient.Pending:
		if r.ExpiresAt != nil && !now.Before(*r.ExpiresAt) {
			return "Awaiting activation (code expired)"
		}
		if r.UserCode != "" {
			return "Awaiting activation (code " + r.UserCode + ")"
		}
		if r.Recovery != "" {
			return "Certificate lost; key kept (register again)"
		}
		return "Awaiting activation"
	}
	return "Unregistered"
}
