package crl

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nodeconsole/nodeconsole/api"
	"github.com/nodeconsole/nodeconsole/controlplane/ca"
	"github.com/nodeconsole/nodeconsole/controlplane/store"
	"github.com/nodeconsole/nodeconsole/controlplane/store/sqlite"
)

var t0 = time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)

// TestRevoked: a certificate is revoked when stamped so, when its node is
// gone or not registered, or when it was replaced and its grace is over.
func TestRevoked(t *testing.T) {
	node := store.Node{ID: "n1", Status: api.StatusRegistered, CertSerial: "01"}
	gone := node
	gone.Status = api.StatusDeregistered
	for name, tc := range map[string]struct {
		c      store.NodeCert
		n      store.Node
		found  bool
		reason int // 0: not revoked
	}{
		"current":        {store.NodeCert{Serial: "01"}, node, true, 0},
		"in grace":       {store.NodeCert{Serial: "02", GraceUntil: t0.Add(time.Second)}, node, true, 0},
		"grace over":     {store.NodeCert{Serial: "02", GraceUntil: t0}, node, true, ReasonSuperseded},
		"node gone":      {store.NodeCert{Serial: "01"}, store.Node{}, false, ReasonCessationOfOperation},
		"deregistered":   {store.NodeCert{Serial: "01"}, gone, true, ReasonCessationOfOperation},
		"stamped before": {store.NodeCert{Serial: "01", RevokedAt: t0, Reason: ReasonSuperseded}, node, true, ReasonSuperseded},
	} {
		revoked, reason := Revoked(tc.c, tc.n, tc.found, t0)
		if revoked != (tc.reason != 0) || reason != tc.reason {
			t.Errorf("%s: revoked %v reason %d, want reason %d", name, revoked, reason, tc.reason)
		}
	}
}

// TestList: the list names the revoked certificates with their reasons,
// signed by the CA; it is served from memory until invalidated or
// recheck passes; Supersede ends a renewal's grace at once; a list whose
// revocations did not change is not signed again.
func TestList(t *testing.T) {
	dir := t.TempDir()
	authority, err := ca.LoadOrCreate(dir, t0)
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.OpenDir(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	put := func(fn func(tx store.Tx) error) {
		t.Helper()
		if err := st.Update(context.Background(), fn); err != nil {
			t.Fatal(err)
		}
	}
	cert := func(serial string, grace time.Time) store.NodeCert {
		return store.NodeCert{Serial: serial, NodeID: "n1", IssuedAt: t0.Add(-time.Hour), NotAfter: t0.Add(24 * time.Hour), GraceUntil: grace}
	}
	put(func(tx store.Tx) error {
		for _, c := range []store.NodeCert{cert("0a", time.Time{}), cert("0b", t0.Add(time.Hour)), cert("0c", t0)} {
			if err := tx.PutNodeCert(c); err != nil {
				return err
			}
		}
		return tx.PutNode(store.Node{ID: "n1", Status: api.StatusRegistered, CertSerial: "0a"})
	})
	blk, _ := pem.Decode(authority.PEM())
	caCert, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	l := New(authority, st)
	// listed is the list at now and its entries, "serial:reason" in order.
	listed := func(now time.Time) ([]byte, string) {
		t.Helper()
		der, err := l.DER(context.Background(), now)
		if err != nil {
			t.Fatal(err)
		}
		rl, err := x509.ParseRevocationList(der)
		if err != nil {
			t.Fatal(err)
		}
		if err := rl.CheckSignatureFrom(caCert); err != nil {
			t.Fatalf("the list is not signed by the CA: %v", err)
		}
		var entries []string
		for _, e := range rl.RevokedCertificateEntries {
			entries = append(entries, fmt.Sprintf("%s:%d", e.SerialNumber.Text(16), e.ReasonCode))
		}
		slices.Sort(entries)
		return der, strings.Join(entries, " ")
	}
	der1, got := listed(t0)
	if got != "c:4" {
		t.Fatalf("first list %q, want only 0c superseded (0a is current, 0b in grace)", got)
	}
	put(func(tx store.Tx) error { return tx.DeleteNode("n1") })
	if der, _ := listed(t0.Add(recheck - time.Second)); string(der) != string(der1) {
		t.Fatal("the list was not served from memory within recheck")
	}
	put(func(tx store.Tx) error {
		return tx.PutNode(store.Node{ID: "n1", Status: api.StatusRegistered, CertSerial: "0a"})
	})
	l.Invalidate()
	if der, _ := listed(t0.Add(time.Second)); string(der) != string(der1) {
		t.Fatal("an unchanged list was signed again")
	}
	if err := l.Supersede(context.Background(), "n1", "0a", t0.Add(2*time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, got := listed(t0.Add(3 * time.Second)); got != "b:4 c:4" {
		t.Fatalf("after Supersede %q, want 0b and 0c superseded", got)
	}
}
