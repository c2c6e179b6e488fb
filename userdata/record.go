package userdata

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/nodeconsole/nodeconsole/atomicfile"
	"github.com/nodeconsole/nodeconsole/config"
)

// DropInName is the config drop-in user data is written to, in config.d.
const DropInName = config.UserDataDropIn

// RecordFile is the record of the last user data, in the state dir.
const RecordFile = "userdata.json"

// Record is what `userdata show` and the home screen tell: the user data
// in use, and the last one refused.
type Record struct {
	Applied *Applied `json:"applied,omitempty"`
	Refused *Refused `json:"refused,omitempty"`
}

// Applied describes the user data in use. It holds no secret: keys only.
type Applied struct {
	Source string    `json:"source"`
	Where  string    `json:"where"`
	Time   time.Time `json:"time"`
	Keys   []string  `json:"keys"`
	SHA256 string    `json:"sha256"`
	// Network is what became of network.interface ("" without one).
	Network string `json:"network,omitempty"`
	// NetworkKept is false when the network settings were not kept.
	NetworkKept bool `json:"networkKept,omitempty"`
}

// Refused describes user data that was not applied, and why.
type Refused struct {
	Source   string    `json:"source"`
	Where    string    `json:"where"`
	Time     time.Time `json:"time"`
	SHA256   string    `json:"sha256"`
	Problems []string  `json:"problems"`
}

// LoadRecord reads the record from the state dir; a missing one is empty.
func LoadRecord(stateDir string) (Record, error) {
	var r Record
	b, err := os.ReadFile(filepath.Join(stateDir, RecordFile))
	if errors.Is(err, fs.ErrNotExist) {
		return r, nil
	}
	if err != nil {
		return r, fmt.Errorf("userdata: read record: %w", err)
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return Record{}, fmt.Errorf("userdata: read record %s: %w", filepath.Join(stateDir, RecordFile), err)
	}
	return r, nil
}

// Save writes the record atomically.
func (r Record) Save(stateDir string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("userdata: save record: %w", err)
	}
	if err := atomicfile.WriteFile(filepath.Join(stateDir, RecordFile), append(b, '\n'), 0o640); err != nil {
		return fmt.Errorf("userdata: save record: %w", err)
	}
	return nil
}

// Note is the home screen's line about user data ("" when there is none):
// "Site settings loaded from CIDATA (USB) at 10:42: endpoint, registration
// token, network". problem is set when the last user data was refused or
// its network settings were not kept.
func (r Record) Note(loc *time.Location) (note, problem string) {
	if a := r.Applied; a != nil {
		note = fmt.Sprintf("Site settings loaded from %s at %s: %s", a.Source, a.Time.In(loc).Format("15:04"), Summary(a.Keys))
		if a.Network != "" && !a.NetworkKept {
			problem = "User data network settings not kept: " + a.Network
		}
	}
	if f := r.Refused; f != nil && (r.Applied == nil || f.Time.After(r.Applied.Time)) && len(f.Problems) > 0 {
		problem = fmt.Sprintf("User data from %s not applied: %s", f.Source, f.Problems[0])
		if n := len(f.Problems) - 1; n > 0 {
			problem += fmt.Sprintf(" (+%d more: nodeconsole userdata show)", n)
		}
	}
	return note, problem
}

// WriteDropIn writes the settings' drop-in atomically to configDir
// (config.d) as 50-user-data.yaml, mode 0640, or removes an older one
// when the settings hold nothing for the config. It reports whether it
// replaced an existing file.
func WriteDropIn(configDir string, s *Settings, from *Found, now time.Time) (replaced bool, err error) {
	path := filepath.Join(configDir, DropInName)
	_, err = os.Stat(path)
	replaced = err == nil
	if s.DropIn == nil {
		if replaced {
			err = atomicfile.Remove(path)
		} else {
			err = nil
		}
		return replaced, err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# Written by `nodeconsole userdata apply` from %s (%s) at %s.\n", from.Source, from.Where, now.UTC().Format(time.RFC3339))
	b.WriteString("# Newer user data replaces this file; settings in later files override it.\n")
	b.WriteString(string(s.DropIn))
	if err := os.MkdirAll(configDir, 0o755); err != nil {
		return replaced, fmt.Errorf("userdata: write %s: %w", path, err)
	}
	if err := atomicfile.WriteFile(path, []byte(b.String()), 0o640); err != nil {
		return replaced, fmt.Errorf("userdata: write %s: %w", path, err)
	}
	return replaced, nil
}
