package sqlite

// Statement names; the SQL is in statementSQL.
const (
	qBegin = iota
	qCommit
	qRollback
	qSavepoint
	qRelease
	qRollbackTo
	qCheckpoint
	qEnrollmentByID
	qEnrollmentByHash
	qEnrollmentByUserCode
	qEnrollmentsForNode
	qPutEnrollment
	qDeleteEnrollmentsForNode
	qNode
	qNodes
	qPutNode
	qCreateNode
	qDeleteNode
	qToken
	qTokenByHash
	qTokens
	qPutToken
	qSite
	qSites
	qPutSite
	qDeleteSite
	qAddEvent
	qEvents
	qCountPending
	qCountPendingFromSource
	qPruneEnrollments
	qPruneNodes
	qPruneEventsBefore
	qPruneEventsOver
	qUser
	qUsers
	qPutUser
	qDeleteUser
	qAPIToken
	qAPITokenByHash
	qAPITokensForUser
	qPutAPIToken
	qDeleteAPIToken
	qDeleteAPITokensForUser
	qSession
	qSessionsForUser
	qPutSession
	qDeleteSession
	qDeleteSessionsForUser
	qDeleteSessionsBefore
	qEventsPage
	qNodesAfter
	qNodeCert
	qNodeCertsForNode
	qLiveNodeCerts
	qPutNodeCert
	qPruneNodeCerts
	numStatements
)

const enrollmentCols = `id, node_id, make, model, version, csr, key_fingerprint, device_code_hash,
	user_code, state, source_ip, created_at, expires_at, last_poll_at, decided_at, delivered_at, certificate, source_key`

const nodeCols = `id, name, status, project, site, make, model, version, source_ip, tags, pre_added,
	key_fingerprint, cert_serial, cert_not_after, created_at, registered_at, last_seen, pairing_key_hash`

const tokenCols = `id, name, project, hash, single_use, revoked, uses, created_at, expires_at, allow_project_override`

