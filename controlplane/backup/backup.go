// Package backup writes the control plane's data directory as one archive
// and restores it: a consistent snapshot of the SQLite database, taken
// while the server runs, with the CA, the server secret, the admin token
// and the server key (Write), unpacked into an empty directory (Restore).
// A PostgreSQL store is backed up with pg_dump instead
// (docs/operations.md); the command line is cmd/controlplane's.
package backup

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/nodeconsole/nodeconsole/atomicfile"
	"github.com/nodeconsole/nodeconsole/controlplane/ca"
	"github.com/nodeconsole/nodeconsole/controlplane/secrets"
	"github.com/nodeconsole/nodeconsole/controlplane/store/sqlite"
)

// Write writes a consistent snapshot of the control plane in dataDir to
// out, one gzip'd tar archive created with mode 0600: the SQLite database
// (VACUUM INTO from a connection of its own, so the server keeps serving;
// the snapshot is one read transaction) and every other file of the data
// directory (CA certificate and key, server secret, admin token, server
// key). It works while the server runs. The archive holds secrets: keep it
// as safe as the data directory.
func Write(ctx context.Context, dataDir, out string) error {
	tmpDir, err := os.MkdirTemp(filepath.Dir(out), ".backup-*")
	if err != nil {
		return fmt.Errorf("controlplane: backup: %w", err)
	}
	defer os.RemoveAll(tmpDir)
	snap := filepath.Join(tmpDir, sqlite.File)
	if err := sqlite.Snapshot(ctx, dataDir, snap); err != nil {
		return fmt.Errorf("controlplane: backup: %w", err)
	}
	files := []string{snap}
	ents, err := os.ReadDir(dataDir)
	if err != nil {
		return fmt.Errorf("controlplane: backup: %w", err)
	}
	for _, e := range ents {
		if n := e.Name(); e.Type().IsRegular() && backedUp(n) {
			files = append(files, filepath.Join(dataDir, n))
		}
	}
	f, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".tmp-*")
	if err != nil {
		return fmt.Errorf("controlplane: backup: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err := f.Chmod(0o600); err != nil {
		return fmt.Errorf("controlplane: backup: %w", err)
	}
	zw := gzip.NewWriter(f)
	tw := tar.NewWriter(zw)
	for _, p := range files {
		if err := addToTar(tw, p); err != nil {
			return fmt.Errorf("controlplane: backup: %w", err)
		}
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("controlplane: backup: %w", err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("controlplane: backup: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("controlplane: backup: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("controlplane: backup: %w", err)
	}
	if err := os.Rename(f.Name(), out); err != nil {
		return fmt.Errorf("controlplane: backup: %w", err)
	}
	ok = true
	return atomicfile.SyncDir(filepath.Dir(out))
}

// backedUp says whether a data directory file other than the database
// goes into a backup (not the live database files, not temporaries).
func backedUp(name string) bool {
	return !sqlite.IsLiveFile(name) && !strings.Contains(name, ".tmp-") && !strings.HasPrefix(name, ".")
}

func addToTar(tw *tar.Writer, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	hdr := &tar.Header{Name: filepath.Base(path), Mode: 0o600, Size: fi.Size(), ModTime: fi.ModTime().Truncate(time.Second), Typeflag: tar.TypeReg}
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	if _, err := io.Copy(tw, f); err != nil {
		return fmt.Errorf("archive %s: %w", path, err)
	}
	return nil
}

// Restore unpacks an archive of Write into dataDir, which must be empty or
// missing (created 0700). On any error it removes what it wrote.
func Restore(archive, dataDir string) (err error) {
	if ents, err := os.ReadDir(dataDir); err == nil && len(ents) > 0 {
		return fmt.Errorf("controlplane: restore: %s is not empty", dataDir)
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("controlplane: restore: %w", err)
	}
	f, err := os.Open(archive)
	if err != nil {
		return fmt.Errorf("controlplane: restore: %w", err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return fmt.Errorf("controlplane: restore: %s is not a control plane backup: %w", archive, err)
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return fmt.Errorf("controlplane: restore: %w", err)
	}
	var written []string
	defer func() {
		if err != nil {
			for _, p := range written {
				os.Remove(p)
			}
		}
	}()
	seen := map[string]bool{}
	tr := tar.NewReader(zr)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("controlplane: restore: read %s: %w", archive, err)
		}
		name := hdr.Name
		if hdr.Typeflag != tar.TypeReg || name != filepath.Base(name) || name == "." || name == ".." || strings.HasPrefix(name, ".") || seen[name] {
			return fmt.Errorf("controlplane: restore: %s holds an unexpected entry %q", archive, name)
		}
		seen[name] = true
		p := filepath.Join(dataDir, name)
		out, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return fmt.Errorf("controlplane: restore: %w", err)
		}
		written = append(written, p)
		_, err = io.Copy(out, tr)
		if err == nil {
			err = out.Sync()
		}
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("controlplane: restore: write %s: %w", p, err)
		}
	}
	for _, need := range []string{sqlite.File, ca.CertFile, ca.KeyFile, secrets.ServerSecretFile} {
		if !seen[need] {
			return fmt.Errorf("controlplane: restore: %s is not a control plane backup (no %s)", archive, need)
		}
	}
	return atomicfile.SyncDir(dataDir)
}
