package testenv

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5"
)

// PostgresCluster is a throwaway PostgreSQL server: a data directory in a
// temporary directory, owned by an unprivileged user (initdb refuses root),
// listening on a free loopback port and on a unix socket in that directory,
// with trust authentication for the superuser "postgres" (nothing but this
// machine's processes can reach it). Durability is off (fsync=off): it only
// holds test data.
type PostgresCluster struct {
	dir     string // the temporary directory: data/ and the socket
	port    int
	cmd     *exec.Cmd
	exited  chan struct{} // closed when the postmaster has exited
	nextDB  atomic.Int64
	stopped sync.Once
}

// The cluster shared by the tests of a package run through RunPostgres.
var shared struct {
	enabled bool
	once    sync.Once
	c       *PostgresCluster
	err     error
}

// RunPostgres runs the package's tests (call it from TestMain:
// os.Exit(testenv.RunPostgres(m))) so that every Postgres call shares one
// cluster, started at the first call and stopped and removed after the
// last test. Without it each Postgres call starts a cluster of its own.
func RunPostgres(m *testing.M) int {
	shared.enabled = true
	code := m.Run()
	if shared.c != nil {
		shared.c.Stop()
	}
	return code
}

// Postgres returns the DSN (postgres://...) of a new, empty database on a
// throwaway cluster: the package's shared one under RunPostgres, else one
// of its own stopped and removed in t.Cleanup. Without PostgreSQL (initdb
// and postgres on PATH or under /usr/lib/postgresql/*/bin) it skips or
// fails the test (see SkipOrFail).
func Postgres(t testing.TB) string {
	t.Helper()
	c := sharedOrOwnCluster(t)
	dsn, err := c.CreateDatabase(context.Background())
	if err != nil {
		t.Fatalf("postgres: %v", err)
	}
	return dsn
}

// sharedOrOwnCluster is the cluster Postgres creates a database on.
func sharedOrOwnCluster(t testing.TB) *PostgresCluster {
	t.Helper()
	bin, err := FindPostgres()
	if err != nil {
		SkipOrFail(t, err.Error())
	}
	if !shared.enabled {
		c, err := StartPostgres(bin)
		if err != nil {
			t.Fatalf("postgres: %v", err)
		}
		t.Cleanup(c.Stop)
		return c
	}
	shared.once.Do(func() { shared.c, shared.err = StartPostgres(bin) })
	if shared.err != nil {
		t.Fatalf("postgres: %v", shared.err)
	}
	return shared.c
}

// FindPostgres finds the directory of initdb and postgres: PATH, else the
// newest /usr/lib/postgresql/VERSION/bin (Debian keeps them off PATH).
func FindPostgres() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	best, bestVersion := "", -1
	for _, d := range dirs {
		v, err := strconv.Atoi(filepath.Base(filepath.Dir(d)))
		if err != nil {
			continue
		}
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil && v > bestVersion {
			best, bestVersion = d, v
		}
	}
	if best == "" {
		return "", errors.New("PostgreSQL is not installed (no initdb on PATH or under /usr/lib/postgresql/*/bin)")
	}
	return best, nil
}

// StartPostgres creates and starts a cluster with the programs in bin.
// Stop it with Stop. The postmaster also quits when the goroutine's thread
// that started it dies (with the test process).
func StartPostgres(bin string) (*PostgresCluster, error) {
	cred, uid, gid, err := unprivileged()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "nodeconsole-pg-")
	if err != nil {
		return nil, fmt.Errorf("temporary directory: %w", err)
	}
	c := &PostgresCluster{dir: dir, exited: make(chan struct{})}
	if err := os.Chown(dir, uid, gid); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("give %s to the postgres user: %w", dir, err)
	}
	initdb := exec.Command(filepath.Join(bin, "initdb"), "--pgdata", c.dataDir(), "--username", "postgres",
		"--auth", "trust", "--encoding", "UTF8", "--locale", "C", "--no-sync")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	initdb.Dir = dir
	if out, err := initdb.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("initdb: %w: %s", err, lastLines(out))
	}
	port, err := freePort()
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	c.port = port
	if err := c.start(bin, cred); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return c, nil
}

