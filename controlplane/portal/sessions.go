package portal

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/nodeconsole/nodeconsole/controlplane/access"
	"github.com/nodeconsole/nodeconsole/controlplane/secrets"
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
func (p *Portal) sessionOf(r *http.Request) (store.Session, access.Principal, bool) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" || len(c.Value) > 100 {
		return store.Session{}, access.Principal{}, false
	}
	hash, now := secrets.Hash(c.Value), p.d.Now()
	var ss store.Session
	var u store.User
	err = p.d.Store.View(r.Context(), func(tx store.Tx) error {
		var err error
		if ss, err = tx.Session(hash); err != nil || ss.User == access.AdminTokenActor {
			return err
		}
		u, err = tx.User(ss.User)
		return err
	})
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			p.d.Log.Error("read session", "err", err)
		}
		return store.Session{}, access.Principal{}, false
	}
	if !sessionLive(ss, now) || (ss.User != access.AdminTokenActor && u.Disabled) {
		p.endSession(r.Context(), hash)
		return store.Session{}, access.Principal{}, false
	}
	if now.Sub(ss.LastSeen) >= sessionTouchEvery {
		ss.LastSeen = now
		err := p.d.Store.Update(r.Context(), func(tx store.Tx) error {
			if _, err := tx.Session(hash); err != nil {
				return err // ended meanwhile: keep it ended
			}
			return tx.PutSession(ss)
		})
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			p.d.Log.Warn("touch session", "err", err)
		}
	}
	pr := access.Principal{Kind: access.KindUser, User: u.Name, Role: u.Role, Sites: u.Sites, SessionHash: hash}
	if ss.User == access.AdminTokenActor {
		pr = access.Principal{Kind: access.KindAdminToken, User: access.AdminTokenActor, Role: store.RoleAdmin, SessionHash: hash}
	}
	return ss, pr, true
}

// newSession stores a session for user at stage and sets its cookie.
func (p *Portal) newSession(w http.ResponseWriter, r *http.Request, user string, stage store.SessionStage) error {
	id, now := secrets.Random(32), p.d.Now()
	ua := r.UserAgent()
	if len(ua) > 200 {
		ua = ua[:200]
	}
	ss := store.Session{Hash: secrets.Hash(id), User: user, CSRF: secrets.Random(24), Stage: stage, CreatedAt: now, LastSeen: now,
		SourceIP: p.d.SourceIP(r), UserAgent: ua}
	err := p.d.Store.Update(r.Context(), func(tx store.Tx) error {
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
func (p *Portal) endSession(ctx context.Context, hash string) {
	if err := p.d.Store.Update(ctx, func(tx store.Tx) error { return tx.DeleteSession(hash) }); err != nil {
		p.d.Log.Warn("end session", "err", err)
	}
}
