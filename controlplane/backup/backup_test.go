package backup_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/nodeconsole/nodeconsole/api"
	"github.com/nodeconsole/nodeconsole/controlplane"
	"github.com/nodeconsole/nodeconsole/controlplane/backup"
	"github.com/nodeconsole/nodeconsole/controlplane/ca"
	"github.com/nodeconsole/nodeconsole/controlplane/cptest"
	"github.com/nodeconsole/nodeconsole/controlplane/secrets"
	"github.com/nodeconsole/nodeconsole/controlplane/store/sqlite"
	"github.com/nodeconsole/nodeconsole/regclient"
)

// TestBackupRestoreUnderLoad: a backup taken while nodes are being added
// restores to a control plane that knows every node licensed before the
// backup began, and whose CA verifies their certificates.
func TestBackupRestoreUnderLoad(t *testing.T) {
	cp := cptest.New(t)
	certs := map[string]string{}
	for i := range 4 {
		id, cert := licensedNode(t, cp, fmt.Sprintf("edge-%d", i))
		certs[id] = cert
	}
	stop := make(chan struct{})
	var load sync.WaitGroup
	writes := 0
	started := make(chan struct{})
	markStarted := sync.OnceFunc(func() { close(started) })
	load.Go(func() {
		defer markStarted()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := cp.AddNodes([]string{fmt.Sprintf("edge-%032x", 1<<40+i)}, nil); err != nil {
				t.Error(err)
				return
			}
			writes++
			markStarted()
		}
	})
	<-started
	archive := filepath.Join(t.TempDir(), "cp.backup")
	err := backup.Write(context.Background(), cp.DataDir, archive)
	close(stop)
	load.Wait()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d writes ran beside the backup", writes)
	if fi, err := os.Stat(archive); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("archive: %v, mode %v", err, fi.Mode())
	}

	dir := filepath.Join(t.TempDir(), "restored")
	if err := backup.Restore(archive, dir); err != nil {
		t.Fatal(err)
	}
	if err := backup.Restore(archive, dir); err == nil {
		t.Fatal("Restore into a non-empty directory succeeded")
	}
	cp.Stop()
	rs := cptest.NewWith(t, controlplane.Options{DataDir: dir})
	if rs.AdminToken != cp.AdminToken {
		t.Error("the restored server has another admin token")
	}
	for id, certPEM := range certs {
		n, err := rs.Node(id)
		if err != nil || n.Status != api.StatusRegistered {
			t.Fatalf("restored node %s: %+v, %v", id, n, err)
		}
		b, _ := pem.Decode([]byte(certPEM))
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Verify(x509.VerifyOptions{Roots: rs.CertPool(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
			t.Fatalf("the restored CA does not verify %s's certificate: %v", id, err)
		}
	}
}

// licensedNode enrolls a new node as the node client does, licenses its
// code as name and returns the node's ID and certificate.
func licensedNode(t *testing.T, cp *cptest.Server, name string) (string, string) {
	t.Helper()
	c, err := regclient.New(regclient.Options{Endpoint: cp.URL, CAPEMs: [][]byte{cp.CAPEM}, Version: "1.0.0"})
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 16)
	rand.Read(b)
	id := "edge-" + hex.EncodeToString(b)
	csr, err := regclient.CreateCSR(key, id)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	er, err := c.Enroll(ctx, api.EnrollRequest{NodeID: id, Make: "Acme", Model: "EdgeBox", Version: "1.0.0", CSR: csr})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cp.License(er.UserCode, name, ""); err != nil {
		t.Fatal(err)
	}
	reg, err := c.Poll(ctx, er.DeviceCode)
	if err != nil {
		t.Fatal(err)
	}
	return id, reg.Certificate
}

// TestRestoreRefuses: an archive with an entry that is not a plain file
// of the data directory, one that lacks a file every backup has, or a file
// that is no archive is refused with one sentence, and nothing it wrote
// stays behind.
func TestRestoreRefuses(t *testing.T) {
	full := map[string]string{sqlite.File: "db", ca.CertFile: "cert", ca.KeyFile: "key", secrets.ServerSecretFile: "s"}
	with := func(name, content string) map[string]string {
		m := maps.Clone(full)
		m[name] = content
		return m
	}
	without := maps.Clone(full)
	delete(without, secrets.ServerSecretFile)
	for name, tc := range map[string]struct {
		files map[string]string
		want  string
	}{
		"escaping entry": {with("../evil", "x"), `unexpected entry "../evil"`},
		"hidden entry":   {with(".hidden", "x"), `unexpected entry ".hidden"`},
		"missing secret": {without, "no " + secrets.ServerSecretFile},
		"no archive":     {nil, "is not a control plane backup"},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			archive := filepath.Join(dir, "in.backup")
			writeArchive(t, archive, tc.files)
			data := filepath.Join(dir, "data")
			err := backup.Restore(archive, data)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Restore = %v, want %q", err, tc.want)
			}
			if ents, _ := os.ReadDir(data); len(ents) > 0 {
				t.Errorf("a refused restore left %d files in the data directory", len(ents))
			}
			if _, err := os.Stat(filepath.Join(dir, "evil")); err == nil {
				t.Error("an entry was written outside the data directory")
			}
		})
	}
}

// writeArchive writes files as a gzip'd tar, as Write does; nil files
// write a file that is no archive.
func writeArchive(t *testing.T, path string, files map[string]string) {
	t.Helper()
	var buf bytes.Buffer
	if files == nil {
		buf.WriteString("not an archive")
	} else {
		zw := gzip.NewWriter(&buf)
		tw := tar.NewWriter(zw)
		for _, name := range slices.Sorted(maps.Keys(files)) {
			tw.WriteHeader(&tar.Header{Name: name, Mode: 0o600, Size: int64(len(files[name])), Typeflag: tar.TypeReg})
			tw.Write([]byte(files[name]))
		}
		tw.Close()
		zw.Close()
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}
