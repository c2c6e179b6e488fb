package sqlite

import (
	"fmt"
	"time"

	"github.com/nodeconsole/nodeconsole/controlplane/store"
)

const nodeCertCols = `serial, node_id, key_fingerprint, certificate, issued_at, not_after, grace_until, revoked_at, reason`

func scanNodeCert(row scanner) (store.NodeCert, error) {
	var c store.NodeCert
	var issued, notAfter, grace, revoked int64
	if err := row.Scan(&c.Serial, &c.NodeID, &c.KeyFingerprint, &c.Certificate, &issued, &notAfter, &grace, &revoked, &c.Reason); err != nil {
		return store.NodeCert{}, notFound(err)
	}
	c.IssuedAt, c.NotAfter = fromUnixNano(issued), fromUnixNano(notAfter)
	c.GraceUntil, c.RevokedAt = fromUnixNano(grace), fromUnixNano(revoked)
	return c, nil
}

func (t *sqliteTx) NodeCert(serial string) (store.NodeCert, error) {
	return scanNodeCert(t.queryRow(qNodeCert, serial))
}

func (t *sqliteTx) nodeCerts(q int, arg any) ([]store.NodeCert, error) {
	rows, err := t.query(q, arg)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.NodeCert
	for rows.Next() {
		c, err := scanNodeCert(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

func (t *sqliteTx) NodeCertsForNode(nodeID string) ([]store.NodeCert, error) {
	out, err := t.nodeCerts(qNodeCertsForNode, nodeID)
	if err != nil {
		return nil, fmt.Errorf("certificates of %s: %w", nodeID, err)
	}
	return out, nil
}

func (t *sqliteTx) LiveNodeCerts(now time.Time) ([]store.NodeCert, error) {
	out, err := t.nodeCerts(qLiveNodeCerts, unixNano(now))
	if err != nil {
		return nil, fmt.Errorf("live certificates: %w", err)
	}
	return out, nil
}

func (t *sqliteTx) PutNodeCert(c store.NodeCert) error {
	err := t.exec(qPutNodeCert, c.Serial, c.NodeID, c.KeyFingerprint, c.Certificate, unixNano(c.IssuedAt),
		unixNano(c.NotAfter), unixNano(c.GraceUntil), unixNano(c.RevokedAt), c.Reason)
	if err != nil {
		return fmt.Errorf("put certificate %s: %w", c.Serial, err)
	}
	return nil
}

func (t *sqliteTx) PruneNodeCerts(before time.Time) (int64, error) {
	res, err := t.c.stmt(qPruneNodeCerts).ExecContext(sqliteCtx, unixNano(before))
	if err != nil {
		return 0, fmt.Errorf("prune certificates: %w", err)
	}
	return res.RowsAffected()
}
