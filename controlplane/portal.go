package controlplane

import (
	"crypto/subtle"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/nodeconsole/nodeconsole/api"
)

//go:embed web
var webFS embed.FS

const (
	sessionCookie  = "nc_session"
	loginCSRF      = "nc_login_csrf"
	sessionTTL     = 12 * time.Hour
	maxSessions    = 10000
	pageEventLimit = 200
)

// portal is the server-rendered web portal. It works without JavaScript:
// every action is a form with a CSRF token, posted to the server.
type portal struct {
	s     *Server
	pages map[string]*template.Template

	mu       sync.Mutex
	sessions map[string]session // key: sha256Hex(session ID)
}

type session struct {
	csrf    string
	expires time.Time
	who     principal
}

// pageData is what every template gets.
type pageData struct {
	Title    string
	Nav      string
	CSRF     string
	LoggedIn bool
	Notice   string
	Error    string
	Data     any
}

func newPortal(s *Server) (*portal, error) {
	p := &portal{s: s, pages: map[string]*template.Template{}, sessions: map[string]session{}}
	funcs := template.FuncMap{
		"when": func(t time.Time) string {
			if t.IsZero() {
				return "—"
			}
			return t.UTC().Format("2006-01-02 15:04 UTC")
		},
		"statusLabel": func(s string) string {
			if s == "" {
				return s
			}
			return strings.ToUpper(s[:1]) + s[1:]
		},
	}
	for _, name := range []string{"login", "nodes", "activate", "tokens", "hosts", "sites", "register", "events"} {
		t, err := template.New(name).Funcs(funcs).ParseFS(webFS, "web/layout.html", "web/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("controlplane: parse portal template %s: %w", name, err)
		}
		p.pages[name] = t
	}
	return p, nil
}

func (p *portal) routes(mux *http.ServeMux) {
	static, _ := fs.Sub(webFS, "web/static")
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/nodes", http.StatusSeeOther) })
	mux.HandleFunc("GET /login", p.loginPage)
	mux.HandleFunc("POST /login", p.login)
	mux.HandleFunc("POST /logout", p.auth(p.logout))
	mux.HandleFunc("GET /nodes", p.auth(p.nodesPage))
	mux.HandleFunc("POST /nodes/delete", p.auth(p.deleteNode))
	mux.HandleFunc("GET "+api.PathActivatePage, p.auth(p.activatePage))
	mux.HandleFunc("POST "+api.PathActivatePage, p.auth(p.find))
	mux.HandleFunc("POST /activate/license", p.auth(p.license))
	mux.HandleFunc("POST /activate/deny", p.auth(p.deny))
	mux.HandleFunc("GET /tokens", p.auth(p.tokensPage))
	mux.HandleFunc("POST /tokens", p.auth(p.createToken))
	mux.HandleFunc("POST /tokens/revoke", p.auth(p.revokeToken))
	mux.HandleFunc("GET /hosts", p.auth(p.hostsPage))
	mux.HandleFunc("POST /hosts", p.auth(p.addHosts))
	mux.HandleFunc("GET /sites", p.auth(p.sitesPage))
	mux.HandleFunc("POST /sites", p.auth(p.createSite))
	mux.HandleFunc("POST /sites/delete", p.auth(p.deleteSite))
	mux.HandleFunc("GET "+api.PathRegisterPage, p.auth(p.registerPage))
	mux.HandleFunc("POST "+api.PathRegisterPage, p.auth(p.register))
	mux.HandleFunc("GET /events", p.auth(p.eventsPage))
}

// render writes a page with security headers.
func (p *portal) render(w http.ResponseWriter, r *http.Request, status int, page string, d pageData) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	if err := p.pages[page].ExecuteTemplate(w, "layout", d); err != nil {
		p.s.log.Error("render portal page", "page", page, "err", err)
	}
}

func setCookie(w http.ResponseWriter, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode})
}

// current returns the request's live session.
func (p *portal) current(r *http.Request) (session, bool) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return session{}, false
	}
	key := sha256Hex(c.Value)
	p.mu.Lock()
	defer p.mu.Unlock()
	s, ok := p.sessions[key]
	if !ok || !p.s.now().Before(s.expires) {
		delete(p.sessions, key)
		return session{}, false
	}
	return s, true
}

