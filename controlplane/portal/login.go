package portal

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/nodeconsole/nodeconsole/api"
	"github.com/nodeconsole/nodeconsole/controlplane/access"
	"github.com/nodeconsole/nodeconsole/controlplane/passwords"
	"github.com/nodeconsole/nodeconsole/controlplane/secrets"
	"github.com/nodeconsole/nodeconsole/controlplane/store"
	"github.com/nodeconsole/nodeconsole/controlplane/totp"
)

// Portal login: user name and password, then a TOTP code if the user has
// one, then a new password if the current one is a one-time password.
//
// Wrong password, unknown user and disabled user get the same message and
// cost the same work (one argon2id verification: an unknown name is
// checked against a dummy hash).
//
// Throttling: failures are charged to the source (IPv4 address, IPv6 /64)
// and to the user name. A browser that logged in as a user before holds a
// device cookie for that user; its attempts are charged to that cookie
// instead of the user name, so someone guessing a user's password from
// elsewhere does not lock the user out of their own browser.

const (
	deviceCookie = "nc_device"
	deviceTTL    = 90 * 24 * time.Hour
	// loginFailedMessage is the one answer for every failed login.
	loginFailedMessage = "Wrong user name or password."
)

// loginThrottle holds the login failure budgets (per source: the
// server's FailSource, shared with the other anonymous failures).
type loginThrottle struct {
	user   Limiter // per user name, for browsers without its device cookie
	device Limiter // per device cookie
	totp   Limiter // TOTP failures per user
}

// newLoginThrottle makes the budgets with newLimiter (Deps.NewLimiter).
func newLoginThrottle(newLimiter func(burst int, every time.Duration) Limiter) *loginThrottle {
	return &loginThrottle{
		user:   newLimiter(10, 30*time.Second),
		device: newLimiter(10, 6*time.Second),
		totp:   newLimiter(5, 30*time.Second),
	}
}

