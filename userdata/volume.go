package userdata

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"syscall"

	"github.com/diskfs/go-diskfs/backend/file"
	"github.com/diskfs/go-diskfs/filesystem"
	"github.com/diskfs/go-diskfs/filesystem/fat12"
	"github.com/diskfs/go-diskfs/filesystem/fat16"
	"github.com/diskfs/go-diskfs/filesystem/fat32"
	"github.com/diskfs/go-diskfs/filesystem/iso9660"
)

// Label is the volume label NoCloud user data is found by (any case).
const Label = "CIDATA"

// FileName is the user-data file at the root of the volume.
const FileName = "user-data"

// MaxSize bounds the user data read from any source.
const MaxSize = 1 << 20

// ErrNoUserData says a CIDATA volume (or a directory) has no user-data file.
var ErrNoUserData = errors.New("no " + FileName + " file")

// Volume is a filesystem read from a block device or an image file.
type Volume struct {
	Path  string
	Type  string // "ISO 9660" or "FAT"
	Label string
	fs    filesystem.FileSystem
	f     *os.File
}

// Close releases the device.
func (v *Volume) Close() error { return v.f.Close() }

// OpenVolume reads the filesystem on path (a block device or an image
// file) without mounting it. The file is opened read-only, so nothing
// can be written to it.
func OpenVolume(path string) (v *Volume, err error) {
	// The volume may be anything someone plugged in: a reader that
	// panics on a malformed filesystem makes it "not a filesystem".
	defer func() {
		if r := recover(); r != nil {
			if v != nil {
				v.f.Close()
			}
			v, err = nil, fmt.Errorf("userdata: %s: unreadable filesystem: %v", path, r)
		}
	}()
	// O_NONBLOCK: an optical drive without a disc answers at once.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("userdata: open %s: %w", path, err)
	}
	size, err := f.Seek(0, io.SeekEnd)
	if err != nil || size == 0 {
		f.Close()
		if err == nil {
			err = errors.New("empty")
		}
		return nil, fmt.Errorf("userdata: read %s: %w", path, err)
	}
	b := file.New(f, true)
	v = &Volume{Path: path, f: f}
	// Each reader checks its own signature first; the first that accepts
	// the volume wins. FAT12/16 refuse FAT32 volumes and the reverse.
	if fsys, err := iso9660.Read(b, size, 0, 0); err == nil {
		v.fs, v.Type = fsys, "ISO 9660"
	} else if fsys, err := fat32.Read(b, size, 0, 0); err == nil {
		v.fs, v.Type = fsys, "FAT"
	} else if fsys, err := fat16.Read(b, size, 0, 0); err == nil {
		v.fs, v.Type = fsys, "FAT"
	} else if fsys, err := fat12.Read(b, size, 0, 0); err == nil {
		v.fs, v.Type = fsys, "FAT"
	} else {
		f.Close()
		return nil, fmt.Errorf("userdata: %s holds no ISO 9660 or FAT filesystem", path)
	}
	v.Label = strings.TrimSpace(v.fs.Label())
	return v, nil
}

// IsCIDATA reports whether the volume's label is CIDATA.
func (v *Volume) IsCIDATA() bool { return strings.EqualFold(v.Label, Label) }

// ReadUserData reads the user-data file at the volume's root
// (ErrNoUserData when there is none).
func (v *Volume) ReadUserData() (data []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			data, err = nil, fmt.Errorf("userdata: read %s on %s: unreadable filesystem: %v", FileName, v.Path, r)
		}
	}()
	data, err = readLimited(v.fs, FileName)
	if err != nil && !v.hasUserData() {
		// The readers word "not found" each their own way.
		return nil, ErrNoUserData
	}
	if err != nil {
		return nil, fmt.Errorf("userdata: read %s on %s: %w", FileName, v.Path, err)
	}
	return data, nil
}

// hasUserData reports whether the root directory lists a user-data file.
func (v *Volume) hasUserData() bool {
	for _, dir := range []string{"/", "."} {
		entries, err := v.fs.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, e := range entries {
			if strings.EqualFold(e.Name(), FileName) && !e.IsDir() {
				return true
			}
		}
		return false
	}
	return false
}

func readLimited(fsys fs.FS, name string) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		// Some readers want an absolute path.
		var err2 error
		if f, err2 = fsys.Open("/" + name); err2 != nil {
			return nil, err
		}
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxSize {
		return nil, fmt.Errorf("larger than %d bytes", MaxSize)
	}
	return data, nil
}
