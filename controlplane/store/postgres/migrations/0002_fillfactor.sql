-- Room on every page for HOT updates: a poll (last_poll_at) or a node's
-- last_seen rewrites the row on its own page without new entries in every
-- index, which under SERIALIZABLE met other transactions' index-page
-- predicate locks (false conflicts and retries). Pages written from now on
-- get the room; VACUUM FULL gives it to old ones.
ALTER TABLE enrollments SET (fillfactor = 70);
ALTER TABLE nodes SET (fillfactor = 70);
