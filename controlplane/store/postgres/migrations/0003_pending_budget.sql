-- The cap on pending enrollments in all (--max-pending, Tx.ReservePending)
-- without counting them in every enrollment's serializable transaction
-- (budget.go): a budget row, taken with one short UPDATE ... WHERE used <
-- cap outside that transaction, and a row in pending_reservations per
-- enrollment being made, which the enrollment names (its reservation
-- column) once stored. recounted_at = epoch: the first reservation
-- recounts.
CREATE TABLE pending_budget (
	id INTEGER PRIMARY KEY CHECK (id = 1),
	used BIGINT NOT NULL,
	recounted_at TIMESTAMPTZ NOT NULL
);
INSERT INTO pending_budget VALUES (1, 0, 'epoch');

CREATE TABLE pending_reservations (
	id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	expires_at TIMESTAMPTZ NOT NULL
);

ALTER TABLE enrollments ADD COLUMN reservation BIGINT NOT NULL DEFAULT 0;
CREATE INDEX enrollments_reservation ON enrollments (reservation) WHERE reservation <> 0;
