package netconfig

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

// NetworkdDirs are the directories systemd-networkd reads .network files
// from, highest priority first (a file name in an earlier directory hides
// the same name in later ones).
var NetworkdDirs = []string{"/etc/systemd/network", "/run/systemd/network",
	"/usr/local/lib/systemd/network", "/usr/lib/systemd/network", "/lib/systemd/network"}

// ShadowingFiles returns the .network files in dirs that systemd-networkd
// would use for ifname instead of the one nodeconsole saves
// (NetworkdFileName): networkd applies the first file, in file-name order
// across all directories, whose [Match] section matches the interface, so
// a distro file that sorts earlier (10-netplan-eth0.network) wins. A file
// whose [Match] has no Name= counts too, as it may match by other
// properties (or match everything). nodeconsole's own files are skipped.
func ShadowingFiles(dirs []string, ifname string) []string {
	ours := NetworkdFileName(ifname)
	seen := map[string]string{} // file name -> path of the copy networkd uses
	for _, d := range dirs {
		ents, _ := os.ReadDir(d)
		for _, e := range ents {
			n := e.Name()
			if !strings.HasSuffix(n, ".network") || seen[n] != "" {
				continue
			}
			seen[n] = filepath.Join(d, n)
		}
	}
	var names []string
	for n := range seen {
		if n < ours && !strings.Contains(n, "-nodeconsole-") {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	var out []string
	for _, n := range names {
		b, err := os.ReadFile(seen[n])
		if err != nil || len(bytes.TrimSpace(b)) == 0 { // empty or /dev/null: masked
			continue
		}
		if matchesName(b, ifname) {
			out = append(out, seen[n])
		}
	}
	return out
}

// matchesName reports whether a .network file's [Match] section may match
// ifname: no Name= at all, or a Name= glob that matches (a leading "!"
// inverts the list).
func matchesName(file []byte, ifname string) bool {
	sc := bufio.NewScanner(bytes.NewReader(file))
	section := ""
	var patterns []string
	named, invert := false, false
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if l == "" || l[0] == '#' || l[0] == ';' {
			continue
		}
		if strings.HasPrefix(l, "[") {
			section = l
			continue
		}
		k, v, ok := strings.Cut(l, "=")
		if !ok || section != "[Match]" || strings.TrimSpace(k) != "Name" {
			continue
		}
		v = strings.TrimSpace(v)
		if v == "" { // an empty assignment resets the list
			patterns, named, invert = nil, false, false
			continue
		}
		named = true
		if strings.HasPrefix(v, "!") {
			invert, v = true, strings.TrimPrefix(v, "!")
		}
		patterns = append(patterns, strings.Fields(v)...)
	}
	if !named {
		return true
	}
	for _, p := range patterns {
		if ok, _ := filepath.Match(p, ifname); ok {
			return !invert
		}
	}
	return invert
}

// Shadowed returns the .network files systemd-networkd uses for the saved
// interface instead of the file nodeconsole wrote (see ShadowingFiles):
// the saved settings then do not survive a reboot or a networkd reload.
// It is nil when nothing is saved or no networkd file is written.
func (m *Manager) Shadowed() []string {
	cfg, err := m.Saved()
	if err != nil || m.o.NetworkdDir == "" || cfg.Interface == "" {
		return nil
	}
	dirs := []string{m.o.NetworkdDir}
	for _, d := range NetworkdDirs {
		if d != m.o.NetworkdDir {
			dirs = append(dirs, d)
		}
	}
	files := ShadowingFiles(dirs, cfg.Interface)
	if cfg.VLAN != 0 {
		// The settings are in the VLAN link's file; a file that shadows
		// it loses them as surely.
		for _, f := range ShadowingFiles(dirs, cfg.Link()) {
			if !slices.Contains(files, f) {
				files = append(files, f)
			}
		}
	}
	return files
}

// ShadowedNotice is one sentence about shadowing files for the console
// and `network show`, "" when there are none.
func ShadowedNotice(files []string) string {
	if len(files) == 0 {
		return ""
	}
	return "systemd-networkd uses " + strings.Join(files, ", ") +
		" for this interface, not the saved settings: it sorts first. Remove or rename it."
}
