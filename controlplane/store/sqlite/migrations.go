package sqlite

import (
	"context"
	"fmt"
)

// migrations are applied in order; the index of the last one applied is kept
// in PRAGMA user_version. Never edit an entry: append a new one.
var migrations = []string{
	`CREATE TABLE enrollments (
		id TEXT PRIMARY KEY,
		node_id TEXT NOT NULL,
		make TEXT NOT NULL,
		model TEXT NOT NULL,
		version TEXT NOT NULL,
		csr TEXT NOT NULL,
		key_fingerprint TEXT NOT NULL,
		device_code_hash TEXT NOT NULL UNIQUE,
		user_code TEXT NOT NULL,
		state TEXT NOT NULL,
		source_ip TEXT NOT NULL,
		created_at INTEGER NOT NULL,
		expires_at INTEGER NOT NULL,
		last_poll_at INTEGER NOT NULL,
		decided_at INTEGER NOT NULL,
		delivered_at INTEGER NOT NULL,
		certificate TEXT NOT NULL
	);
	CREATE INDEX enrollments_node ON enrollments(node_id);
	CREATE INDEX enrollments_user_code ON enrollments(user_code);
	CREATE TABLE nodes (
		id TEXT PRIMARY KEY,
		name TEXT NOT NULL,
		status TEXT NOT NULL,
		project TEXT NOT NULL,
		site TEXT NOT NULL,
		make TEXT NOT NULL,
		model TEXT NOT NULL,
		version TEXT NOT NULL,
		source_ip TEXT NOT NULL,
		tags TEXT NOT NULL,
		pre_added INTEGER NOT NULL,
		key_fingerprint TEXT NOT NULL,
		cert_serial TEXT NOT NULL,
		cert_not_after INTEGER NOT NULL,
		created_at INTEGER NOT NULL,
		registered_at INTEGER NOT NULL,
		last_seen INTEGER NOT NULL
	);
	CREATE TABLE tokens (
		id TEXT PRIMARY KEY,
		name TEXT NOT NULL,
		project TEXT NOT NULL,
		hash TEXT NOT NULL UNIQUE,
		single_use INTEGER NOT NULL,
		revoked INTEGER NOT NULL,
		uses INTEGER NOT NULL,
		created_at INTEGER NOT NULL,
		expires_at INTEGER NOT NULL
	);
	CREATE TABLE sites (
		id TEXT PRIMARY KEY,
		name TEXT NOT NULL UNIQUE,
		project TEXT NOT NULL
	);
	CREATE TABLE events (
		id INTEGER PRIMARY KEY AUTOINCREMENT,
		type TEXT NOT NULL,
		node_id TEXT NOT NULL,
		time INTEGER NOT NULL,
		source_ip TEXT NOT NULL,
		message TEXT NOT NULL
	);`,
	// Issue 12: pairing keys, the source an enrollment is counted against
	// (per-source caps), token project override, indexes for the caps and
	// retention.
	`ALTER TABLE nodes ADD COLUMN pairing_key_hash TEXT NOT NULL DEFAULT '';
	ALTER TABLE enrollments ADD COLUMN source_key TEXT NOT NULL DEFAULT '';
	ALTER TABLE tokens ADD COLUMN allow_project_override INTEGER NOT NULL DEFAULT 0;
	CREATE INDEX enrollments_state_expires ON enrollments(state, expires_at);
	CREATE INDEX enrollments_source_state ON enrollments(source_key, state, expires_at);
	CREATE INDEX events_time ON events(time);`,
	// Issue 13: users, personal API tokens, portal sessions; who did each
	// event.
	`CREATE TABLE users (
		name TEXT PRIMARY KEY,
		role TEXT NOT NULL,
		sites TEXT NOT NULL,
		disabled INTEGER NOT NULL,
		password_hash TEXT NOT NULL,
		must_change_password INTEGER NOT NULL,
		totp_secret TEXT NOT NULL,
		totp_last_step INTEGER NOT NULL,
		created_at INTEGER NOT NULL,
		last_login INTEGER NOT NULL
	);
	CREATE TABLE api_tokens (
		id TEXT PRIMARY KEY,
		user TEXT NOT NULL,
		label TEXT NOT NULL,
		hash TEXT NOT NULL UNIQUE,
		created_at INTEGER NOT NULL,
		expires_at INTEGER NOT NULL,
		last_used INTEGER NOT NULL
	);
	CREATE INDEX api_tokens_user ON api_tokens(user);
	CREATE TABLE sessions (
		hash TEXT PRIMARY KEY,
		user TEXT NOT NULL,
		csrf TEXT NOT NULL,
		stage TEXT NOT NULL,
		created_at INTEGER NOT NULL,
		last_seen INTEGER NOT NULL,
		source_ip TEXT NOT NULL,
		user_agent TEXT NOT NULL
	);
	CREATE INDEX sessions_user ON sessions(user);
	ALTER TABLE events ADD COLUMN actor TEXT NOT NULL DEFAULT '';
	CREATE INDEX events_actor ON events(actor, id);
	CREATE INDEX events_node ON events(node_id, id);
	CREATE INDEX events_type ON events(type, id);`,
	// Issue 15: every node certificate issued, for renewal grace and the CRL.
	`CREATE TABLE node_certs (
		serial TEXT PRIMARY KEY,
		node_id TEXT NOT NULL,
		key_fingerprint TEXT NOT NULL,
		certificate TEXT NOT NULL,
		issued_at INTEGER NOT NULL,
		not_after INTEGER NOT NULL,
		grace_until INTEGER NOT NULL,
		revoked_at INTEGER NOT NULL,
		reason INTEGER NOT NULL
	);
	CREATE INDEX node_certs_node ON node_certs(node_id, issued_at);
	CREATE INDEX node_certs_not_after ON node_certs(not_after);`,
	// A pending enrollment's user code is unique among pending ones, as in
	// the PostgreSQL store (its migration 4 says why). Pending enrollments
	// sharing a code with a newer pending one were expired when it drew
	// it: they end as superseded, at their expiry.
	`UPDATE enrollments SET state = 'superseded', decided_at = expires_at
	WHERE state = 'pending' AND EXISTS (SELECT 1 FROM enrollments n WHERE n.state = 'pending'
		AND n.user_code = enrollments.user_code AND (n.created_at, n.id) > (enrollments.created_at, enrollments.id));
	CREATE UNIQUE INDEX enrollments_pending_user_code ON enrollments(user_code) WHERE state = 'pending';`,
}

func (s *sqliteStore) migrate(ctx context.Context) error {
	var version int
	if err := s.wdb.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if version > len(migrations) {
		return fmt.Errorf("the database has schema version %d, newer than this controlplane knows (%d): run a newer controlplane", version, len(migrations))
	}
	for i := version; i < len(migrations); i++ {
		tx, err := s.wdb.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, migrations[i]); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", i+1)); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %d: set version: %w", i+1, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migration %d: commit: %w", i+1, err)
		}
	}
	return nil
}
