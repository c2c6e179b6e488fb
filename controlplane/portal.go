package controlplane

import (
	"crypto/subtle"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/nodeconsole/nodeconsole/api"
	"github.com/nodeconsole/nodeconsole/controlplane/store"
)

//go:embed web
var webFS embed.FS

const (
	sessionCookie  = "nc_session"
	loginCSRF      = "nc_login_csrf"
	pageEventLimit = 100
)

// portal is the server-rendered web portal. It works without JavaScript:
// every action is a form with a CSRF token, posted to the server. Every
// page names the permission it needs (roles.go); the templates show only
// the actions the principal may take.
type portal struct {
	s     *Server
	pages map[string]*template.Template
	login *loginThrottle
}

// pageData is what every template gets.
type pageData struct {
	Title    string
	Nav      string
	CSRF     string
	LoggedIn bool
	// Who is the logged-in principal (zero when logged out).
	Who    Principal
	Notice string
	Error  string
	// Back is a link for error pages.
	Back string
	Data any
}

// Can reports whether the logged-in principal has perm (templates hide
// what it cannot do).
func (d pageData) Can(perm string) bool { return d.LoggedIn && roleCan(d.Who.Role, Perm(perm)) }

func newPortal(s *Server) (*portal, error) {
	p := &portal{s: s, pages: map[string]*template.Template{}, login: newLoginThrottle(s.opts.Replicas)}
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
		"eventLabel": eventLabel,
	}
	for _, name := range []string{"login", "totp", "password", "account", "totpsetup", "users", "message", "nodes", "activate", "tokens",
		"hosts", "sites", "register", "events"} {
		t, err := template.New(name).Funcs(funcs).ParseFS(webFS, "web/layout.html", "web/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("controlplane: parse portal template %s: %w", name, err)
		}
		p.pages[name] = t
	}
	return p, nil
}

// pageHandler is a portal page; d has the session's CSRF token and
// principal.
type pageHandler func(http.ResponseWriter, *http.Request, pageData)

func (p *portal) routes(mux *routeMux) {
	static, _ := fs.Sub(webFS, "web/static")
	mux.handle("GET /static/", PermPublic, http.StripPrefix("/static/", http.FileServerFS(static)))
	mux.handle("GET /{$}", PermPublic, http.HandlerFunc(p.home))
	mux.handle("GET /login", PermPublic, http.HandlerFunc(p.loginPage))
	mux.handle("POST /login", PermPublic, http.HandlerFunc(p.loginSubmit))
	page := func(pattern string, perm Perm, h pageHandler) {
		mux.handle(pattern, perm, p.auth(perm, store.SessionActive, h))
	}
	step := func(pattern string, stage store.SessionStage, h pageHandler) {
		mux.handle(pattern, PermPublic, p.auth(PermPublic, stage, h))
	}
	step("GET /login/totp", store.SessionTOTP, p.totpPage)
	step("POST /login/totp", store.SessionTOTP, p.totpSubmit)
	step("GET /login/password", store.SessionPassword, p.passwordPage)
	step("POST /login/password", store.SessionPassword, p.passwordSubmit)
	mux.handle("POST /logout", PermPublic, http.HandlerFunc(p.logout))
	page("GET /account", PermSelf, p.accountPage)
	page("POST /account/password", PermSelf, p.accountPassword)
	page("POST /account/sessions/end", PermSelf, p.endSessionSubmit)
	page("POST /account/totp", PermSelf, p.totpSetup)
	page("POST /account/tokens", PermSelf, p.tokenCreate)
	page("POST /account/tokens/revoke", PermSelf, p.tokenRevoke)
	page("GET /users", PermAdmin, p.usersPage)
	page("POST /users", PermAdmin, p.userAdd)
	page("POST /users/action", PermAdmin, p.userAction)
	page("GET /nodes", PermRead, p.nodesPage)
	page("POST /nodes/delete", PermOperate, p.deleteNode)
	page("GET "+api.PathActivatePage, PermOperate, p.activatePage)
	page("POST "+api.PathActivatePage, PermOperate, p.find)
	page("POST /activate/license", PermOperate, p.license)
	page("POST /activate/deny", PermOperate, p.deny)
	page("GET /tokens", PermAdmin, p.tokensPage)
	page("POST /tokens", PermAdmin, p.createToken)
	page("POST /tokens/revoke", PermAdmin, p.revokeToken)
	page("GET /hosts", PermOperate, p.hostsPage)
	page("POST /hosts", PermOperate, p.addHosts)
	page("GET /sites", PermRead, p.sitesPage)
	page("POST /sites", PermAdmin, p.createSite)
	page("POST /sites/delete", PermAdmin, p.deleteSite)
	page("GET "+api.PathRegisterPage, PermRegister, p.registerPage)
	page("POST "+api.PathRegisterPage, PermRegister, p.register)
	page("GET /events", PermRead, p.eventsPage)
}

// render writes a page with security headers.
func (p *portal) render(w http.ResponseWriter, r *http.Request, status int, page string, d pageData) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	if status == http.StatusUnauthorized {
		h.Set("WWW-Authenticate", `Cookie realm="nodeconsole", form-action="/login"`)
	}
	w.WriteHeader(status)
	if err := p.pages[page].ExecuteTemplate(w, "layout", d); err != nil {
		p.s.log.Error("render portal page", "page", page, "err", err)
	}
}

