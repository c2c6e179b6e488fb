// Package crl decides which node certificates are revoked and keeps the
// CA's certificate revocation list. A certificate is revoked when an admin
// or the node ended it (deregistered, deleted), when its node registered
// again with another one, or when a renewal's grace is over (Revoked);
// List stamps those in the store, signs the list with the CA and serves it
// from memory until something changes.
package crl

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"sync"
	"time"

	"github.com/nodeconsole/nodeconsole/api"
	"github.com/nodeconsole/nodeconsole/controlplane/ca"
	"github.com/nodeconsole/nodeconsole/controlplane/store"
)

// CRL reason codes (RFC 5280 §5.3.1) used here.
const (
	ReasonSuperseded           = 4
	ReasonCessationOfOperation = 5
)

const (
	// maxAge is how old the served CRL may get before it is signed again,
	// even when nothing was revoked.
	maxAge = 24 * time.Hour
	// validity is its nextUpdate, counted from thisUpdate: a day more than
	// maxAge, so a client that fetches daily never holds a stale one.
	validity = 2 * 24 * time.Hour
	// recheck is how long a CRL is served without looking for new
	// revocations (renewals and deregistrations invalidate it at once).
	recheck = 30 * time.Second
)

// Revoked says whether c is revoked at now and why (a CRL reason code),
// given its node (found false when the node is gone).
func Revoked(c store.NodeCert, n store.Node, found bool, now time.Time) (bool, int) {
	switch {
	case !c.RevokedAt.IsZero():
		return true, c.Reason
	case !found || n.Status != api.StatusRegistered:
		return true, ReasonCessationOfOperation
	case n.CertSerial == c.Serial:
		return false, 0
	case now.Before(c.GraceUntil):
		return false, 0
	}
	return true, ReasonSuperseded
}

// List is the CA's current revocation list over the node certificates in
// a store. It is safe for concurrent use.
type List struct {
	ca    *ca.Authority
	store store.Store

	mu      sync.Mutex
	der     []byte
	serials []string
	at      time.Time // last checked for revocations
	signed  time.Time
	number  int64
}

// New returns the List of the certificates a signs and st records.
func New(a *ca.Authority, st store.Store) *List { return &List{ca: a, store: st} }

// Invalidate makes the next DER look for revocations.
func (l *List) Invalidate() {
	l.mu.Lock()
	l.at = time.Time{}
	l.mu.Unlock()
}

// Supersede revokes the certificates of nodeID in their renewal grace now
// that current was used, and invalidates the list.
func (l *List) Supersede(ctx context.Context, nodeID, current string, now time.Time) error {
	err := l.store.Update(ctx, func(tx store.Tx) error {
		certs, err := tx.NodeCertsForNode(nodeID)
		if err != nil {
			return err
		}
		for _, c := range certs {
			if c.Serial != current && c.RevokedAt.IsZero() && now.Before(c.GraceUntil) {
				c.RevokedAt, c.Reason, c.GraceUntil = now, ReasonSuperseded, now
				if err := tx.PutNodeCert(c); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("supersede certificates of %s: %w", nodeID, err)
	}
	l.Invalidate()
	return nil
}

// revoked stamps the certificates that became revoked since the last call
// (node deregistered, deleted, re-registered, renewal grace over) and
// returns every revoked one that has not expired.
func (l *List) revoked(ctx context.Context, now time.Time) ([]store.NodeCert, error) {
	var live []store.NodeCert
	var fresh []store.NodeCert
	find := func(tx store.Tx) error {
		var err error
		live, fresh = nil, nil
		certs, err := tx.LiveNodeCerts(now)
		if err != nil {
			return err
		}
		nodes := map[string]*store.Node{}
		for _, c := range certs {
			n, ok := nodes[c.NodeID]
			if !ok {
				got, err := tx.Node(c.NodeID)
				if err != nil && !errors.Is(err, store.ErrNotFound) {
					return err
				}
				if err == nil {
					n = &got
				}
				nodes[c.NodeID] = n
			}
			var node store.Node
			if n != nil {
				node = *n
			}
			revoked, reason := Revoked(c, node, n != nil, now)
			if !revoked {
				continue
			}
			if c.RevokedAt.IsZero() {
				c.RevokedAt, c.Reason = now, reason
				fresh = append(fresh, c)
			}
			live = append(live, c)
		}
		return nil
	}
	if err := l.store.View(ctx, find); err != nil {
		return nil, fmt.Errorf("revoked certificates: %w", err)
	}
	if len(fresh) == 0 {
		return live, nil
	}
	err := l.store.Update(ctx, func(tx store.Tx) error {
		if err := find(tx); err != nil {
			return err
		}
		for _, c := range fresh {
			if err := tx.PutNodeCert(c); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("revoked certificates: %w", err)
	}
	return live, nil
}

// DER returns the current certificate revocation list (DER), signing a new
// one when a certificate was revoked since the last one or it is older
// than a day.
func (l *List) DER(ctx context.Context, now time.Time) ([]byte, error) {
	l.mu.Lock()
	if l.der != nil && now.Sub(l.at) < recheck && !now.Before(l.at) {
		// Anonymous callers must not make every request a scan: the
		// revocations this server makes itself invalidate the list at
		// once; others (an admin deleting a node) show within recheck.
		der := l.der
		l.mu.Unlock()
		return der, nil
	}
	l.mu.Unlock()
	revoked, err := l.revoked(ctx, now)
	if err != nil {
		return nil, err
	}
	serials := make([]string, len(revoked))
	for i, c := range revoked {
		serials[i] = c.Serial
	}
	slices.Sort(serials)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.der != nil && slices.Equal(serials, l.serials) && now.Sub(l.signed) < maxAge {
		l.at = now
		return l.der, nil
	}
	entries := make([]x509.RevocationListEntry, 0, len(revoked))
	for _, c := range revoked {
		n, ok := new(big.Int).SetString(c.Serial, 16)
		if !ok {
			return nil, fmt.Errorf("controlplane: CRL: bad serial %q", c.Serial)
		}
		entries = append(entries, x509.RevocationListEntry{SerialNumber: n, RevocationTime: c.RevokedAt.UTC(), ReasonCode: c.Reason})
	}
	// The CRL number only grows: the signing time in milliseconds, or one
	// more than the last.
	number := max(now.UnixMilli(), l.number+1)
	der, err := l.ca.SignCRL(&x509.RevocationList{
		Number:                    big.NewInt(number),
		ThisUpdate:                now.UTC(),
		NextUpdate:                now.Add(validity).UTC(),
		RevokedCertificateEntries: entries,
	})
	if err != nil {
		return nil, fmt.Errorf("controlplane: sign CRL: %w", err)
	}
	l.der, l.serials, l.at, l.signed, l.number = der, serials, now, now, number
	return der, nil
}
