// Package regclient is the node side of registration: the node's identity on
// disk, the registration state machine (registrar.go, deregister.go) and
// the control-plane client (client.go, probe.go, update.go).
//
// On disk, under the state dir (README.md, Files):
//
//	state.json            registration state: unregistered | pending | registered
//	identity/node.key     ECDSA private key, mode 0600, directory 0700
//	identity/node.crt     node certificate chain
//	identity/ca.crt       control-plane CA bundle
//	identity/renew.key    while a renewal is under way: the new key and
//	identity/renew.crt    certificate, moved over node.* once they worked
//	                      (Renewer, renew.go)
//
// Every write goes through atomicfile, in an order a crash at any instant
// leaves resumable: key, pending state, then (Finalize) a "certificate
// received" state, ca.crt, node.crt, and only then "registered"; Reset marks
// the state "unregistered, wiping" before removing node.crt, ca.crt and
// node.key (key last). Store.Recover finishes either at the next start.
//
// A screen drives registration with a Registrar, one call per tea.Cmd:
//
//	Client.Probe                  connectivity: DNS, TCP, TLS (issuer), clock
//	Store.EnsureKey, CreateCSR    node key (0600) and CSR
//	Updater.Update                update step ("skipped" without a command)
//	Registrar.Start               the code (resumed from state.json at once)
//	Registrar.Next, repeatedly    OutcomeWaiting/Retrying: show LastCheck or
//	                              RetryIn and call again; OutcomeRegistered:
//	                              stored; OutcomeExpired: Enter calls Start
//	                              again (same key); OutcomeDenied: stop
//	Registrar.Cancel              Esc: cancel on the server and locally
//
// Token registration is Registrar.RegisterWithToken. Deregistration is
// Registrar.Deregister (or its steps SendDeregisterEvent, Disconnect, Wipe),
// and Registrar.DeregisterLocal when the control plane is unreachable.
package regclient

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/nodeconsole/nodeconsole/atomicfile"
)

// Phase is the registration state stored in state.json.
type Phase string

// The registration phases.
const (
	Unregistered Phase = "unregistered"
	Pending      Phase = "pending"
	Registered   Phase = "registered"
)

// File names under the state dir. They are part of the contract with
// automation and must not change.
const (
	StateFile   = "state.json"
	IdentityDir = "identity"
	KeyFile     = "identity/node.key"
	CertFile    = "identity/node.crt"
	CAFile      = "identity/ca.crt"
)

// State is the content of state.json.
type State struct {
	// NodeID is chosen once (DeriveNodeID) and kept across deregistration.
	NodeID string `json:"nodeId"`
	State  Phase  `json:"state"`
	// Endpoint is the control plane this state refers to.
	Endpoint string `json:"endpoint,omitempty"`

	// Pending: the enrollment being waited on.
	UserCode                string    `json:"userCode,omitempty"`
	VerificationURI         string    `json:"verificationUri,omitempty"`
	VerificationURIComplete string    `json:"verificationUriComplete,omitempty"`
	DeviceCode              string    `json:"deviceCode,omitempty"` // secret; file is 0600
	ExpiresAt               time.Time `json:"expiresAt,omitzero"`
	Interval                int       `json:"interval,omitempty"`
	// KeyFingerprint is api.KeyFingerprint of the key the code was asked
	// with, shown next to the code.
	KeyFingerprint string `json:"keyFingerprint,omitempty"`

	// Registered (NodeName and Project are also set, with CertReceived,
	// while the certificate is being written).
	NodeName     string    `json:"nodeName,omitempty"`
	Project      string    `json:"project,omitempty"`
	Site         string    `json:"site,omitempty"`
	RegisteredAt time.Time `json:"registeredAt,omitzero"`

	// CertReceived marks a pending state whose certificate arrived and is
	// being written: a start that finds it finishes the registration
	// (Store.Recover).
	CertReceived bool `json:"certReceived,omitempty"`
	// DeregisterStartedAt is set on a registered state while the Deregister
	// event is being sent.
	DeregisterStartedAt time.Time `json:"deregisterStartedAt,omitzero"`
	// Recovery, on a pending state, says why the node is enrolling again
	// with the key it already had (Store.Recover kept the key of a
	// registered node whose certificate was unusable); shown until the node
	// is registered again.
	Recovery string `json:"recovery,omitempty"`
	// Wiping marks an unregistered state whose identity files are being
	// removed: a start that finds it finishes the removal.
	Wiping bool `json:"wiping,omitempty"`
}

