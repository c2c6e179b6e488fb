package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/nodeconsole/nodeconsole/controlplane/store"
)

// File is the database's name in a control plane's data directory.
const File = "controlplane.db"

// OpenDir opens (creating and migrating it if needed) the database File in
// dataDir, which must exist. The database and the files SQLite keeps beside
// it are mode 0600 whatever the directory's mode or the umask.
func OpenDir(ctx context.Context, dataDir string) (store.Store, error) {
	path := filepath.Join(dataDir, File)
	if err := privateFiles(path); err != nil {
		return nil, err
	}
	return Open(ctx, path)
}

// privateFiles makes the database file and its WAL and shared-memory files
// mode 0600: the database is created here first with 0600, and SQLite gives
// the files it creates beside it the database file's mode.
func privateFiles(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("controlplane: create database %s: %w", path, err)
	}
	f.Close()
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.Chmod(p, 0o600); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("controlplane: make %s private: %w", p, err)
		}
	}
	return nil
}

// IsLiveFile says whether name, in a data directory, is the database File
// or one of the files SQLite keeps beside it while it is open (a backup
// takes a Snapshot instead of copying them).
func IsLiveFile(name string) bool {
	switch name {
	case File, File + "-wal", File + "-shm", File + "-journal":
		return true
	}
	return false
}

// Snapshot writes a consistent copy of the database File in dataDir to the
// new file out (VACUUM INTO, from a connection of its own: one read
// transaction, while the server keeps serving).
func Snapshot(ctx context.Context, dataDir, out string) error {
	path := filepath.Join(dataDir, File)
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("no database in %s: %w", dataDir, err)
	}
	db, err := sql.Open("sqlite", sqliteDSN(path, false))
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "VACUUM INTO ?", out); err != nil {
		return fmt.Errorf("snapshot %s: %w", path, err)
	}
	return nil
}
