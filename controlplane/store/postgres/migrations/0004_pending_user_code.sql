-- A pending enrollment's user code is unique among pending enrollments
-- (store.ErrConflict otherwise): an enrollment draws its code and stores
-- itself without looking the code up first. Under SERIALIZABLE the lookup
-- of a code no one has locked the index page the code would go to, and
-- conflicted with every concurrent enrollment whose code landed there.
-- Pending enrollments that share a code with a newer pending one were
-- expired when that one drew it (codes were drawn free of live ones): they
-- end as superseded, at their expiry.
UPDATE enrollments SET state = 'superseded', decided_at = expires_at
WHERE state = 'pending' AND EXISTS (SELECT 1 FROM enrollments n WHERE n.state = 'pending'
	AND n.user_code = enrollments.user_code AND (n.created_at, n.id) > (enrollments.created_at, enrollments.id));
CREATE UNIQUE INDEX enrollments_pending_user_code ON enrollments (user_code) WHERE state = 'pending';