// renderMessage is a page that says what happened and links back.
func (p *portal) renderMessage(w http.ResponseWriter, r *http.Request, status int, d pageData, title, msg, back string) {
	d.Title, d.Nav, d.Error, d.Back = title, "", msg, back
	p.render(w, r, status, "message", d)
}

func setCookie(w http.ResponseWriter, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode})
}

// stagePage is where a session at stage continues.
func stagePage(stage store.SessionStage) string {
	switch stage {
	case store.SessionTOTP:
		return "/login/totp"
	case store.SessionPassword:
		return "/login/password"
	}
	return "/"
}

// auth requires a session at stage whose principal has perm, and a
// matching CSRF token on POST; it puts the principal on the context.
func (p *portal) auth(perm Perm, stage store.SessionStage, h pageHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ss, who, ok := p.sessionOf(r)
		if !ok {
			if r.Method == http.MethodGet && stage == store.SessionActive {
				http.Redirect(w, r, "/login?next="+urlQueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			p.loginForm(w, r, http.StatusUnauthorized, "Your session ended; log in again.", "/")
			return
		}
		d := pageData{CSRF: ss.CSRF, LoggedIn: ss.Stage == store.SessionActive, Who: who}
		if ss.Stage != stage {
			http.Redirect(w, r, stagePage(ss.Stage)+"?next="+urlQueryEscape(safeNext(r.URL.Query().Get("next"))), http.StatusSeeOther)
			return
		}
		if r.Method == http.MethodPost {
			if err := r.ParseForm(); err != nil {
				p.renderMessage(w, r, http.StatusBadRequest, d, "Bad request", "The form could not be read.", "/")
				return
			}
			if subtle.ConstantTimeCompare([]byte(r.PostFormValue("csrf")), []byte(ss.CSRF)) != 1 {
				p.csrfFailed(w, r, d)
				return
			}
		}
		if !roleCan(who.Role, perm) {
			p.renderMessage(w, r, http.StatusForbidden, d, "Not allowed",
				"Your role ("+string(who.Role)+") does not allow this page or action. Ask an admin if you need it.", "/")
			return
		}
		h(w, r.WithContext(WithPrincipal(r.Context(), who)), d)
	}
}

// csrfFailed is the page for a form whose CSRF token does not match
// (usually a form left open across a log-in or a server restart).
func (p *portal) csrfFailed(w http.ResponseWriter, r *http.Request, d pageData) {
	back := "/"
	if ref := safeNext(r.URL.Path); ref != "/" && r.URL.Path != "/logout" {
		back = ref
	}
	p.renderMessage(w, r, http.StatusForbidden, d, "The form expired",
		"The form was sent without a valid security token: it may be from before your last log-in, or from another site. Nothing was changed. Go back, reload the page and try again.", back)
}

// home sends each role to its start page.
func (p *portal) home(w http.ResponseWriter, r *http.Request) {
	_, who, ok := p.sessionOf(r)
	switch {
	case !ok:
		http.Redirect(w, r, "/login", http.StatusSeeOther)
	case roleCan(who.Role, PermRead):
		http.Redirect(w, r, "/nodes", http.StatusSeeOther)
	case roleCan(who.Role, PermRegister):
		http.Redirect(w, r, "/register", http.StatusSeeOther)
	default:
		http.Redirect(w, r, "/account", http.StatusSeeOther)
	}
}

type loginData struct{ Next, User string }

// badInNext reports characters a browser may drop or treat as "/" in a
// URL (tabs, newlines and other controls, backslashes), which could turn a
// path into another host ("/\t/evil.example" becomes "//evil.example").
func badInNext(r rune) bool { return r < 0x20 || r == 0x7f || r == '\\' }

// safeNext keeps redirects on this site: next must parse as a URL that is
// only a path (no scheme, host, user or opaque part) starting with one "/",
// and neither it nor its decoded path may hold a control character or a
// backslash. It returns the path (and query) re-encoded, or "/".
func safeNext(next string) string {
	const home = "/"
	if next == "" || strings.IndexFunc(next, badInNext) >= 0 {
		return home
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" ||
		!strings.HasPrefix(u.Path, "/") || strings.HasPrefix(u.Path, "//") || strings.IndexFunc(u.Path, badInNext) >= 0 {
		return home
	}
	out := u.EscapedPath()
	if strings.HasPrefix(out, "//") || !strings.HasPrefix(out, "/") {
		return home
	}
	if u.RawQuery != "" {
		out += "?" + u.RawQuery
	}
	return out
}

// logout ends the session, from any login stage.
func (p *portal) logout(w http.ResponseWriter, r *http.Request) {
	if ss, who, ok := p.sessionOf(r); ok {
		if r.ParseForm() != nil || subtle.ConstantTimeCompare([]byte(r.PostFormValue("csrf")), []byte(ss.CSRF)) != 1 {
			p.csrfFailed(w, r, pageData{CSRF: ss.CSRF, LoggedIn: ss.Stage == store.SessionActive, Who: who})
			return
		}
		p.endSession(r.Context(), ss.Hash)
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