// deviceValue is the device cookie of user: a random nonce and its MAC.
func (p *Portal) deviceValue(user, nonce string) string {
	m := hmac.New(sha256.New, p.d.Secret)
	m.Write([]byte("device\x00" + user + "\x00" + nonce))
	return nonce + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// deviceNonce returns the nonce of the request's device cookie if it was
// issued for user.
func (p *Portal) deviceNonce(r *http.Request, user string) (string, bool) {
	c, err := r.Cookie(deviceCookie)
	if err != nil {
		return "", false
	}
	nonce, _, ok := strings.Cut(c.Value, ".")
	if !ok || len(nonce) > 64 || !hmac.Equal([]byte(p.deviceValue(user, nonce)), []byte(c.Value)) {
		return "", false
	}
	return nonce, true
}

func (p *Portal) loginPage(w http.ResponseWriter, r *http.Request) {
	next := safeNext(r.URL.Query().Get("next"))
	if ss, _, ok := p.sessionOf(r); ok {
		http.Redirect(w, r, stagePage(ss.Stage)+"?next="+urlQueryEscape(next), http.StatusSeeOther)
		return
	}
	p.loginForm(w, r, http.StatusOK, "", next)
}

// loginForm renders the login form with a fresh login CSRF token.
func (p *Portal) loginForm(w http.ResponseWriter, r *http.Request, status int, msg, next string) {
	tok := secrets.Random(24)
	setCookie(w, loginCSRF, tok, 3600)
	p.render(w, r, status, "login", pageData{Title: "Log in", CSRF: tok, Error: msg, Data: loginData{Next: next}})
}

// retrySeconds rounds a wait up to whole seconds, at least 1.
func retrySeconds(d time.Duration) int { return max(1, int(math.Ceil(d.Seconds()))) }

// throttled answers 429 on the login form.
func (p *Portal) throttled(w http.ResponseWriter, r *http.Request, page string, d pageData, wait time.Duration) {
	w.Header().Set("Retry-After", fmt.Sprint(retrySeconds(wait)))
	d.Error = fmt.Sprintf("Too many attempts; try again in %d seconds.", retrySeconds(wait))
	p.render(w, r, http.StatusTooManyRequests, page, d)
}

func (p *Portal) loginSubmit(w http.ResponseWriter, r *http.Request) {
	c, cerr := r.Cookie(loginCSRF)
	if err := r.ParseForm(); err != nil {
		p.renderMessage(w, r, http.StatusBadRequest, pageData{}, "Bad request", "The form could not be read.", "/login")
		return
	}
	if cerr != nil || subtle.ConstantTimeCompare([]byte(c.Value), []byte(r.PostFormValue("csrf"))) != 1 {
		p.renderMessage(w, r, http.StatusForbidden, pageData{}, "The form expired",
			"The log-in form was sent without a valid security token (it may be older than an hour, or cookies are off). Nothing was changed. Open the log-in page again.", "/login")
		return
	}
	next := safeNext(r.PostFormValue("next"))
	name := strings.TrimSpace(r.PostFormValue("username"))
	pw := r.PostFormValue("password")
	d := pageData{Title: "Log in", CSRF: c.Value, Data: loginData{Next: next, User: name}}
	ip, now := p.d.SourceIP(r), p.d.Now()
	if len(name) > 64 || len(pw) > 1024 {
		name, pw = "", ""
	}
	nonce, known := p.deviceNonce(r, name)
	userBucket, userKey := p.login.user, name
	if known {
		userBucket, userKey = p.login.device, nonce
	}
	if wait := max(p.d.FailSource.Wait(ip, now), userBucket.Wait(userKey, now)); wait > 0 {
		p.throttled(w, r, "login", d, wait)
		return
	}
	u, ok, reason := p.checkLogin(r.Context(), name, pw)
	if !ok {
		p.d.FailSource.Charge(ip, now)
		userBucket.Charge(userKey, now)
		actor := "unknown user"
		if reason != "unknown user" {
			actor = name
		}
		p.d.AuditFailure(access.WithPrincipal(r.Context(), access.Principal{Kind: access.KindUser, User: actor}), api.EventLoginFailed, actor, "", ip,
			"a portal login as "+actor+" failed: "+reason)
		w.Header().Set("Cache-Control", "no-store")
		d.Error = loginFailedMessage
		p.render(w, r, http.StatusUnauthorized, "login", d)
		return
	}
	stage := store.SessionActive
	switch {
	case u.TOTPSecret != "":
		stage = store.SessionTOTP
	case u.MustChangePassword:
		stage = store.SessionPassword
	}
	if err := p.newSession(w, r, u.Name, stage); err != nil {
		msg, status := p.message(r, err)
		d.Error = msg
		p.render(w, r, status, "login", d)
		return
	}
	setCookie(w, loginCSRF, "", -1)
	if stage == store.SessionActive {
		p.loggedIn(w, r, u.Name, "password")
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, stagePage(stage)+"?next="+urlQueryEscape(next), http.StatusSeeOther)
}

// checkLogin verifies name and password with one argon2id verification
// whatever the outcome. reason says why a login failed, for the audit.
func (p *Portal) checkLogin(ctx context.Context, name, pw string) (store.User, bool, string) {
	if name == access.AdminTokenActor {
		passwords.Verify(passwords.Dummy(), pw)
		if p.d.IsAdminToken(pw) {
			return store.User{Name: access.AdminTokenActor, Role: store.RoleAdmin}, true, ""
		}
		return store.User{}, false, "wrong admin token"
	}
	var u store.User
	err := p.d.Store.View(ctx, func(tx store.Tx) error {
		var err error
		u, err = tx.User(name)
		return err
	})
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			p.d.Log.Error("login: read user", "err", err)
		}
		passwords.Verify(passwords.Dummy(), pw)
		return store.User{}, false, "unknown user"
	}
	good := passwords.Verify(u.PasswordHash, pw)
	switch {
	case !good:
		return store.User{}, false, "wrong password"
	case u.Disabled:
		return store.User{}, false, "user is disabled"
	}
	return u, true, ""
}

// loggedIn records a completed login and gives the browser the user's
// device cookie.
func (p *Portal) loggedIn(w http.ResponseWriter, r *http.Request, name, how string) {
	now := p.d.Now()
	http.SetCookie(w, &http.Cookie{Name: deviceCookie, Value: p.deviceValue(name, secrets.Random(16)), Path: "/login",
		MaxAge: int(deviceTTL.Seconds()), HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode})
	ctx := access.WithPrincipal(r.Context(), access.Principal{Kind: access.KindUser, User: name})
	if name == access.AdminTokenActor {
		ctx = access.WithPrincipal(r.Context(), access.Principal{Kind: access.KindAdminToken})
	}
	err := p.d.Store.Update(ctx, func(tx store.Tx) error {
		if name != access.AdminTokenActor {
			u, err := tx.User(name)
			if err != nil {
				return err
			}
			u.LastLogin = now
			if err := tx.PutUser(u); err != nil {
				return err
			}
		}
		return tx.AddEvent(store.Event{Type: api.EventLogin, Time: now, SourceIP: p.d.SourceIP(r), Message: "portal login (" + how + ")"})
	})
	if err != nil {
		p.d.Log.Error("record login", "err", err)
	}
}