// auth requires a session, and a matching CSRF token on POST.
func (p *portal) auth(h func(http.ResponseWriter, *http.Request, pageData)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		sess, ok := p.current(r)
		if !ok {
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/login?next="+urlQueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			p.render(w, r, http.StatusUnauthorized, "login", pageData{Title: "Log in", Error: "Your session ended; log in again.", Data: loginData{Next: "/nodes"}})
			return
		}
		if r.Method == http.MethodPost {
			if err := r.ParseForm(); err != nil {
				http.Error(w, "bad form", http.StatusBadRequest)
				return
			}
			if subtle.ConstantTimeCompare([]byte(r.PostFormValue("csrf")), []byte(sess.csrf)) != 1 {
				http.Error(w, "invalid CSRF token; reload the page and try again", http.StatusForbidden)
				return
			}
		}
		h(w, r.WithContext(withPrincipal(r.Context(), sess.who)), pageData{CSRF: sess.csrf, LoggedIn: true})
	}
}

type loginData struct{ Next string }

// safeNext keeps redirects on this site.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.Contains(next, "\\") {
		return "/nodes"
	}
	return next
}

func (p *portal) loginPage(w http.ResponseWriter, r *http.Request) {
	if _, ok := p.current(r); ok {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	tok := randomString(24)
	setCookie(w, loginCSRF, tok, 3600)
	p.render(w, r, http.StatusOK, "login", pageData{Title: "Log in", CSRF: tok, Data: loginData{Next: safeNext(r.URL.Query().Get("next"))}})
}

func (p *portal) login(w http.ResponseWriter, r *http.Request) {
	c, err := r.Cookie(loginCSRF)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	if err != nil || subtle.ConstantTimeCompare([]byte(c.Value), []byte(r.PostFormValue("csrf"))) != 1 {
		http.Error(w, "invalid CSRF token; reload the login page", http.StatusForbidden)
		return
	}
	next := safeNext(r.PostFormValue("next"))
	ip, now := sourceIP(r), p.s.now()
	// As requireAdmin: past the limit a wrong token gets 429; the right one
	// always works.
	if !p.s.isAdmin(strings.TrimSpace(r.PostFormValue("token"))) {
		if wait := p.s.failSource.wait(sourceKey(ip), now); wait > 0 {
			w.Header().Set("Retry-After", fmt.Sprint(retryAfterSeconds(wait)))
			p.render(w, r, http.StatusTooManyRequests, "login", pageData{Title: "Log in", CSRF: c.Value, Error: "Too many attempts; wait a minute.", Data: loginData{Next: next}})
			return
		}
		p.s.failSource.charge(sourceKey(ip), now)
		p.s.auditFailure(r.Context(), api.EventLoginFailed, "", ip, "a portal login with a wrong admin token failed")
		p.render(w, r, http.StatusUnauthorized, "login", pageData{Title: "Log in", CSRF: c.Value, Error: "That is not the admin token.", Data: loginData{Next: next}})
		return
	}
	id := randomString(32)
	p.mu.Lock()
	if len(p.sessions) >= maxSessions {
		for k, s := range p.sessions {
			if !now.Before(s.expires) {
				delete(p.sessions, k)
			}
		}
	}
	p.sessions[sha256Hex(id)] = session{csrf: randomString(24), expires: now.Add(sessionTTL), who: adminPrincipal}
	p.mu.Unlock()
	setCookie(w, sessionCookie, id, int(sessionTTL.Seconds()))
	setCookie(w, loginCSRF, "", -1)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (p *portal) logout(w http.ResponseWriter, r *http.Request, _ pageData) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		p.mu.Lock()
		delete(p.sessions, sha256Hex(c.Value))
		p.mu.Unlock()
	}
	setCookie(w, sessionCookie, "", -1)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// message turns an error into a sentence for the page; internal errors are
// logged and shown generically.
func (p *portal) message(r *http.Request, err error) (string, int) {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae.msg, ae.code.Status()
	}
	p.s.log.Error("portal request failed", "path", r.URL.Path, "err", err)
	return "The server failed; try again.", http.StatusInternalServerError
}