// start runs the postmaster and waits until it accepts connections. It is
// started from a goroutine locked to its thread for the postmaster's whole
// life, so that the parent-death signal (sent when that thread exits) only
// comes when the test process goes away.
func (c *PostgresCluster) start(bin string, cred *syscall.Credential) error {
	cmd := exec.Command(filepath.Join(bin, "postgres"), "-D", c.dataDir(), "-p", strconv.Itoa(c.port),
		"-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="+c.dir,
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		"-c", "max_connections=200", "-c", "shared_buffers=16MB", "-c", "log_min_messages=warning",
		"-c", "logging_collector=off")
	cmd.Dir = c.dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGQUIT, Setpgid: true}
	// A pipe of our own (not StderrPipe): Wait must not close it before
	// the last lines are read.
	stderr, w, err := os.Pipe()
	if err != nil {
		return err
	}
	defer w.Close()
	cmd.Stderr = w
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with this goroutine
		if err := cmd.Start(); err != nil {
			started <- fmt.Errorf("start postgres: %w", err)
			return
		}
		started <- nil
		cmd.Wait()
		close(c.exited)
	}()
	if err := <-started; err != nil {
		stderr.Close()
		return err
	}
	c.cmd = cmd
	// The server logs to stderr; it is ready when it says so.
	ready := make(chan struct{})
	var log strings.Builder
	var logMu sync.Mutex
	go func() {
		sc := bufio.NewScanner(stderr)
		signalled := false
		for sc.Scan() {
			line := sc.Text()
			logMu.Lock()
			if log.Len() < 8<<10 {
				log.WriteString(line + "\n")
			}
			logMu.Unlock()
			if !signalled && strings.Contains(line, "ready to accept connections") {
				signalled = true
				close(ready)
			}
		}
		io.Copy(io.Discard, stderr)
		stderr.Close()
	}()
	select {
	case <-ready:
		return nil
	case <-c.exited:
		logMu.Lock()
		defer logMu.Unlock()
		return fmt.Errorf("postgres exited at start: %s", lastLines([]byte(log.String())))
	}
}

// dataDir is the cluster's PGDATA.
func (c *PostgresCluster) dataDir() string { return filepath.Join(c.dir, "data") }

// SocketDir is the directory of the server's unix socket.
func (c *PostgresCluster) SocketDir() string { return c.dir }

// Port is the server's TCP port on 127.0.0.1 (also its socket's suffix).
func (c *PostgresCluster) Port() int { return c.port }

// DSN is the URL of database db over the unix socket, as the superuser.
func (c *PostgresCluster) DSN(db string) string {
	return fmt.Sprintf("postgres://postgres@/%s?host=%s&port=%d&sslmode=disable", db, c.dir, c.port)
}

// CreateDatabase creates a new empty database and returns its DSN.
func (c *PostgresCluster) CreateDatabase(ctx context.Context) (string, error) {
	conn, err := pgx.Connect(ctx, c.DSN("postgres"))
	if err != nil {
		return "", fmt.Errorf("connect to the test cluster: %w", err)
	}
	defer conn.Close(ctx)
	name := fmt.Sprintf("test_%d", c.nextDB.Add(1))
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", fmt.Errorf("create database %s: %w", name, err)
	}
	return c.DSN(name), nil
}

// Stop stops the server at once (immediate shutdown: the data is
// throwaway) and removes its directory.
func (c *PostgresCluster) Stop() {
	c.stopped.Do(func() {
		if c.cmd != nil && c.cmd.Process != nil {
			c.cmd.Process.Signal(syscall.SIGQUIT)
			<-c.exited
		}
		os.RemoveAll(c.dir)
	})
}

// unprivileged is who runs initdb and postgres: this process's user, or,
// under root (which initdb refuses), the "postgres" user Debian's package
// creates, else "nobody".
func unprivileged() (*syscall.Credential, int, int, error) {
	if os.Geteuid() != 0 {
		return nil, os.Geteuid(), os.Getegid(), nil
	}
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, err1 := strconv.Atoi(u.Uid)
		gid, err2 := strconv.Atoi(u.Gid)
		if err1 != nil || err2 != nil {
			continue
		}
		return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}, uid, gid, nil
	}
	return nil, 0, 0, errors.New("no unprivileged user (postgres or nobody) to run PostgreSQL as")
}

// freePort returns a TCP port on 127.0.0.1 that nothing listens on now.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// lastLines is the end of a command's output, for an error message.
func lastLines(out []byte) string {
	s := strings.TrimSpace(string(out))
	if len(s) > 2000 {
		s = "..." + s[len(s)-2000:]
	}
	return s
}