// statementSQL is indexed by the q* constants. The writer begins with
// BEGIN IMMEDIATE (it takes the write lock at once); readers with BEGIN.
var statementSQL = [numStatements]string{
	qBegin:                `BEGIN`,
	qCommit:               `COMMIT`,
	qRollback:             `ROLLBACK`,
	qSavepoint:            `SAVEPOINT call`,
	qRelease:              `RELEASE call`,
	qRollbackTo:           `ROLLBACK TO call`,
	qCheckpoint:           `PRAGMA wal_checkpoint(PASSIVE)`,
	qEnrollmentByID:       `SELECT ` + enrollmentCols + ` FROM enrollments WHERE id = ? ORDER BY created_at DESC LIMIT 1`,
	qEnrollmentByHash:     `SELECT ` + enrollmentCols + ` FROM enrollments WHERE device_code_hash = ? ORDER BY created_at DESC LIMIT 1`,
	qEnrollmentByUserCode: `SELECT ` + enrollmentCols + ` FROM enrollments WHERE user_code = ? ORDER BY created_at DESC LIMIT 1`,
	qEnrollmentsForNode:   `SELECT ` + enrollmentCols + ` FROM enrollments WHERE node_id = ? ORDER BY created_at DESC`,
	qPutEnrollment: `INSERT INTO enrollments (` + enrollmentCols + `)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT(id) DO UPDATE SET node_id=excluded.node_id, make=excluded.make, model=excluded.model,
		version=excluded.version, csr=excluded.csr, key_fingerprint=excluded.key_fingerprint,
		device_code_hash=excluded.device_code_hash, user_code=excluded.user_code, state=excluded.state,
		source_ip=excluded.source_ip, created_at=excluded.created_at, expires_at=excluded.expires_at,
		last_poll_at=excluded.last_poll_at, decided_at=excluded.decided_at, delivered_at=excluded.delivered_at,
		certificate=excluded.certificate, source_key=excluded.source_key`,
	qDeleteEnrollmentsForNode: `DELETE FROM enrollments WHERE node_id = ?`,
	qNode:                     `SELECT ` + nodeCols + ` FROM nodes WHERE id = ?`,
	qNodes:                    `SELECT ` + nodeCols + ` FROM nodes ORDER BY name, id`,
	qPutNode: `INSERT INTO nodes (` + nodeCols + `)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT(id) DO UPDATE SET name=excluded.name, status=excluded.status, project=excluded.project,
		site=excluded.site, make=excluded.make, model=excluded.model, version=excluded.version,
		source_ip=excluded.source_ip, tags=excluded.tags, pre_added=excluded.pre_added,
		key_fingerprint=excluded.key_fingerprint, cert_serial=excluded.cert_serial,
		cert_not_after=excluded.cert_not_after, created_at=excluded.created_at,
		registered_at=excluded.registered_at, last_seen=excluded.last_seen, pairing_key_hash=excluded.pairing_key_hash`,
	qCreateNode: `INSERT INTO nodes (` + nodeCols + `)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO NOTHING`,
	qDeleteNode:  `DELETE FROM nodes WHERE id = ?`,
	qToken:       `SELECT ` + tokenCols + ` FROM tokens WHERE id = ?`,
	qTokenByHash: `SELECT ` + tokenCols + ` FROM tokens WHERE hash = ?`,
	qTokens:      `SELECT ` + tokenCols + ` FROM tokens ORDER BY created_at DESC`,
	qPutToken: `INSERT INTO tokens (` + tokenCols + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT(id) DO UPDATE SET name=excluded.name, project=excluded.project, hash=excluded.hash,
		single_use=excluded.single_use, revoked=excluded.revoked, uses=excluded.uses,
		created_at=excluded.created_at, expires_at=excluded.expires_at,
		allow_project_override=excluded.allow_project_override`,
	qSite:  `SELECT id, name, project FROM sites WHERE id = ?`,
	qSites: `SELECT id, name, project FROM sites ORDER BY name`,
	qPutSite: `INSERT INTO sites (id, name, project) VALUES (?, ?, ?)
		ON CONFLICT(id) DO UPDATE SET name=excluded.name, project=excluded.project`,
	qCountPending: `SELECT count(*) FROM enrollments WHERE state = 'pending' AND expires_at > ?`,
	qCountPendingFromSource: `SELECT count(*) FROM enrollments
		WHERE source_key = ? AND state = 'pending' AND expires_at > ?`,
	// Enrollments that are over (not approved: an approved one is how a
	// node that lost the answer gets its certificate again) and older
	// than the cutoff.
	qPruneEnrollments: `DELETE FROM enrollments WHERE
		(state = 'pending' AND expires_at < ?1) OR
		(state IN ('cancelled', 'denied', 'superseded') AND decided_at < ?1)`,
	// Nodes the server only heard of through enrollments that never led
	// anywhere: pending, not pre-added, never registered, no enrollment left.
	qPruneNodes: `DELETE FROM nodes WHERE status = 'pending' AND pre_added = 0 AND registered_at = 0
		AND last_seen < ? AND NOT EXISTS (SELECT 1 FROM enrollments WHERE enrollments.node_id = nodes.id)`,
	qPruneEventsBefore: `DELETE FROM events WHERE time < ?`,
	qPruneEventsOver:   `DELETE FROM events WHERE id <= (SELECT max(id) FROM events) - ?`,
	qDeleteSite:        `DELETE FROM sites WHERE id = ?`,
	qAddEvent:          `INSERT INTO events (type, node_id, time, source_ip, message, actor) VALUES (?, ?, ?, ?, ?, ?)`,
	qEvents:            `SELECT ` + eventCols + ` FROM events ORDER BY id DESC LIMIT ?`,
	qUser:              `SELECT ` + userCols + ` FROM users WHERE name = ?`,
	qUsers:             `SELECT ` + userCols + ` FROM users ORDER BY name`,
	qPutUser: `INSERT INTO users (` + userCols + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT(name) DO UPDATE SET role=excluded.role, sites=excluded.sites, disabled=excluded.disabled,
		password_hash=excluded.password_hash, must_change_password=excluded.must_change_password,
		totp_secret=excluded.totp_secret, totp_last_step=excluded.totp_last_step,
		created_at=excluded.created_at, last_login=excluded.last_login`,
	qDeleteUser:       `DELETE FROM users WHERE name = ?`,
	qAPIToken:         `SELECT ` + apiTokenCols + ` FROM api_tokens WHERE id = ?`,
	qAPITokenByHash:   `SELECT ` + apiTokenCols + ` FROM api_tokens WHERE hash = ?`,
	qAPITokensForUser: `SELECT ` + apiTokenCols + ` FROM api_tokens WHERE user = ? ORDER BY created_at DESC`,
	qPutAPIToken: `INSERT INTO api_tokens (` + apiTokenCols + `) VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT(id) DO UPDATE SET user=excluded.user, label=excluded.label, hash=excluded.hash,
		created_at=excluded.created_at, expires_at=excluded.expires_at, last_used=excluded.last_used`,
	qDeleteAPIToken:         `DELETE FROM api_tokens WHERE id = ?`,
	qDeleteAPITokensForUser: `DELETE FROM api_tokens WHERE user = ?`,
	qSession:                `SELECT ` + sessionCols + ` FROM sessions WHERE hash = ?`,
	qSessionsForUser:        `SELECT ` + sessionCols + ` FROM sessions WHERE user = ? ORDER BY last_seen DESC`,
	qPutSession: `INSERT INTO sessions (` + sessionCols + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT(hash) DO UPDATE SET user=excluded.user, csrf=excluded.csrf, stage=excluded.stage,
		created_at=excluded.created_at, last_seen=excluded.last_seen, source_ip=excluded.source_ip,
		user_agent=excluded.user_agent`,
	qDeleteSession:         `DELETE FROM sessions WHERE hash = ?`,
	qDeleteSessionsForUser: `DELETE FROM sessions WHERE user = ?`,
	qDeleteSessionsBefore:  `DELETE FROM sessions WHERE last_seen < ?`,
	qEventsPage: `SELECT ` + eventCols + ` FROM events
		WHERE (?1 = 0 OR id < ?1) AND (?2 = '' OR actor = ?2) AND (?3 = '' OR node_id = ?3) AND (?4 = '' OR type = ?4)
		ORDER BY id DESC LIMIT ?5`,
	qNodesAfter:       `SELECT ` + nodeCols + ` FROM nodes WHERE (name, id) > (?, ?) ORDER BY name, id LIMIT ?`,
	qNodeCert:         `SELECT ` + nodeCertCols + ` FROM node_certs WHERE serial = ?`,
	qNodeCertsForNode: `SELECT ` + nodeCertCols + ` FROM node_certs WHERE node_id = ? ORDER BY issued_at DESC`,
	qLiveNodeCerts:    `SELECT ` + nodeCertCols + ` FROM node_certs WHERE not_after > ? ORDER BY issued_at`,
	qPutNodeCert: `INSERT INTO node_certs (` + nodeCertCols + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT(serial) DO UPDATE SET node_id=excluded.node_id, key_fingerprint=excluded.key_fingerprint,
		certificate=excluded.certificate, issued_at=excluded.issued_at, not_after=excluded.not_after,
		grace_until=excluded.grace_until, revoked_at=excluded.revoked_at, reason=excluded.reason`,
	qPruneNodeCerts: `DELETE FROM node_certs WHERE not_after < ?`,
}

const eventCols = `id, type, node_id, time, source_ip, message, actor`

const userCols = `name, role, sites, disabled, password_hash, must_change_password, totp_secret, totp_last_step,
	created_at, last_login`

const apiTokenCols = `id, user, label, hash, created_at, expires_at, last_used`

const sessionCols = `hash, user, csrf, stage, created_at, last_seen, source_ip, user_agent`
