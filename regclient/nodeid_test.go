package regclient

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/nodeconsole/nodeconsole/api"
)

func TestDeriveNodeID(t *testing.T) {
	dir := t.TempDir()
	file := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	goodUUID := file("uuid-good", "4C4C4544-0042-3510-8052-B4C04F4E4A32\n")
	zeroUUID := file("uuid-zero", "00000000-0000-0000-0000-000000000000\n")
	ffUUID := file("uuid-ff", "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF\n")
	placeholder := file("uuid-placeholder", "03000200-0400-0500-0006-000700080009\n")
	garbage := file("uuid-garbage", "Not Settable\n")
	machineID := file("machine-id", "b08dfa6083e7567a1921a715000001fb\n")
	missing := filepath.Join(dir, "missing")
	fixedRand := func(b []byte) error {
		for i := range b {
			b[i] = byte(i)
		}
		return nil
	}
	const randomID = "edge-000102030405060708090a0b0c0d0e0f"

	tests := []struct {
		name     string
		src      IDSources
		wantID   string
		wantFrom IDSource
	}{
		{"config name hashed", IDSources{ConfigName: "lab-01", ProductUUIDPath: goodUUID}, "edge-" + hashName("lab-01"), FromConfig},
		{"config name already an ID", IDSources{ConfigName: "EDGE-0123456789ABCDEF0123456789ABCDEF"}, "edge-0123456789abcdef0123456789abcdef", FromConfig},
		{"valid product_uuid", IDSources{ProductUUIDPath: goodUUID, MachineIDPath: machineID}, "edge-4c4c4544004235108052b4c04f4e4a32", FromProductUUID},
		{"all-zero product_uuid falls to machine-id", IDSources{ProductUUIDPath: zeroUUID, MachineIDPath: machineID}, "edge-" + hashMachine("b08dfa6083e7567a1921a715000001fb"), FromMachineID},
		{"all-F product_uuid falls to machine-id", IDSources{ProductUUIDPath: ffUUID, MachineIDPath: machineID}, "edge-" + hashMachine("b08dfa6083e7567a1921a715000001fb"), FromMachineID},
		{"placeholder product_uuid falls to machine-id", IDSources{ProductUUIDPath: placeholder, MachineIDPath: machineID}, "edge-" + hashMachine("b08dfa6083e7567a1921a715000001fb"), FromMachineID},
		{"garbage product_uuid, no machine-id: random", IDSources{ProductUUIDPath: garbage, MachineIDPath: missing, Random: fixedRand}, randomID, FromRandom},
		{"nothing at all: random", IDSources{ProductUUIDPath: missing, MachineIDPath: missing, Random: fixedRand}, randomID, FromRandom},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, from, err := DeriveNodeID(tt.src)
			if err != nil {
				t.Fatal(err)
			}
			if id != tt.wantID || from != tt.wantFrom {
				t.Errorf("got %s from %s; want %s from %s", id, from, tt.wantID, tt.wantFrom)
			}
			if !api.ValidNodeID(id) {
				t.Errorf("%q is not a valid node ID", id)
			}
		})
	}
}

func TestDeriveNodeIDRandomFailure(t *testing.T) {
	_, _, err := DeriveNodeID(IDSources{Random: func([]byte) error { return errors.New("no entropy") }})
	if err == nil {
		t.Fatal("want an error when randomness fails")
	}
}

func TestEnsureNodeIDPersists(t *testing.T) {
	s := Store{Dir: t.TempDir()}
	first, from, err := s.EnsureNodeID(IDSources{ConfigName: "lab-01"})
	if err != nil || from != FromConfig {
		t.Fatalf("first: %s %s %v", first, from, err)
	}
	// A later config change does not move the identity.
	again, from, err := s.EnsureNodeID(IDSources{ConfigName: "renamed"})
	if err != nil || again != first || from != FromState {
		t.Fatalf("second: %s from %s (%v); want %s from state", again, from, err, first)
	}
	st, err := s.Load()
	if err != nil || st.NodeID != first || st.State != Unregistered {
		t.Fatalf("state.json = %+v, %v", st, err)
	}
	fi, err := os.Stat(s.Path(StateFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("state.json mode = %v, %v; want 0600", fi.Mode(), err)
	}
}

func TestLoadRejectsUnknownPhase(t *testing.T) {
	s := Store{Dir: t.TempDir()}
	if err := os.WriteFile(s.Path(StateFile), []byte(`{"state":"limbo"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load(); err == nil {
		t.Fatal("want an error for an unknown state")
	}
	if _, err := (Store{Dir: t.TempDir()}).Load(); !errors.Is(err, ErrNoState) {
		t.Fatalf("missing state: err = %v, want ErrNoState", err)
	}
}