// upgrade replaces the session by one at stage (a new cookie: the ID
// changes with the privilege).
func (p *Portal) upgrade(w http.ResponseWriter, r *http.Request, old store.Session, stage store.SessionStage) error {
	p.endSession(r.Context(), old.Hash)
	return p.newSession(w, r, old.User, stage)
}

type totpData struct{ Next string }

func (p *Portal) totpPage(w http.ResponseWriter, r *http.Request, d pageData) {
	d.Title, d.Data = "Two-factor code", totpData{Next: safeNext(r.URL.Query().Get("next"))}
	p.render(w, r, http.StatusOK, "totp", d)
}

func (p *Portal) totpSubmit(w http.ResponseWriter, r *http.Request, d pageData) {
	next := safeNext(r.PostFormValue("next"))
	d.Title, d.Data = "Two-factor code", totpData{Next: next}
	ss, _, _ := p.sessionOf(r)
	now, name := p.d.Now(), ss.User
	if wait := p.login.totp.Wait(name, now); wait > 0 {
		p.throttled(w, r, "totp", d, wait)
		return
	}
	var u store.User
	ok := false
	err := p.d.Store.Update(r.Context(), func(tx store.Tx) error {
		var err error
		if u, err = tx.User(name); err != nil {
			return err
		}
		step, good := totp.Verify(u.TOTPSecret, r.PostFormValue("code"), now, u.TOTPLastStep)
		if !good || u.Disabled {
			return nil
		}
		ok, u.TOTPLastStep = true, step
		return tx.PutUser(u)
	})
	if err != nil {
		msg, status := p.message(r, err)
		d.Error = msg
		p.render(w, r, status, "totp", d)
		return
	}
	if !ok {
		p.login.totp.Charge(name, now)
		p.d.AuditFailure(access.WithPrincipal(r.Context(), access.Principal{Kind: access.KindUser, User: name}), api.EventTOTPFailed, name, "",
			p.d.SourceIP(r), "a wrong two-factor code was entered for "+name)
		d.Error = "That code is not right. Enter the 6 digits your authenticator app shows now."
		p.render(w, r, http.StatusUnauthorized, "totp", d)
		return
	}
	stage := store.SessionActive
	if u.MustChangePassword {
		stage = store.SessionPassword
	}
	if err := p.upgrade(w, r, ss, stage); err != nil {
		msg, status := p.message(r, err)
		d.Error = msg
		p.render(w, r, status, "totp", d)
		return
	}
	if stage == store.SessionActive {
		p.loggedIn(w, r, name, "password and two-factor code")
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, stagePage(stage)+"?next="+urlQueryEscape(next), http.StatusSeeOther)
}

type passwordData struct{ Next string }

func (p *Portal) passwordPage(w http.ResponseWriter, r *http.Request, d pageData) {
	d.Title, d.Data = "Choose a new password", passwordData{Next: safeNext(r.URL.Query().Get("next"))}
	d.Notice = "Your password was set by an admin for one use only. Choose your own to continue."
	p.render(w, r, http.StatusOK, "password", d)
}

// setPassword checks and stores a new password for the session's user.
func (p *Portal) setPassword(r *http.Request, user string) error {
	pw, again := r.PostFormValue("password"), r.PostFormValue("again")
	if pw != again {
		return errorf(api.CodeInvalidRequest, "The two passwords differ.")
	}
	if err := passwords.Check(pw); err != nil {
		return errorf(api.CodeInvalidRequest, "%s", strings.ToUpper(err.Error()[:1])+err.Error()[1:]+".")
	}
	hash := passwords.Hash(pw)
	return p.d.Store.Update(r.Context(), func(tx store.Tx) error {
		u, err := tx.User(user)
		if errors.Is(err, store.ErrNotFound) {
			return errorf(api.CodeNotFound, "no user %q", user)
		} else if err != nil {
			return err
		}
		if passwords.Verify(u.PasswordHash, pw) {
			return errorf(api.CodeInvalidRequest, "Choose a password other than the current one.")
		}
		u.PasswordHash, u.MustChangePassword = hash, false
		if err := tx.PutUser(u); err != nil {
			return err
		}
		return tx.AddEvent(store.Event{Type: api.EventPasswordChanged, Time: p.d.Now(), SourceIP: p.d.SourceIP(r), Actor: user,
			Message: "user " + user + " changed their password"})
	})
}

