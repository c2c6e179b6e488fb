package controlplane

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/nodeconsole/nodeconsole/controlplane/store"
)

// Portal sessions live in the store (so the user commands, run while the
// server runs, can end them, and a user can list theirs). The cookie holds
// 256 random bits; the store keeps their SHA-256.
const (
	sessionIdle  = 30 * time.Minute
	sessionTotal = 12 * time.Hour
	// sessionTouchEvery spaces the writes of LastSeen (the idle clock is
	// that much coarser).
	sessionTouchEvery = time.Minute
)

// sessionLive reports whether a session is within both time limits at now.
func sessionLive(ss store.Session, now time.Time) bool {
	return now.Before(ss.LastSeen.Add(sessionIdle)) && now.Before(ss.CreatedAt.Add(sessionTotal))
}

// sessionOf returns the request's session with its principal. A session
// that timed out, or whose user was disabled or deleted, is deleted and
// not returned.
func (p *portal) sessionOf(r *http.Request) (store.Session, Principal, bool) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" || len(c.Value) > 100 {
		return store.Session{}, Principal{}, false
	}
	hash, now := sha256Hex(c.Value), p.s.now()
	var ss store.Session
	var u store.User
	err = p.s.store.View(r.Context(), func(tx store.Tx) error {
		var err error
		if ss, err = tx.Session(hash); err != nil || ss.User == adminTokenActor {
			return err
		}
		u, err = tx.User(ss.User)
		return err
	})
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			p.s.log.Error("read session", "err", err)
		}
		return store.Session{}, Principal{}, false
	}
	if !sessionLive(ss, now) || (ss.User != adminTokenActor && u.Disabled) {
		p.endSession(r.Context(), hash)
		return store.Session{}, Principal{}, false
	}
	if now.Sub(ss.LastSeen) >= sessionTouchEvery {
		ss.LastSeen = now
		err := p.s.store.Update(r.Context(), func(tx store.Tx) error {
			if _, err := tx.Session(hash); err != nil {
				return err // ended meanwhile: keep it ended
			}
			return tx.PutSession(ss)
		})
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			p.s.log.Warn("touch session", "err", err)
		}
	}
	pr := Principal{Kind: KindUser, User: u.Name, Role: u.Role, Sites: u.Sites, SessionHash: hash}
	if ss.User == adminTokenActor {
		pr = Principal{Kind: KindAdminToken, User: adminTokenActor, Role: store.RoleAdmin, SessionHash: hash}
	}
	return ss, pr, true
}

// newSession stores a session for user at stage and sets its cookie.
func (p *portal) newSession(w http.ResponseWriter, r *http.Request, user string, stage store.SessionStage) error {
	id, now := randomString(32), p.s.now()
	ua := r.UserAgent()
	if len(ua) > 200 {
		ua = ua[:200]
	}
	ss := store.Session{Hash: sha256Hex(id), User: user, CSRF: randomString(24), Stage: stage, CreatedAt: now, LastSeen: now,
		SourceIP: sourceIP(r), UserAgent: ua}
	err := p.s.store.Update(r.Context(), func(tx store.Tx) error {
		if err := tx.DeleteSessionsBefore(now.Add(-sessionIdle)); err != nil {
			return err
		}
		return tx.PutSession(ss)
	})
	if err != nil {
		return err
	}
	setCookie(w, sessionCookie, id, int(sessionTotal.Seconds()))
	return nil
}

// endSession deletes a session by hash (log out, timed out, ended from
// the sessions list).
func (p *portal) endSession(ctx context.Context, hash string) {
	if err := p.s.store.Update(ctx, func(tx store.Tx) error { return tx.DeleteSession(hash) }); err != nil {
		p.s.log.Warn("end session", "err", err)
	}
}
