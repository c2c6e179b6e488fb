-- The schema of SQLite's first four migrations (issues 12, 13, 15) in one
-- step. Times are unix nanoseconds (0: never), as in the SQLite store.
-- Keys that lists are ordered or paged by compare bytewise (COLLATE "C"),
-- like SQLite and Go, whatever the database's locale.
CREATE TABLE enrollments (
	id TEXT COLLATE "C" PRIMARY KEY,
	node_id TEXT COLLATE "C" NOT NULL,
	make TEXT NOT NULL,
	model TEXT NOT NULL,
	version TEXT NOT NULL,
	csr TEXT NOT NULL,
	key_fingerprint TEXT NOT NULL,
	device_code_hash TEXT NOT NULL UNIQUE,
	user_code TEXT NOT NULL,
	state TEXT NOT NULL,
	source_ip TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	expires_at BIGINT NOT NULL,
	last_poll_at BIGINT NOT NULL,
	decided_at BIGINT NOT NULL,
	delivered_at BIGINT NOT NULL,
	certificate TEXT NOT NULL,
	source_key TEXT NOT NULL DEFAULT ''
);
CREATE INDEX enrollments_node ON enrollments (node_id);
CREATE INDEX enrollments_user_code ON enrollments (user_code);
CREATE INDEX enrollments_state_expires ON enrollments (state, expires_at);
CREATE INDEX enrollments_source_state ON enrollments (source_key, state, expires_at);

CREATE TABLE nodes (
	id TEXT COLLATE "C" PRIMARY KEY,
	name TEXT COLLATE "C" NOT NULL,
	status TEXT NOT NULL,
	project TEXT NOT NULL,
	site TEXT NOT NULL,
	make TEXT NOT NULL,
	model TEXT NOT NULL,
	version TEXT NOT NULL,
	source_ip TEXT NOT NULL,
	tags TEXT NOT NULL,
	pre_added BOOLEAN NOT NULL,
	key_fingerprint TEXT NOT NULL,
	cert_serial TEXT NOT NULL,
	cert_not_after BIGINT NOT NULL,
	created_at BIGINT NOT NULL,
	registered_at BIGINT NOT NULL,
	last_seen BIGINT NOT NULL,
	pairing_key_hash TEXT NOT NULL DEFAULT ''
);
CREATE INDEX nodes_name ON nodes (name, id);

CREATE TABLE tokens (
	id TEXT COLLATE "C" PRIMARY KEY,
	name TEXT NOT NULL,
	project TEXT NOT NULL,
	hash TEXT NOT NULL UNIQUE,
	single_use BOOLEAN NOT NULL,
	revoked BOOLEAN NOT NULL,
	uses INTEGER NOT NULL,
	created_at BIGINT NOT NULL,
	expires_at BIGINT NOT NULL,
	allow_project_override BOOLEAN NOT NULL DEFAULT FALSE
);

CREATE TABLE sites (
	id TEXT COLLATE "C" PRIMARY KEY,
	name TEXT COLLATE "C" NOT NULL UNIQUE,
	project TEXT NOT NULL
);

CREATE TABLE events (
	id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	type TEXT NOT NULL,
	node_id TEXT NOT NULL,
	time BIGINT NOT NULL,
	source_ip TEXT NOT NULL,
	message TEXT NOT NULL,
	actor TEXT NOT NULL DEFAULT ''
);
CREATE INDEX events_time ON events (time);
CREATE INDEX events_actor ON events (actor, id);
CREATE INDEX events_node ON events (node_id, id);
CREATE INDEX events_type ON events (type, id);

CREATE TABLE users (
	name TEXT COLLATE "C" PRIMARY KEY,
	role TEXT NOT NULL,
	sites TEXT NOT NULL,
	disabled BOOLEAN NOT NULL,
	password_hash TEXT NOT NULL,
	must_change_password BOOLEAN NOT NULL,
	totp_secret TEXT NOT NULL,
	totp_last_step BIGINT NOT NULL,
	created_at BIGINT NOT NULL,
	last_login BIGINT NOT NULL
);

CREATE TABLE api_tokens (
	id TEXT COLLATE "C" PRIMARY KEY,
	"user" TEXT NOT NULL,
	label TEXT NOT NULL,
	hash TEXT NOT NULL UNIQUE,
	created_at BIGINT NOT NULL,
	expires_at BIGINT NOT NULL,
	last_used BIGINT NOT NULL
);
CREATE INDEX api_tokens_user ON api_tokens ("user");

CREATE TABLE sessions (
	hash TEXT PRIMARY KEY,
	"user" TEXT NOT NULL,
	csrf TEXT NOT NULL,
	stage TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	last_seen BIGINT NOT NULL,
	source_ip TEXT NOT NULL,
	user_agent TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions ("user");
CREATE INDEX sessions_last_seen ON sessions (last_seen);

CREATE TABLE node_certs (
	serial TEXT PRIMARY KEY,
	node_id TEXT NOT NULL,
	key_fingerprint TEXT NOT NULL,
	certificate TEXT NOT NULL,
	issued_at BIGINT NOT NULL,
	not_after BIGINT NOT NULL,
	grace_until BIGINT NOT NULL,
	revoked_at BIGINT NOT NULL,
	reason INTEGER NOT NULL
);
CREATE INDEX node_certs_node ON node_certs (node_id, issued_at);
CREATE INDEX node_certs_not_after ON node_certs (not_after);
