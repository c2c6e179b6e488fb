package netconfig

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// TestShadowingFiles: a distro .network file that sorts before
// 10-nodeconsole-IF.network and matches the interface wins in
// systemd-networkd, so it is reported; files that sort later, match
// another interface, are masked, or are nodeconsole's own are not.
func TestShadowingFiles(t *testing.T) {
	etc, run, lib := t.TempDir(), t.TempDir(), t.TempDir()
	write := func(dir, name, content string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(etc, "10-nodeconsole-eth0.network", "[Match]\nName=eth0\n")
	write(run, "05-nodeconsole-trial-eth0.network", "[Match]\nName=eth0\n")
	write(run, "10-netplan-eth0.network", "[Match]\nName=eth0\n[Network]\nDHCP=yes\n")
	write(lib, "01-all.network", "[Network]\nDHCP=yes\n")           // no [Match]: everything
	write(lib, "02-wlan.network", "[Match]\nName=wl*\n")            // another interface
	write(lib, "03-not-eth.network", "[Match]\nName=!eth*\n")       // excludes it
	write(lib, "04-glob.network", "[Match]\nName=en* eth*\n")       // a glob that matches
	write(lib, "05-masked.network", "[Match]\nName=eth0\n")         // masked below
	write(etc, "05-masked.network", "")                             // empty in /etc masks /usr/lib's
	write(lib, "99-default.network", "[Match]\nName=*\n")           // sorts after ours
	write(lib, "10-nodeconsole-zz.network", "[Match]\nName=eth0\n") // ours (another name)
	got := ShadowingFiles([]string{etc, run, lib}, "eth0")
	want := []string{filepath.Join(lib, "01-all.network"), filepath.Join(lib, "04-glob.network"), filepath.Join(run, "10-netplan-eth0.network")}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ShadowingFiles = %v\nwant %v", got, want)
	}
	if got := ShadowingFiles([]string{etc}, "eth0"); len(got) != 0 {
		t.Errorf("only our file: %v", got)
	}
}

// TestManagerShadowed: after Save, a distro file in the networkd directory
// that sorts before ours and matches the saved interface is reported, with
// a sentence for the console and `network show`.
func TestManagerShadowed(t *testing.T) {
	e := newSimEnv(t)
	if got := e.m.Shadowed(); got != nil {
		t.Errorf("nothing saved: %v", got)
	}
	if err := e.m.Save(cfgStatic("eth0", "198.51.100.10/24", "198.51.100.1")); err != nil {
		t.Fatal(err)
	}
	distro := filepath.Join(e.netdDir, "10-netplan-eth0.network")
	if err := os.WriteFile(distro, []byte("[Match]\nName=eth0\n[Network]\nDHCP=yes\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got := e.m.Shadowed()
	if len(got) == 0 || got[0] != distro {
		t.Fatalf("Shadowed = %v, want %s first", got, distro)
	}
	if n := ShadowedNotice(got); !strings.Contains(n, distro) || !strings.Contains(n, "not the saved settings") {
		t.Errorf("notice %q", n)
	}
	if ShadowedNotice(nil) != "" {
		t.Error("no files, no notice")
	}
	// With a VLAN, a file matching the VLAN link shadows the settings too.
	if err := os.Remove(distro); err != nil {
		t.Fatal(err)
	}
	if err := e.m.Save(Config{Interface: "eth0", VLAN: 100, Mode: ModeDHCP}); err != nil {
		t.Fatal(err)
	}
	vlanFile := filepath.Join(e.netdDir, "05-vlans.network")
	if err := os.WriteFile(vlanFile, []byte("[Match]\nName=eth0.*\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := e.m.Shadowed(); !slices.Contains(got, vlanFile) {
		t.Errorf("VLAN: Shadowed = %v, want %s in it", got, vlanFile)
	}
}
