package controlplane_test

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/nodeconsole/nodeconsole/api"
	"github.com/nodeconsole/nodeconsole/controlplane"
	"github.com/nodeconsole/nodeconsole/controlplane/cptest"
)

// TestBackupRestoreUnderLoad: a backup taken while nodes are being added
// restores to a control plane that knows every node licensed before the
// backup began, and whose CA verifies their certificates.
func TestBackupRestoreUnderLoad(t *testing.T) {
	cp := cptest.New(t)
	certs := map[string]string{}
	for i := range 4 {
		n := newTestNode(t)
		er := n.enroll(t, cp)
		if _, err := cp.License(er.UserCode, fmt.Sprintf("edge-%d", i), ""); err != nil {
			t.Fatal(err)
		}
		reg, err := poll(t, cp, er.DeviceCode, 0)
		if err != nil {
			t.Fatal(err)
		}
		certs[n.id] = reg.Certificate
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
	err := controlplane.Backup(context.Background(), cp.DataDir, archive)
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
	if err := controlplane.Restore(archive, dir); err != nil {
		t.Fatal(err)
	}
	if err := controlplane.Restore(archive, dir); err == nil {
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
