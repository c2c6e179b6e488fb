package userdata

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// FuzzOpenVolume: whatever bytes a plugged-in device holds, reading it
// returns an error or a volume, and never panics. The seeds are small
// ISO 9660 and FAT images made with xorriso and mkfs.vfat when they are
// installed.
func FuzzOpenVolume(f *testing.F) {
	dir := f.TempDir()
	os.WriteFile(filepath.Join(dir, "user-data"), []byte("#cloud-config\nnodeconsole: {}\n"), 0o644)
	iso := filepath.Join(f.TempDir(), "a.iso")
	if exec.Command("xorriso", "-as", "mkisofs", "-quiet", "-V", "CIDATA", "-J", "-R", "-o", iso, dir).Run() == nil {
		if b, err := os.ReadFile(iso); err == nil {
			f.Add(b)
		}
	}
	fat := filepath.Join(f.TempDir(), "a.img")
	if os.WriteFile(fat, make([]byte, 1<<20), 0o644) == nil && exec.Command("mkfs.vfat", "-n", "CIDATA", fat).Run() == nil &&
		exec.Command("mcopy", "-i", fat, filepath.Join(dir, "user-data"), "::user-data").Run() == nil {
		if b, err := os.ReadFile(fat); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(t.TempDir(), "vol")
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		v, err := OpenVolume(p)
		if err != nil {
			return
		}
		defer v.Close()
		v.IsCIDATA()
		if b, err := v.ReadUserData(); err == nil && len(b) > MaxSize {
			t.Errorf("read %d bytes, more than MaxSize", len(b))
		}
	})
}