func (p *Portal) passwordSubmit(w http.ResponseWriter, r *http.Request, d pageData) {
	next := safeNext(r.PostFormValue("next"))
	d.Title, d.Data = "Choose a new password", passwordData{Next: next}
	ss, _, _ := p.sessionOf(r)
	if ss.User == access.AdminTokenActor {
		d.Error = "The admin token has no password to change."
		p.render(w, r, http.StatusBadRequest, "password", d)
		return
	}
	err := p.setPassword(r, ss.User)
	if err == nil {
		err = p.upgrade(w, r, ss, store.SessionActive)
	}
	if err != nil {
		msg, status := p.message(r, err)
		d.Error = msg
		p.render(w, r, status, "password", d)
		return
	}
	p.loggedIn(w, r, ss.User, "password changed at first login")
	http.Redirect(w, r, next, http.StatusSeeOther)
}

type sessionRow struct {
	ID                  string // the stored hash
	Current             bool
	CreatedAt, LastSeen time.Time
	SourceIP, UserAgent string
}

type accountData struct {
	User     string
	Role     store.Role
	Sites    []string
	TOTP     bool // two-factor login is on
	Sessions []sessionRow
	Tokens   []access.APITokenInfo
	// NewToken is a personal API token just created, shown once.
	NewToken string
}

func (p *Portal) renderAccount(w http.ResponseWriter, r *http.Request, d pageData, status int) {
	d.Title, d.Nav = "Your account", "account"
	who := d.Who
	data := accountData{User: who.User, Role: who.Role, Sites: who.Sites}
	err := p.d.Store.View(r.Context(), func(tx store.Tx) error {
		if who.Kind == access.KindUser {
			u, err := tx.User(who.User)
			if err != nil {
				return err
			}
			data.TOTP = u.TOTPSecret != ""
		}
		list, err := tx.SessionsForUser(who.User)
		now := p.d.Now()
		for _, ss := range list {
			if sessionLive(ss, now) && ss.Stage == store.SessionActive {
				data.Sessions = append(data.Sessions, sessionRow{ID: ss.Hash, Current: ss.Hash == who.SessionHash,
					CreatedAt: ss.CreatedAt, LastSeen: ss.LastSeen, SourceIP: ss.SourceIP, UserAgent: ss.UserAgent})
			}
		}
		return err
	})
	if err == nil && who.Kind == access.KindUser {
		data.Tokens, err = p.d.Accounts.APITokens(r.Context(), who.User)
	}
	if err != nil && d.Error == "" {
		d.Error, status = p.message(r, err)
	}
	if nt, ok := d.Data.(newAPIToken); ok {
		data.NewToken = string(nt)
	}
	d.Data = data
	p.render(w, r, status, "account", d)
}

func (p *Portal) accountPage(w http.ResponseWriter, r *http.Request, d pageData) {
	p.renderAccount(w, r, d, http.StatusOK)
}

func (p *Portal) accountPassword(w http.ResponseWriter, r *http.Request, d pageData) {
	if d.Who.Kind != access.KindUser {
		d.Error = "The admin token has no password to change."
		p.renderAccount(w, r, d, http.StatusBadRequest)
		return
	}
	var err error
	if !p.currentPasswordOK(r, d.Who.User) {
		err = errorf(api.CodeInvalidRequest, "The current password is not right.")
	} else {
		err = p.setPassword(r, d.Who.User)
	}
	if err != nil {
		msg, status := p.message(r, err)
		d.Error = msg
		p.renderAccount(w, r, d, status)
		return
	}
	d.Notice = "Your password was changed."
	p.renderAccount(w, r, d, http.StatusOK)
}

func (p *Portal) currentPasswordOK(r *http.Request, user string) bool {
	var u store.User
	err := p.d.Store.View(r.Context(), func(tx store.Tx) error {
		var err error
		u, err = tx.User(user)
		return err
	})
	return err == nil && passwords.Verify(u.PasswordHash, r.PostFormValue("current"))
}

// endSessionSubmit ends one of the user's own sessions.
func (p *Portal) endSessionSubmit(w http.ResponseWriter, r *http.Request, d pageData) {
	id := r.PostFormValue("id")
	err := p.d.Store.Update(r.Context(), func(tx store.Tx) error {
		ss, err := tx.Session(id)
		if errors.Is(err, store.ErrNotFound) || (err == nil && ss.User != d.Who.User) {
			return errorf(api.CodeNotFound, "That session has ended already.")
		} else if err != nil {
			return err
		}
		if err := tx.DeleteSession(id); err != nil {
			return err
		}
		return tx.AddEvent(store.Event{Type: api.EventLogout, Time: p.d.Now(), SourceIP: p.d.SourceIP(r),
			Message: "a session from " + ss.SourceIP + " was ended from the sessions list"})
	})
	if err != nil {
		msg, status := p.message(r, err)
		d.Error = msg
		p.renderAccount(w, r, d, status)
		return
	}
	if id == d.Who.SessionHash {
		setCookie(w, sessionCookie, "", -1)
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/account", http.StatusSeeOther)
}
