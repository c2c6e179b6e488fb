package regclient

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/nodeconsole/nodeconsole/api"
)

// NodeIDPrefix starts every node ID.
const NodeIDPrefix = "edge-"

// IDSources are where a node ID may come from, in order of preference.
type IDSources struct {
	// ConfigName is config node.name.
	ConfigName string
	// ProductUUIDPath is normally /sys/class/dmi/id/product_uuid.
	ProductUUIDPath string
	// MachineIDPath is normally /etc/machine-id.
	MachineIDPath string
	// Random returns 16 random bytes; nil means crypto/rand.
	Random func([]byte) error
}

// DefaultIDSources returns the sources a real node uses.
func DefaultIDSources(configName string) IDSources {
	return IDSources{
		ConfigName:      configName,
		ProductUUIDPath: "/sys/class/dmi/id/product_uuid",
		MachineIDPath:   "/etc/machine-id",
	}
}

// IDSource names where a node ID came from, for logs and `status`.
type IDSource string

// Where a node ID came from.
const (
	FromState       IDSource = "state"
	FromConfig      IDSource = "config"
	FromProductUUID IDSource = "product_uuid"
	FromMachineID   IDSource = "machine-id"
	FromRandom      IDSource = "random"
)

// placeholderUUIDs are product_uuid values firmware ships unchanged on many
// boards; using them would give many nodes the same ID.
var placeholderUUIDs = map[string]bool{
	"03000200040005000006000700080009": true,
	"00020003000400050006000700080009": true,
	"12345678123456781234567812345678": true,
	"4c4c4544000000000000000000000000": true, // Dell service-tag-less
}

// DeriveNodeID picks the node ID: config node.name, else a usable DMI
// product_uuid, else /etc/machine-id, else random.
//
// A name that already has the edge-<32 hex> form is used as is; any other
// name is hashed. product_uuid keeps its own hex digits so an admin can match
// it against the hardware; machine-id is hashed with an application key,
// because systemd asks that it not be exposed directly.
func DeriveNodeID(src IDSources) (string, IDSource, error) {
	if name := strings.TrimSpace(src.ConfigName); name != "" {
		if api.ValidNodeID(strings.ToLower(name)) {
			return strings.ToLower(name), FromConfig, nil
		}
		sum := sha256.Sum256([]byte("nodeconsole node name\x00" + name))
		return NodeIDPrefix + hex.EncodeToString(sum[:16]), FromConfig, nil
	}
	if hexid, ok := readHexID(src.ProductUUIDPath); ok && usableUUID(hexid) {
		return NodeIDPrefix + hexid, FromProductUUID, nil
	}
	if hexid, ok := readHexID(src.MachineIDPath); ok && usableUUID(hexid) {
		mac := hmac.New(sha256.New, []byte("nodeconsole node id"))
		mac.Write([]byte(hexid))
		return NodeIDPrefix + hex.EncodeToString(mac.Sum(nil)[:16]), FromMachineID, nil
	}
	rnd := src.Random
	if rnd == nil {
		rnd = func(b []byte) error { _, err := rand.Read(b); return err }
	}
	b := make([]byte, 16)
	if err := rnd(b); err != nil {
		return "", "", fmt.Errorf("regclient: random node ID: %w", err)
	}
	return NodeIDPrefix + hex.EncodeToString(b), FromRandom, nil
}

// readHexID reads a UUID-like file and returns its 32 lowercase hex digits.
func readHexID(path string) (string, bool) {
	if path == "" {
		return "", false
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return "", false
	}
	s := strings.ToLower(strings.TrimSpace(string(data)))
	s = strings.ReplaceAll(s, "-", "")
	if len(s) != 32 {
		return "", false
	}
	if _, err := hex.DecodeString(s); err != nil {
		return "", false
	}
	return s, true
}

func usableUUID(h string) bool {
	if strings.Trim(h, "0") == "" || strings.Trim(h, "f") == "" {
		return false
	}
	return !placeholderUUIDs[h]
}

// EnsureNodeID returns the node ID kept in the state dir, deriving and saving
// one on first use. The saved ID wins over later config changes, so a node's
// identity never shifts under it.
func (s Store) EnsureNodeID(src IDSources) (string, IDSource, error) {
	st, err := s.Load()
	if err != nil && !errors.Is(err, ErrNoState) {
		return "", "", err
	}
	if api.ValidNodeID(st.NodeID) {
		return st.NodeID, FromState, nil
	}
	id, from, err := DeriveNodeID(src)
	if err != nil {
		return "", "", err
	}
	st.NodeID = id
	if st.State == "" {
		st.State = Unregistered
	}
	if err := s.Save(st); err != nil {
		return id, from, err
	}
	return id, from, nil
}

// ReadNodeID is EnsureNodeID without writing: the saved node ID, else the
// derived one (not saved). For commands that must not create the state dir.
func (s Store) ReadNodeID(src IDSources) (string, IDSource, error) {
	st, err := s.Load()
	if err != nil && !errors.Is(err, ErrNoState) {
		return "", "", err
	}
	if api.ValidNodeID(st.NodeID) {
		return st.NodeID, FromState, nil
	}
	return DeriveNodeID(src)
}