// Store reads and writes the node state under one directory.
type Store struct {
	// Dir is the state dir.
	Dir string
}

// Path returns the absolute path of a state-dir file name such as KeyFile.
func (s Store) Path(name string) string { return filepath.Join(s.Dir, filepath.FromSlash(name)) }

// ErrNoState reports that state.json does not exist yet.
var ErrNoState = errors.New("regclient: no state file yet")

// Load reads state.json. A missing file returns ErrNoState and a zero
// unregistered State.
func (s Store) Load() (State, error) {
	data, err := os.ReadFile(s.Path(StateFile))
	if errors.Is(err, fs.ErrNotExist) {
		return State{State: Unregistered}, ErrNoState
	}
	if err != nil {
		return State{State: Unregistered}, fmt.Errorf("regclient: read %s: %w", s.Path(StateFile), err)
	}
	var st State
	if err := json.Unmarshal(data, &st); err != nil {
		return State{State: Unregistered}, fmt.Errorf("regclient: parse %s: %w", s.Path(StateFile), err)
	}
	switch st.State {
	case Unregistered, Pending, Registered:
	case "":
		st.State = Unregistered
	default:
		return st, fmt.Errorf("regclient: %s: unknown state %q", s.Path(StateFile), st.State)
	}
	return st, nil
}

// Save writes state.json atomically (mode 0600: it may hold a device code).
func (s Store) Save(st State) error {
	if err := os.MkdirAll(s.Dir, 0o755); err != nil {
		return fmt.Errorf("regclient: create state dir %s: %w", s.Dir, err)
	}
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("regclient: encode state: %w", err)
	}
	return atomicfile.WriteFile(s.Path(StateFile), append(data, '\n'), 0o600)
}

// Writable reports whether the state dir can be written, creating it if
// needed. The returned error is the reason it cannot.
func (s Store) Writable() error {
	if err := os.MkdirAll(s.Dir, 0o755); err != nil {
		return fmt.Errorf("regclient: create state dir %s: %w", s.Dir, err)
	}
	f, err := os.CreateTemp(s.Dir, ".probe-*")
	if err != nil {
		return fmt.Errorf("regclient: state dir %s is not writable: %w", s.Dir, err)
	}
	name := f.Name()
	f.Close()
	os.Remove(name)
	return nil
}

// StorageKind is why a write in the state dir failed.
type StorageKind int

// Storage problems an operator can act on.
const (
	StorageReadOnly   StorageKind = iota + 1 // a read-only file system
	StorageFull                              // no space (or quota) left
	StoragePermission                        // permission denied
)

// StorageIssue is a failed write in the state dir as data: what kind, and
// the directory it happened in. Screens and the CLI word it.
type StorageIssue struct {
	Kind StorageKind
	// Dir is the directory of the file that failed ("" when unknown).
	Dir string
}

// Storage classifies err as a StorageIssue; false for any other error. It
// looks at the file system to name the directory (I/O: call it from a
// command, not from Update or View).
func Storage(err error) (StorageIssue, bool) {
	var is StorageIssue
	switch {
	case err == nil:
		return is, false
	case errors.Is(err, syscall.EROFS):
		is.Kind = StorageReadOnly
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT):
		is.Kind = StorageFull
	case errors.Is(err, fs.ErrPermission):
		is.Kind = StoragePermission
	default:
		return is, false
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		is.Dir = filepath.Dir(pe.Path)
		if fi, serr := os.Stat(pe.Path); serr == nil && fi.IsDir() {
			is.Dir = pe.Path
		}
	}
	return is, true
}
